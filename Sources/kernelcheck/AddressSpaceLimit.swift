import KernelCheckCore

#if canImport(Glibc)
    import Glibc
#endif

/// Caps the address space of a command that reads untrusted files, so that a corrupted file
/// cannot make libhdf5 allocate tens of gigabytes (a variable-length string whose stored
/// length is huge makes it allocate and clear ≈ 10 GB before anything fails): with the cap,
/// its `malloc` returns NULL, libhdf5 reports "memory allocation failed", and the user gets
/// one error line at once instead of an out-of-memory kill.
///
/// The cap is `KERNELCHECK_ADDRESS_LIMIT` (bytes, or with a K/M/G suffix) or, by default,
/// the memory budget plus 4 GiB (tensors are checked against the budget before they are
/// allocated; the rest covers code, threads and libraries). It only lowers the soft limit,
/// never below the current one, and is skipped under the address/thread sanitizers, which
/// reserve terabytes of shadow memory.
enum AddressSpaceLimit {
    static func install() {
        guard let handle = dlopen(nil, RTLD_NOW) else { return }
        defer { dlclose(handle) }
        for symbol in ["__asan_init", "__tsan_init", "__msan_init"] where dlsym(handle, symbol) != nil { return }
        let requested = getenv("KERNELCHECK_ADDRESS_LIMIT").flatMap { MemoryBudget.parse(String(cString: $0)) }
        let limit = requested ?? (MemoryBudget.bytes + (4 << 30))
        var current = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &current) == 0 else { return }
        // RLIM_INFINITY is all ones: any finite soft limit already at or under ours stays.
        if current.rlim_cur <= rlim_t(limit) { return }
        current.rlim_cur = rlim_t(limit)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &current)
    }
}

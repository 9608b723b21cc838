#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns a crash inside libhdf5 into one line on standard error and a chosen exit status, for
/// command-line tools.
///
/// libhdf5 1.10 is not hardened against corrupt files: fuzzing the fixture reader found
/// inputs that make it read out of bounds (a global-heap object index stored in an attribute's
/// data that is past the collection's object table, a SIGSEGV in `H5HG_read`). The structural
/// problems KernelCheck can see from outside are rejected before libhdf5 opens a file
/// (`HDF5GlobalHeapCheck`), and every file is read once in a child process first
/// (`HDF5ReadProbe`), which takes such crashes in this process's stead. This guard is the last
/// line behind both, for a crash the probe did not reproduce: a tool calls `install()` once at start-up: a fatal
/// signal raised while a libhdf5 call runs then prints
/// `<prefix><file>: libhdf5 crashed reading this file (signal 11); the file is corrupt`
/// and exits with `exitCode`. A fatal signal anywhere else is left to the handler installed
/// before (Swift's backtracer), so KernelCheck's own bugs still crash loudly.
///
/// The handler is async-signal-safe: it only reads preallocated buffers and calls `write`
/// and `_exit`. The "inside libhdf5" marker is set under the module's global lock, so at most
/// one thread is ever inside libhdf5.
public enum HDF5CrashGuard {
    /// What a C library's memory error raises. Not SIGILL/SIGTRAP: those are Swift's own
    /// traps, which must keep crashing loudly even when they happen inside `whileInside`.
    static let fatalSignals: [Int32] = [SIGSEGV, SIGBUS, SIGFPE, SIGABRT]
    static let capacity = 4096

    /// `prefix` and the two parts of the message around the signal number, preallocated so
    /// the handler never allocates.
    nonisolated(unsafe) static var prefix: UnsafeMutablePointer<UInt8>? = nil
    nonisolated(unsafe) static var prefixLength = 0
    nonisolated(unsafe) static var middle: UnsafeMutablePointer<UInt8>? = nil
    nonisolated(unsafe) static var middleLength = 0
    nonisolated(unsafe) static var suffix: UnsafeMutablePointer<UInt8>? = nil
    nonisolated(unsafe) static var suffixLength = 0
    nonisolated(unsafe) static var exitStatus: Int32 = 2
    /// Path of the file whose libhdf5 call is running; length 0 when none.
    nonisolated(unsafe) static var currentFile: UnsafeMutablePointer<UInt8>? = nil
    nonisolated(unsafe) static var currentFileLength = 0
    /// The dispositions replaced by `install` (same order as `signals`), restored for
    /// signals that are not ours.
    nonisolated(unsafe) static var previous: UnsafeMutablePointer<sigaction>? = nil
    nonisolated(unsafe) static var signals: UnsafeMutablePointer<Int32>? = nil
    nonisolated(unsafe) static var signalCount = 0
    /// Room for the signal number's digits.
    nonisolated(unsafe) static var digits: UnsafeMutablePointer<UInt8>? = nil

    /// Installs the handler (idempotent). Call before the first HDF5 call.
    public static func install(prefix text: String = "kernelcheck: error: ", exitCode: Int32 = 2) {
        HDF5Library.withLock {
            guard previous == nil else { return }
            func buffer(_ text: String) -> (UnsafeMutablePointer<UInt8>, Int) {
                let bytes = Array(text.utf8.prefix(capacity))
                let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
                pointer.initialize(from: bytes, count: bytes.count)
                return (pointer, bytes.count)
            }
            (prefix, prefixLength) = buffer(text)
            (middle, middleLength) = buffer(": crashed inside libhdf5 while reading this file (signal ")
            (suffix, suffixLength) = buffer("); the file is corrupt\n")
            exitStatus = exitCode
            currentFile = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            currentFileLength = 0
            digits = UnsafeMutablePointer<UInt8>.allocate(capacity: 2)
            signals = UnsafeMutablePointer<Int32>.allocate(capacity: fatalSignals.count)
            signals!.initialize(from: fatalSignals, count: fatalSignals.count)
            signalCount = fatalSignals.count
            let saved = UnsafeMutablePointer<sigaction>.allocate(capacity: fatalSignals.count)
            for (i, signal) in fatalSignals.enumerated() {
                var action = sigaction()
                #if canImport(Glibc)
                    action.__sigaction_handler.sa_handler = crashHandler
                #else
                    action.__sigaction_u.__sa_handler = crashHandler
                #endif
                sigemptyset(&action.sa_mask)
                action.sa_flags = 0
                (saved + i).initialize(to: sigaction())
                sigaction(signal, &action, saved + i)
            }
            previous = saved
        }
    }

    /// Marks `path` as the file of the libhdf5 calls in `body`. Caller holds the HDF5 lock.
    static func whileInside<T, E: Error>(_ path: String, _ body: () throws(E) -> T) throws(E) -> T {
        guard let buffer = currentFile else { return try body() }
        let outer = currentFileLength
        if outer == 0 {
            var n = 0
            for byte in path.utf8 where n < capacity && byte != 0 { buffer[n] = byte; n += 1 }
            currentFileLength = n
        }
        defer { if outer == 0 { currentFileLength = 0 } }
        return try body()
    }
}

/// The signal handler: a plain C function pointer (no captures) that touches only buffers
/// allocated by `install` — no allocation, no generic code, no Swift runtime calls (the first
/// version formatted the signal number through a tuple and deadlocked on the runtime's
/// metadata lock when libhdf5 had corrupted the heap inside malloc).
private func crashHandler(_ number: Int32) {
    let state = HDF5CrashGuard.self
    if state.currentFileLength > 0, let file = state.currentFile, let prefix = state.prefix,
        let middle = state.middle, let suffix = state.suffix, let digits = state.digits
    {
        _ = write(2, prefix, state.prefixLength)
        _ = write(2, file, state.currentFileLength)
        _ = write(2, middle, state.middleLength)
        // Fatal signal numbers have one or two digits.
        if number >= 10 {
            digits[0] = UInt8(truncatingIfNeeded: 48 + number / 10)
            digits[1] = UInt8(truncatingIfNeeded: 48 + number % 10)
            _ = write(2, digits, 2)
        } else {
            digits[0] = UInt8(truncatingIfNeeded: 48 + number)
            _ = write(2, digits, 1)
        }
        _ = write(2, suffix, state.suffixLength)
        _exit(state.exitStatus)
    }
    // Not inside libhdf5: put back the previous disposition; returning re-runs the faulting
    // instruction (or abort() re-raises), which then reaches that handler.
    if let saved = state.previous, let signals = state.signals {
        var i = 0
        while i < state.signalCount {
            if signals[i] == number { sigaction(number, saved + i, nil); return }
            i += 1
        }
    }
    signal(number, SIG_DFL)
}

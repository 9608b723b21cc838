/// The largest number of bytes a single case may allocate for its tensors, checked before
/// anything is allocated so an absurd shape gives a typed error instead of an OOM kill.
///
/// Default 4 GiB; override with the environment variable `KERNELCHECK_MEMORY_BUDGET`
/// (bytes, or a number with a `K`, `M` or `G` suffix) or by setting `MemoryBudget.bytes`.
public enum MemoryBudget {
    nonisolated(unsafe) public static var bytes: Int = {
        if let text = getenv("KERNELCHECK_MEMORY_BUDGET").map({ String(cString: $0) }),
            let v = parse(text)
        {
            return v
        }
        return 4 << 30
    }()

    /// `"512M"` → 536 870 912. Returns `nil` for malformed text.
    public static func parse(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = text.last, let unit = units[Character(last.uppercased())] {
            guard let v = Int(text.dropLast()), v >= 0 else { return nil }
            let (p, o) = v.multipliedReportingOverflow(by: unit)
            return o ? nil : p
        }
        guard let v = Int(text), v >= 0 else { return nil }
        return v
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

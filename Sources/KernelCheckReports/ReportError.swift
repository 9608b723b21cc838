/// Why a report could not be read, merged or written.
public enum ReportError: Error, Equatable, CustomStringConvertible, Sendable {
    case unreadable(path: String, reason: String)
    case notAReport(path: String, reason: String)
    case missingSchemaVersion(path: String)
    case unsupportedSchemaVersion(path: String, found: Int, supported: Int)
    case incompatibleShards(reason: String)
    case cannotWrite(path: String, reason: String)
    /// A field that decodes but breaks a rule (a negative count, a NaN utilization, …).
    case invalid(path: String, field: String, reason: String)
    /// Another process holds the lock on an output directory.
    case busy(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let p, let r): return "cannot read report \(p): \(r)"
        case .notAReport(let p, let r): return "\(p) is not a nightly report: \(r)"
        case .missingSchemaVersion(let p): return "\(p) has no schema_version: not a nightly report"
        case .unsupportedSchemaVersion(let p, let f, let s):
            return
                "\(p) has schema_version \(f); this kernelcheck reads version \(s) only (regenerate the report, or use the kernelcheck that wrote it)"
        case .incompatibleShards(let r): return "cannot merge: \(r)"
        case .cannotWrite(let p, let r): return "cannot write \(p): \(r)"
        case .invalid(let p, let f, let r): return "\(p) is not a valid nightly report: \(f): \(r)"
        case .busy(let p, let r): return "\(p) is in use: \(r)"
        }
    }
}

import KernelCheckVerification

/// Implementations that live outside this package, named on the command line:
/// `lib:PATH` loads a shared library that exports the C ABI of `include/kernelcheck.h`;
/// `exec:COMMAND` starts a worker process that speaks the protocol of `docs/worker-protocol.md`.
public enum Plugins {
    /// The implementation a `lib:` or `exec:` name stands for, or nil for any other name
    /// (a built-in implementation).
    public static func implementation(named name: String) throws(PluginError) -> (any KernelImplementation)? {
        if name.hasPrefix("lib:") { return try SharedLibraryImplementation(path: String(name.dropFirst(4))) }
        if name.hasPrefix("exec:") { return try WorkerProcessImplementation(command: String(name.dropFirst(5))) }
        return nil
    }
}

/// Why a plug-in could not be loaded or started (its results are outcomes, not errors).
public enum PluginError: Error, Equatable, CustomStringConvertible, Sendable {
    case emptyName(prefix: String)
    case notImplemented(String)
    case libraryNotFound(path: String)
    case libraryLoadFailed(path: String, reason: String)
    case missingSymbol(path: String, symbol: String)
    case abiVersionMismatch(path: String, found: Int, expected: Int)
    /// An `exec:` worker could not be started or did not answer the handshake.
    case workerHandshakeFailed(command: String, reason: String)
    case badWorkerTimeout(variable: String, value: String)

    public var description: String {
        switch self {
        case .emptyName(let p): return "'\(p)' needs a path or command after the colon"
        case .notImplemented(let what): return "\(what) is not implemented yet"
        case .libraryNotFound(let p): return "lib:\(p): no such file"
        case .libraryLoadFailed(let p, let r): return "lib:\(p): cannot load the library: \(r)"
        case .missingSymbol(let p, let s):
            return "lib:\(p): the library does not export '\(s)' (see include/kernelcheck.h)"
        case .abiVersionMismatch(let p, let f, let e):
            return
                "lib:\(p): the library was built for ABI version \(f), this kernelcheck speaks version \(e) (include/kernelcheck.h)"
        case .workerHandshakeFailed(let c, let r): return "exec:\(c): the worker failed its handshake: \(r)"
        case .badWorkerTimeout(let v, let value): return "\(v) must be a positive number of seconds, got '\(value)'"
        }
    }
}

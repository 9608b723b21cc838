import KernelCheckCore
import KernelCheckProblems
import KernelCheckVerification

/// A kernel in a shared library that exports the C ABI of `include/kernelcheck.h` (`lib:PATH`).
///
/// `supports` asks the library (`kernelcheck_supports`); `run` passes the case's inputs as
/// 64-byte-aligned, read-only copies and the harness's guarded output buffer itself, so the
/// sentinel guards around it see any write out of bounds (checked by `CaseChecker` after the
/// call). Return codes map to results: 0 done, 1 `ImplementationError.unsupported`, 2 (or any
/// other) `.failed` with the library's message.
public struct SharedLibraryImplementation: KernelImplementation {
    /// `lib:PATH`, with the path exactly as given, so that a replay line names the same file.
    public let name: String
    /// The library's `kernelcheck_name()`, when it exports one.
    public var displayName: String? { library.displayName }
    /// Room for the library's error message, NUL included.
    static let messageCapacity = 1024

    private let library: SharedLibrary

    /// Loads the library at `path` (relative paths from the working directory).
    public init(path: String) throws(PluginError) {
        guard !path.isEmpty else { throw .emptyName(prefix: "lib:") }
        name = "lib:" + path
        library = try SharedLibrary(path: path)
    }

    public func supports(_ problem: Problem, _ direction: Direction) -> Bool {
        guard problem.directions.contains(direction) else { return false }
        return problem.description.withCString { p in
            direction.rawValue.withCString { d in library.supports(p, d) != 0 }
        }
    }

    public func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError) {
        try problem.checkCase(direction, inputs: inputs, outputCount: output.count)
        try problem.checkInputValues(inputs)
        // The header promises a 64-byte-aligned output: a caller's buffer that is not (or an
        // empty one without an address) is stood in for by an aligned, guarded one.
        if let base = output.baseAddress, SharedLibraryArguments.isAligned(base) {
            try call(problem, direction, inputs: inputs, output: base, threads: threads)
            return
        }
        let aligned = GuardedBuffer(count: output.count)
        try call(problem, direction, inputs: inputs, output: aligned.payload.baseAddress!, threads: threads)
        if let violation = aligned.checkGuards() {
            throw .failed(
                implementation: name, problem: problem.description, reason: "out-of-bounds write: \(violation)")
        }
        for i in 0..<output.count { output[i] = aligned.payload[i] }
    }

    /// One `kernelcheck_run` call on `output`, its return code mapped to a result.
    private func call(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutablePointer<Float>, threads: Int
    ) throws(ImplementationError) {
        let storage = problem.descriptor.precision.storage
        let runStored = storage == .f32 ? nil : library.runStored
        let arguments = SharedLibraryArguments(
            problem, direction, inputs: inputs, output: output, stored: runStored != nil)
        var message = [CChar](repeating: 0, count: Self.messageCapacity)
        let status = problem.description.withCString { p in
            direction.rawValue.withCString { d in
                if let runStored, let stored = arguments.stored {
                    // A library with kernelcheck_run_stored gets narrow inputs as bit patterns too.
                    return storage.rawValue.withCString { t in
                        runStored(
                            p, d, arguments.inputs, stored, t, UInt(arguments.inputCount), arguments.output,
                            Int32(clamping: threads), &message, UInt(message.count))
                    }
                }
                return library.run(
                    p, d, arguments.inputs, UInt(arguments.inputCount), arguments.output,
                    Int32(clamping: threads), &message, UInt(message.count))
            }
        }
        withExtendedLifetime(arguments) {}
        switch status {
        case 0: return
        case 1: throw .unsupported(implementation: name, problem: problem.description, direction: direction)
        default:
            // Up to the first NUL, or the whole buffer from a library that wrote none.
            let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            let text = String(decoding: bytes, as: UTF8.self)
            let reason = status == 2 ? text : "kernelcheck_run returned \(status)" + (text.isEmpty ? "" : ": \(text)")
            throw .failed(
                implementation: name, problem: problem.description,
                reason: reason.isEmpty ? "error (no message)" : reason)
        }
    }
}

import KernelCheckCore
import KernelCheckProblems
import KernelCheckVerification

/// A kernel behind a worker process that speaks the protocol of `docs/plugins.md`
/// (`exec:COMMAND`).
public struct WorkerProcessImplementation: KernelImplementation {
    public let name: String

    public init(command: String) throws(PluginError) {
        guard !command.isEmpty else { throw .emptyName(prefix: "exec:") }
        throw .notImplemented("exec:")
    }

    public func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError) {
        throw .failed(implementation: name, problem: problem.description, reason: "not implemented")
    }
}

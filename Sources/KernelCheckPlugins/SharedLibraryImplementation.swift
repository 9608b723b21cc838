import KernelCheckCore
import KernelCheckProblems
import KernelCheckVerification

/// A kernel in a shared library that exports the C ABI of `include/kernelcheck.h` (`lib:PATH`).
public struct SharedLibraryImplementation: KernelImplementation {
    public let name: String

    public init(path: String) throws(PluginError) {
        guard !path.isEmpty else { throw .emptyName(prefix: "lib:") }
        throw .notImplemented("lib:")
    }

    public func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError) {
        throw .failed(implementation: name, problem: problem.description, reason: "not implemented")
    }
}

import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference

/// The reference behind the `KernelImplementation` protocol: Float inputs widened to Double,
/// Float64 accumulation, the result rounded once to the problem's output type (Float for f32).
public struct ReferenceImplementation: KernelImplementation {
    public init() {}
    public var name: String { "reference" }

    public func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError) {
        let result: Tensor<Double>
        do {
            result = try Reference.run(problem, direction, inputs: inputs.mapValues { $0.converted(to: Double.self) })
        } catch {
            throw .failed(implementation: name, problem: problem.description, reason: error.description)
        }
        guard result.count == output.count else {
            throw .outputSizeMismatch(
                problem: problem.description, direction: direction, expected: result.count, found: output.count)
        }
        // Rounded once to the output type (odt): the exact result's nearest odt value.
        let odt = problem.descriptor.precision.output
        for i in 0..<result.count { output[i] = odt.roundedOnce(result.storage[i]) }
    }
}

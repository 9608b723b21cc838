import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference

/// What an implementation's output is compared with: the reference result `y` (Float64
/// accumulation) and the magnitude `|A|·|B|` that scales its error bound.
public struct ExpectedValues: Sendable {
    public var values: Tensor<Double>
    public var magnitude: Tensor<Double>

    public init(values: Tensor<Double>, magnitude: Tensor<Double>) {
        self.values = values
        self.magnitude = magnitude
    }

    /// Runs the reference twice: on the inputs, and on their absolute values, which for a
    /// multilinear op gives `Σ|aᵢ|·|bᵢ|` per output element — the quantity the forward error
    /// bound `γ_K·(|A|·|B|)` needs. Inputs that enter with a minus sign (BatchNorm's running
    /// mean in `z − μ`, a loss's target in `x − t`) are given as `−|·|` so the differences
    /// become sums of magnitudes too. Elementwise activations, whose error is relative to
    /// the result, use `|y|` forward and `2·|dy|` backward: every derivative here is ≤ 1, and
    /// evaluating it errs by a few ulp of 1 (the `1 − σ` of σ(1−σ), the `1 − tanh²`).
    public static func compute(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>]
    ) throws(ReferenceError) -> ExpectedValues {
        var exact: [String: Tensor<Double>] = [:], magnitudes: [String: Tensor<Double>] = [:]
        for (role, t) in inputs {
            let d = t.converted(to: Double.self)
            exact[role] = d
            let negated = role == "mean" || role == "target"
            magnitudes[role] = d.map { negated ? -Swift.abs($0) : Swift.abs($0) }
        }
        let values = try Reference.run(problem, direction, inputs: exact)
        let magnitude: Tensor<Double>
        switch (problem, direction) {
        case (.activation, .fwd): magnitude = values.magnitude
        case (.activation, _): magnitude = magnitudes["dy"]!.map { 2 * $0 }
        default: magnitude = try Reference.run(problem, direction, inputs: magnitudes)
        }
        return ExpectedValues(values: values, magnitude: magnitude)
    }
}

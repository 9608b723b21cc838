import KernelCheckCore
import KernelCheckProblems

/// The seeded inputs of one case: every role any direction of the problem reads.
public enum CaseInputs {
    /// The fill used for `role` of `problem` in `mode`. BatchNorm's running variance is always
    /// drawn from [0.5, 2] so `√(σ² + ε)` stays well away from zero.
    public static func fill(for role: String, of problem: Problem, mode: ComparisonMode) -> Fill {
        if role == "var" { return .uniform(low: 0.5, high: 2) }
        switch mode {
        case .bound, .tight:
            return .uniform(low: -1, high: 1)
        case .exact:
            let d = problem.descriptor
            let k = d.directions.map { d.accumulationLength(for: $0) }.max() ?? 1
            // Density 1: exactness comes from K·k² + k < 2²⁴, not from sparsity, and dense
            // inputs keep outputs from being mostly zero (which would only be mistrusted).
            return Fill.exact(accumulationLength: k, density: 1)
        }
    }

    /// Draws every input role of `problem` from its own stream of `seed` (roles never shift
    /// each other's values), stored as Float like the fixtures.
    public static func make(_ problem: Problem, seed: UInt64, mode: ComparisonMode) -> [String: Tensor<Float>] {
        let d = problem.descriptor
        var out: [String: Tensor<Float>] = [:]
        for direction in d.directions {
            for spec in d.inputs(for: direction) where out[spec.role] == nil {
                out[spec.role] = fill(for: spec.role, of: problem, mode: mode).tensor(
                    spec.shape, seed: seed, role: spec.role)
            }
        }
        return out
    }
}

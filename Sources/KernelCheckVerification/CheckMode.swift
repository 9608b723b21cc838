import KernelCheckCore
import KernelCheckProblems

/// How a case's inputs are drawn and how its output is judged.
///
/// - `exact`: small-integer fills (benchdnn) under the safe accumulation bound, so fp32 sums
///   are exact in any order and an implementation must equal the reference bit for bit. Ops
///   whose math rounds even on integers (sigmoid, tanh, BatchNorm's division, the mean of
///   MSE, leaky ReLU's slope) are judged in bound mode on the same integer inputs.
/// - `bound`: real-valued fills; each element must lie within its forward error bound
///   `c·γ_K·(|A|·|B|)` (DESIGN.md, tolerance model).
public enum CheckMode: String, CaseIterable, Codable, Sendable {
    case exact
    case bound

    /// Whether `exact` mode can demand bit equality for this problem.
    public static func isExactCapable(_ problem: Problem) -> Bool {
        switch problem {
        case .conv, .convTranspose, .padProjectionA, .matmul, .linear: return true
        case .activation(let p): return p.kind == .relu
        case .loss(let p): return p.kind == .sumOfSquares
        case .padProjectionB: return false
        }
    }
}

/// The seeded inputs of one case: every role any direction of the problem reads.
public enum CaseInputs {
    /// The fill used for `role` of `problem` in `mode`. BatchNorm's running variance is always
    /// drawn from [0.5, 2] so `√(σ² + ε)` stays well away from zero.
    public static func fill(for role: String, of problem: Problem, mode: CheckMode) -> Fill {
        if role == "var" { return .uniform(low: 0.5, high: 2) }
        switch mode {
        case .bound:
            return .uniform(low: -1, high: 1)
        case .exact:
            let d = problem.descriptor
            let k = d.directions.map { d.accumulationLength(for: $0) }.max() ?? 1
            return Fill.exact(accumulationLength: k)
        }
    }

    /// Draws every input role of `problem` from its own stream of `seed` (roles never shift
    /// each other's values), stored as Float like the fixtures.
    public static func make(_ problem: Problem, seed: UInt64, mode: CheckMode) -> [String: Tensor<Float>] {
        let d = problem.descriptor
        var out: [String: Tensor<Float>] = [:]
        for direction in d.directions {
            for spec in d.inputs(for: direction) where out[spec.role] == nil {
                out[spec.role] = fill(for: spec.role, of: problem, mode: mode).tensor(spec.shape, seed: seed, role: spec.role)
            }
        }
        return out
    }
}

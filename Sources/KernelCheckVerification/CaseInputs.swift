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
    ///
    /// With `specialValues` (the default in bound and tight modes) about one element in
    /// `specialValueInterval` of each role (not BatchNorm's variance) is replaced by 0, 1 or −1,
    /// from a stream of its own: the kinks of the activations (relu′ and leaky-relu′ at 0,
    /// clamps at ±1) and exact zeros are hit on purpose, not only with probability 0 as a
    /// uniform fill hits them. The gradient check turns them off: a finite difference across
    /// a kink measures neither side's derivative.
    public static func make(
        _ problem: Problem, seed: UInt64, mode: ComparisonMode, specialValues: Bool? = nil
    ) -> [String: Tensor<Float>] {
        let d = problem.descriptor
        let specials = specialValues ?? (mode != .exact)
        var out: [String: Tensor<Float>] = [:]
        for direction in d.directions {
            for spec in d.inputs(for: direction) where out[spec.role] == nil {
                var t: Tensor<Float> = fill(for: spec.role, of: problem, mode: mode).tensor(
                    spec.shape, seed: seed, role: spec.role)
                if specials && spec.role != "var" { mixInSpecialValues(&t, seed: seed, role: spec.role) }
                out[spec.role] = t
            }
        }
        return out
    }

    /// One element in this many (on average) becomes a special value in bound and tight modes.
    public static let specialValueInterval = 16

    static func mixInSpecialValues(_ t: inout Tensor<Float>, seed: UInt64, role: String) {
        var rng = SeededRNG(seed: seed, stream: role + "/special")
        let values: [Float] = [0, 1, -1]
        t.storage.withUnsafeMutableBufferPointer { storage in
            for i in storage.indices where rng.next() % UInt64(specialValueInterval) == 0 {
                storage[i] = values[Int(rng.next() % 3)]
            }
        }
    }
}

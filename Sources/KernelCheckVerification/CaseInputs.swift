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
            if d.precision.isFloat32 { return Fill.exact(accumulationLength: k, density: 1) }
            // The longest direction may be beyond an f16 accumulator's exact integers even with
            // k = 1; the shorter ones still get exact inputs (`exactModeRefusal` skips the others).
            return Fill.exact(
                accumulationLength: k, storage: d.precision.storage, accumulation: d.precision.accumulation)
                ?? .integers(k: 1, density: 1)
        }
    }

    /// Why exact mode cannot judge `direction` of `problem`, or `nil` when it can: with the
    /// exact-mode fill `int(k, 1)`, every partial sum of a K-term reduction is bounded by
    /// `K·k² + k`, which must stay below the accumulator's exact integers (2²⁴ for f32, 2¹¹ for
    /// f16). Only an f16 accumulator with K ≥ 2047 fails that (no integer fill of density 1
    /// can keep such a sum exact, and a sparser one could only make it likely): the case is
    /// skipped with this reason rather than compared bit for bit against a sum the
    /// accumulator cannot hold.
    public static func exactModeRefusal(_ problem: Problem, _ direction: Direction) -> String? {
        let p = problem.descriptor.precision
        guard p.accumulation != .f32 else { return nil }
        let fill = fill(for: "x", of: problem, mode: .exact)
        guard case .integers(let k, _) = fill else { return nil }
        let n = problem.descriptor.accumulationLength(for: direction)
        let limit = p.accumulation.largestExactInteger
        if n * k * k + k < limit { return nil }
        return "exact mode needs every partial sum exact in acc=\(p.accumulation): K·k² + k = \(n)·\(k)² + \(k)"
            + " ≥ \(limit) (K = \(n)); no integer fill guarantees it — use --mode bound"
    }

    /// Draws every input role of `problem` from its own stream of `seed` (roles never shift
    /// each other's values), stored as Float like the fixtures.
    ///
    /// For a narrow storage type (`dt` ≠ f32) every value is then rounded to it (nearest,
    /// ties to even, `ScalarType.rounded`): the case's inputs are exactly numbers of `dt`,
    /// held in Float32 (which represents every bf16, f16 and fp8 value). Integer fills
    /// (|v| ≤ 4) and the special values 0 and ±1 are already such numbers.
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
        let storage = d.precision.storage
        var out: [String: Tensor<Float>] = [:]
        for direction in d.directions {
            for spec in d.inputs(for: direction) where out[spec.role] == nil {
                var t: Tensor<Float> = fill(for: spec.role, of: problem, mode: mode).tensor(
                    spec.shape, seed: seed, role: spec.role)
                if specials && spec.role != "var" { mixInSpecialValues(&t, seed: seed, role: spec.role) }
                if storage != .f32 { t = t.map { storage.rounded($0) } }
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

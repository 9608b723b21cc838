import Foundation
import KernelCheckCore
import KernelCheckProblems

/// The forward error bound of the tolerance model in docs/design.md (no hand-tuned epsilons).
///
/// A sum of K products computed in floating point with unit roundoff u, in **any** order and
/// with or without FMA, satisfies (Higham, *Accuracy and Stability of Numerical Algorithms*,
/// §3.1, eq. 3.5)
///
///     |ŷ − y| ≤ γ_K · Σ|aᵢ·bᵢ|,   γ_K = K·u / (1 − K·u),
///
/// where `Σ|aᵢ·bᵢ|` is the reference applied to the absolute values of the inputs (the
/// caller computes it in Float64 and passes it as `magnitude`). The per-element bound used by
/// `Comparison` is
///
///     bound = c · γ_K · magnitude + r · u · |y| + η   (η only where magnitude or y ≠ 0)
///
/// with these constants:
/// - `c = accumulationFactor = 2`: Higham's bound is tight only up to constants of order 1;
///   the factor 2 covers a bias term added after the sum, the second rounding of a product
///   that is not fused, and ops whose formula applies a few more operations to the sum
///   (BatchNorm's scale and shift) when the caller counts them in K.
/// - `r = outputRoundingFactor = 4`: the final rounding of the result to Float32 costs
///   u/2·|y|; elementwise transcendental ops (sigmoid, tanh and their derivatives), for
///   which the caller passes K = 1, also carry libm's own error: glibc's `expf`/`tanhf` are
///   within 1–2 ulp (≤ 2u relative each), and a sigmoid composes `expf`, an addition and a
///   division. 4u·|y| covers those few ulp; a larger error is a real defect (e.g. tanh by
///   `(e^{2x}−1)/(e^{2x}+1)` near 0, which cancels catastrophically).
/// - `η = Float.leastNonzeroMagnitude` (2^−149): rounding in the subnormal range is
///   absolute, not relative, so relative terms alone cannot cover a result near 0 that
///   underflowed. It is not added where both magnitude and y are 0: an output that must be
///   exactly 0 (all-zero inputs, or only padding) must be computed as exactly 0.
///
/// For an elementwise formula whose last step subtracts nearly equal numbers (the sigmoid
/// derivative `σ(1−σ)` for large x), the caller's `magnitude` should be the formula applied
/// to absolute values (`|dy|·σ·(1+σ)`), which is exactly "the reference on |inputs|".
public enum ErrorBound {
    /// Unit roundoff of IEEE binary32: 2^−24.
    public static let float32UnitRoundoff: Double = 0x1p-24
    /// `c`: the factor on γ_K·magnitude (see the type's documentation).
    public static let accumulationFactor: Double = 2
    /// `r`: the multiple of u·|y| that covers the output's rounding and libm's error.
    public static let outputRoundingFactor: Double = 4
    /// `η`: the absolute floor for results in the subnormal range.
    public static let underflowFloor: Double = Double(Float.leastNonzeroMagnitude)

    /// `γ_K = K·u / (1 − K·u)`, or `+∞` when `K·u ≥ 1` (the bound says nothing). `γ_0 = 0`.
    public static func gamma(k: Int, unitRoundoff u: Double = float32UnitRoundoff) -> Double {
        let ku = Double(max(k, 0)) * u
        return ku >= 1 ? .infinity : ku / (1 - ku)
    }

    /// The bound on `|ŷ − y|` for one output element with exact value `expected`, magnitude
    /// `magnitude` (the reference on absolute inputs) and accumulation length `k`.
    public static func element(
        expected: Double, magnitude: Double, accumulationLength k: Int, unitRoundoff u: Double = float32UnitRoundoff
    ) -> Double {
        let m = Swift.abs(magnitude), y = Swift.abs(expected)
        // 0·∞ would be NaN: an element with zero magnitude has no accumulation error.
        let accumulation = m == 0 ? 0 : accumulationFactor * gamma(k: k, unitRoundoff: u) * m
        let floor = (m == 0 && y == 0) ? 0 : underflowFloor
        return accumulation + outputRoundingFactor * u * y + floor
    }

    /// The false-alarm rate per element that `probabilistic` is set for: 10⁻¹².
    public static let probabilisticFalseAlarmRate: Double = 1e-12

    /// `λ` of Higham & Mary's probabilistic bound for a sum of `k` products, chosen so that a
    /// correct kernel exceeds the bound with probability at most `δ` per element.
    ///
    /// Model (Higham & Mary, "A New Approach to Probabilistic Rounding Error Analysis", SIAM
    /// J. Sci. Comput. 41(5), 2019, Theorem 2.4 and §3): the relative rounding errors of the
    /// sum are independent, mean-zero random variables bounded by u. Then
    ///
    ///     |ŷ − y| ≤ γ̃_K(λ) · Σ|aᵢ·bᵢ|,   γ̃_K(λ) = exp(λ·√K·u + K·u²/(1 − u)) − 1 ≈ λ·√K·u
    ///
    /// holds with probability at least `1 − 2K·exp(−λ²(1 − u)²/2)`. Setting that failure
    /// probability to δ gives `λ = √(2·ln(2K/δ)) / (1 − u)`: about 7.6 for K = 1 and 8.9 for
    /// K = 10⁵ at δ = 10⁻¹², so the bound grows like √K where the worst case grows like K.
    public static func lambda(
        k: Int, falseAlarmRate δ: Double = probabilisticFalseAlarmRate, unitRoundoff u: Double = float32UnitRoundoff
    ) -> Double {
        (2 * Foundation.log(2 * Double(max(k, 1)) / δ)).squareRoot() / (1 - u)
    }

    /// `γ̃_K(λ) = exp(λ·√K·u + K·u²/(1 − u)) − 1` (`expm1`, exact for tiny arguments).
    public static func probabilisticGamma(
        k: Int, falseAlarmRate δ: Double = probabilisticFalseAlarmRate, unitRoundoff u: Double = float32UnitRoundoff
    ) -> Double {
        let n = Double(max(k, 0))
        if n == 0 { return 0 }
        return Foundation.expm1(
            lambda(k: k, falseAlarmRate: δ, unitRoundoff: u) * n.squareRoot() * u + n * u * u / (1 - u))
    }

    /// The probabilistic second opinion for one element: `element`'s formula with `γ_K`
    /// replaced by `γ̃_K(λ)`, never above the worst-case bound (for K of a few dozen or less
    /// `λ·√K > K` and the worst case is the tighter of the two). An error above this but
    /// within `element` is *suspicious*: possible for a correct kernel only with probability
    /// about δ, and typical of a kernel that accumulates in lower precision than it declares.
    public static func probabilistic(
        expected: Double, magnitude: Double, accumulationLength k: Int,
        falseAlarmRate δ: Double = probabilisticFalseAlarmRate, unitRoundoff u: Double = float32UnitRoundoff
    ) -> Double {
        let worst = element(expected: expected, magnitude: magnitude, accumulationLength: k, unitRoundoff: u)
        let m = Swift.abs(magnitude), y = Swift.abs(expected)
        let accumulation =
            m == 0 ? 0 : accumulationFactor * probabilisticGamma(k: k, falseAlarmRate: δ, unitRoundoff: u) * m
        let floor = (m == 0 && y == 0) ? 0 : underflowFloor
        return Swift.min(worst, accumulation + outputRoundingFactor * u * y + floor)
    }

    /// `element` for a problem of precision `precision` (docs/design.md, "Bounds per
    /// precision"). With `u_a` the accumulator's unit roundoff, `u_o` the output type's (0 for
    /// an f32 output) and `s_o`, `s_a` the smallest subnormals:
    ///
    ///     bound = c·γ_K(u_a)·m·(1 + u_o) + r·2⁻²⁴·|y| + u_o·|y| + η + ½·s_o + [acc ≠ f32]·K·½·s_a
    ///
    /// - `γ_K(u_a)`: products of two values of a narrow type are exact in f32 (at most 2·8
    ///   significant bits, exponents far inside f32's range for the drawn values), so with
    ///   `acc=f32` the sum is an f32 sum of exact terms, `u_a = 2⁻²⁴`; with `acc=f16` every
    ///   product and partial sum rounds to f16, `u_a = 2⁻¹¹` (Higham's γ_K counts the product
    ///   roundings too).
    /// - `u_o·|y|`: one rounding of the computed sum `ŝ` to the output type costs `u_o·|ŝ| ≤
    ///   u_o·|y| + u_o·|ŝ − y|`; the factor `(1 + u_o)` on the accumulation term is the second part.
    /// - `½·s_o`: in the output type's subnormal range rounding is absolute; `K·½·s_a` the same
    ///   for every product and partial sum in an f16 accumulator (an f32 one keeps η, as before).
    ///
    /// For float32 throughout it is `element` itself, bit for bit: `u_o = 0`, no extra floor.
    public static func element(
        expected: Double, magnitude: Double, accumulationLength k: Int, precision: Precision
    ) -> Double {
        let terms = Terms(precision, accumulationLength: k)
        if precision.accumulation == .f32 && terms.isFloat32Output {
            return element(
                expected: expected, magnitude: magnitude, accumulationLength: k, unitRoundoff: terms.accumulation)
        }
        return terms.bound(gamma: gamma(k: k, unitRoundoff: terms.accumulation), expected, magnitude)
    }

    /// `probabilistic` for a problem of precision `precision`: `element(…precision:)` with
    /// `γ_K(u_a)` replaced by `γ̃_K(λ)` at `u_a`, never above it.
    public static func probabilistic(
        expected: Double, magnitude: Double, accumulationLength k: Int, precision: Precision,
        falseAlarmRate δ: Double = probabilisticFalseAlarmRate
    ) -> Double {
        let terms = Terms(precision, accumulationLength: k)
        if precision.accumulation == .f32 && terms.isFloat32Output {
            return probabilistic(
                expected: expected, magnitude: magnitude, accumulationLength: k, falseAlarmRate: δ,
                unitRoundoff: terms.accumulation)
        }
        let worst = element(expected: expected, magnitude: magnitude, accumulationLength: k, precision: precision)
        let tight = probabilisticGamma(k: k, falseAlarmRate: δ, unitRoundoff: terms.accumulation)
        return Swift.min(worst, terms.bound(gamma: tight, expected, magnitude))
    }

    /// The per-precision constants of `element(…precision:)`.
    struct Terms {
        /// `u_a`: 2⁻²⁴ (f32 accumulator) or 2⁻¹¹ (f16).
        var accumulation: Double
        /// `u_o`: the output type's unit roundoff, 0 for an f32 output (its rounding is in `r`).
        var output: Double
        /// `η + ½·s_o + [acc ≠ f32]·K·½·s_a`.
        var floor: Double
        var isFloat32Output: Bool { output == 0 }

        init(_ p: Precision, accumulationLength k: Int) {
            accumulation = p.accumulation.unitRoundoff
            output = p.output == .f32 ? 0 : p.output.unitRoundoff
            floor = underflowFloor
            if p.output != .f32 { floor += p.output.smallestSubnormal / 2 }
            if p.accumulation != .f32 { floor += Double(max(k, 0)) * p.accumulation.smallestSubnormal / 2 }
        }

        func bound(gamma: Double, _ expected: Double, _ magnitude: Double) -> Double {
            let m = Swift.abs(magnitude), y = Swift.abs(expected)
            let sum = m == 0 ? 0 : accumulationFactor * gamma * m * (1 + output)
            let floor = (m == 0 && y == 0) ? 0 : self.floor
            return sum + outputRoundingFactor * float32UnitRoundoff * y + output * y + floor
        }
    }
}

import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckVerification
import Testing

/// The probabilistic second opinion (`ErrorBound.probabilistic`): its constants against hand
/// derivations, its relation to the worst-case bound, and — on real Float32 dot products — no
/// false alarm for a correct sum and a flag for one that keeps fewer bits than it declares.
@Suite struct ProbabilisticBoundTests {
    /// λ = √(2·ln(2K/δ)) / (1 − u) with δ = 10⁻¹²: ln(2·10¹²) = 28.3242 → λ = 7.5265 for K = 1;
    /// ln(2·10¹⁷) = 39.8371 → 8.9260 for K = 10⁵.
    @Test func lambdaMatchesHandDerivation() {
        #expect(Swift.abs(ErrorBound.lambda(k: 1) - 7.5265) < 1e-4)
        #expect(Swift.abs(ErrorBound.lambda(k: 100_000) - 8.9260) < 1e-4)
    }

    /// K = 10⁴: λ = √(2·ln(2·10¹⁶)) = 8.66424, γ̃ ≈ λ·√K·u = 866.424·2⁻²⁴ = 5.1643·10⁻⁵,
    /// about K/(λ√K) = 11.5 times tighter than γ_K = 5.9605·10⁻⁴.
    @Test func gammaGrowsLikeTheSquareRootOfK() {
        let tilde = ErrorBound.probabilisticGamma(k: 10_000)
        #expect(Swift.abs(tilde / 5.1643e-5 - 1) < 1e-3)
        #expect(Swift.abs(ErrorBound.gamma(k: 10_000) / tilde - 11.54) < 0.01)
    }

    /// For small K, λ·√K ≥ K and the worst case is the tighter bound: the second opinion never
    /// exceeds it.
    @Test func neverLooserThanTheWorstCase() {
        for k in [0, 1, 4, 16, 64, 256, 4096, 1 << 20] {
            let worst = ErrorBound.element(expected: 3, magnitude: 10, accumulationLength: k)
            let tight = ErrorBound.probabilistic(expected: 3, magnitude: 10, accumulationLength: k)
            #expect(tight <= worst, "K = \(k)")
            if k <= 16 { #expect(tight == worst, "K = \(k)") }
            if k >= 4096 { #expect(tight < worst / 5, "K = \(k)") }
        }
    }

    /// An error half the worst-case bound is within it but beyond the probabilistic bound
    /// (K = 4096): the comparison passes and counts the element as suspicious.
    @Test func errorBetweenTheBoundsIsCountedSuspicious() throws {
        let k = 4096, e = 64.0, m = 2600.0
        let worst = ErrorBound.element(expected: e, magnitude: m, accumulationLength: k)
        let expected = try Tensor<Double>(shape: [2], storage: [e, e])
        let magnitude = try Tensor<Double>(shape: [2], storage: [m, m])
        let r = Comparison.compare(
            actual: [Float(e + worst / 2), Float(e)], expected: expected, magnitude: magnitude,
            accumulationLength: k, mode: .bound)
        #expect(r.status == .suspicious && r.suspiciousCount == 1)
        #expect(r.boundUtilization < 1 && r.probabilisticUtilization > 1)
    }

    /// 300 dot products of K = 2048 standard-normal pairs, summed in Float32 in order: none
    /// exceeds the probabilistic bound. The same sums kept to 12 significant bits (unit
    /// roundoff 2⁻¹², e.g. a kernel truncating its partial sums) stay within the worst case in
    /// most trials but exceed the probabilistic bound in most of them.
    @Test func separatesACorrectSumFromAShortOne() throws {
        var rng = SeededRNG(seed: 20_261_206)
        let k = 2048, trials = 300
        var falseAlarms = 0, caught = 0, withinWorst = 0
        for _ in 0..<trials {
            let a = (0..<k).map { _ in Float(rng.nextNormal()) }, b = (0..<k).map { _ in Float(rng.nextNormal()) }
            var exact = 0.0, magnitude = 0.0
            var float: Float = 0, short: Float = 0
            for i in 0..<k {
                exact += Double(a[i]) * Double(b[i])
                magnitude += Swift.abs(Double(a[i]) * Double(b[i]))
                float = float.addingProduct(a[i], b[i])
                short = Self.keep(bits: Self.shortBits, short.addingProduct(a[i], b[i]))
            }
            let expected = try Tensor<Double>(shape: [1], storage: [exact])
            let m = try Tensor<Double>(shape: [1], storage: [magnitude])
            let good = Comparison.compare(
                actual: [float], expected: expected, magnitude: m, accumulationLength: k, mode: .bound)
            let bad = Comparison.compare(
                actual: [short], expected: expected, magnitude: m, accumulationLength: k, mode: .bound)
            if good.probabilisticUtilization > 1 { falseAlarms += 1 }
            if bad.probabilisticUtilization > 1 { caught += 1 }
            if bad.boundUtilization <= 1 { withinWorst += 1 }
        }
        print(
            "probabilistic bound, \(trials) sums of K = \(k), \(Self.shortBits)-bit partial sums: false alarms \(falseAlarms), caught \(caught), within worst \(withinWorst)"
        )
        #expect(falseAlarms == 0)
        #expect(withinWorst > trials * 9 / 10, "\(withinWorst) of \(trials) short sums within the worst case")
        #expect(caught > trials / 2, "\(caught) of \(trials) short sums beyond the probabilistic bound")
    }

    /// Seed 20261206 gives: 12 bits 172 caught / 288 within the worst case; 11 bits 234 / 238;
    /// 13 bits 85 / 297 (the closer to Float32's 24 bits, the rarer the flag).
    static let shortBits = 12

    /// `x` rounded to nearest with `bits` significant bits.
    static func keep(bits: Int, _ x: Float) -> Float {
        guard x != 0, x.isFinite else { return x }
        let scale = Float(sign: .plus, exponent: x.exponent - Float.Exponent(bits - 1), significand: 1)
        return (x / scale).rounded(.toNearestOrEven) * scale
    }
}

/// Bound-mode inputs hit the kinks on purpose: about one element in 16 is exactly 0, 1 or −1.
@Suite struct SpecialValueFillTests {
    @Test func boundInputsMixInSpecialValues() throws {
        let problem = try Problem.parse("leaky_relu shape=64x64 slope=0.01")
        let x = try #require(CaseInputs.make(problem, seed: 3, mode: .bound)["x"]).storage
        let counts = [Float(0), 1, -1].map { v in x.filter { $0 == v }.count }
        // 4096 elements, 1/16 special, a third each: about 85 of each value.
        #expect(counts.allSatisfy { (50...130).contains($0) }, "\(counts)")
        let plain = try #require(CaseInputs.make(problem, seed: 3, mode: .bound, specialValues: false)["x"]).storage
        #expect(plain.filter { $0 == 0 || Swift.abs($0) == 1 }.isEmpty)
    }
}

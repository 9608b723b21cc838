import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import Testing

@testable import KernelCheckVerification

private let u = 0x1p-24

/// 24 distinct non-zero values, exactly representable in Float: 1.5, 2.5, …, 24.5 with alternating sign.
private let values24: [Double] = (0..<24).map { (i: Int) -> Double in
    let magnitude = Double(i) + 1.5
    return i % 2 == 0 ? magnitude : -magnitude
}

@Suite("Error bound")
struct ErrorBoundTests {
    @Test("γ_K = K·u / (1 − K·u), infinite once K·u ≥ 1")
    func gamma() {
        #expect(ErrorBound.gamma(k: 0) == 0)
        #expect(ErrorBound.gamma(k: 1) == u / (1 - u))
        #expect(ErrorBound.gamma(k: 1000) == 1000 * u / (1 - 1000 * u))
        #expect(ErrorBound.gamma(k: 1 << 24) == .infinity)
        #expect(ErrorBound.gamma(k: (1 << 24) - 1) > 1e6)
        #expect(ErrorBound.gamma(k: 10, unitRoundoff: 0x1p-53) == 10 * 0x1p-53 / (1 - 10 * 0x1p-53))
    }

    @Test("Per-element bound: 2·γ_K·magnitude + 4·u·|y| + 2^−149, and 0 for an exact zero")
    func element() {
        // K = 100, magnitude 100, y = 1: 2·(100u/(1 − 100u))·100 + 4u + 2^−149.
        let expected = 2 * (100 * u / (1 - 100 * u)) * 100 + 4 * u + 0x1p-149
        #expect(ErrorBound.element(expected: 1, magnitude: 100, accumulationLength: 100) == expected)
        #expect(ErrorBound.element(expected: 0, magnitude: 0, accumulationLength: 100) == 0)
        #expect(ErrorBound.element(expected: 0, magnitude: 0, accumulationLength: 1 << 30) == 0)
        #expect(ErrorBound.element(expected: 0, magnitude: 1, accumulationLength: 1 << 30) == .infinity)
    }
}

@Suite("Comparison")
struct ComparisonTests {
    @Test("Identical values pass in both modes with all metrics zero")
    func identical() throws {
        let e = try tensor([2, 3, 4], values24)
        let a = values24.map(Float.init)
        for mode in ComparisonMode.allCases {
            let r = Comparison.compare(
                actual: a, expected: e, magnitude: e.magnitude, accumulationLength: 7, mode: mode)
            #expect(r.status == .passed, "\(r.summary)")
            #expect(r.mismatchedCount == 0 && r.maxAbsError == 0 && r.maxULPDistance == 0 && r.nmse == 0)
            #expect(r.boundUtilization == 0 && r.worstIndex == nil && r.reason == nil)
            #expect(r.elementCount == 24)
        }
    }

    @Test("One ulp off: exact mode fails, bound mode passes at a third of the bound")
    func oneULP() throws {
        var values = values24
        values[5] = 1
        let e = try tensor([2, 3, 4], values)
        var a = values.map(Float.init)
        a[5] = Float(1).nextUp  // 1 + 2^−23: error 2u
        let exact = Comparison.compare(actual: a, expected: e, accumulationLength: 1, mode: .exact)
        #expect(exact.status == .failed)
        #expect(exact.mismatchedCount == 1)
        #expect(exact.worstCoordinates == [0, 1, 1])  // 5 = 0·12 + 1·4 + 1
        #expect(exact.maxULPDistance == 1)
        #expect(exact.boundUtilization == .infinity)  // no magnitude: the exact-mode bound is 0
        #expect(exact.reason?.hasPrefix("Mismatched elements: 1 / 24 (4.2%)") == true, "\(exact.reason ?? "")")

        // K = 1, magnitude = |y| = 1: bound = 2·u/(1−u) + 4u + 2^−149 ≈ 6u; utilization ≈ 2u / 6u = 1/3.
        let bound = Comparison.compare(
            actual: a, expected: e, magnitude: e.magnitude, accumulationLength: 1, mode: .bound)
        #expect(bound.status == .passed, "\(bound.summary)")
        #expect(bound.mismatchedCount == 0)
        #expect(abs(bound.boundUtilization - 1.0 / 3) < 1e-6)
        #expect(bound.maxULPDistance == 1)
        #expect(bound.maxAbsError == 0x1p-23)
        #expect(bound.worstIndex == 5)
    }

    @Test("Bound mode: well inside passes, near the bound is suspicious, twice as far fails")
    func boundEdge() throws {
        // K = 100, magnitude 100, y = 1: bound ≈ 20004u ≈ 1.1923e-3.
        let e = try tensor([1], [1]), m = try tensor([1], [100])
        let inside = Comparison.compare(
            actual: [1 + 0x1p-10], expected: e, magnitude: m, accumulationLength: 100, mode: .bound)
        // Within the worst case but beyond the probabilistic bound: λ(100) = √(2·ln(2·10¹⁴)) =
        // 8.115, 2·(λ·10·u)·100 + 4u ≈ 16 234u ≈ 9.676e-4 < 2^−10 ≈ 9.766e-4 — suspicious, not failed.
        #expect(inside.status == .suspicious && inside.mismatchedCount == 0)
        let well = Comparison.compare(
            actual: [1 + 0x1p-11], expected: e, magnitude: m, accumulationLength: 100, mode: .bound)
        #expect(well.status == .passed)
        // 2^−10 / (2·(100u/(1−100u))·100 + 4u + 2^−149) ≈ 0.81900
        #expect(abs(inside.boundUtilization - 0x1p-10 / (20_000 * u / (1 - 100 * u) + 4 * u)) < 1e-9)
        let outside = Comparison.compare(
            actual: [1 + 0x1p-9], expected: e, magnitude: m, accumulationLength: 100, mode: .bound)
        #expect(outside.status == .failed)
        #expect(outside.boundUtilization > 1.6)
        #expect(outside.reason?.contains("> bound") == true)
    }

    @Test("A large error fails with the right worst coordinates and mismatch count")
    func largeError() throws {
        let e = try tensor([2, 3, 4], values24)
        var a = values24.map(Float.init)
        a[23] += 1  // [1, 2, 3]: error 1
        a[6] += 0.25  // [0, 1, 2]: error 0.25
        for mode in ComparisonMode.allCases {
            let r = Comparison.compare(
                actual: a, expected: e, magnitude: e.magnitude, accumulationLength: 3, mode: mode)
            #expect(r.status == .failed)
            #expect(r.mismatchedCount == 2)
            #expect(r.worstIndex == 23)
            #expect(r.worstCoordinates == [1, 2, 3])
            #expect(r.maxAbsError == 1)
            #expect(r.worstExpected == values24[23] && r.worstActual == values24[23] + 1)
            #expect(
                r.reason?.hasPrefix("Mismatched elements: 2 / 24 (8.3%); worst at index 23 [1, 2, 3]") == true,
                "\(r.reason ?? "")")
        }
    }

    @Test("Relative error and NMSE by hand")
    func relativeAndNMSE() throws {
        // e = [1, 2], a = [1, 3]: abs 1, rel 1/2, NMSE = 1² / (1² + 2²) = 0.2.
        let r = Comparison.compare(
            actual: [1, 3], expected: try tensor([2], [1, 2]), accumulationLength: 1, mode: .exact)
        #expect(r.maxAbsError == 1 && r.maxRelError == 0.5)
        #expect(abs(r.nmse - 0.2) < 1e-15)
        // Error against an expected 0: infinite relative error and NMSE.
        let z = Comparison.compare(
            actual: [0, 1], expected: try tensor([2], [0, 0]), accumulationLength: 1, mode: .exact)
        #expect(z.maxRelError == .infinity && z.nmse == .infinity && z.status == .failed)
    }

    @Test("NaN or infinity in the output fails, naming the first index")
    func nonFiniteActual() throws {
        let e = try tensor([2, 3, 4], values24)
        var a = values24.map(Float.init)
        a[13] = .nan  // [1, 0, 1]
        a[20] = .infinity
        for mode in ComparisonMode.allCases {
            let r = Comparison.compare(
                actual: a, expected: e, magnitude: e.magnitude, accumulationLength: 3, mode: mode)
            #expect(r.status == .failed)
            #expect(r.mismatchedCount == 2)
            #expect(r.worstIndex == 13 && r.worstCoordinates == [1, 0, 1])
            #expect(
                r.reason?.contains("first non-finite at index 13 [1, 0, 1]: actual is nan") == true, "\(r.reason ?? "")"
            )
            // A NaN's error has no finite size: the summary must not read util=0 maxabs=0.
            #expect(r.maxAbsError == .infinity && r.boundUtilization == .infinity && r.nmse == .infinity)
            #expect(r.summary.contains("util=inf maxabs=inf"), "\(r.summary)")
            #expect(r.maxULPDistance == 0)  // over the finite pairs, which all match
        }
    }

    @Test("Non-finite expected values: a match only when identical")
    func nonFiniteExpected() throws {
        let e = try tensor([4], [1, .infinity, .nan, 3])
        let same = Comparison.compare(
            actual: [1, .infinity, .nan, 3], expected: e, accumulationLength: 1, mode: .exact)
        #expect(same.status == .passed)
        let different = Comparison.compare(
            actual: [1, .infinity, 0, 3], expected: e, accumulationLength: 1, mode: .exact)
        #expect(different.status == .failed && different.mismatchedCount == 1)
        #expect(different.reason?.contains("expected value is not finite") == true)
        #expect(different.boundUtilization == .infinity && different.maxAbsError == .infinity)
        let sign = Comparison.compare(
            actual: [1, -.infinity, .nan, 3], expected: e, accumulationLength: 1, mode: .exact)
        #expect(sign.status == .failed && sign.worstIndex == 1)
    }

    @Test("Mostly-zero or all-zero expected values, and an empty output, are mistrusted")
    func mistrusted() throws {
        // 19 of 20 zeros (95 % > 90 %): mistrusted.
        let mostly = try tensor([20], [0.5] + Array(repeating: 0, count: 19))
        let r = Comparison.compare(
            actual: mostly.storage.map(Float.init), expected: mostly, magnitude: mostly, accumulationLength: 1,
            mode: .bound)
        #expect(r.status == .mistrusted)
        #expect(r.zeroExpectedCount == 19)
        #expect(r.reason?.contains("19 of 20") == true)
        // 18 of 20 (exactly 90 %): trusted.
        let some = try tensor([20], [0.5, 0.25] + Array(repeating: 0, count: 18))
        #expect(
            Comparison.compare(
                actual: some.storage.map(Float.init), expected: some, magnitude: some,
                accumulationLength: 1, mode: .bound
            ).status == .passed)
        // All zero, even below 10 elements: mistrusted.
        let zeros = try tensor([3], [0, 0, 0])
        #expect(
            Comparison.compare(actual: [0, 0, 0], expected: zeros, accumulationLength: 1, mode: .exact).status
                == .mistrusted)
        // A failure is never downgraded to mistrusted.
        #expect(
            Comparison.compare(actual: [0, 1, 0], expected: zeros, accumulationLength: 1, mode: .exact).status
                == .failed)
        // Empty output (a 0x3 tensor): nothing compared, never a pass.
        let empty = Comparison.compare(
            actual: [], expected: try tensor([0, 3], []), magnitude: try tensor([0, 3], []),
            accumulationLength: 5, mode: .bound)
        #expect(empty.status == .mistrusted && empty.reason == "empty output: no elements to compare")
        // An infinite bound (K·u ≥ 1) says nothing.
        let one = try tensor([1], [1])
        #expect(
            Comparison.compare(
                actual: [1], expected: one, magnitude: one, accumulationLength: 1 << 24,
                mode: .bound
            ).status == .mistrusted)
    }

    @Test("Caller mistakes: no magnitude in bound mode is skipped; a wrong output size fails")
    func callerMistakes() throws {
        let e = try tensor([2], [1, 2])
        let skipped = Comparison.compare(actual: [1, 2], expected: e, accumulationLength: 1, mode: .bound)
        #expect(skipped.status == .skipped)
        let wrongMagnitude = Comparison.compare(
            actual: [1, 2], expected: e, magnitude: try tensor([1], [1]), accumulationLength: 1, mode: .exact)
        #expect(wrongMagnitude.status == .skipped)
        let short = Comparison.compare(actual: [1], expected: e, accumulationLength: 1, mode: .exact)
        #expect(short.status == .failed && short.reason == "actual has 1 elements, expected 2 (shape 2)")
    }

    @Test("ULP distance: monotone integers, across zero and the sign")
    func ulpDistance() {
        let tiny = Float.leastNonzeroMagnitude
        #expect(Comparison.ulpDistance(1, 1) == 0)
        #expect(Comparison.ulpDistance(1, Float(1).nextUp) == 1)
        #expect(Comparison.ulpDistance(Float(1).nextDown, Float(1).nextUp) == 2)
        #expect(Comparison.ulpDistance(-0.0, 0.0) == 0)
        #expect(Comparison.ulpDistance(-tiny, tiny) == 2)  // −2^−149, ±0, +2^−149
        #expect(Comparison.ulpDistance(0, tiny) == 1)
        #expect(Comparison.ulpDistance(-1, 1) == 2 * 0x3F80_0000)  // 1.0 is bit pattern 0x3F800000
        #expect(Comparison.ulpDistance(.greatestFiniteMagnitude, .infinity) == 1)
        #expect(Comparison.ulpDistance(.nan, 1) == Int.max)
    }

    @Test("Exact mode: −0 and +0 are equal; the expected is rounded to Float first")
    func exactModeZeroAndRounding() throws {
        let r = Comparison.compare(
            actual: [-0.0, Float(0.1)], expected: try tensor([2], [0, 0.1]), accumulationLength: 1, mode: .exact)
        #expect(r.status == .passed)
        #expect(r.maxULPDistance == 0)
        #expect(r.maxAbsError > 0)  // Float(0.1) ≠ 0.1, but it is the correctly rounded value
    }

    @Test("Coordinates of a flat index")
    func coordinates() {
        #expect(Comparison.coordinates(ofFlatIndex: 23, shape: [2, 3, 4]) == [1, 2, 3])
        #expect(Comparison.coordinates(ofFlatIndex: 0, shape: []) == [])
        #expect(Comparison.coordinates(ofFlatIndex: 7, shape: [1, 8, 1]) == [0, 7, 0])
    }

    @Test("Summary line and JSON round trip, infinities included")
    func summaryAndCodable() throws {
        let e = try tensor([2, 2], [1, 2, 3, 4])
        let passed = Comparison.compare(
            actual: [1, 2, 3, 4], expected: e, magnitude: e, accumulationLength: 2, mode: .bound)
        #expect(passed.summary == "passed util=0 maxabs=0 maxrel=0 maxulp=0 nmse=0 mismatched=0/4 putil=0")
        let failed = Comparison.compare(actual: [1, 2, 3, 5], expected: e, accumulationLength: 2, mode: .exact)
        #expect(
            failed.summary.hasPrefix(
                "failed util=inf maxabs=1 maxrel=0.25 maxulp=2097152 nmse=0.033 mismatched=1/4 worst=[1, 1]: Mismatched elements: 1 / 4"
            ),
            "\(failed.summary)")
        let json = try JSONEncoder().encode(failed)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"boundUtilization\":\"inf\""))
        #expect(text.contains("\"summary\""))
        #expect(try JSONDecoder().decode(ComparisonResult.self, from: json) == failed)
    }
}

/// A check's one-line summary prints the ULP maximum as a 64-bit integer: -8 against 12 is
/// 0x82400000 = 2185232384 steps apart, which `%d` printed as -2109734912.
@Suite struct CaseSummaryULPTests {
    struct Negating: KernelImplementation {
        let name = "negating"
        func run(
            _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
            output: UnsafeMutableBufferPointer<Float>, threads: Int
        ) throws(ImplementationError) {
            let x = inputs["x"]!.storage
            for i in output.indices { output[i] = -x[i] - 20 }
        }
    }

    @Test func largeULPDistancesPrintWhole() throws {
        let problem = try Problem.parse("relu shape=1")
        let o = CaseChecker(implementation: Negating(), determinism: false).check(problem, .fwd, seed: 1, mode: .exact)
        let ulp = try #require(o.comparison?.maxULPDistance)
        #expect(ulp > Int(Int32.max))
        #expect(o.summary.contains("maxulp=\(ulp) "), "\(o.summary)")
    }
}

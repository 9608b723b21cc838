import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import Testing

@testable import KernelCheckVerification

private let u32 = 0x1p-24

/// The per-precision bound and the failures only narrow output types have, on hand-made values.
@Suite struct LowPrecisionComparisonTests {
    static let bf16 = Precision(storage: .bf16)

    @Test func float32PrecisionsKeepTheFloat32BoundBitForBit() {
        for (y, m, k) in [(1.0, 100.0, 100), (0.0, 0.0, 7), (-3.5, 12.25, 4096), (1e-30, 1e-30, 3)] {
            let old = ErrorBound.element(expected: y, magnitude: m, accumulationLength: k)
            let oldTight = ErrorBound.probabilistic(expected: y, magnitude: m, accumulationLength: k)
            // An f32 output with an f32 accumulator is the float32 bound, whatever dt is.
            for p in [
                Precision.float32, Precision(storage: .bf16, output: .f32), Precision(storage: .f8e4m3, output: .f32),
            ] {
                #expect(ErrorBound.element(expected: y, magnitude: m, accumulationLength: k, precision: p) == old)
                #expect(
                    ErrorBound.probabilistic(expected: y, magnitude: m, accumulationLength: k, precision: p) == oldTight
                )
            }
        }
    }

    @Test func bf16OutputAddsOneRoundingAndHalfASubnormal() {
        // K = 10, |A|·|B| = 4, y = 2, odt = bf16 (u_o = 2⁻⁸, smallest subnormal 2⁻¹³³):
        // 2·γ₁₀(2⁻²⁴)·4·(1 + 2⁻⁸) + 4·2⁻²⁴·2 + 2⁻⁸·2 + 2⁻¹⁴⁹ + 2⁻¹³⁴.
        let gamma = 10 * u32 / (1 - 10 * u32)
        let expected = 2 * gamma * 4 * (1 + 0x1p-8) + 4 * u32 * 2 + 0x1p-8 * 2 + 0x1p-149 + 0x1p-134
        #expect(ErrorBound.element(expected: 2, magnitude: 4, accumulationLength: 10, precision: Self.bf16) == expected)
        // An exact zero stays exactly zero.
        #expect(ErrorBound.element(expected: 0, magnitude: 0, accumulationLength: 10, precision: Self.bf16) == 0)
    }

    @Test func f16AccumulatorUsesTwoToTheMinusElevenAndItsSubnormals() {
        // dt = f16, acc = f16, odt = f32; K = 100, |A|·|B| = 30, y = 1:
        // 2·γ₁₀₀(2⁻¹¹)·30 + 4·2⁻²⁴ + 2⁻¹⁴⁹ + 100·2⁻²⁵ (half of f16's 2⁻²⁴ per term).
        let p = Precision(storage: .f16, accumulation: .f16, output: .f32)
        let gamma = 100 * 0x1p-11 / (1 - 100 * 0x1p-11)
        let expected = 2 * gamma * 30 + 4 * u32 + 0x1p-149 + 100 * 0x1p-25
        #expect(ErrorBound.element(expected: 1, magnitude: 30, accumulationLength: 100, precision: p) == expected)
        // K·u ≥ 1 at K = 2048: the bound says nothing.
        #expect(ErrorBound.element(expected: 1, magnitude: 1, accumulationLength: 2048, precision: p) == .infinity)
    }

    @Test func roundingPassesAndTruncationFailsAtBF16() throws {
        // y = 1 + 2⁻⁷ − 2⁻²⁰ lies just below the bf16 value 1 + 2⁻⁷: rounding gives 1 + 2⁻⁷
        // (error 2⁻²⁰), truncation gives 1 (error ≈ 2⁻⁷ > 2⁻⁸·y, the output term).
        let y = 1 + 0x1p-7 - 0x1p-20
        let e = try tensor([1], [y])
        let rounded = Comparison.compare(
            actual: [1 + 0x1p-7], expected: e, magnitude: e, accumulationLength: 1, mode: .bound, precision: Self.bf16)
        #expect(rounded.status == .passed, "\(rounded.summary)")
        let truncated = Comparison.compare(
            actual: [1], expected: e, magnitude: e, accumulationLength: 1, mode: .bound, precision: Self.bf16)
        #expect(truncated.status == .failed)
        #expect(truncated.notRoundedCount == 0 && truncated.overflowCount == 0)
        // A tie, 1 + 2⁻⁸: both neighbours are within 2⁻⁸·y.
        let tie = try tensor([1], [1 + 0x1p-8])
        for a: Float in [1, 1 + 0x1p-7] {
            let r = Comparison.compare(
                actual: [a], expected: tie, magnitude: tie, accumulationLength: 1, mode: .bound, precision: Self.bf16)
            #expect(r.status == .passed, "\(a): \(r.summary)")
        }
    }

    @Test func anOutputThatIsNotAnODTValueFailsNamingTheIndex() throws {
        let e = try tensor([3], [1, 1.001, 2])
        for mode in [ComparisonMode.bound, .exact] {
            let r = Comparison.compare(
                actual: [1, 1.001, 2], expected: e, magnitude: e, accumulationLength: 1, mode: mode,
                precision: Self.bf16)
            #expect(r.status == .failed)
            #expect(r.notRoundedCount == 1)
            #expect(r.reason?.contains("not rounded to bf16") == true, "\(r.reason ?? "")")
            #expect(r.reason?.contains("first at index 1 [1]") == true, "\(r.reason ?? "")")
        }
    }

    @Test func exactModeComparesWithTheExactSumRoundedOnceToODT() throws {
        // 257 is a tie between the bf16 values 256 and 258: ties to even give 256.
        let e = try tensor([1], [257])
        func status(_ a: Float) -> ComparisonStatus {
            Comparison.compare(actual: [a], expected: e, accumulationLength: 3, mode: .exact, precision: Self.bf16)
                .status
        }
        #expect(status(256) == .passed)
        #expect(status(258) == .failed)
        #expect(status(257) == .failed)
    }

    @Test func infinityWhereTheValueFitsIsAnOverflowFailure() throws {
        let f16 = Precision(storage: .f16)
        let e = try tensor([2], [1, 60000])
        let r = Comparison.compare(
            actual: [1, .infinity], expected: e, magnitude: e, accumulationLength: 1, mode: .bound, precision: f16)
        #expect(r.status == .failed)
        #expect(r.overflowCount == 1)
        #expect(r.reason?.contains("overflow") == true && r.reason?.contains("60000") == true, "\(r.reason ?? "")")
        #expect(r.reason?.contains("index 1") == true, "\(r.reason ?? "")")
        let kinds = CaseOutcome(
            problem: "p", direction: .fwd, implementation: "i", mode: .bound, seed: 1, status: .failed, comparison: r,
            findings: [], seconds: 0
        ).failureKinds
        #expect(kinds == ["overflow"])
    }

    @Test func theCorrectOverflowIsAccepted() throws {
        // f16: 70000 rounds beyond 65504 (to +Inf); e4m3 has no Inf: 500 overflows to NaN.
        let e = try tensor([2], [1, 70000])
        let f16 = Comparison.compare(
            actual: [1, .infinity], expected: e, magnitude: e, accumulationLength: 1, mode: .bound,
            precision: Precision(storage: .f16))
        #expect(f16.status == .passed, "\(f16.summary)")
        let wrongSign = Comparison.compare(
            actual: [1, -.infinity], expected: e, magnitude: e, accumulationLength: 1, mode: .bound,
            precision: Precision(storage: .f16))
        #expect(wrongSign.status == .failed)
        let e4 = try tensor([2], [1, 500])
        let fp8 = Precision(storage: .f8e4m3)
        for mode in [ComparisonMode.bound, .exact] {
            let nan = Comparison.compare(
                actual: [1, .nan], expected: e4, magnitude: e4, accumulationLength: 1, mode: mode, precision: fp8)
            #expect(nan.status == .passed, "\(mode): \(nan.summary)")
            let inf = Comparison.compare(
                actual: [1, .infinity], expected: e4, magnitude: e4, accumulationLength: 1, mode: mode, precision: fp8)
            #expect(inf.status == .failed, "\(mode): \(inf.summary)")
        }
    }

    @Test func ulpDistancesCountODTValues() {
        #expect(Comparison.ulpDistance(1, 1 + 0x1p-7, in: .bf16) == 1)
        #expect(Comparison.ulpDistance(-0.0, 0, in: .bf16) == 0)
        #expect(Comparison.ulpDistance(448, -448, in: .f8e4m3) == 2 * 0x7E)
        #expect(Comparison.ulpDistance(65504, .infinity, in: .f16) == 1)
        #expect(Comparison.ulpDistance(1, 2, in: .f32) == Comparison.ulpDistance(1, 2))
    }
}

/// Inputs at every precision: drawn, rounded to dt, and checked.
@Suite struct LowPrecisionInputTests {
    @Test(arguments: [ScalarType.bf16, .f16, .f8e4m3, .f8e5m2])
    func inputsAreTheFloat32DrawRoundedToDT(_ dt: ScalarType) throws {
        let narrow = try Problem.parse("conv2d n=2 ic=3 oc=4 in=5x5 k=3x3 bias=1 dt=\(dt)")
        let wide = try Problem.parse("conv2d n=2 ic=3 oc=4 in=5x5 k=3x3 bias=1")
        for mode in [ComparisonMode.bound, .exact] {
            let a = CaseInputs.make(narrow, seed: 9, mode: mode), b = CaseInputs.make(wide, seed: 9, mode: mode)
            #expect(a.keys.sorted() == b.keys.sorted())
            for (role, t) in a {
                #expect(t.storage == b[role]!.storage.map { dt.rounded($0) }, "\(role)")
                #expect(dt.firstUnrepresentable(in: t.storage) == nil)
            }
            try narrow.checkRepresentable(inputs: a)
        }
    }

    @Test func anInputThatIsNotADTValueIsBadInputNamingRoleAndIndex() throws {
        let p = try Problem.parse("matmul a=2x2 b=2x2 dt=bf16")
        let good = try tensor([2, 2], [1, 2, 3, 4]).converted(to: Float.self)
        let bad = try tensor([2, 2], [1, 2, 3, 0.1]).converted(to: Float.self)
        #expect(
            throws: UnrepresentableInput(problem: p.description, role: "b", index: 3, value: Float(0.1), storage: .bf16)
        ) {
            try p.checkRepresentable(inputs: ["a": good, "b": bad])
        }
        let error = try #require(throws: UnrepresentableInput.self) {
            try p.checkRepresentable(inputs: ["a": good, "b": bad])
        }
        #expect(
            error.description.contains("input 'b' at flat index 3") && error.description.contains("not a bf16 value"))
        // Through the checker: skipped with the finding, the kernel never runs.
        let checker = CaseChecker(implementation: ReferenceImplementation(), determinism: false)
        let o = checker.check(
            p, .fwd, inputs: ["a": good, "b": bad, "dy": good], expected: try tensor([2, 2], [0, 0, 0, 0]),
            magnitude: try tensor([2, 2], [0, 0, 0, 0]), seed: 0, mode: .bound)
        #expect(o.status == .skipped && o.findings.first?.hasPrefix("bad input: ") == true, "\(o.findings)")
        // And through an implementation's own case check.
        var out = [Float](repeating: 0, count: 4)
        #expect(throws: ImplementationError.self) {
            try out.withUnsafeMutableBufferPointer {
                try LowPrecisionImplementation(kernel: .roundedReference).run(
                    p, .fwd, inputs: ["a": good, "b": bad], output: $0, threads: 1)
            }
        }
    }

    @Test func nanAndInfinityAreBadInputAtFloat32Too() throws {
        let p = try Problem.parse("matmul a=1x2 b=2x1")
        let b = try tensor([2, 1], [1, 1]).converted(to: Float.self)
        for v: Float in [.nan, .infinity] {
            var a = try tensor([1, 2], [1, 1]).converted(to: Float.self)
            a.storage[1] = v
            let error = try #require(throws: UnrepresentableInput.self) {
                try p.checkRepresentable(inputs: ["a": a, "b": b])
            }
            #expect(error.role == "a" && error.index == 1 && error.description.contains("not a finite number"))
        }
    }

    @Test func exactModeSkipsAReductionAnF16AccumulatorCannotHoldExactly() throws {
        let p = try Problem.parse("matmul a=1x3000 b=3000x2 dt=f16 acc=f16")
        let refusal = try #require(CaseInputs.exactModeRefusal(p, .fwd))
        #expect(refusal.contains("3000·1² + 1 ≥ 2048"), "\(refusal)")
        #expect(CaseInputs.exactModeRefusal(p, .bwdData) == nil)  // K = 2
        let checker = CaseChecker(implementation: ReferenceImplementation(), determinism: false)
        let skipped = checker.check(p, .fwd, seed: 3, mode: .exact)
        #expect(skipped.status == .skipped && skipped.findings == [refusal])
        #expect(checker.check(p, .bwdData, seed: 3, mode: .exact).status == .passed)
        // Bound mode compares, but K·u = 3000·2⁻¹¹ ≥ 1: the worst case says nothing there either.
        let bound = checker.check(p, .fwd, seed: 3, mode: .bound)
        #expect(bound.status == .mistrusted && bound.comparison?.reason?.contains("infinite") == true)
    }

    @Test func shrinkingAndReplayKeepThePrecision() throws {
        let p = try Problem.parse("conv2d n=2 ic=3 oc=4 in=5x5 k=3x3 bias=1 dt=f8e5m2 acc=f16 odt=f32")
        let candidates = Shrinker.candidates(p)
        #expect(!candidates.isEmpty)
        for c in candidates { #expect(c.descriptor.precision == p.descriptor.precision, "\(c)") }
        let o = CaseChecker(implementation: LowPrecisionImplementation(kernel: .truncatedOutput), determinism: false)
            .check(p, .fwd, seed: 5, mode: .bound)
        #expect(o.replayCommand.contains("dt=f8e5m2 acc=f16 odt=f32"))
        #expect(try Problem.parse(o.problem) == p)
    }

    @Test func theSweepGivesEveryPrecisionItsShareAndKeepsFloat32OnlyOpsAtFloat32() throws {
        let precisions = try Precision.list(dtypes: ["all"])
        #expect(precisions.map(\.storage) == ScalarType.allCases)
        let sweep = Sweep(
            families: OpFamily.allCases, cases: 80, seed: 1, mode: .bound,
            checker: CaseChecker(implementation: ReferenceImplementation()), precisions: precisions)
        var seen: [OpFamily: Set<ScalarType>] = [:]
        for i in 0..<80 {
            let (p, _) = sweep.problem(at: i)
            seen[p.family, default: []].insert(p.descriptor.precision.storage)
        }
        for f in OpFamily.allCases {
            #expect(seen[f] == (f.acceptsLowPrecision ? Set(ScalarType.allCases) : [.f32]), "\(f)")
        }
        // Without f32 in the list only the families that take other types are drawn.
        let narrow = Sweep(
            families: OpFamily.allCases, cases: 8, seed: 1, mode: .bound,
            checker: CaseChecker(implementation: ReferenceImplementation()), precisions: [Precision(storage: .bf16)])
        #expect(narrow.families == [.conv, .convTranspose, .matmul, .linear])
        #expect(try Precision.list(dtypes: ["all"], accumulation: .f16).map(\.storage) == [.f16, .f8e4m3, .f8e5m2])
        #expect(throws: ProblemError.self) { try Precision.list(dtypes: ["bf16"], accumulation: .f16) }
        #expect(throws: ProblemError.self) { try Precision.list(dtypes: ["f64"]) }
    }
}

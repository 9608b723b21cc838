import Foundation
import KernelCheckCore
import KernelCheckProblems
import Testing

@testable import KernelCheckVerification

/// The property suite at every precision, and the proof that the per-precision bounds bite:
/// honest low-precision kernels (built on the reference, `LowPrecisionImplementation`) pass
/// on the generator's draws in exact and bound mode, while a kernel that accumulates in f16
/// but declares `acc=f32`, and one that truncates its output to bf16 instead of rounding it,
/// fail on the same draws.
///
/// Seeded like `TiledPropertyTests` (`KERNELCHECK_SEED=<n>` or `random` for a fresh sweep);
/// every failure prints its replay line.
@Suite struct LowPrecisionPropertyTests {
    static var seed: UInt64 { TiledPropertyTests.seed }
    static let narrow: [ScalarType] = [.bf16, .f16, .f8e4m3, .f8e5m2]
    static let families: [OpFamily] = [.conv, .convTranspose, .matmul, .linear]

    static func sweep(
        _ kernel: LowPrecisionKernel, _ precisions: [Precision], mode: ComparisonMode, cases: Int,
        families: [OpFamily] = families
    ) -> Sweep.Result {
        Sweep(
            families: families, cases: cases, seed: seed, mode: mode,
            checker: CaseChecker(implementation: LowPrecisionImplementation(kernel: kernel), determinism: false),
            shrink: false, precisions: precisions
        ).run()
    }

    /// Checks that compared something (not skipped; mistrusted ones compared too).
    static func compared(_ r: Sweep.Result) -> Int { r.passed + r.failed + r.mistrusted + r.suspiciousCount }

    /// The kill figures of a planted bug on the sweep's draws: checks run, checks failed, and
    /// the checks where the bug changed the output at all (some element differs from the
    /// correctly rounded reference, `ReferenceImplementation`) and of those how many failed.
    /// A bug that leaves an output exact (a sum of a few fp8 products is exact in f16; a
    /// truncation of a value already in bf16) cannot be seen by any check.
    static func kills(
        _ kernel: LowPrecisionKernel, _ precisions: [Precision], mode: ComparisonMode, cases: Int,
        families: [OpFamily] = families
    ) -> (compared: Int, failed: Int, changed: Int, changedFailed: Int, replays: [String]) {
        let sweep = Sweep(
            families: families, cases: cases, seed: seed, mode: mode,
            checker: CaseChecker(implementation: LowPrecisionImplementation(kernel: kernel), determinism: false),
            shrink: false, precisions: precisions)
        var out = (compared: 0, failed: 0, changed: 0, changedFailed: 0, replays: [String]())
        for index in 0..<cases {
            let (problem, caseSeed) = sweep.problem(at: index)
            for direction in problem.directions {
                let o = sweep.checker.check(problem, direction, seed: caseSeed, mode: mode)
                guard o.status != .skipped else { continue }
                out.compared += 1
                if o.status == .failed { out.failed += 1 }
                let inputs = CaseInputs.make(problem, seed: caseSeed, mode: mode)
                let n = problem.descriptor.output(for: direction).shape.reduce(1, *)
                var planted = [Float](repeating: 0, count: n), honest = planted
                planted.withUnsafeMutableBufferPointer {
                    try? sweep.checker.implementation.run(problem, direction, inputs: inputs, output: $0, threads: 1)
                }
                honest.withUnsafeMutableBufferPointer {
                    try? ReferenceImplementation().run(problem, direction, inputs: inputs, output: $0, threads: 1)
                }
                if planted != honest {
                    out.changed += 1
                    if o.status == .failed { out.changedFailed += 1 } else { out.replays.append(o.replayCommand) }
                }
            }
        }
        return out
    }

    static func replayLines(_ r: Sweep.Result) -> String {
        r.failures.prefix(3).map { "  \($0.original.summary)\n  replay: \($0.replay)" }.joined(separator: "\n")
    }

    /// Every precision a storage type allows: output dt and f32, and with an f16 accumulator
    /// where dt allows it (output dt, f16 and f32).
    static func precisions(_ dt: ScalarType) -> [Precision] {
        var out = [Precision(storage: dt), Precision(storage: dt, output: .f32)]
        if dt != .bf16 {
            out += [.f16, .f32, dt].map { Precision(storage: dt, accumulation: .f16, output: $0) }
        }
        return out.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    @Test(arguments: narrow)
    func honestKernelsPassAtEveryPrecision(_ dt: ScalarType) {
        for mode in [ComparisonMode.exact, .bound] {
            let r = Self.sweep(.roundedReference, Self.precisions(dt), mode: mode, cases: 40)
            #expect(r.failed == 0, "dt=\(dt) \(mode) seed \(Self.seed):\n\(Self.replayLines(r))")
            #expect(r.passed >= 40, "dt=\(dt) \(mode): only \(r.passed) passed")
            let worst = r.tallies.values.map(\.worstUtilization).max() ?? 0
            print(
                "lowp honest rounded-reference dt=\(dt) \(mode): \(r.passed) passed, \(r.failed) failed, "
                    + "\(r.mistrusted) mistrusted, \(r.skipped) skipped, max utilization \(worst)")
        }
    }

    @Test(arguments: [ScalarType.f16, .f8e4m3, .f8e5m2])
    func anF16AccumulatorDeclaredF16Passes(_ dt: ScalarType) {
        let precisions = [ScalarType.f32, .f16, dt].map { Precision(storage: dt, accumulation: .f16, output: $0) }
        for mode in [ComparisonMode.exact, .bound] {
            let r = Self.sweep(.f16Accumulator, precisions, mode: mode, cases: 40)
            #expect(r.failed == 0, "dt=\(dt) acc=f16 \(mode) seed \(Self.seed):\n\(Self.replayLines(r))")
            #expect(r.passed >= 40, "dt=\(dt) acc=f16 \(mode): only \(r.passed) passed")
            print(
                "lowp honest f16 accumulator dt=\(dt) acc=f16 \(mode): \(r.passed) passed, \(r.failed) failed, "
                    + "max utilization \(r.tallies.values.map(\.worstUtilization).max() ?? 0)")
        }
    }

    /// Planted bug 1: partial sums rounded to f16 while the problem declares `acc=f32`. With an
    /// f32 output the bound's accumulation term is 2·γ_K(2⁻²⁴)·|A|·|B|, far below what f16
    /// partial sums (2⁻¹¹ relative each) lose; it must fail on most draws of every storage type.
    @Test(arguments: narrow)
    func anF16AccumulatorDeclaredF32Fails(_ dt: ScalarType) {
        let k = Self.kills(.f16Accumulator, [Precision(storage: dt, output: .f32)], mode: .bound, cases: 40)
        print(
            "lowp planted f16 accumulation, declared acc=f32, dt=\(dt) odt=f32: \(k.failed) failed / \(k.compared)"
                + " compared; \(k.changedFailed) failed / \(k.changed) whose output the bug changed")
        #expect(k.compared >= 40)
        // Short sums of fp8 products (8 significant bits) are often exact in f16: the bug then
        // changes nothing. Of the outputs it does change, (nearly) all must fail.
        #expect(k.failed * 5 >= k.compared * 2, "dt=\(dt): only \(k.failed) of \(k.compared) checks failed")
        #expect(
            k.changedFailed * 10 >= k.changed * 9,
            "dt=\(dt): \(k.changed - k.changedFailed) changed outputs passed, e.g. \(k.replays.prefix(3))")
    }

    /// Planted bug 2: the output cut toward zero to bf16 instead of rounded to nearest. Its
    /// error reaches one bf16 ulp (up to 2⁻⁷·|y| relative), the bound's output term allows
    /// 2⁻⁸·|y|: an element with significand `1 + f` and cut-off fraction φ of an ulp exceeds
    /// it when φ > (1 + f)/2, about a quarter to a third of the elements, so nearly every
    /// output with more than a few elements fails.
    @Test func truncatingTheOutputToBF16Fails() {
        let k = Self.kills(.truncatedOutput, [Precision(storage: .bf16)], mode: .bound, cases: 60)
        print(
            "lowp planted truncation to odt=bf16: \(k.failed) failed / \(k.compared) compared;"
                + " \(k.changedFailed) failed / \(k.changed) whose output the bug changed")
        #expect(k.compared >= 60)
        #expect(k.failed * 2 >= k.compared, "only \(k.failed) of \(k.compared) checks failed")
        // An output of one or two elements escapes with probability about 3/4 per element
        // (a truncation error below 2⁻⁸·|y|): the changed outputs that pass are those.
        #expect(
            k.changedFailed * 10 >= k.changed * 8,
            "\(k.changed - k.changedFailed) changed outputs passed, e.g. \(k.replays.prefix(3))")
        // Its exact-mode counterpart: integer sums beyond 256 are not bf16 numbers, and
        // truncating them differs from rounding them.
        let exact = Self.sweep(.truncatedOutput, [Precision(storage: .bf16)], mode: .exact, cases: 60)
        print(
            "lowp planted truncation to odt=bf16, exact mode: \(exact.failed) failed / \(Self.compared(exact)) compared"
        )
        #expect(exact.failed > 0)
    }
}

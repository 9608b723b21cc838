import KernelCheckCore
import KernelCheckProblems
import Testing

@testable import KernelCheckVerification

/// The engine must catch each classic kernel bug, shrink it to a small problem, and print a
/// replay command whose parameters reproduce the failure.
@Suite struct EngineBitesTests {
    @Test(arguments: Bug.allCases)
    func brokenImplementationIsCaughtShrunkAndReplayable(_ bug: Bug) throws {
        let checker = CaseChecker(
            implementation: BrokenImplementation(bug: bug), determinism: bug == .nondeterministicReduction)
        let sweep = Sweep(
            families: [bug.family], directions: [bug.direction], cases: 40, seed: 20261127,
            mode: bug.mode, checker: checker)
        let result = sweep.run()
        let failure = try #require(result.failures.first, "\(bug) was not caught in 40 problems")
        // Shrinking never grows the problem and ends on a failing case.
        let original = try Problem.parse(failure.original.problem), shrunk = try Problem.parse(failure.shrunk.problem)
        #expect(Shrinker.measure(shrunk) <= Shrinker.measure(original))
        #expect(failure.shrunk.status == .failed)
        // The replay line names everything needed, and re-running those parameters fails again.
        let replay = failure.replay
        #expect(
            replay.contains("--problem '\(failure.shrunk.problem)'") && replay.contains("--seed \(failure.shrunk.seed)")
        )
        #expect(
            replay.contains("--direction \(bug.direction.rawValue)")
                && replay.contains("--mode \(failure.shrunk.mode.rawValue)"))
        let again = checker.check(shrunk, bug.direction, seed: failure.shrunk.seed, mode: bug.mode)
        #expect(again.status == .failed, "replay of \(bug) passed: \(again.summary)")
        // Each bug is reported as the right kind of finding.
        switch bug {
        case .writePastEnd: #expect(again.findings.contains { $0.contains("out-of-bounds") })
        case .nondeterministicReduction: #expect(again.findings.contains { $0.contains("nondeterministic") })
        default: #expect(again.comparison?.status == .failed)
        }
        print(
            "\(bug): \(failure.original.problem) → shrunk in \(failure.shrinkSteps) steps to \(failure.shrunk.problem)\n  \(replay)"
        )
    }

    /// The reference checked against itself through the protocol passes everything: the
    /// engine does not raise false alarms (exact and bound mode, guards and determinism on).
    @Test(arguments: [ComparisonMode.exact, .bound])
    func referenceAgainstItselfRaisesNoAlarm(_ mode: ComparisonMode) {
        let sweep = Sweep(
            cases: 80, seed: 7, mode: mode, checker: CaseChecker(implementation: ReferenceImplementation()))
        let result = sweep.run()
        #expect(result.failed == 0, "\(result.failures.map { $0.shrunk.summary })")
        #expect(result.passed > 0)
    }
}

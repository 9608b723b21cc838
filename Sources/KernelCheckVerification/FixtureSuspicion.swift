import KernelCheckCore
import KernelCheckFixtures
import KernelCheckProblems

extension FixtureVerification {
    /// Whether the fixture's expected values for `direction`, rather than the kernels, are the
    /// likely culprit: at least two implementations ran, every one of them failed on the
    /// numbers alone (no guard or determinism finding, no error), and every one of them passes
    /// when judged against the reference re-evaluated in float64 on the same inputs with the
    /// same bound. Independent implementations that agree with each other and with the
    /// reference but not with the file point at the file (a stale or mis-generated oracle run).
    ///
    /// `outcomes` are this case's outcomes (any directions); only failures cost extra runs.
    public static func expectedValuesSuspect(
        _ fixture: FixtureCase, _ direction: Direction, outcomes: [CaseOutcome],
        implementations: [any KernelImplementation]
    ) -> Bool {
        let mine = outcomes.filter { $0.direction == direction }
        guard implementations.count >= 2, mine.count == implementations.count,
            mine.allSatisfy({ $0.status == .failed && $0.findings.isEmpty && $0.comparison?.status == .failed })
        else { return false }
        guard let reference = try? ExpectedValues.compute(fixture.problem, direction, inputs: fixture.inputs) else {
            return false
        }
        let mode = mine[0].mode
        for implementation in implementations {
            let checker = CaseChecker(implementation: implementation, determinism: false)
            let again = checker.check(
                fixture.problem, direction, inputs: fixture.inputs, expected: reference.values,
                magnitude: reference.magnitude, seed: UInt64(bitPattern: fixture.seed), mode: mode)
            if again.status == .failed { return false }
        }
        return true
    }

    /// The command that rebuilds the committed fixture file of the case's op family from the
    /// manifest and the PyTorch oracle.
    public static func regenerateCommand(_ fixture: FixtureCase) -> String {
        "kernelcheck fixtures regenerate --op \(fixture.problem.family.rawValue)"
    }
}

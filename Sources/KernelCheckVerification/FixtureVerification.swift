import KernelCheckCore
import KernelCheckFixtures
import KernelCheckProblems

/// Checks implementations against golden fixture cases: the expected values are the
/// oracle's; the reference supplies only the magnitude `|A|·|B|` that scales the bound.
public enum FixtureVerification {
    /// Every (direction, implementation) outcome of one case. Cases filled with integers are
    /// judged in exact mode where the op allows it (see `ComparisonMode.effective(for:)`); the
    /// others in bound mode, or in tight mode with `tight` (so is an integer-filled case whose
    /// op is judged by a bound: `effective(for:)` of exact is bound, which `tight` tightens).
    ///
    /// With `determinism` (the default) each implementation also runs again with the same,
    /// one and three threads and must give identical bits, as in `check`: a race or a
    /// thread-order-dependent reduction is invisible to the expected values alone.
    public static func verify(
        _ fixture: FixtureCase, implementations: [any KernelImplementation], guards: Bool = true, tight: Bool = false,
        determinism: Bool = true
    )
        -> [CaseOutcome]
    {
        let requested: ComparisonMode = fixture.fill.hasPrefix("int(") ? .exact : .bound
        let judged = requested.effective(for: fixture.problem)
        let mode: ComparisonMode = tight && judged == .bound ? .tight : judged
        var outcomes: [CaseOutcome] = []
        for direction in fixture.directions {
            let expected = fixture.expected[direction]!
            let magnitude: Tensor<Double>
            do {
                magnitude = try ExpectedValues.compute(fixture.problem, direction, inputs: fixture.inputs).magnitude
            } catch {
                for i in implementations {
                    outcomes.append(
                        CaseOutcome(
                            problem: fixture.problem.description, direction: direction, implementation: i.name,
                            mode: mode, seed: UInt64(bitPattern: fixture.seed), status: .skipped, comparison: nil,
                            findings: ["cannot compute the error bound: \(error)"], seconds: 0))
                }
                continue
            }
            for implementation in implementations {
                let checker = CaseChecker(implementation: implementation, guards: guards, determinism: determinism)
                outcomes.append(
                    checker.check(
                        fixture.problem, direction, inputs: fixture.inputs, expected: expected,
                        magnitude: magnitude, seed: UInt64(bitPattern: fixture.seed), mode: mode))
            }
        }
        return outcomes
    }
}

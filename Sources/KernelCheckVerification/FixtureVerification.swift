import KernelCheckCore
import KernelCheckFixtures
import KernelCheckProblems

/// Checks implementations against golden fixture cases: the expected values are the
/// oracle's; the reference supplies only the magnitude `|A|·|B|` that scales the bound.
public enum FixtureVerification {
    /// The mode a case is judged in: cases filled with integers in exact mode where the op
    /// allows it (see `ComparisonMode.effective(for:)`); the others in bound mode, or in tight
    /// mode with `tight` (so is an integer-filled case whose op is judged by a bound:
    /// `effective(for:)` of exact is bound, which `tight` tightens).
    public static func mode(of fixture: FixtureCase, tight: Bool) -> ComparisonMode {
        let requested: ComparisonMode = fixture.fill.hasPrefix("int(") ? .exact : .bound
        let judged = requested.effective(for: fixture.problem)
        return tight && judged == .bound ? .tight : judged
    }

    /// Every (direction, implementation) outcome of one case, judged in `mode(of:tight:)`,
    /// in direction order, each direction's implementations in the order given.
    ///
    /// With `determinism` (the default) each implementation also runs again with the same,
    /// one and three threads and must give identical bits, as in `check`: a race or a
    /// thread-order-dependent reduction is invisible to the expected values alone.
    ///
    /// For a run in a crash-isolated child: the first `skipping` checks of that order are
    /// left out (an earlier child ran them, or died in the last of them), `willCheck` hears
    /// of each check (its direction and implementation) before it runs, so that the check a
    /// crash interrupts is known, and `checked` gets each outcome as soon as it is made.
    public static func verify(
        _ fixture: FixtureCase, implementations: [any KernelImplementation], guards: Bool = true, tight: Bool = false,
        determinism: Bool = true, skipping: Int = 0,
        willCheck: (Direction, any KernelImplementation) -> Void = { _, _ in },
        checked: (CaseOutcome) -> Void = { _ in }
    )
        -> [CaseOutcome]
    {
        let mode = mode(of: fixture, tight: tight)
        var outcomes: [CaseOutcome] = []
        var position = 0  // checks of this case so far, skipped ones included
        for direction in fixture.directions {
            let expected = fixture.expected[direction]!
            if position + implementations.count <= skipping {
                position += implementations.count
                continue
            }
            let magnitude: Tensor<Double>
            do {
                magnitude = try ExpectedValues.compute(fixture.problem, direction, inputs: fixture.inputs).magnitude
            } catch {
                for i in implementations {
                    position += 1
                    if position <= skipping { continue }
                    let o = CaseOutcome(
                        problem: fixture.problem.description, direction: direction, implementation: i.name,
                        mode: mode, seed: UInt64(bitPattern: fixture.seed), status: .skipped, comparison: nil,
                        findings: ["cannot compute the error bound: \(error)"], seconds: 0)
                    checked(o)
                    outcomes.append(o)
                }
                continue
            }
            for implementation in implementations {
                position += 1
                if position <= skipping { continue }
                willCheck(direction, implementation)
                let checker = CaseChecker(implementation: implementation, guards: guards, determinism: determinism)
                let o = checker.check(
                    fixture.problem, direction, inputs: fixture.inputs, expected: expected,
                    magnitude: magnitude, seed: UInt64(bitPattern: fixture.seed), mode: mode)
                checked(o)
                outcomes.append(o)
            }
        }
        return outcomes
    }
}

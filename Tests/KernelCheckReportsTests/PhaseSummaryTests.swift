import Testing

@testable import KernelCheckReports

/// A phase's budget is the time left when it started: a phase that starts after an earlier
/// one ran past the deadline had none, recorded as 0 so that the report still validates.
@Suite struct PhaseSummaryTests {
    @Test func aPhaseStartedPastTheDeadlineHasABudgetOfZero() {
        let late = PhaseSummary(name: "bench", seconds: 0.5, budgetSeconds: -1.91e-06, problems: 1, checks: 0)
        #expect(late.budgetSeconds == 0)
        #expect(
            PhaseSummary(name: "bench", seconds: 0.5, budgetSeconds: 12.5, problems: 1, checks: 3).budgetSeconds == 12.5
        )
        #expect(
            PhaseSummary(name: "fixtures", seconds: 0.5, budgetSeconds: nil, problems: 1, checks: 3).budgetSeconds
                == nil)
        var r = Crafted.report()
        r.phases.append(late)
        #expect(Crafted.reason { try r.validate(path: "r.json") } == "no error")
    }
}

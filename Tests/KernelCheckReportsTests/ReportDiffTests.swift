import Testing

@testable import KernelCheckReports

/// Each kind of change is detected on crafted reports; identical reports and noise under the
/// thresholds raise nothing.
@Suite struct ReportDiffTests {
    /// The baseline and a current report that differs only by `change`.
    func diff(
        _ change: (inout NightlyReport) -> Void, baseline adjust: (inout NightlyReport) -> Void = { _ in }
    ) -> ReportDiff {
        var base = Crafted.report(), current = Crafted.report()
        adjust(&base)
        change(&current)
        return ReportDiff(baseline: base, current: current)
    }

    func setWorst(_ r: inout NightlyReport, _ value: Double) {
        let i = r.rows.firstIndex { $0.source == .sweepBound }!
        r.rows[i].worstUtilization = value
    }

    func setSeconds(_ r: inout NightlyReport, _ value: Double) { r.benchmarks[0].medianSeconds = value }

    @Test func identicalReportsRaiseNothing() {
        let d = ReportDiff(baseline: Crafted.report(), current: Crafted.report())
        #expect(!d.hasAlarm)
        #expect(d.isQuiet)
        #expect(d.performanceComparisons.count == 1)
    }

    @Test func aNewFailureIsAnAlarm() {
        let d = diff { $0.failures = [Crafted.failure()] }
        #expect(d.newFailures.map(\.identity) == [Crafted.failure().identity])
        #expect(d.hasAlarm)
        #expect(d.fixedFailures.isEmpty)
    }

    @Test func aFailureKnownFromTheBaselineIsNotNew() {
        let d = diff({ $0.failures = [Crafted.failure()] }, baseline: { $0.failures = [Crafted.failure()] })
        #expect(d.newFailures.isEmpty && d.fixedFailures.isEmpty && !d.hasAlarm)
    }

    @Test func aFailureThatShrinksToAnotherProblemIsNew() {
        let row = Crafted.row(.sweepExact, op: "matmul", failed: 1)
        let d = diff(
            {
                $0.failures = [Crafted.failure("matmul a=1x1 b=1x2")]; $0.rows.append(row)
            },
            baseline: {
                $0.failures = [Crafted.failure()]; $0.rows.append(row)
            })
        #expect(d.newFailures.count == 1 && d.fixedFailures.count == 1 && d.hasAlarm)
    }

    @Test func aFixedFailureIsReportedWithoutAlarm() {
        // The baseline failed in a row (sweep_exact/matmul/fwd/tiled) that still ran tonight.
        let d = diff(
            { $0.rows.append(Crafted.row(.sweepExact, op: "matmul")) },
            baseline: {
                $0.failures = [Crafted.failure()]
                $0.rows.append(Crafted.row(.sweepExact, op: "matmul", failed: 1))
            })
        #expect(d.fixedFailures.count == 1)
        #expect(!d.hasAlarm)
    }

    @Test func aFailureOfARowThatNoLongerRunsIsNotFixed() {
        let d = diff({ _ in }, baseline: { $0.failures = [Crafted.failure()] })
        #expect(d.fixedFailures.isEmpty)
    }

    /// Drift is listed (and shown) but does not fail the nightly on its own: see `hasAlarm`.
    @Test func errorDriftAboveTwiceIsListed() {
        let d = diff({ setWorst(&$0, 0.25) }, baseline: { setWorst(&$0, 0.1) })
        #expect(d.drift.count == 1)
        #expect(d.drift.first?.key == "sweep_bound/conv/fwd/f32/tiled")
        #expect(d.drift.first?.current == 0.25 && d.drift.first?.baseline == 0.1)
        #expect(!d.hasAlarm && !d.isQuiet)
        // From nothing to something above the floor is drift too.
        #expect(diff({ setWorst(&$0, 0.01) }, baseline: { setWorst(&$0, 0) }).drift.count == 1)
    }

    @Test func driftUnderTheThresholdsIsNotFlagged() {
        #expect(diff({ setWorst(&$0, 0.15) }, baseline: { setWorst(&$0, 0.1) }).drift.isEmpty)  // 1.5×
        #expect(diff({ setWorst(&$0, 0.2) }, baseline: { setWorst(&$0, 0.1) }).drift.isEmpty)  // exactly 2×
        #expect(diff({ setWorst(&$0, 0.0009) }, baseline: { setWorst(&$0, 0.0001) }).drift.isEmpty)  // 9×, both < 1e-3
        #expect(diff({ setWorst(&$0, 0.05) }, baseline: { setWorst(&$0, 0.1) }).drift.isEmpty)  // better
    }

    @Test func aSlowdownAboveTenPercentIsAnAlarm() {
        let d = diff({ setSeconds(&$0, 0.0115) }, baseline: { setSeconds(&$0, 0.01) })  // +15 %
        #expect(d.performanceRegressions.count == 1)
        #expect(d.performanceRegressions.first.map { abs($0.ratio - 1.15) < 1e-12 } == true)
        #expect(d.hasAlarm)
    }

    @Test func performanceNoiseAndSpeedupsAreNotAlarms() {
        let slower = diff({ setSeconds(&$0, 0.0105) }, baseline: { setSeconds(&$0, 0.01) })  // +5 %
        #expect(slower.performanceRegressions.isEmpty && !slower.hasAlarm)
        let faster = diff({ setSeconds(&$0, 0.008) }, baseline: { setSeconds(&$0, 0.01) })  // −20 %
        #expect(faster.performanceRegressions.isEmpty && faster.performanceImprovements.count == 1 && !faster.hasAlarm)
    }

    @Test func addedAndRemovedCasesAreListed() {
        let d = diff(
            {
                $0.rows.append(Crafted.row(.sweepExact, op: "loss", direction: "bwd_data"))
                $0.fixtureCases = ["conv.h5:case1"]
                $0.benchmarks.append(Crafted.bench("matmul 1024³"))
            },
            baseline: {
                $0.rows.removeAll { $0.source == .gradient }
            })
        #expect(d.addedRows == ["gradient/conv/bwd_data/f32/tiled", "sweep_exact/loss/bwd_data/f32/tiled"])
        #expect(d.removedRows.isEmpty)
        #expect(d.addedFixtureCases == ["conv.h5:case1"] && d.removedFixtureCases == ["conv.h5:case0"])
        #expect(d.addedBenchmarks == ["matmul 1024³/fwd/tiled/1t"])
        #expect(!d.hasAlarm && !d.isQuiet)
        let reverse = diff({ $0.rows.removeAll { $0.source == .gradient } })
        #expect(reverse.removedRows == ["gradient/conv/bwd_data/f32/tiled"])
    }

    @Test func theMarkdownDiffNamesEachKind() {
        let d = diff(
            {
                $0.failures = [Crafted.failure()]
                setWorst(&$0, 0.5)
                setSeconds(&$0, 0.02)
            },
            baseline: {
                setWorst(&$0, 0.1); setSeconds(&$0, 0.01)
            })
        let md = MarkdownReport.render(d).joined(separator: "\n")
        #expect(md.contains("ALARM"))
        #expect(md.contains("### New failures (1)"))
        #expect(md.contains("### Error drift"))
        #expect(md.contains("### Performance regressions"))
        #expect(md.contains("+100.0%"))
        #expect(md.contains(Crafted.failure().replay))
    }
}

import Foundation
import Testing

@testable import KernelCheckReports

/// `report merge` cannot re-measure: in CI (shards run without a baseline) a slowdown is a
/// single median on a shared runner, listed as unconfirmed; one its shard re-measured and
/// still found slow stays an alarm.
struct UnconfirmedSlowdownTests {
    static func reports(attempts: Int?) -> (NightlyReport, NightlyReport) {
        let baseline = Crafted.report()
        var current = Crafted.report()
        current.benchmarks = [Crafted.bench(seconds: 0.02)]
        current.benchmarks[0].attempts = attempts
        return (baseline, current)
    }

    @Test func aSlowdownMeasuredOnceIsUnconfirmedNotAnAlarm() {
        let (baseline, measured) = Self.reports(attempts: nil)
        var current = measured
        current.compare(with: baseline, path: "b.json")
        #expect(current.diff?.hasAlarm == true)
        current.setAsideUnconfirmedRegressions()
        #expect(current.diff?.hasAlarm == false)
        #expect(current.diff?.unconfirmedRegressions?.map(\.key) == [Crafted.bench().key])
        #expect(current.diff?.headline.hasSuffix("1 unconfirmed slowdown(s) (measured once)") == true)
        #expect(MarkdownReport.render(current).contains("Unconfirmed slowdowns"))
        #expect(HTMLReport.render(current).contains("Unconfirmed slowdowns"))
    }

    @Test func aReMeasuredSlowdownStaysAnAlarm() {
        let (baseline, measured) = Self.reports(attempts: 3)
        var current = measured
        current.compare(with: baseline, path: "b.json")
        current.setAsideUnconfirmedRegressions()
        #expect(current.diff?.hasAlarm == true && current.diff?.unconfirmedRegressions == nil)
    }
}

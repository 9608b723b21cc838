import Foundation
import KernelCheckCore
import KernelCheckVerification
import Testing

@testable import KernelCheckReports

/// What keeps the nightly report readable: skipped work folded per phase and reason, long
/// added/removed lists folded, and a ULP column only where a ULP distance means something.
@Suite struct ReportReadabilityTests {
    /// 49 benchmarks cut by the budget (each with its own estimate), one the kernel failed,
    /// and a sweep cut short.
    static let skipped: [SkippedWork] =
        (1...49).map { SkippedWork(phase: "bench", item: "layer\($0) fwd", reason: "time budget: needs ≈ \($0) s") }
        + [
            SkippedWork(phase: "bench", item: "odd fwd", reason: "the kernel failed: out of memory"),
            SkippedWork(phase: "sweep_exact", item: "7 of 10 problems", reason: "time budget spent (stopped before 3)"),
        ]

    @Test func skippedWorkFoldsPerPhaseAndKindOfReason() {
        let groups = SkippedGroup.fold(Self.skipped)
        #expect(groups.map(\.phase) == ["bench", "bench", "sweep_exact"])
        #expect(groups.map(\.kind) == ["time budget", "the kernel failed", "time budget spent (stopped before 3)"])
        #expect(
            groups[0].line
                == "bench: 49 items (layer1 fwd, layer2 fwd, layer3 fwd, … and 46 more) — time budget (needs ≈ 1 s; needs ≈ 2 s; … 49 variants)"
        )
        #expect(groups[1].line == "bench: odd fwd — the kernel failed: out of memory")
        #expect(groups[2].line == "sweep_exact: 7 of 10 problems — time budget spent (stopped before 3)")
    }

    @Test func reportsPrintOneLinePerGroupAndKeepEveryItemInJSON() throws {
        var r = Crafted.report()
        r.skipped = Self.skipped
        let md = MarkdownReport.render(r)
        #expect(md.contains("## Skipped (51)"))
        #expect(md.split(separator: "\n").filter { $0.hasPrefix("- bench: ") }.count == 2)
        let html = HTMLReport.render(r)
        #expect(html.contains("<details><summary><b>bench</b>: 49 items"))
        #expect(html.contains("<li>layer49 fwd</li>"))
        #expect(try NightlyReport.decode(r.jsonData()).skipped.count == 51)
    }

    @Test func longAddedAndRemovedListsAreFolded() {
        var d = ReportDiff()
        d.addedRows = (1...12).map { "sweep_exact/op\($0)/fwd/tiled" }
        let md = MarkdownReport.render(d).joined(separator: "\n")
        #expect(md.contains("### Added rows (12)"))
        #expect(md.contains("- `sweep_exact/op5/fwd/tiled`\n- … and 7 more"))
        #expect(!md.contains("op6/"))
        var r = Crafted.report()
        r.diff = d
        let html = HTMLReport.render(r)
        #expect(html.contains("<details><summary><b>Added rows (12)</b></summary><ul>"))
        #expect(html.contains("op12/fwd"))
    }

    @Test func ulpDistanceCountsOnlyWhereSignsAgreeAndTheValueIsAboveItsBound() throws {
        // Exact mode, no magnitude (bound 0): 1 → the next Float up is 1 ULP; 1e-9 → −1e-9 crosses
        // zero (about 2.2e9 ULPs, not significant); −0.5 → −0.5 is 0 ULPs.
        let e = try Tensor<Double>(shape: [3], storage: [1, 1e-9, -0.5])
        let exact = Comparison.compare(
            actual: [Float(1).nextUp, -1e-9, -0.5], expected: e, accumulationLength: 1, mode: .exact)
        #expect(exact.maxSignificantULPDistance == 1)
        #expect(exact.insignificantULPCount == 1)
        #expect(exact.maxULPDistance > 1_000_000_000)
        // Bound mode, magnitude 1, K = 1: bound = 2γ₁ + 4u|e| ≈ 1.2e-7 + 4u|e|. 1e-7 is below its
        // bound (not significant, though 5 ULPs off); 2 → its next Float up is 1 ULP.
        let b = try Tensor<Double>(shape: [2], storage: [1e-7, 2])
        let ones = try Tensor<Double>(shape: [2], storage: [1, 1])
        var small = Float(1e-7)
        for _ in 0..<5 { small = small.nextUp }
        let bound = Comparison.compare(
            actual: [small, Float(2).nextUp], expected: b, magnitude: ones, accumulationLength: 1, mode: .bound)
        #expect(bound.status == .passed)
        #expect(bound.maxSignificantULPDistance == 1)
        #expect(bound.insignificantULPCount == 1)
        #expect(bound.maxULPDistance == 5)
    }

    @Test func aRowWithoutASignificantULPShowsADashAndTheReportsSayWhy() {
        var r = Crafted.report()
        var near = ResultRow(source: .sweepBound, op: "loss", direction: "fwd", implementation: "tiled")
        near.add(status: "passed", utilization: 0.1, ulp: nil, nmse: 1e-14, seconds: 0.001)
        r.rows.append(near)
        r.normalize()
        let group = OpDirectionGroup.groups(r).first { $0.op == "loss" }
        #expect(group?.cells[6] == "—")
        #expect(OpDirectionGroup.groups(r).first { $0.op == "conv" && $0.direction == "fwd" }?.cells[6] == "3")
        #expect(MarkdownReport.render(r).contains(Format.ulpFootnote))
        #expect(HTMLReport.render(r).contains("same sign and |expected| is above the element"))
    }

    @Test func oldReportsWithoutKindAndTotalsStillReadAndOtherKindsAreRefused() throws {
        let r = Crafted.report()
        var object = try JSONSerialization.jsonObject(with: r.jsonData()) as! [String: Any]
        #expect(object["kind"] as? String == "nightly_report")
        #expect((object["totals"] as? [String: Int])?["checks"] == r.checks)
        object["kind"] = nil
        object["totals"] = nil
        #expect(try NightlyReport.decode(JSONSerialization.data(withJSONObject: object)) == r)
        object["kind"] = "verify"
        let other = try JSONSerialization.data(withJSONObject: object)
        #expect(
            Crafted.reason { _ = try NightlyReport.decode(other, path: "v.json") }
                == "v.json is not a nightly report: its kind is 'verify' (another command's JSON), not nightly_report")
    }
}

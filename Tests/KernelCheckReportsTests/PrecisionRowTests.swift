import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckVerification
import Testing

@testable import KernelCheckReports

/// The nightly's precision axis: rows per op × direction × precision in all three renderings,
/// diffs that key rows by precision (reports from before precisions read as f32), and a
/// sweep that gives every low-precision op every precision of the axis.
@Suite struct PrecisionRowTests {
    static func row(_ precision: String, op: String = "conv", failed: Int = 0) -> ResultRow {
        var r = ResultRow(source: .sweepBound, op: op, direction: "fwd", precision: precision, implementation: "tiled")
        r.add(status: "passed", utilization: 0.1, ulp: 2, nmse: 1e-12, seconds: 0.001)
        for _ in 0..<failed { r.add(status: "failed", utilization: 4, ulp: 99, nmse: 1e-3, seconds: 0.001) }
        return r
    }

    @Test(arguments: [
        ("dt=bf16", "bf16"), ("dt=f16 acc=f16", "f16 acc=f16"), ("dt=f8e4m3 odt=f32", "f8e4m3 odt=f32"),
        ("dt=f16 acc=f16 odt=f32", "f16 acc=f16 odt=f32"), ("", "f32"),
    ])
    func labelsAreTheProblemFieldsWithoutDt(_ fields: String, _ label: String) throws {
        let p = try Problem.parse("matmul a=2x3 b=3x4 " + fields)
        #expect(ResultRow.precisionLabel(p.descriptor.precision) == label)
    }

    @Test func everyRenderingHasARowPerPrecision() throws {
        var r = Crafted.report()
        r.rows = [Self.row("f32"), Self.row("bf16", failed: 1), Self.row("f8e4m3 odt=f32")]
        r.normalize()
        let md = MarkdownReport.render(r)
        #expect(md.contains("| op | direction | precision | fixtures |"))
        // Cells: fixtures, random exact, random bound (passed/cases), …
        #expect(md.contains("| conv | fwd | f32 | – | – | 1/1 |"), "\(md)")
        #expect(md.contains("| conv ✗ | fwd | bf16 | – | – | 1/2 ✗1 |"))
        #expect(md.contains("| conv | fwd | f8e4m3 odt=f32 | – | – | 1/1 |"))
        let html = HTMLReport.render(r)
        for label in ["f32", "bf16", "f8e4m3 odt=f32"] {
            #expect(html.contains("<tr><td>fwd</td><td>\(label)</td>"), "\(label)")
        }
        let json = try JSONSerialization.jsonObject(with: r.jsonData()) as! [String: Any]
        let rows = json["rows"] as! [[String: Any]]
        #expect(rows.map { $0["precision"] as? String } == ["bf16", "f32", "f8e4m3 odt=f32"])
        #expect(try NightlyReport.decode(r.jsonData()).rows == r.rows)
    }

    /// A report written before precisions: rows without `precision` read as f32 and match
    /// this report's f32 rows; the bf16 row is added, never matched with the f32 one.
    @Test func oldRowsReadAsFloat32AndDiffByPrecision() throws {
        var old = Crafted.report()
        old.rows = [Self.row("f32")]
        var object = try JSONSerialization.jsonObject(with: old.jsonData()) as! [String: Any]
        object["rows"] = (object["rows"] as! [[String: Any]]).map {
            var r = $0; r["precision"] = nil; return r
        }
        let baseline = try NightlyReport.decode(JSONSerialization.data(withJSONObject: object))
        #expect(baseline.rows.first?.precision == "f32")

        var current = Crafted.report()
        current.rows = [Self.row("f32"), Self.row("bf16")]
        current.rows[1].worstUtilization = 0.9  // would be drift if matched with the f32 row (0.1)
        let d = ReportDiff(baseline: baseline, current: current)
        #expect(d.addedRows == ["sweep_bound/conv/fwd/bf16/tiled"])
        #expect(d.removedRows.isEmpty && d.drift.isEmpty)
    }

    /// A label outside the grammar is refused when read, naming the row: keys join fields
    /// with "/", and "bf16/tiled" would make one row look like another.
    @Test(arguments: ["bf16/tiled", "f64", "dt=bf16", "bf16 acc=f16", "f32 odt=f32", ""])
    func aForeignPrecisionLabelIsRefused(_ label: String) throws {
        var r = Crafted.report()
        r.rows = [Self.row("f32")]
        var object = try JSONSerialization.jsonObject(with: r.jsonData()) as! [String: Any]
        object["rows"] = (object["rows"] as! [[String: Any]]).map {
            var row = $0; row["precision"] = label; return row
        }
        let reason = Crafted.reason { _ = try NightlyReport.decode(JSONSerialization.data(withJSONObject: object)) }
        #expect(reason.contains("rows[0].precision") && reason.contains("is not a precision label"), "\(reason)")
        for good in ["f32", "bf16", "f16 acc=f16 odt=f32", "f8e4m3 acc=f16 odt=f16", "f8e5m2 odt=f32"] {
            #expect(ResultRow.precision(label: good).map(ResultRow.precisionLabel) == good)
        }
    }

    /// A failure is fixed only where its own precision's row still ran.
    @Test func aFixedFailureNeedsItsPrecisionsRow() {
        var baseline = Crafted.report()
        baseline.failures = [Crafted.failure("matmul a=2x3 b=3x4 ta=0 tb=0 dt=bf16")]
        var current = Crafted.report()
        current.rows = [Self.row("f32", op: "matmul")]
        current.rows[0].source = .sweepExact
        #expect(ReportDiff(baseline: baseline, current: current).fixedFailures.isEmpty)
        current.rows.append(Self.row("bf16", op: "matmul"))
        current.rows[1].source = .sweepExact
        #expect(ReportDiff(baseline: baseline, current: current).fixedFailures.count == 1)
    }

    /// The nightly draws its sweep problems by `Sweep`'s precision rule (what `check --dtype`
    /// replays): over 120 problems (each family's problem taking the axis in turn) every
    /// low-precision op meets every precision of the axis, the others stay f32; without f32
    /// in the axis the f32-only families are not drawn at all.
    @Test func theSweepAxisCoversEveryPrecision() throws {
        let c = NightlyConfiguration(seed: 1, seedSource: "given", budgetSeconds: 1, implementations: [])
        let labels = Set(NightlyConfiguration.allPrecisions.map(ResultRow.precisionLabel))
        #expect(labels == ["f32", "bf16", "f16", "f8e4m3", "f8e5m2", "f16 acc=f16"])
        let sweep = Sweep(
            cases: 120, seed: 1, mode: .exact, checker: CaseChecker(implementation: ReferenceImplementation()),
            precisions: c.precisions)
        var seen: [OpFamily: Set<String>] = [:]
        for index in 0..<sweep.cases {
            let (p, _) = sweep.problem(at: index)
            seen[p.family, default: []].insert(ResultRow.precisionLabel(p.descriptor.precision))
        }
        for family in OpFamily.allCases {
            #expect(seen[family] == (family.acceptsLowPrecision ? labels : ["f32"]), "\(family): \(seen[family] ?? [])")
        }
        let narrow = Sweep(
            cases: 40, seed: 1, mode: .exact, checker: CaseChecker(implementation: ReferenceImplementation()),
            precisions: [Precision(storage: .bf16)])
        #expect((0..<40).allSatisfy { narrow.problem(at: $0).0.descriptor.precision == Precision(storage: .bf16) })
    }

    /// A short nightly: the sweep's rows carry narrow precisions, fixture rows the fixtures'.
    @Test func aNightlyRunHasRowsPerPrecision() throws {
        var c = NightlyConfiguration(
            seed: 20261206, seedSource: "given", budgetSeconds: 600, implementations: [TiledImplementation()])
        c.phases = [.sweep, .fixtures]
        c.families = [.matmul, .linear]
        c.sweepCases = 24
        c.mediumCases = 0
        c.fixtureFiles = [TestSupport.fixture("linear.h5")]
        let r = NightlyRunner(configuration: c).run()
        let sweep = Set(r.rows.filter { $0.source == .sweepBound }.map(\.precision))
        #expect(sweep.count >= 4, "\(sweep.sorted())")
        let fixtures = Set(r.rows.filter { $0.source == .fixture }.map(\.precision))
        #expect(fixtures.isSuperset(of: ["f32", "bf16", "f16", "f8e4m3", "f8e5m2"]), "\(fixtures.sorted())")
        #expect(r.settings.precisions?.count == 6)
        #expect(MarkdownReport.render(r).contains("| linear | fwd | f8e5m2 |"))
        #expect(r.coverageLine.contains("checks; precisions f32, bf16, f16, f8e4m3, f8e5m2, f16 acc=f16)"))
    }
}

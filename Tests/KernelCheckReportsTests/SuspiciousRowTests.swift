import Foundation
import KernelCheckVerification
import Testing

@testable import KernelCheckReports

/// Suspicious checks in the nightly report: counted on their own in a row, in the totals, in
/// the per-op table, merged across shards, validated, and absent from older reports as 0.
@Suite struct SuspiciousRowTests {
    /// A report whose random-bound row has 2 passed and 3 suspicious checks.
    static func report() -> NightlyReport {
        var r = Crafted.report()
        let i = r.rows.firstIndex { $0.source == .sweepBound }!
        for _ in 0..<3 { r.rows[i].add(status: "suspicious", utilization: 0.4, ulp: 40, nmse: 1e-12, seconds: 0.001) }
        return r
    }

    @Test func aRowCountsSuspiciousApartFromPassedAndFailed() throws {
        let r = Self.report()
        let row = try #require(r.rows.first { $0.source == .sweepBound })
        #expect(row.cases == 5 && row.passed == 2 && row.suspicious == 3 && row.failed == 0)
        #expect(r.totals.suspicious == 3 && r.totals.checks == r.checks)
        #expect(r.totalsLine.contains(" 0 mistrusted, 3 suspicious, 0 skipped"), "\(r.totalsLine)")
        #expect(Crafted.reason { try r.validate(path: "r.json") } == "no error")
    }

    @Test func thePerOpTableHasASuspiciousColumn() {
        let md = MarkdownReport.render(Self.report())
        #expect(md.contains("| gradients | suspicious | worst util |"))
        #expect(md.contains("| 2/5 ?3 |"), "\(md)")
        #expect(md.contains("| 3 |"))
    }

    @Test func mergingShardsAddsSuspicious() {
        var a = Self.report().rows.first { $0.source == .sweepBound }!
        a.merge(a)
        #expect(a.suspicious == 6 && a.cases == 10)
    }

    @Test func validationCountsSuspiciousInTheCases() {
        var r = Self.report()
        let i = r.rows.firstIndex { $0.source == .sweepBound }!
        r.rows[i].suspicious = 0
        #expect(
            Crafted.reason { try r.validate(path: "r.json") }.contains(
                "is not passed + failed + mistrusted + suspicious"))
    }

    /// A row written before the suspicious status existed has no `suspicious` key: 0.
    @Test func anOlderRowReadsAsNoneSuspicious() throws {
        let row = Crafted.row()
        var object = try #require(
            try JSONSerialization.jsonObject(with: try JSONFormat.encoder().encode(row)) as? [String: Any])
        #expect(object["suspicious"] as? Int == 0)
        object["suspicious"] = nil
        let back = try JSONFormat.decoder().decode(
            ResultRow.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(back == row)
    }
}

import KernelCheckTiled
import KernelCheckVerification

/// The nightly report's path coverage section: per tiled path, the sweep cases that took
/// it and, per blocking boundary, the cases that crossed it, then the gaps (paths and
/// path × boundary pairs no case reached), in Markdown and HTML.
enum CoverageSection {
    static let columns = CoverageBoundary.allCases

    /// Header cells: path, cases, one per boundary.
    static var header: [String] { ["path", "cases"] + columns.map(\.rawValue) }

    /// One row per target path (`—` where the path cannot cross a boundary), then rows
    /// that no target lists.
    static func rows(_ d: CoverageDocument) -> [[String]] {
        let targets = Tiled.coverageTargets
        let byKey = Dictionary(d.rows.map { ("\($0.kernel)/\($0.path)", $0) }, uniquingKeysWith: { a, _ in a })
        var out: [[String]] = targets.map { t in
            let row = byKey["\(t.kernel)/\(t.path)"]
            return ["\(t.kernel)/\(t.path)", "\(row?.cases ?? 0)"]
                + columns.map { b in t.boundaries.contains(b) ? "\(row?.count(b.rawValue) ?? 0)" : "—" }
        }
        let listed = Set(targets.map { "\($0.kernel)/\($0.path)" })
        for (key, row) in byKey.sorted(by: { $0.key < $1.key }) where !listed.contains(key) {
            out.append([key, "\(row.cases)"] + columns.map { _ in "—" })
        }
        return out
    }

    static func gapLine(_ d: CoverageDocument) -> String {
        d.gaps.isEmpty
            ? "Gaps: none." : "Gaps (\(d.gaps.count)): " + d.gaps.map(\.description).joined(separator: ", ") + "."
    }

    static func markdown(_ r: NightlyReport) -> [String] {
        guard let d = r.pathCoverage else { return [] }
        var md = ["## Tiled path coverage", ""]
        md.append(
            "Sweep cases of the tiled implementation per path the plans can take, and per blocking boundary the "
                + "cases that crossed it (— where the path cannot). \(d.untracked) cases ran ops without a tiled plan.")
        md.append("")
        md.append(Format.markdownRow(header))
        md.append("| --- |" + String(repeating: " ---: |", count: header.count - 1))
        for row in rows(d) { md.append(Format.markdownRow(row)) }
        md.append("")
        md.append(gapLine(d))
        md.append("")
        return md
    }

    static func html(_ r: NightlyReport) -> [String] {
        guard let d = r.pathCoverage else { return [] }
        var h = ["<h2>Tiled path coverage</h2>"]
        h.append(
            "<p class=\"muted\">Sweep cases per path of the tiled plans; per blocking boundary, the cases that crossed "
                + "it (— where the path cannot). \(d.untracked) cases ran ops without a tiled plan.</p>")
        h.append("<table><tr>" + header.map { "<th>\(HTMLReport.e($0))</th>" }.joined() + "</tr>")
        for row in rows(d) { h.append(HTMLReport.row(row, numericFrom: 1)) }
        h.append("</table>")
        h.append("<p class=\"\(d.gaps.isEmpty ? "ok" : "fail")\">\(HTMLReport.e(gapLine(d)))</p>")
        return h
    }
}

extension NightlyReport {
    /// Adds `other`'s counts to this report's coverage (shard merge); gaps are recomputed.
    mutating func mergePathCoverage(_ other: CoverageDocument?) {
        guard let other else { return }
        var tally = pathCoverage.map(PathCoverage.init) ?? PathCoverage()
        tally.merge(PathCoverage(other))
        pathCoverage = CoverageDocument(tally)
    }
}

import Foundation
import KernelCheckCore

/// Number formatting shared by the Markdown and HTML renderers.
enum Format {
    /// Three significant digits; `inf`, `nan`, and `0` for zero.
    static func g(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v == 0 { return "0" }
        return String(format: "%.3g", v)
    }

    static func g(_ v: Double?) -> String { v.map { g($0) } ?? "–" }

    static func seconds(_ v: Double) -> String {
        v >= 1
            ? String(format: "%.2f s", v)
            : v >= 1e-3 ? String(format: "%.2f ms", v * 1e3) : String(format: "%.1f µs", v * 1e6)
    }

    static func percent(_ ratio: Double) -> String { String(format: "%+.1f%%", (ratio - 1) * 100) }

    /// `1h 2m 3s` style.
    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t >= 3600 { return "\(t / 3600)h \(t % 3600 / 60)m" }
        if t >= 60 { return "\(t / 60)m \(t % 60)s" }
        return "\(t)s"
    }

    /// A commit as its first 12 hex digits, `unknown` without one.
    static func commit(_ c: String?) -> String { c.map { String($0.prefix(12)) } ?? "unknown" }

    /// The report's day, `yyyy-mm-dd`.
    static func day(_ r: NightlyReport) -> String { String(r.createdAt.prefix(10)) }

    /// `, shards 0,2 of 4` for a sharded run, empty otherwise.
    static func shards(_ s: NightlySettings) -> String {
        s.shardCount > 1 ? ", shards \(s.shards.map(String.init).joined(separator: ",")) of \(s.shardCount)" : ""
    }

    /// `<CPU model> × <cores>, <toolchain>, <OS>`.
    static func machine(_ e: ReportEnvironment) -> String {
        "\(e.cpuModel ?? "unknown CPU") × \(e.cores), \(e.toolchain), \(e.os)"
    }

    /// `| a | b | c |`: one Markdown table row.
    static func markdownRow(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }

    /// The max-ULP cell of a group without a significant ULP distance.
    static let noULP = "—"

    /// The footnote under both reports' results table: how the ULP column is computed.
    static let ulpFootnote =
        "Max ULP: the number of Floats between the result and the expected value rounded to Float, counted only"
        + " where the two have the same sign and |expected| is above the element's error bound; near zero or"
        + " across a sign change a result within the bound can be millions of ULPs away, so those elements are"
        + " left out, and \"\(noULP)\" means no element qualified (gradient rows, results near zero)."

    /// The fixed order of op families then directions used in tables.
    static let directionOrder = ["fwd", "bwd_data", "bwd_weights", "bwd_bias", "bwd_gamma", "bwd_beta", "read"]
}

/// Rows of a report grouped for the per-op × direction × precision tables.
struct OpDirectionGroup {
    var op: String
    var direction: String
    /// `ResultRow.precision` (`f32`, `bf16`, `f16 acc=f16`, …).
    var precision = "f32"
    var rows: [ResultRow]

    func rows(_ source: CaseSource) -> [ResultRow] { rows.filter { $0.source == source } }
    var failed: Int { rows.map(\.failed).reduce(0, +) }
    var worstUtilization: Double { rows.map(\.worstUtilization).max() ?? 0 }
    /// The largest significant ULP distance of the group's rows; nil when none has one.
    var maxUlp: Int? { rows.compactMap(\.maxUlp).max() }
    var nmseP99: Double? {
        let merged = rows.map(\.nmseHistogram).reduce(LogHistogram(binsPerDecade: 10)) { $0.merged(with: $1) }
        return Percentiles(merged)?.p99
    }

    /// The cells both reports show for the group after its op and direction: fixtures,
    /// random exact, random bound, gradients, suspicious, worst utilization, max ULP, NMSE p99.
    var cells: [String] {
        [
            cell(.fixture), cell(.sweepExact), cell(.sweepBound), cell(.gradient),
            "\(rows.map(\.suspicious).reduce(0, +))", Format.g(worstUtilization),
            maxUlp.map(String.init) ?? Format.noULP, Format.g(nmseP99),
        ]
    }

    /// `passed/cases` of one source (plus mistrusted, suspicious and skipped when there are any).
    func cell(_ source: CaseSource) -> String {
        let r = rows(source)
        guard !r.isEmpty else { return "–" }
        let cases = r.map(\.cases).reduce(0, +), passed = r.map(\.passed).reduce(0, +)
        let failed = r.map(\.failed).reduce(0, +), mistrusted = r.map(\.mistrusted).reduce(0, +)
        let skipped = r.map(\.skipped).reduce(0, +), suspicious = r.map(\.suspicious).reduce(0, +)
        var s = "\(passed)/\(cases)"
        if failed > 0 { s += " ✗\(failed)" }
        if mistrusted > 0 { s += " m\(mistrusted)" }
        if suspicious > 0 { s += " ?\(suspicious)" }
        if skipped > 0 { s += " s\(skipped)" }
        return s
    }

    static func groups(_ report: NightlyReport) -> [OpDirectionGroup] {
        let opOrder = ["conv", "conv_transpose", "padproj_a", "padproj_b", "matmul", "linear", "activation", "loss"]
        func rank(_ list: [String], _ v: String) -> Int { list.firstIndex(of: v) ?? list.count }
        // f32 first, then the narrow types in ScalarType's order; variants (acc=, odt=) after
        // their plain type.
        func precisionRank(_ label: String) -> Int {
            rank(ScalarType.allCases.map(\.rawValue), String(label.prefix { $0 != " " }))
        }
        var byKey: [String: OpDirectionGroup] = [:]
        for row in report.rows {
            byKey[
                "\(row.op)/\(row.direction)/\(row.precision)",
                default: OpDirectionGroup(op: row.op, direction: row.direction, precision: row.precision, rows: [])
            ].rows.append(row)
        }
        return byKey.values.sorted {
            (
                rank(opOrder, $0.op), $0.op, rank(Format.directionOrder, $0.direction), $0.direction,
                precisionRank($0.precision), $0.precision
            )
                < (
                    rank(opOrder, $1.op), $1.op, rank(Format.directionOrder, $1.direction), $1.direction,
                    precisionRank($1.precision), $1.precision
                )
        }
    }
}

extension PhaseSummary {
    /// The cells both reports show for a phase: name, problems, checks, seconds, budget.
    var cells: [String] {
        [
            name, "\(problems)", "\(checks)", String(format: "%.1f", seconds),
            budgetSeconds.map { String(format: "%.0f", $0) } ?? "–",
        ]
    }
}

extension NightlyReport {
    /// `N passed, N failed, N mistrusted, N suspicious, N skipped`.
    public var totalsLine: String { totals.summaryLine }

    /// Problems and checks per phase, one line.
    public var coverageLine: String {
        func phase(_ name: String) -> PhaseSummary? { phases.first { $0.name == name } }
        var parts: [String] = []
        if let f = phase("fixtures") { parts.append("\(f.problems) fixture cases (\(f.checks) checks)") }
        let sweeps = phases.filter { $0.name.hasPrefix("sweep_") }
        if !sweeps.isEmpty {
            let checks = sweeps.map(\.checks).reduce(0, +)
            let each = sweeps.map {
                "\($0.name.dropFirst("sweep_".count).replacingOccurrences(of: "_", with: " ")) \($0.problems)"
            }
            // The precision axis (absent from reports written before it: float32 only).
            let axis = settings.precisions.map { "; precisions \($0.joined(separator: ", "))" } ?? ""
            parts.append("\(randomProblems) random problems (\(each.joined(separator: ", ")); \(checks) checks\(axis))")
        }
        if let g = phase(CaseSource.gradient.rawValue) {
            parts.append("\(g.problems) gradient problems (\(g.checks) checks)")
        }
        if let b = phase("bench") { parts.append("\(b.checks) benchmark measurements") }
        return parts.joined(separator: ", ")
    }
}

/// The nightly report's mutation testing section: the totals of the most recent kill
/// matrix, kills per detector, the survivors first (each a gap of the harness), the
/// undecided and unrun mutants, then the whole mutant × detector table (compact in Markdown,
/// folded in HTML). Without a matrix it says so: an unknown kill rate is never a pass.
enum MutationSection {
    static let title = "Mutation testing"

    /// `killed K, survived S, timeout T, error E, stillborn B, inapplicable I of N mutants`.
    static func totalsLine(_ m: KillMatrix) -> String {
        let t = m.totals
        return
            "killed \(t.killed), survived \(t.survived), timeout \(t.timeout), error \(t.error), "
            + "stillborn \(t.stillborn), inapplicable \(t.inapplicable) of \(t.mutants) mutants"
    }

    /// Date, machine, command, and how complete the run was.
    static func provenance(_ m: KillMatrix) -> String {
        var s = "Kill matrix of \(m.date)"
        if let cpu = m.cpu { s += " (\(cpu))" }
        s += " from `\(m.source)`"
        if let c = m.command { s += ", `\(c)`" }
        s += "."
        if m.isIncomplete, let planned = m.planned {
            s += " Incomplete: \(m.mutants.count) of the \(planned) mutants chosen ran before the run stopped."
        }
        return s
    }

    static func killsLine(_ m: KillMatrix) -> String {
        "Kills per detector (alone): "
            + m.detectorKills.map { "\($0.detector) \($0.kills) (\($0.soleKills))" }.joined(separator: ", ") + "."
    }

    /// One line per mutant that is not killed, survivors first.
    static func gapLines(_ m: KillMatrix) -> [(mutant: MutantResult, text: String)] {
        m.gapsFirst.filter { $0.outcome != .killed }.map { r in
            let why: String
            switch r.outcome {
            case .survived: why = "survived every detector"
            case .timeout: why = "undecided (a detector timed out)"
            case .error: why = "undecided (a detector exited 2)"
            case .stillborn: why = "did not compile"
            case .inapplicable: why = "its edits no longer apply"
            case .killed: why = "killed"
            }
            var text = "\(r.description) (\(r.path), \(r.direction), \(r.bugClass)): \(why)"
            if let e = r.error, r.outcome == .inapplicable { text += ": \(e.prefix(160))" }
            return (r, text)
        }
    }

    /// A compact cell: `✗ 3.2 s` killed, `·` survived, `T` timeout, `E` error, `–` not run.
    static func cell(_ r: DetectorResult?) -> String {
        guard let r else { return "–" }
        switch r.status {
        case .killed: return "✗ \(Format.g(r.seconds)) s"
        case .survived: return "·"
        case .timeout: return "T"
        case .error: return "E"
        }
    }

    /// The first killing detector's shrunk problem.
    static func shrunk(_ m: MutantResult) -> String {
        m.results.first { $0.status == .killed && $0.shrunk != nil }?.shrunk ?? ""
    }

    /// The reason there is no matrix, as a sentence (one final period).
    static func missingLine(_ t: MutationTesting) -> String {
        let reason = t.missing ?? KillMatrix.missingNote
        return "No kill matrix: " + (reason.hasSuffix(".") ? reason : reason + ".")
    }

    static func markdown(_ r: NightlyReport) -> [String] {
        guard let section = r.mutationTesting else { return [] }
        var md = ["## \(title)", ""]
        guard let m = section.killMatrix else {
            md.append(
                "**\(missingLine(section))** The harness's kill rate is unknown "
                    + "this week, which is not a pass (docs/mutation-testing.md).")
            md.append("")
            return md
        }
        md.append("**\(totalsLine(m))**")
        md.append("")
        md.append(provenance(m))
        md.append("")
        md.append(killsLine(m))
        md.append("")
        let gaps = gapLines(m)
        if gaps.isEmpty {
            md.append("Every mutant run was killed.")
        } else {
            md.append("Not killed (\(gaps.count)), survivors first:")
            md.append("")
            for g in gaps {
                md.append("- \(g.mutant.outcome == .survived ? "**gap** " : "")`\(g.mutant.id)`: \(g.text)")
            }
        }
        md.append("")
        md.append("Cells: ✗ killed (detector seconds), · survived, T timeout, E error, – not run.")
        md.append("")
        md.append(Format.markdownRow(["mutant", "outcome"] + m.detectors + ["shrunk problem"]))
        md.append("| --- | --- |" + String(repeating: " --- |", count: m.detectors.count + 1))
        for x in m.gapsFirst {
            let cells = m.detectors.map { d in cell(x.results.first { $0.detector == d }) }
            md.append(Format.markdownRow(["`\(escape(x.id))`", x.outcome.rawValue] + cells + [escape(shrunk(x))]))
        }
        md.append("")
        return md
    }

    /// Markdown table text: a `|` would split the cell.
    static func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

    static func html(_ r: NightlyReport) -> [String] {
        guard let section = r.mutationTesting else { return [] }
        let e = HTMLReport.e
        var h = ["<h2>\(title)</h2>"]
        guard let m = section.killMatrix else {
            h.append(
                "<p class=\"alarm\"><b>\(e(missingLine(section)))</b> The harness's "
                    + "kill rate is unknown this week, which is not a pass.</p>")
            return h
        }
        let clean = m.totals.killed == m.totals.mutants && !m.isIncomplete
        h.append("<p class=\"\(clean ? "quiet" : "alarm")\"><b>\(e(totalsLine(m)))</b></p>")
        h.append("<p class=\"muted\">\(e(provenance(m).replacingOccurrences(of: "`", with: "")))</p>")
        h.append("<table><tr><th>detector</th><th>kills</th><th>alone</th></tr>")
        for k in m.detectorKills {
            h.append(HTMLReport.row([k.detector, "\(k.kills)", "\(k.soleKills)"], numericFrom: 1))
        }
        h.append("</table>")
        let gaps = gapLines(m)
        if !gaps.isEmpty {
            h.append("<h3>Not killed (\(gaps.count)), survivors first</h3><ul>")
            for g in gaps {
                let mark = g.mutant.outcome == .survived ? "<span class=\"fail\">gap</span> " : ""
                h.append("<li>\(mark)<code>\(e(g.mutant.id))</code>: \(e(g.text))</li>")
            }
            h.append("</ul>")
        }
        h.append(
            "<details><summary><b>Kill matrix (\(m.mutants.count) mutants × \(m.detectors.count) detectors)</b></summary>"
        )
        h.append(
            "<table><tr><th>mutant</th><th>outcome</th>" + m.detectors.map { "<th>\(e($0))</th>" }.joined()
                + "<th>shrunk problem</th></tr>")
        for x in m.gapsFirst {
            let cells = m.detectors.map { d -> String in
                guard let res = x.results.first(where: { $0.detector == d }) else { return "<td>–</td>" }
                let text = res.status == .killed ? "✗ \(Format.g(res.seconds)) s" : "\(res.status.rawValue)"
                return res.status == .killed ? "<td class=\"ok\">\(e(text))</td>" : "<td>\(e(text))</td>"
            }
            let outcome = x.outcome == .killed ? "ok" : "fail"
            h.append(
                "<tr><td><code>\(e(x.id))</code><br><span class=\"muted\">\(e(x.description))</span></td>"
                    + "<td class=\"\(outcome)\">\(e(x.outcome.rawValue))</td>"
                    + cells.joined() + "<td><code>\(e(shrunk(x)))</code></td></tr>")
        }
        h.append("</table></details>")
        return h
    }
}

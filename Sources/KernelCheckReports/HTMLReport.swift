/// `report.html`: one self-contained page (inline CSS and SVG; no scripts, fonts or other
/// resources to fetch), readable offline from a CI artifact.
public enum HTMLReport {
    static func e(_ s: String) -> String { SVGChart.escape(s) }

    /// One table row of escaped cells; those from index `numericFrom` on are numbers
    /// (right-aligned).
    static func row(_ cells: [String], numericFrom: Int) -> String {
        "<tr>"
            + cells.enumerated().map { i, c in i < numericFrom ? "<td>\(e(c))</td>" : "<td class=\"n\">\(e(c))</td>" }
            .joined() + "</tr>"
    }

    static let style = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1180px;color:#1d232a;padding:0 16px}
        h1{font-size:22px;margin:0 0 6px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d5dbe1;padding-bottom:4px}
        h3{font-size:15px;margin:18px 0 6px}table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
        th,td{border:1px solid #d5dbe1;padding:3px 8px;text-align:left}th{background:#f1f4f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
        .ok{color:#17663a}.bad{fill:#c62828}.good{fill:#3f8f5f}.zero{fill:#8a96a3}.fail{color:#b71c1c;font-weight:600}
        .totals{font-size:18px;font-weight:600;margin:10px 0}.muted{color:#5b6670}
        code,pre{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f4f6f8;border-radius:3px}
        pre{padding:6px 8px;white-space:pre-wrap;word-break:break-all;margin:4px 0 10px}
        .chart .t{font-size:13px;font-weight:600;fill:#1d232a}.chart .tick{font-size:11px;fill:#4a5560}
        .chart .axis{stroke:#7b8691;stroke-width:1}.chart .limit{stroke:#c62828;stroke-width:1.5;stroke-dasharray:4 3}
        .chart .cur{fill:#2f6db5}.chart .base{fill:#a9b3bd}.op{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
        .alarm{background:#fdecea;border:1px solid #f5c2c0;padding:8px 12px;border-radius:4px}
        .quiet{background:#e9f5ee;border:1px solid #bfe0cb;padding:8px 12px;border-radius:4px}
        """

    public static func render(_ r: NightlyReport) -> String {
        var h: [String] = []
        let s = r.settings, env = r.environment
        h.append("<!DOCTYPE html>")
        h.append("<html lang=\"en\"><head><meta charset=\"utf-8\">")
        h.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        h.append("<title>KernelCheck nightly \(e(Format.day(r))) seed \(s.seed)</title>")
        h.append("<style>\(style)</style></head><body>")
        h.append("<h1>KernelCheck nightly \(e(Format.day(r)))</h1>")
        h.append(
            "<p class=\"muted\">seed \(s.seed) (\(e(s.seedSource))), budget \(e(Format.duration(s.budgetSeconds))), "
                + "commit <code>\(e(Format.commit(env.gitCommit)))</code>, \(e(Format.machine(env)))\(Format.shards(s))</p>"
        )
        h.append("<p class=\"totals \(r.failed > 0 ? "fail" : "ok")\">\(e(r.totalsLine))</p>")
        h.append("<p>\(e(r.coverageLine)).</p>")
        h.append(contentsOf: diffSection(r))
        h.append(contentsOf: opSections(r))
        h.append(contentsOf: benchSection(r))
        h.append(contentsOf: failureSection(r.failures, title: "Failures", level: 2))
        h.append(contentsOf: CoverageSection.html(r))
        h.append(contentsOf: MutationSection.html(r))
        if !r.skipped.isEmpty {
            h.append("<h2>Skipped (\(r.skipped.count))</h2><ul>")
            for g in SkippedGroup.fold(r.skipped) {
                let line = "<b>\(e(g.phase))</b>: \(e(g.itemText)) — \(e(g.reasonText))"
                guard g.items.count > 1 else { h.append("<li>\(line)</li>"); continue }
                let each = g.items.map { "<li>\(e($0))</li>" }.joined()
                h.append("<li><details><summary>\(line)</summary><ul>\(each)</ul></details></li>")
            }
            h.append("</ul>")
        }
        h.append(
            "<h2>Phases</h2><table><tr><th>phase</th><th>problems</th><th>checks</th><th>seconds</th><th>budget s</th></tr>"
        )
        for p in r.phases { h.append(row(p.cells, numericFrom: 1)) }
        h.append("</table>")
        h.append("</body></html>")
        return h.joined(separator: "\n") + "\n"
    }

    static func opSections(_ r: NightlyReport) -> [String] {
        var h = [
            "<h2>Results per op</h2>",
            "<p class=\"muted\">Cells: passed/cases, ✗ failed, m mistrusted, ? suspicious, s skipped; suspicious: within the worst-case bound, beyond the probabilistic one. Utilization is error / bound (≤ 1 passes; "
                + "gradient rows: error / finite-difference tolerance). NMSE p99 is a log-bin upper edge.</p>",
        ]
        let groups = OpDirectionGroup.groups(r)
        var ops: [String] = []
        for g in groups where !ops.contains(g.op) { ops.append(g.op) }
        for op in ops {
            let mine = groups.filter { $0.op == op }
            let failed = mine.map(\.failed).reduce(0, +)
            h.append(
                "<h3 id=\"op-\(e(op))\">\(e(op))\(failed > 0 ? " <span class=\"fail\">✗ \(failed) failed</span>" : "")</h3>"
            )
            h.append(
                "<div class=\"op\"><table><tr><th>direction</th><th>precision</th><th>fixtures</th><th>random exact</th><th>random bound</th>"
                    + "<th>gradients</th><th>suspicious</th><th>worst util</th><th>max ULP</th><th>NMSE p99</th></tr>")
            for g in mine { h.append(row([g.direction, g.precision] + g.cells, numericFrom: 6)) }
            h.append("</table>")
            h.append("<p class=\"muted\">\(e(Format.ulpFootnote))</p>")
            let histogram = mine.flatMap(\.rows).filter { $0.source != .gradient }.map(\.utilizationHistogram)
                .reduce(LogHistogram(binsPerDecade: 4)) { $0.merged(with: $1) }
            h.append(SVGChart.utilizationHistogram(histogram, title: "\(op): error / bound per case"))
            h.append("</div>")
        }
        return h
    }

    static func benchSection(_ r: NightlyReport) -> [String] {
        guard !r.benchmarks.isEmpty else { return [] }
        let baseline = r.baselineBenchmarks
        var h = ["<h2>Performance</h2>"]
        for threads in Set(r.benchmarks.map(\.threads)).sorted() {
            let items = r.benchmarks.filter { $0.threads == threads }.map { b in
                (label: "\(b.label) \(b.direction)", current: b.gflops, baseline: baseline[b.key]?.baselineGflops)
            }
            h.append(
                SVGChart.gflopsBars(
                    items, title: "\(r.benchmarks.first?.implementation ?? "") GFLOP/s, \(threads) thread(s)"))
        }
        h.append(
            "<table><tr><th>layer</th><th>direction</th><th>threads</th><th>runs</th><th>median</th><th>GFLOP/s</th>"
                + "<th>% peak</th><th>baseline GFLOP/s</th><th>time change</th></tr>")
        for b in r.benchmarks {
            let base = baseline[b.key]
            let slow = (base?.ratio ?? 0) > ReportDiff.slowdownFactor
            h.append(
                "<tr><td>\(e(b.label))</td><td>\(e(b.direction))</td><td class=\"n\">\(b.threads)</td><td class=\"n\">\(b.runs)\(b.attempts.map { " (best of \($0))" } ?? "")</td>"
                    + "<td class=\"n\">\(e(Format.seconds(b.medianSeconds)))</td><td class=\"n\">\(String(format: "%.1f", b.gflops))</td>"
                    + "<td class=\"n\">\(String(format: "%.0f", b.peakFraction * 100))</td>"
                    + "<td class=\"n\">\(base.map { String(format: "%.1f", $0.baselineGflops) } ?? "–")</td>"
                    + "<td class=\"n\(slow ? " fail" : "")\">\(e(base.map { Format.percent($0.ratio) } ?? "–"))</td></tr>"
            )
        }
        h.append("</table>")
        return h
    }

    static func failureSection(_ failures: [FailureRecord], title: String, level: Int) -> [String] {
        guard !failures.isEmpty else { return [] }
        var h = ["<h\(level)>\(e(title)) (\(failures.count))</h\(level)>"]
        for f in failures {
            h.append(
                "<p><b>\(e(f.source.rawValue))</b> \(e(f.op)) \(e(f.direction)) [\(e(f.implementation))] <code>\(e(f.problem))</code>"
                    + (f.shrunkProblem != f.problem
                        ? "<br>shrunk in \(f.shrinkSteps) steps to <code>\(e(f.shrunkProblem))</code>" : "")
                    + "<br><span class=\"muted\">\(e(f.summary))</span></p>")
            h.append("<pre>\(e(f.replay))</pre>")
        }
        return h
    }

    static func diffSection(_ r: NightlyReport) -> [String] {
        guard let d = r.diff else {
            return [
                "<h2>Changes since the baseline</h2>",
                "<p class=\"muted\">No baseline given: every failure counts as new.</p>",
            ]
        }
        var h = ["<h2>Changes since the baseline</h2>"]
        if let b = r.baseline {
            h.append(
                "<p class=\"muted\">baseline <code>\(e(b.path))</code> of \(e(b.createdAt)), commit <code>\(e(Format.commit(b.gitCommit)))</code>, seed \(b.seed)</p>"
            )
        }
        h.append(
            "<p class=\"\(d.hasAlarm ? "alarm" : "quiet")\"><b>\(d.hasAlarm ? "ALARM" : "OK")</b>: \(e(d.headline))</p>"
        )
        h.append(contentsOf: failureSection(d.newFailures, title: "New failures", level: 3))
        h.append(contentsOf: failureSection(d.fixedFailures, title: "Fixed failures", level: 3))
        if !d.drift.isEmpty {
            h.append("<h3>Error drift (worst utilization grew more than \(e(Format.g(ReportDiff.driftFactor)))×)</h3>")
            h.append("<table><tr><th>row</th><th>baseline</th><th>now</th></tr>")
            for x in d.drift { h.append(row([x.key, Format.g(x.baseline), Format.g(x.current)], numericFrom: 1)) }
            h.append("</table>")
        }
        for (title, list) in [
            ("Performance regressions (median time > +10%)", d.performanceRegressions),
            ("Unconfirmed slowdowns (measured once, not re-measured: not an alarm)", d.unconfirmedRegressions ?? []),
            ("Performance improvements", d.performanceImprovements),
        ] where !list.isEmpty {
            h.append(
                "<h3>\(e(title))</h3><table><tr><th>benchmark</th><th>baseline</th><th>now</th><th>change</th></tr>")
            for p in list {
                let cells = [
                    p.key, Format.seconds(p.baselineSeconds), Format.seconds(p.currentSeconds), Format.percent(p.ratio),
                ]
                h.append(row(cells, numericFrom: 1))
            }
            h.append("</table>")
        }
        for (title, list) in d.addedAndRemoved where !list.isEmpty {
            // Folded: a night that ran more or less than its baseline can add or remove
            // hundreds of keys, and the page should stay readable.
            h.append("<details><summary><b>\(e(title)) (\(list.count))</b></summary><ul>")
            for k in list { h.append("<li><code>\(e(k))</code></li>") }
            h.append("</ul></details>")
        }
        return h
    }
}

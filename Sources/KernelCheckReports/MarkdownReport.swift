/// `report.md`: what a person reads in a CI log or a pull-request comment.
public enum MarkdownReport {
    /// Failures listed in full; the rest are counted (all of them are in report.json).
    public static let failureListLimit = 40
    /// Added or removed keys listed before `… and N more` (a night that ran more or less
    /// than its baseline can add hundreds).
    public static let addedRemovedShown = 5

    public static func render(_ r: NightlyReport) -> String {
        let e = r.environment, s = r.settings
        // The header: title, totals, coverage and provenance, one paragraph each.
        var md = [
            "# KernelCheck nightly \(Format.day(r)) — seed \(s.seed) (\(s.seedSource))", "",
            "**\(r.totalsLine)**", "",
            r.coverageLine + ".", "",
            "Commit `\(Format.commit(e.gitCommit))`, \(Format.machine(e)); budget \(Format.duration(s.budgetSeconds))\(Format.shards(s)).",
            "",
        ]
        md.append(contentsOf: diffSection(r))
        md.append("## Results per op, direction and precision")
        md.append("")
        md.append(
            "Cells: passed/cases, ✗ failed, m mistrusted, ? suspicious, s skipped; suspicious: within the worst-case bound, beyond the probabilistic one. Utilization = error / bound (≤ 1 passes); NMSE p99 is a log-bin upper edge."
        )
        md.append("")
        md.append(
            "| op | direction | precision | fixtures | random exact | random bound | gradients | suspicious | worst util | max ULP | NMSE p99 |"
        )
        md.append("| --- | --- | --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: |")
        for g in OpDirectionGroup.groups(r) {
            let mark = g.failed > 0 ? " ✗" : ""
            md.append(Format.markdownRow([g.op + mark, g.direction, g.precision] + g.cells))
        }
        md.append("")
        md.append(Format.ulpFootnote)
        md.append("")
        md.append(contentsOf: failureSection(r.failures, title: "Failures"))
        md.append(contentsOf: CoverageSection.markdown(r))
        md.append(contentsOf: MutationSection.markdown(r))
        md.append(contentsOf: benchSection(r))
        if !r.skipped.isEmpty {
            md.append("## Skipped (\(r.skipped.count))")
            md.append("")
            for g in SkippedGroup.fold(r.skipped) { md.append("- " + g.line) }
            md.append("")
        }
        md.append("## Phases")
        md.append("")
        md.append("| phase | problems | checks | seconds | budget |")
        md.append("| --- | ---: | ---: | ---: | ---: |")
        for p in r.phases { md.append(Format.markdownRow(p.cells)) }
        md.append("")
        return md.joined(separator: "\n")
    }

    static func failureSection(_ failures: [FailureRecord], title: String) -> [String] {
        guard !failures.isEmpty else { return [] }
        var md = ["## \(title) (\(failures.count))", ""]
        for f in failures.prefix(failureListLimit) { md.append(contentsOf: failureItem(f)) }
        if failures.count > failureListLimit {
            md.append("- … and \(failures.count - failureListLimit) more in report.json")
        }
        md.append("")
        return md
    }

    static func failureItem(_ f: FailureRecord) -> [String] {
        var lines = [
            "- **\(f.source.rawValue)** \(f.op) \(f.direction) \(f.precision) [\(f.implementation)] `\(f.problem)`"
        ]
        if f.shrunkProblem != f.problem { lines.append("  - shrunk in \(f.shrinkSteps) steps to `\(f.shrunkProblem)`") }
        lines.append("  - \(f.summary)")
        if let path = f.path { lines.append("  - tiled path: `\(path)`") }
        lines.append("  - replay: `\(f.replay)`")
        return lines
    }

    /// The "changes since the baseline" section (a note when there is no baseline).
    public static func diffSection(_ r: NightlyReport) -> [String] {
        guard let d = r.diff else {
            return ["## Changes since the baseline", "", "No baseline given: every failure counts as new.", ""]
        }
        var md = ["## Changes since the baseline", ""]
        if let b = r.baseline {
            md.append(
                "Baseline `\(b.path)` of \(b.createdAt) (commit `\(Format.commit(b.gitCommit))`, seed \(b.seed)).")
            md.append("")
        }
        md.append(contentsOf: render(d))
        return md
    }

    /// The diff alone (what `kernelcheck report diff` prints).
    public static func render(_ d: ReportDiff) -> [String] {
        var md = ["**\(d.hasAlarm ? "ALARM" : "OK"): \(d.headline)**", ""]
        if d.isQuiet {
            md.append(
                "Nothing changed beyond the thresholds (drift > \(Format.g(ReportDiff.driftFactor))× above \(Format.g(ReportDiff.driftFloor)), time > +\(Int((ReportDiff.slowdownFactor - 1) * 100))%)."
            ); md.append("")
        }
        md.append(
            contentsOf: failureSection(d.newFailures, title: "New failures").map {
                $0.replacingOccurrences(of: "## ", with: "### ")
            })
        md.append(
            contentsOf: failureSection(d.fixedFailures, title: "Fixed failures").map {
                $0.replacingOccurrences(of: "## ", with: "### ")
            })
        if !d.drift.isEmpty {
            md.append("### Error drift (worst utilization grew > \(Format.g(ReportDiff.driftFactor))×)")
            md.append("")
            md.append("| row | baseline | now | ratio |")
            md.append("| --- | ---: | ---: | ---: |")
            for x in d.drift {
                md.append(
                    Format.markdownRow([
                        x.key, Format.g(x.baseline), Format.g(x.current),
                        x.baseline > 0 ? Format.g(x.current / x.baseline) + "×" : "new",
                    ]))
            }
            md.append("")
        }
        for (title, list) in [
            ("Performance regressions (median > +10%)", d.performanceRegressions),
            (
                "Unconfirmed slowdowns (median > +10%, measured once, not re-measured: not an alarm)",
                d.unconfirmedRegressions ?? []
            ),
            ("Performance improvements (median < −10%)", d.performanceImprovements),
        ] where !list.isEmpty {
            md.append("### \(title)")
            md.append("")
            md.append("| benchmark | baseline | now | change | GFLOP/s |")
            md.append("| --- | ---: | ---: | ---: | ---: |")
            for p in list {
                md.append(
                    Format.markdownRow([
                        p.key, Format.seconds(p.baselineSeconds), Format.seconds(p.currentSeconds),
                        Format.percent(p.ratio),
                        String(format: "%.1f → %.1f", p.baselineGflops, p.currentGflops),
                    ]))
            }
            md.append("")
        }
        for (title, list) in d.addedAndRemoved where !list.isEmpty {
            md.append("### \(title) (\(list.count))")
            md.append("")
            for k in list.prefix(addedRemovedShown) { md.append("- `\(k)`") }
            if list.count > addedRemovedShown {
                md.append("- … and \(list.count - addedRemovedShown) more")
            }
            md.append("")
        }
        return md
    }

    static func benchSection(_ r: NightlyReport) -> [String] {
        guard !r.benchmarks.isEmpty else { return [] }
        let baseline = r.baselineBenchmarks
        var md = ["## Performance (GFLOP/s, median of runs)", ""]
        md.append("| layer | direction | impl | threads | runs | median | GFLOP/s | % peak | baseline | change |")
        md.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for b in r.benchmarks {
            let base = baseline[b.key]
            md.append(
                "| \(b.label) | \(b.direction) | \(b.implementation) | \(b.threads) | \(b.runs)\(b.attempts.map { " (best of \($0))" } ?? "") | \(Format.seconds(b.medianSeconds)) | "
                    + "\(String(format: "%.1f", b.gflops)) | \(String(format: "%.0f", b.peakFraction * 100)) | "
                    + "\(base.map { String(format: "%.1f", $0.baselineGflops) } ?? "–") | \(base.map { Format.percent($0.ratio) } ?? "–") |"
            )
        }
        md.append("")
        return md
    }
}

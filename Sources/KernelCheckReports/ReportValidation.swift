import Foundation
import KernelCheckCore

/// The semantic checks a report passes when it is read (`report diff`, `report merge`,
/// `nightly --baseline`): a file that decodes is not yet a report to trust. A negative
/// count, a NaN utilization, a median time of 0 or a shard index outside `0..<shard_count`
/// would turn into nonsense downstream ("−756 % improvement", a merge that looks complete),
/// so each is refused with the field that holds it.
extension NightlyReport {
    /// Throws `ReportError.invalid` naming the first field that breaks a rule.
    public func validate(path: String) throws(ReportError) {
        func fail(_ field: String, _ reason: String) -> ReportError {
            .invalid(path: path, field: field, reason: reason)
        }
        func count(_ value: Int, _ field: String) throws(ReportError) {
            if value < 0 { throw fail(field, "negative count \(value)") }
        }
        /// Finite and ≥ 0 (or > 0 when `positive`).
        func time(_ value: Double, _ field: String, positive: Bool = false) throws(ReportError) {
            guard value.isFinite else { throw fail(field, "not a finite number (\(value))") }
            if positive ? value <= 0 : value < 0 {
                throw fail(field, "must be \(positive ? "> 0" : "≥ 0"), got \(Format.g(value))")
            }
        }
        /// ≥ 0 and not NaN; +∞ only where `infinityAllowed` (a failure whose output was not finite).
        func ratio(_ value: Double, _ field: String, infinityAllowed: Bool) throws(ReportError) {
            if value.isNaN { throw fail(field, "NaN") }
            if value < 0 { throw fail(field, "negative value \(Format.g(value))") }
            if value.isInfinite && !infinityAllowed { throw fail(field, "infinite without a failed case") }
        }
        func histogram(_ h: LogHistogram, _ field: String) throws(ReportError) {
            if h.binsPerDecade < 1 { throw fail(field + ".bins_per_decade", "must be ≥ 1, got \(h.binsPerDecade)") }
            try count(h.zeros, field + ".zeros")
            try count(h.nonFinite, field + ".non_finite")
            for (bin, n) in h.counts.sorted(by: { $0.key < $1.key }) { try count(n, field + ".counts[\(bin)]") }
            try time(h.max, field + ".max")
        }

        let s = settings
        if s.shardCount < 1 { throw fail("settings.shard_count", "must be ≥ 1, got \(s.shardCount)") }
        if s.shards.isEmpty { throw fail("settings.shards", "empty: the report covers no shard") }
        for (i, shard) in s.shards.enumerated() where shard < 0 || shard >= s.shardCount {
            throw fail("settings.shards[\(i)]", "shard \(shard) is outside 0..<\(s.shardCount)")
        }
        if Set(s.shards).count != s.shards.count { throw fail("settings.shards", "a shard is listed twice") }
        try time(s.budgetSeconds, "settings.budget_seconds", positive: true)
        try count(s.sweepCases, "settings.sweep_cases")
        try count(s.mediumCases, "settings.medium_cases")
        try count(s.gradientCases, "settings.gradient_cases")
        try count(s.benchRuns, "settings.bench_runs")

        for (i, r) in rows.enumerated() {
            let f = "rows[\(i)]"
            for (value, name) in [
                (r.cases, "cases"), (r.passed, "passed"), (r.failed, "failed"), (r.mistrusted, "mistrusted"),
                (r.suspicious, "suspicious"), (r.skipped, "skipped"), (r.maxUlp ?? 0, "max_ulp"),
            ] {
                try count(value, "\(f).\(name)")
            }
            let sum = r.passed + r.failed + r.mistrusted + r.suspicious + r.skipped
            if sum != r.cases {
                throw fail(
                    "\(f).cases", "\(r.cases) is not passed + failed + mistrusted + suspicious + skipped (\(sum))")
            }
            try ratio(r.worstUtilization, "\(f).worst_utilization", infinityAllowed: r.failed + r.mistrusted > 0)
            try time(r.seconds, "\(f).seconds")
            if let p = r.nmse {
                for (value, name) in [(p.p50, "p50"), (p.p90, "p90"), (p.p99, "p99"), (p.max, "max")] {
                    try ratio(value, "\(f).nmse.\(name)", infinityAllowed: true)
                }
            }
            try histogram(r.nmseHistogram, "\(f).nmse_histogram")
            try histogram(r.utilizationHistogram, "\(f).utilization_histogram")
            // Row keys join fields with "/": a label outside the grammar could make two rows one.
            if ResultRow.precision(label: r.precision) == nil {
                throw fail(
                    "\(f).precision",
                    "'\(MessageText.clip(r.precision, limit: 40))' is not a precision label (f32, bf16, f16 acc=f16, f8e4m3 odt=f32, …)"
                )
            }
        }
        for (i, label) in (s.precisions ?? []).enumerated() where ResultRow.precision(label: label) == nil {
            throw fail(
                "settings.precisions[\(i)]", "'\(MessageText.clip(label, limit: 40))' is not a precision label")
        }
        for (i, b) in benchmarks.enumerated() {
            let f = "benchmarks[\(i)]"
            if b.runs < 1 { throw fail("\(f).runs", "must be ≥ 1, got \(b.runs)") }
            try count(b.threads, "\(f).threads")
            try time(b.medianSeconds, "\(f).median_seconds", positive: true)
            try time(b.gflops, "\(f).gflops")
            try time(b.peakFraction, "\(f).peak_fraction")
            if let a = b.attempts, a < 1 { throw fail("\(f).attempts", "must be ≥ 1, got \(a)") }
        }
        for (i, p) in phases.enumerated() {
            let f = "phases[\(i)]"
            try time(p.seconds, "\(f).seconds")
            if let budget = p.budgetSeconds { try time(budget, "\(f).budget_seconds") }
            try count(p.problems, "\(f).problems")
            try count(p.checks, "\(f).checks")
        }
        for (i, failure) in failures.enumerated() where failure.shrinkSteps < 0 {
            throw fail("failures[\(i)].shrink_steps", "negative count \(failure.shrinkSteps)")
        }
    }
}

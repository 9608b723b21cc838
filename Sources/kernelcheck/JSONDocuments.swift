import KernelCheckVerification

// The bodies of the `check` JSON documents (kinds `check` and `check_problem`, docs/json.md);
// `JSONFormat` adds `schema_version`, `kind` and `totals`.

/// `check --problem … --format json`: the replayed problem and its outcome per direction.
struct ProblemDocument: Encodable {
    var problem: String
    var seed: UInt64
    var mode: ComparisonMode
    var implementation: String
    var outcomes: [CaseOutcome]
}

/// `check --format json`: a sweep's settings, counts per op and direction, and failures.
struct SweepDocument: Encodable {
    var seed: UInt64
    var mode: ComparisonMode
    var implementation: String
    var problemsChecked: Int
    var seconds: Double
    /// One per op family × direction, sorted.
    var tallies: [TallyRow]
    /// Each with the outcome as drawn, the shrunk outcome (its `replay` line) and the steps.
    var failures: [Sweep.Failure]
    /// Suspicious outcomes (bound mode) with their replay lines; not failures.
    var suspicious: [CaseOutcome]
    /// Tiled path × boundary coverage (`PathCoverage`); absent for other implementations.
    var coverage: CoverageDocument?

    struct TallyRow: Encodable {
        var op: String
        var direction: String
        /// `dt=… acc=… odt=…` (non-default fields) for a precision other than float32.
        var precision: String?
        var cases, passed, failed, mistrusted, suspicious, skipped: Int
        var worstUtilization: Double
        var worstProbabilisticUtilization: Double
        var maxUlp: Int?
        var seconds: Double
    }

    init(_ r: Sweep.Result) {
        seed = r.seed
        mode = r.mode
        implementation = r.implementation
        problemsChecked = r.problemsChecked
        seconds = r.seconds
        failures = r.failures
        suspicious = r.suspicious
        coverage = r.coverage.cases > 0 ? CoverageDocument(r.coverage) : nil
        tallies = r.tallies.keys.sorted().map { key in
            let t = r.tallies[key]!
            let parts = key.split(separator: "/", maxSplits: 2).map(String.init)
            return TallyRow(
                op: parts[0], direction: parts.count > 1 ? parts[1] : "", precision: parts.count > 2 ? parts[2] : nil,
                cases: t.total, passed: t.passed,
                failed: t.failed, mistrusted: t.mistrusted, suspicious: t.suspicious, skipped: t.skipped,
                worstUtilization: t.worstUtilization, worstProbabilisticUtilization: t.worstProbabilisticUtilization,
                maxUlp: t.maxULP, seconds: t.seconds)
        }
    }
}

extension Sweep.Result {
    var totals: JSONTotals {
        JSONTotals(
            passed: passed, failed: failed, mistrusted: mistrusted, suspicious: suspiciousCount, skipped: skipped)
    }
}

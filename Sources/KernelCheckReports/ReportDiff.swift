/// What changed between a baseline report and the current one.
///
/// Rules (thresholds are the static constants):
/// - **new failure**: a failure whose `identity` the baseline does not have; **fixed**: a
///   baseline failure the current report does not have, in a row that still ran;
/// - **error drift**: a row whose worst bound utilization grew more than `driftFactor` (2×)
///   — unless both values are below `driftFloor` (1e-3): at a thousandth of the bound, a
///   doubling is rounding noise of exact or nearly exact results, not a trend;
/// - **performance regression**: a benchmark (same label, direction, implementation, thread
///   count) whose median time grew more than `slowdownFactor` (10 %);
/// - **added / removed**: rows, fixture cases and benchmarks present on one side only.
///
/// New failures, drift and performance regressions are alarms (`kernelcheck` exits 1).
public struct ReportDiff: Codable, Sendable, Equatable {
    public static let driftFactor = 2.0
    public static let driftFloor = 1e-3
    public static let slowdownFactor = 1.10

    public struct Drift: Codable, Sendable, Equatable {
        public var key: String
        public var baseline: Double
        public var current: Double
    }

    public struct PerformanceChange: Codable, Sendable, Equatable {
        public var key: String
        public var baselineSeconds: Double
        public var currentSeconds: Double
        public var baselineGflops: Double
        public var currentGflops: Double
        /// current / baseline median time.
        public var ratio: Double { currentSeconds / baselineSeconds }
    }

    public var newFailures: [FailureRecord] = []
    public var fixedFailures: [FailureRecord] = []
    public var drift: [Drift] = []
    public var performanceRegressions: [PerformanceChange] = []
    /// Faster by more than the same 10 % (information, never an alarm).
    public var performanceImprovements: [PerformanceChange] = []
    /// Every benchmark present in both reports (what the HTML bars show side by side).
    public var performanceComparisons: [PerformanceChange] = []
    /// Slowdowns set aside by `setAsideUnconfirmedRegressions`: measured once, never
    /// re-measured (listed, never an alarm). Nil when there are none.
    public var unconfirmedRegressions: [PerformanceChange]?
    public var addedRows: [String] = []
    public var removedRows: [String] = []
    public var addedFixtureCases: [String] = []
    public var removedFixtureCases: [String] = []
    public var addedBenchmarks: [String] = []
    public var removedBenchmarks: [String] = []

    public init() {}

    /// The keys present in one report only, with the titles both renderings list them under.
    var addedAndRemoved: [(title: String, keys: [String])] {
        [
            ("Added rows", addedRows), ("Removed rows", removedRows),
            ("Added fixture cases", addedFixtureCases), ("Removed fixture cases", removedFixtureCases),
            ("Added benchmarks", addedBenchmarks), ("Removed benchmarks", removedBenchmarks),
        ]
    }

    /// True when the current report should fail the nightly.
    /// A new failure or a performance regression fails the nightly (exit 1). Error drift is
    /// listed but does not: with a new seed every night, the worst utilization of a few
    /// thousand random cases can double by chance while staying far below the bound.
    public var hasAlarm: Bool { !newFailures.isEmpty || !performanceRegressions.isEmpty }

    /// True when nothing changed beyond the thresholds.
    public var isQuiet: Bool {
        newFailures.isEmpty && fixedFailures.isEmpty && drift.isEmpty && performanceRegressions.isEmpty
            && (unconfirmedRegressions ?? []).isEmpty
            && performanceImprovements.isEmpty && addedRows.isEmpty && removedRows.isEmpty && addedFixtureCases.isEmpty
            && removedFixtureCases.isEmpty && addedBenchmarks.isEmpty && removedBenchmarks.isEmpty
    }

    public init(baseline: NightlyReport, current: NightlyReport) {
        let baseIDs = Set(baseline.failures.map(\.identity))
        let currentIDs = Set(current.failures.map(\.identity))
        let currentRows = Dictionary(current.rows.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let baseRows = Dictionary(baseline.rows.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        newFailures = unique(current.failures.filter { !baseIDs.contains($0.identity) })
        fixedFailures = unique(
            baseline.failures.filter { f in
                !currentIDs.contains(f.identity)
                    && currentRows[f.rowKey] != nil
            })
        for key in currentRows.keys.sorted() {
            guard let b = baseRows[key], let c = currentRows[key] else { continue }
            let grew = c.worstUtilization > Self.driftFactor * b.worstUtilization
            let tiny = b.worstUtilization < Self.driftFloor && c.worstUtilization < Self.driftFloor
            if grew && !tiny {
                drift.append(Drift(key: key, baseline: b.worstUtilization, current: c.worstUtilization))
            }
        }
        let baseBench = Dictionary(baseline.benchmarks.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let currentBench = Dictionary(current.benchmarks.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for key in currentBench.keys.sorted() {
            guard let b = baseBench[key], let c = currentBench[key], b.medianSeconds > 0 else { continue }
            let change = PerformanceChange(
                key: key, baselineSeconds: b.medianSeconds, currentSeconds: c.medianSeconds,
                baselineGflops: b.gflops, currentGflops: c.gflops)
            performanceComparisons.append(change)
            if c.medianSeconds > Self.slowdownFactor * b.medianSeconds { performanceRegressions.append(change) }
            if c.medianSeconds * Self.slowdownFactor < b.medianSeconds { performanceImprovements.append(change) }
        }
        (addedRows, removedRows) = Self.difference(Set(baseRows.keys), Set(currentRows.keys))
        (addedFixtureCases, removedFixtureCases) = Self.difference(
            Set(baseline.fixtureCases), Set(current.fixtureCases))
        (addedBenchmarks, removedBenchmarks) = Self.difference(Set(baseBench.keys), Set(currentBench.keys))
    }

    /// Moves each performance regression whose current benchmark was measured only once
    /// (`BenchEntry.attempts` nil or 1) to `unconfirmedRegressions`. For `report merge`: it
    /// cannot re-measure, and shards run without a baseline never did, so on a shared CI
    /// machine one slow median is noise until a re-measure (`nightly --baseline`) confirms it.
    public mutating func setAsideUnconfirmedRegressions(in current: NightlyReport) {
        let attempts = Dictionary(current.benchmarks.map { ($0.key, $0.attempts ?? 1) }, uniquingKeysWith: max)
        let unconfirmed = performanceRegressions.filter { (attempts[$0.key] ?? 1) < 2 }
        performanceRegressions.removeAll { (attempts[$0.key] ?? 1) < 2 }
        unconfirmedRegressions = unconfirmed.isEmpty ? nil : unconfirmed
    }

    static func difference(_ old: Set<String>, _ new: Set<String>) -> (added: [String], removed: [String]) {
        (new.subtracting(old).sorted(), old.subtracting(new).sorted())
    }

    /// One record per identity (a bug found by several random problems is listed once).
    func unique(_ failures: [FailureRecord]) -> [FailureRecord] {
        var seen = Set<String>()
        return failures.filter { seen.insert($0.identity).inserted }
    }

    /// One line: `2 new failures, 1 fixed, 0 drifted, 1 slower, …`.
    public var headline: String {
        "\(newFailures.count) new failure(s), \(fixedFailures.count) fixed, \(drift.count) error drift(s), "
            + "\(performanceRegressions.count) performance regression(s), \(performanceImprovements.count) improvement(s), "
            + "\(addedRows.count + addedFixtureCases.count + addedBenchmarks.count) added, "
            + "\(removedRows.count + removedFixtureCases.count + removedBenchmarks.count) removed"
            + (unconfirmedRegressions.map { ", \($0.count) unconfirmed slowdown(s) (measured once)" } ?? "")
    }
}

extension NightlyReport {
    /// `ReportDiff.setAsideUnconfirmedRegressions(in:)` on this report's diff.
    public mutating func setAsideUnconfirmedRegressions() {
        let current = self
        diff?.setAsideUnconfirmedRegressions(in: current)
    }
}

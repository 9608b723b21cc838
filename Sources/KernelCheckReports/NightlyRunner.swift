import Foundation
import KernelCheckCore
import KernelCheckFixtures
import KernelCheckProblems
import KernelCheckTiled
import KernelCheckVerification

/// Runs the phases of a nightly within the budget and collects everything into a report.
///
/// Budget split: fixtures run first (fast, and the most important); whatever is left is
/// divided so that the benchmarks keep `benchShare` of it (at most `benchReserveCap`
/// seconds) and the gradient checks `gradientShare` (at most `gradientReserveCap`); the
/// sweeps get the rest: the small sweeps (exact, then bound) may use up to half of it each,
/// the medium sweeps up to half of what is left each (bound all of it when no large cases
/// are asked for), the large exact sweep the rest. A
/// phase that finishes early leaves its time to the next. Each phase stops drawing work at
/// its deadline and records in `skipped` what it did not do.
///
/// Seeds: small exact `seed`, small bound `seed + 1`, gradients `seed + 2`, medium exact
/// `seed + 3`, medium bound `seed + 4`, large exact `seed + 5`.
public struct NightlyRunner {
    public static let benchShare = 0.3
    public static let benchReserveCap = 180.0
    public static let gradientShare = 0.1
    public static let gradientReserveCap = 60.0

    public var configuration: NightlyConfiguration
    /// Progress lines (phase starts and ends).
    public var log: (String) -> Void
    /// Called after each item of a phase (fixture case, problem, measurement).
    public var progress: (Progress) -> Void = { _ in }
    /// Where the sweep phases check their cases: nil in this process (a crash of an
    /// implementation then ends the run); `kernelcheck nightly` sets crash-isolated child
    /// processes.
    public var isolation: (any NightlySweepIsolation)?
    /// Where the fixture phase checks its cases: nil in this process; `kernelcheck nightly`
    /// sets crash-isolated child processes.
    public var fixtureIsolation: (any NightlyFixtureIsolation)?

    /// Where a phase stands: `done` of `total` items, the last one, and the phase's deadline
    /// (the phase stops there whatever is left, so an ETA never runs past it).
    public struct Progress: Sendable {
        public var phase: String
        public var done: Int
        public var total: Int
        public var item: String
        public var deadline: Date
    }

    public init(configuration: NightlyConfiguration, log: @escaping (String) -> Void = { _ in }) {
        self.configuration = configuration
        self.log = log
    }

    func report(_ phase: String, _ done: Int, of total: Int, _ item: String, deadline: Date) {
        progress(Progress(phase: phase, done: done, total: total, item: item, deadline: deadline))
    }

    /// Rows, failures and so on as the phases produce them.
    struct Collector {
        var rows: [String: ResultRow] = [:]
        var fixtureCases: [String] = []
        var failures: [FailureRecord] = []
        var benchmarks: [BenchEntry] = []
        var skipped: [SkippedWork] = []
        var phases: [PhaseSummary] = []
        /// Tiled paths and boundaries the sweeps reached.
        var coverage = PathCoverage()

        mutating func add(
            _ source: CaseSource, op: String, direction: String, precision: Precision = .float32,
            implementation: String, status: String, utilization: Double?, ulp: Int?, nmse: Double?, seconds: Double
        ) {
            let label = ResultRow.precisionLabel(precision)
            let key = ResultRow.key(source, op, direction, label, implementation)
            rows[
                key,
                default: ResultRow(
                    source: source, op: op, direction: direction, precision: label, implementation: implementation)
            ]
            .add(status: status, utilization: utilization, ulp: ulp, nmse: nmse, seconds: seconds)
        }

        mutating func add(_ source: CaseSource, _ o: CaseOutcome, problem: Problem, seconds: Double) {
            add(
                source, op: problem.family.rawValue, direction: o.direction.rawValue,
                precision: problem.descriptor.precision, implementation: o.implementation,
                status: o.status.rawValue, utilization: o.comparison?.boundUtilization,
                ulp: o.comparison?.maxSignificantULPDistance,
                nmse: o.comparison?.nmse, seconds: seconds)
        }

        /// A checked sweep case: its row, its tiled coverage (`threads`: the checker's), and its
        /// failure with the shrunk problem and replay line.
        mutating func add(_ source: CaseSource, _ c: Sweep.CheckedCase, threads: Int) {
            let o = c.outcome
            add(source, o, problem: c.problem, seconds: c.wall)
            if o.implementation == TiledImplementation().name {
                coverage.record(c.problem, o.direction, threads: threads)
            }
            guard let f = c.failure else { return }
            failures.append(
                FailureRecord(
                    source: source, op: c.problem.family.rawValue, direction: o.direction.rawValue,
                    implementation: o.implementation, mode: o.mode.rawValue, seed: o.seed, problem: o.problem,
                    shrunkProblem: f.shrunk.problem, shrinkSteps: f.shrinkSteps, summary: f.shrunk.summary,
                    replay: f.replay))
        }
    }

    public func run() -> NightlyReport {
        let c = configuration
        let start = Date()
        let deadline = start.addingTimeInterval(c.budgetSeconds)
        var out = Collector()

        if c.phases.contains(.fixtures) {
            runFixtures(deadline: deadline, into: &out)
        } else {
            out.skipped.append(SkippedWork(phase: "fixtures", item: "all", reason: "phase not selected"))
        }
        let remaining = max(0, deadline.timeIntervalSinceNow)
        let benchReserve = c.phases.contains(.bench) ? min(Self.benchReserveCap, Self.benchShare * remaining) : 0
        let gradientReserve =
            c.phases.contains(.gradients) ? min(Self.gradientReserveCap, Self.gradientShare * remaining) : 0
        let sweepEnd = deadline.addingTimeInterval(-(benchReserve + gradientReserve))
        if c.phases.contains(.sweep) {
            func half() -> Date { Date().addingTimeInterval(max(0, sweepEnd.timeIntervalSinceNow) / 2) }
            runSweep(.exact, .small, cases: c.sweepCases, seed: c.seed, deadline: half(), into: &out)
            runSweep(.bound, .small, cases: c.sweepCases, seed: c.seed &+ 1, deadline: half(), into: &out)
            runSweep(.exact, .medium, cases: c.mediumCases, seed: c.seed &+ 3, deadline: half(), into: &out)
            let large = c.largeCases > 0
            runSweep(
                .bound, .medium, cases: c.mediumCases, seed: c.seed &+ 4, deadline: large ? half() : sweepEnd,
                into: &out)
            if large {
                runSweep(.exact, .large, cases: c.largeCases, seed: c.seed &+ 5, deadline: sweepEnd, into: &out)
            }
        } else {
            out.skipped.append(SkippedWork(phase: "sweep", item: "all", reason: "phase not selected"))
        }
        if c.phases.contains(.gradients) {
            runGradients(deadline: deadline.addingTimeInterval(-benchReserve), into: &out)
        } else {
            out.skipped.append(SkippedWork(phase: "gradients", item: "all", reason: "phase not selected"))
        }
        if c.phases.contains(.bench) {
            runBench(deadline: deadline, into: &out)
        } else {
            out.skipped.append(SkippedWork(phase: "bench", item: "all", reason: "phase not selected"))
        }

        var settings = NightlySettings(
            seed: c.seed, seedSource: c.seedSource, budgetSeconds: c.budgetSeconds,
            sweepCases: c.sweepCases, mediumCases: c.mediumCases, gradientCases: c.gradientCases,
            benchRuns: c.benchRuns,
            shard: c.shard, shardCount: c.shardCount)
        settings.precisions = c.precisions.map(ResultRow.precisionLabel)
        settings.largeCases = c.largeCases
        settings.largeSeed = c.seed &+ 5
        var report = NightlyReport(
            createdAt: ISO8601DateFormatter().string(from: start), environment: .current(),
            settings: settings, rows: Array(out.rows.values), fixtureCases: out.fixtureCases,
            failures: out.failures, benchmarks: out.benchmarks, skipped: out.skipped, phases: out.phases)
        report.pathCoverage = out.coverage.cases > 0 ? CoverageDocument(out.coverage) : nil
        report.normalize()
        return report
    }

    /// `path` relative to `configuration.displayRoot` where it lies under it, for messages.
    func display(_ path: String) -> String {
        guard let root = configuration.displayRoot, path.hasPrefix(root + "/") else { return path }
        return String(path.dropFirst(root.count + 1))
    }
}

/// Runs one implementation's part of a nightly sweep phase where a crash or hang of the
/// implementation cannot end the nightly (`kernelcheck nightly`: child processes).
public protocol NightlySweepIsolation {
    /// Checks the problems of `sweep` (its shard) in index order until all are checked or
    /// `deadline` passes: `checked` gets each case as it finishes (a crash or hang as a failed
    /// case with its shrunk problem), `problemDone` each problem index once all its directions
    /// are checked, `log` what happened to a child. Returns the index of the first problem left
    /// unfinished at the deadline, nil when none was left; throws when it cannot go on.
    func run(
        _ sweep: Sweep, deadline: Date, log: (String) -> Void, checked: (Sweep.CheckedCase) -> Void,
        problemDone: (Int) -> Void
    ) throws -> Int?
}

/// Checks one fixture file's cases for the nightly where a crash or hang of an implementation
/// cannot end the nightly (`kernelcheck nightly`: child processes).
public protocol NightlyFixtureIsolation {
    /// Checks `cases` (each with its position in the file at `path`) against `implementations`
    /// in order, as `FixtureVerification.verify` would: `caseDone` gets each case's outcomes
    /// (a crash or hang as a failed outcome), `log` what happened to a child. Throws when it
    /// cannot go on.
    func verify(
        path: String, cases: [(index: Int, fixture: FixtureCase)], implementations: [any KernelImplementation],
        log: (String) -> Void, caseDone: (FixtureCase, [CaseOutcome]) -> Void
    ) throws
}

import Foundation
import KernelCheckProblems
import KernelCheckVerification

/// What `kernelcheck nightly` writes to `report.json`, and what `report merge` and
/// `report diff` read back.
///
/// JSON: the common format of every KernelCheck document (`JSONFormat`, docs/json.md), kind
/// `nightly_report`: snake_case keys (`schema_version`, `worst_utilization`, …), `kind` and
/// `totals` beside the report's fields; non-finite numbers as the strings `"inf"`, `"-inf"`,
/// `"nan"`. A reader checks `kind` (when present) and `schema_version` first: another
/// document kind is refused, and so is another version (`ReportError.unsupportedSchemaVersion`).
/// Reports written before `kind` and `totals` existed are the same version 1 and read as they are.
public struct NightlyReport: Codable, Sendable, Equatable {
    public static let currentSchemaVersion = JSONFormat.schemaVersion

    public var schemaVersion: Int
    /// ISO 8601, UTC.
    public var createdAt: String
    public var environment: ReportEnvironment
    public var settings: NightlySettings
    /// One row per source × op × direction × precision × implementation, sorted by `key`.
    public var rows: [ResultRow]
    /// Every fixture case that ran: `file.h5:group` (sorted).
    public var fixtureCases: [String]
    public var failures: [FailureRecord]
    public var benchmarks: [BenchEntry]
    /// Work the budget or the build did not allow: never dropped silently.
    public var skipped: [SkippedWork]
    public var phases: [PhaseSummary]
    /// The comparison with the baseline report, when one was given.
    public var baseline: BaselineInfo?
    public var diff: ReportDiff?
    /// Tiled paths and blocking boundaries the sweeps reached, with the gaps
    /// (`CoverageSection`); absent in reports of runs without a tiled sweep.
    public var pathCoverage: CoverageDocument?
    /// The most recent kill matrix of the mutant library, or why there is none
    /// (`MutationSection`); absent unless `report merge` was given `--kill-matrix` or
    /// `--kill-matrix-missing REASON`.
    public var mutationTesting: MutationTesting?

    public init(
        createdAt: String, environment: ReportEnvironment, settings: NightlySettings, rows: [ResultRow] = [],
        fixtureCases: [String] = [], failures: [FailureRecord] = [], benchmarks: [BenchEntry] = [],
        skipped: [SkippedWork] = [], phases: [PhaseSummary] = []
    ) {
        schemaVersion = Self.currentSchemaVersion
        self.createdAt = createdAt
        self.environment = environment
        self.settings = settings
        self.rows = rows
        self.fixtureCases = fixtureCases
        self.failures = failures
        self.benchmarks = benchmarks
        self.skipped = skipped
        self.phases = phases
    }

    public var passed: Int { rows.map(\.passed).reduce(0, +) }
    public var failed: Int { rows.map(\.failed).reduce(0, +) }
    public var mistrusted: Int { rows.map(\.mistrusted).reduce(0, +) }
    public var suspicious: Int { rows.map(\.suspicious).reduce(0, +) }
    public var skippedCases: Int { rows.map(\.skipped).reduce(0, +) }
    public var checks: Int { rows.map(\.cases).reduce(0, +) }

    /// Random problems drawn by the sweeps (each checked in every direction it offers).
    public var randomProblems: Int {
        phases.filter { $0.name.hasPrefix("sweep_") }.map(\.problems).reduce(0, +)
    }

    /// The best GFLOP/s of each op × direction × implementation × thread count over the
    /// benchmark layers.
    public var bestGFLOPS: [(op: String, direction: String, implementation: String, threads: Int, gflops: Double)] {
        var best: [String: (String, String, String, Int, Double)] = [:]
        for b in benchmarks {
            let k = "\(b.op)/\(b.direction)/\(b.implementation)/\(b.threads)"
            if (best[k]?.4 ?? -1) < b.gflops { best[k] = (b.op, b.direction, b.implementation, b.threads, b.gflops) }
        }
        return best.keys.sorted().map { best[$0]! }.map {
            (op: $0.0, direction: $0.1, implementation: $0.2, threads: $0.3, gflops: $0.4)
        }
    }

    /// Sorts rows, failures, fixture cases and benchmarks into their canonical order.
    public mutating func normalize() {
        rows.sort { $0.key < $1.key }
        fixtureCases = Array(Set(fixtureCases)).sorted()
        failures.sort { ($0.identity, $0.seed) < ($1.identity, $1.seed) }
        benchmarks.sort { $0.key < $1.key }
    }
}

/// Where a row's cases come from.
public enum CaseSource: String, Codable, Sendable, CaseIterable, Comparable {
    /// Golden fixture cases (expected values from PyTorch float64).
    case fixture
    /// Random problems, integer fills: bit-for-bit against the reference.
    case sweepExact = "sweep_exact"
    /// Random problems, real fills: within the error bound of the reference.
    case sweepBound = "sweep_bound"
    /// Backward passes against central finite differences of the reference forward.
    case gradient

    public static func < (a: CaseSource, b: CaseSource) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

extension NightlyReport {
    /// The baseline's side of each benchmark both reports have, by benchmark key (the first
    /// where a key repeats); empty without a baseline.
    var baselineBenchmarks: [String: ReportDiff.PerformanceChange] {
        Dictionary((diff?.performanceComparisons ?? []).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

/// The counts and error metrics of one source × op × direction × precision × implementation.
public struct ResultRow: Codable, Sendable, Equatable {
    public var source: CaseSource
    public var op: String
    public var direction: String
    /// The cases' number formats (`ResultRow.precisionLabel`): `f32`, `bf16`, `f16 acc=f16`,
    /// `f8e4m3 odt=f32`, …; rows of reports written before precisions existed read as `f32`.
    public var precision = "f32"
    public var implementation: String
    public var cases = 0
    public var passed = 0
    public var failed = 0
    public var mistrusted = 0
    /// Within the worst-case bound, beyond the probabilistic one (bound-mode sources only).
    public var suspicious = 0
    public var skipped = 0
    /// Largest error / bound over the cases (≤ 1 passes); for gradient rows, error / tolerance.
    public var worstUtilization = 0.0
    /// Largest significant ULP distance over the cases (`ComparisonResult.maxSignificantULPDistance`:
    /// same sign and `|expected|` above the element's bound); nil when no element of any case
    /// qualified (gradient rows, results near zero). Reports before this rule counted every element.
    public var maxUlp: Int?
    /// NMSE percentiles (bin upper edges, see `LogHistogram`); nil without comparisons.
    public var nmse: Percentiles?
    public var nmseHistogram = LogHistogram(binsPerDecade: 10)
    /// Per-case bound utilization (4 bins per decade: the HTML histogram).
    public var utilizationHistogram = LogHistogram(binsPerDecade: 4)
    /// Wall time of the row's checks.
    public var seconds = 0.0

    public init(source: CaseSource, op: String, direction: String, precision: String = "f32", implementation: String) {
        self.source = source
        self.op = op
        self.direction = direction
        self.precision = precision
        self.implementation = implementation
    }

    /// `source/op/direction/precision/implementation`: how diffs match rows across reports (a
    /// baseline without precisions has only f32 rows, which match this report's f32 rows).
    public var key: String { Self.key(source, op, direction, precision, implementation) }

    static func key(
        _ source: CaseSource, _ op: String, _ direction: String, _ precision: String, _ implementation: String
    )
        -> String
    {
        "\(source.rawValue)/\(op)/\(direction)/\(precision)/\(implementation)"
    }

    /// The row label of a problem's number formats: `f32` for float32 throughout, otherwise
    /// the non-default fields of its problem string without `dt=` (`bf16`, `f16 acc=f16`,
    /// `bf16 odt=f32`).
    public static func precisionLabel(_ p: Precision) -> String {
        guard !p.isFloat32 else { return "f32" }
        let fields = p.fieldsDescription.trimmingCharacters(in: .whitespaces)
        return fields.hasPrefix("dt=") ? String(fields.dropFirst(3)) : fields
    }

    /// The precision a label names, nil unless `label` is exactly `precisionLabel` of a
    /// valid precision (so a label read from a file cannot smuggle other text into keys).
    public static func precision(label: String) -> Precision? {
        if label == "f32" { return .float32 }
        guard label.utf8.count < 64, !label.contains("/"),
            let p = try? Problem.parse("matmul a=1x1 b=1x1 dt=" + label).descriptor.precision,
            precisionLabel(p) == label
        else { return nil }
        return p
    }

    public mutating func add(status: String, utilization: Double?, ulp: Int?, nmse nmseValue: Double?, seconds: Double)
    {
        cases += 1
        switch status {
        case "passed": passed += 1
        case "mistrusted": mistrusted += 1
        case "suspicious": suspicious += 1
        case "skipped": skipped += 1
        default: failed += 1
        }
        if let u = utilization {
            utilizationHistogram.add(u)
            worstUtilization = Swift.max(worstUtilization, u.isNaN ? .infinity : u)
        }
        if let ulp, ulp != Int.max { maxUlp = Swift.max(maxUlp ?? 0, ulp) }
        if let v = nmseValue { nmseHistogram.add(v); nmse = Percentiles(nmseHistogram) }
        self.seconds += seconds
    }

    enum CodingKeys: String, CodingKey {
        case source, op, direction, precision, implementation, cases, passed, failed, mistrusted, suspicious, skipped
        case worstUtilization, maxUlp, nmse, nmseHistogram, utilizationHistogram, seconds
    }

    /// Decodes a row; `suspicious`, absent from reports written before the probabilistic
    /// second opinion, reads as 0, and `precision`, absent before precisions, as `f32`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decode(CaseSource.self, forKey: .source)
        op = try c.decode(String.self, forKey: .op)
        direction = try c.decode(String.self, forKey: .direction)
        precision = try c.decodeIfPresent(String.self, forKey: .precision) ?? "f32"
        implementation = try c.decode(String.self, forKey: .implementation)
        cases = try c.decode(Int.self, forKey: .cases)
        passed = try c.decode(Int.self, forKey: .passed)
        failed = try c.decode(Int.self, forKey: .failed)
        mistrusted = try c.decode(Int.self, forKey: .mistrusted)
        suspicious = try c.decodeIfPresent(Int.self, forKey: .suspicious) ?? 0
        skipped = try c.decode(Int.self, forKey: .skipped)
        worstUtilization = try c.decode(Double.self, forKey: .worstUtilization)
        maxUlp = try c.decodeIfPresent(Int.self, forKey: .maxUlp)
        nmse = try c.decodeIfPresent(Percentiles.self, forKey: .nmse)
        nmseHistogram = try c.decode(LogHistogram.self, forKey: .nmseHistogram)
        utilizationHistogram = try c.decode(LogHistogram.self, forKey: .utilizationHistogram)
        seconds = try c.decode(Double.self, forKey: .seconds)
    }

    /// Sums counts, takes maxima, adds histograms.
    public mutating func merge(_ other: ResultRow) {
        cases += other.cases
        passed += other.passed
        failed += other.failed
        mistrusted += other.mistrusted
        suspicious += other.suspicious
        skipped += other.skipped
        worstUtilization = Swift.max(worstUtilization, other.worstUtilization)
        maxUlp = [maxUlp, other.maxUlp].compactMap { $0 }.max()
        nmseHistogram = nmseHistogram.merged(with: other.nmseHistogram)
        utilizationHistogram = utilizationHistogram.merged(with: other.utilizationHistogram)
        nmse = Percentiles(nmseHistogram)
        seconds += other.seconds
    }
}

/// One failing case, with what reproduces it.
public struct FailureRecord: Codable, Sendable, Equatable {
    public var source: CaseSource
    public var op: String
    public var direction: String
    public var implementation: String
    public var mode: String
    public var seed: UInt64
    /// The problem as drawn (or the fixture's).
    public var problem: String
    /// The minimal problem that still fails (the same as `problem` when not shrunk).
    public var shrunkProblem: String
    public var shrinkSteps: Int
    /// One line: status, metrics, findings.
    public var summary: String
    /// The command (or, for gradient checks, the Swift call) that replays the shrunk case.
    public var replay: String
    /// `file.h5:group` for fixture failures.
    public var fixtureCase: String?
    /// The code path the tiled implementation takes for the shrunk problem (nil for other
    /// implementations), so that a failure names the code it belongs to.
    public var path: String?

    public init(
        source: CaseSource, op: String, direction: String, implementation: String, mode: String, seed: UInt64,
        problem: String, shrunkProblem: String, shrinkSteps: Int, summary: String, replay: String,
        fixtureCase: String? = nil
    ) {
        self.source = source; self.op = op; self.direction = direction; self.implementation = implementation
        self.mode = mode; self.seed = seed; self.problem = problem; self.shrunkProblem = shrunkProblem
        self.shrinkSteps = shrinkSteps; self.summary = summary; self.replay = replay; self.fixtureCase = fixtureCase
        if implementation == "tiled", let p = try? Problem.parse(shrunkProblem), let d = Direction(rawValue: direction)
        {
            path = TiledImplementation().path(p, d).name
        }
    }

    /// The row label of the failing problem's precision (`ResultRow.precisionLabel`; `f32`
    /// when the problem text does not parse, as for an unreadable fixture file).
    public var precision: String {
        (try? Problem.parse(problem)).map { ResultRow.precisionLabel($0.descriptor.precision) } ?? "f32"
    }

    /// The key of the row this failure was counted in.
    public var rowKey: String { ResultRow.key(source, op, direction, precision, implementation) }

    /// How a failure is recognised across nights: source, implementation, direction and the
    /// shrunk problem (random failures of one bug shrink to the same minimal problem), or the
    /// fixture case.
    public var identity: String {
        "\(source.rawValue)|\(implementation)|\(direction)|\(fixtureCase ?? shrunkProblem)"
    }
}

/// One benchmark measurement (median of `runs` timed runs after a warm-up).
public struct BenchEntry: Codable, Sendable, Equatable {
    public var label: String
    public var problem: String
    public var op: String
    public var direction: String
    public var implementation: String
    public var threads: Int
    public var runs: Int
    public var medianSeconds: Double
    public var gflops: Double
    public var peakFraction: Double
    /// The code path the tiled implementation took (nil for other implementations).
    public var path: String?
    /// Measurements taken (nil: one); a suspected slowdown is re-measured and the fastest
    /// median kept (see `NightlyRunner.confirmSlowdowns`).
    public var attempts: Int?

    public init(
        label: String, problem: String, op: String, direction: String, implementation: String, threads: Int,
        runs: Int, medianSeconds: Double, gflops: Double, peakFraction: Double
    ) {
        self.label = label; self.problem = problem; self.op = op; self.direction = direction
        self.implementation = implementation; self.threads = threads; self.runs = runs
        self.medianSeconds = medianSeconds; self.gflops = gflops; self.peakFraction = peakFraction
    }

    /// `label/direction/implementation/threads`.
    public var key: String { "\(label)/\(direction)/\(implementation)/\(threads)t" }
}

/// Work that did not run, and why.
public struct SkippedWork: Codable, Sendable, Equatable {
    public var phase: String
    public var item: String
    public var reason: String

    public init(phase: String, item: String, reason: String) {
        self.phase = phase; self.item = item; self.reason = reason
    }
}

/// What one phase did.
public struct PhaseSummary: Codable, Sendable, Equatable {
    public var name: String
    public var seconds: Double
    /// Seconds the phase was allowed (nil: until the overall deadline; 0 for a phase that
    /// started when the deadline had passed).
    public var budgetSeconds: Double?
    /// Problems drawn (sweeps, gradients), fixture cases, or benchmark layers.
    public var problems: Int
    /// Individual checks or measurements (a problem is checked in several directions).
    public var checks: Int

    public init(name: String, seconds: Double, budgetSeconds: Double?, problems: Int, checks: Int) {
        // The time left at a phase's start, negative when an earlier phase ran past the
        // deadline: such a phase had none.
        self.name = name; self.seconds = seconds; self.budgetSeconds = budgetSeconds.map { max(0, $0) }
        self.problems = problems; self.checks = checks
    }
}

/// How the nightly was asked to run.
public struct NightlySettings: Codable, Sendable, Equatable {
    /// The seed everything derives from (UTC date `yyyymmdd` unless given).
    public var seed: UInt64
    /// "date" or "given".
    public var seedSource: String
    /// Seeds of the sweeps and gradient checks (`seed`, `seed + 1`, … see `NightlyRunner`).
    public var exactSeed: UInt64
    public var boundSeed: UInt64
    public var gradientSeed: UInt64
    public var mediumExactSeed: UInt64
    public var mediumBoundSeed: UInt64
    public var budgetSeconds: Double
    /// Small random problems per sweep mode (before sharding).
    public var sweepCases: Int
    /// Medium random problems per sweep mode (before sharding).
    public var mediumCases: Int
    /// Large random problems (exact mode; before sharding) and their seed (`seed + 5`);
    /// absent in reports written before the large class existed.
    public var largeCases: Int?
    public var largeSeed: UInt64?
    public var gradientCases: Int
    public var benchRuns: Int
    /// Shards this report covers (`[i]` for `--shard i/n`; every index after a merge).
    public var shards: [Int]
    public var shardCount: Int
    /// The precision axis of the sweeps (`ResultRow.precisionLabel` of each); nil in reports
    /// written before precisions existed (float32 only).
    public var precisions: [String]?

    public init(
        seed: UInt64, seedSource: String, budgetSeconds: Double, sweepCases: Int, mediumCases: Int, gradientCases: Int,
        benchRuns: Int, shard: Int, shardCount: Int
    ) {
        self.seed = seed
        self.seedSource = seedSource
        exactSeed = seed
        boundSeed = seed &+ 1
        gradientSeed = seed &+ 2
        mediumExactSeed = seed &+ 3
        mediumBoundSeed = seed &+ 4
        self.budgetSeconds = budgetSeconds
        self.sweepCases = sweepCases
        self.mediumCases = mediumCases
        self.gradientCases = gradientCases
        self.benchRuns = benchRuns
        shards = [shard]
        self.shardCount = shardCount
    }
}

/// The baseline a diff was computed against.
public struct BaselineInfo: Codable, Sendable, Equatable {
    public var path: String
    public var createdAt: String
    public var gitCommit: String?
    public var seed: UInt64

    public init(path: String, report: NightlyReport) {
        self.path = path
        createdAt = report.createdAt
        gitCommit = report.environment.gitCommit
        seed = report.settings.seed
    }
}

import ArgumentParser
import Foundation
import KernelCheckCore
import KernelCheckFixtures
import KernelCheckProblems
import KernelCheckReports
import KernelCheckVerification

/// `kernelcheck nightly`: fixtures, random sweeps, gradient checks and benchmarks within a
/// time budget, written as report.json / report.md / report.html, diffed against a baseline.
struct NightlyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nightly",
        abstract:
            "Run the nightly sweep (fixtures, random problems, gradients, benchmarks) and write diffable reports.",
        discussion: """
            Phases, in order: every fixture case for every implementation; small then medium random problems in exact
            and bound mode (seed: the UTC date yyyymmdd unless --seed), each conv, transposed conv, matmul or linear
            problem in one of the --dtypes input types (in turn, by problem index, as check --dtype); finite-difference
            checks of the backward passes; tiled GFLOP/s on the benchmark layers (1 thread and all threads). Fixtures run first; of the rest of the
            budget the benchmarks keep 30 % (≤ 180 s) and the gradient checks 10 % (≤ 60 s); the sweeps share the rest.
            Anything the budget cuts is listed under "skipped" in the reports.
            The sweep phases run their checks in child kernelcheck processes (as 'check' does; --no-isolation: in this
            one): an implementation that crashes or hangs (--case-timeout) fails that case, shrunk in child processes
            and replayable, and a fresh child goes on; past a phase's deadline the child is stopped after the check
            in progress. The fixture phase checks each file's cases in child processes the same way (as 'verify'
            does): a crash or hang fails that check, with its fixture replay line, and the next check goes on.
            With --shard i/n only shard i runs: sweep problems, fixture files and benchmark layers with index ≡ i mod n
            (merge the n reports with 'kernelcheck report merge').
            Exit 1 on a new failure (any failure without --baseline), error drift or a performance regression (a
            benchmark more than 10 % slower is re-measured up to twice within the budget; the fastest median counts).
            --out is a directory of its own, replaced as one unit (staged in .NAME.tmp-PID beside it, then swapped in):
            a reader or a killed run sees the old three files or the new three. It is locked (.NAME.lock beside it) for
            the whole run: a second run on it fails at once (exit 2); a busy or unwritable --out fails before the run.
            The summary is printed even when the write fails.
            """)

    @Option(help: "Directory for report.json, report.md and report.html.")
    var out: String

    @Option(help: "A previous report.json to diff against.")
    var baseline: String?

    @Option(help: "Seed of the random phases (default: today's UTC date as yyyymmdd).")
    var seed: UInt64?

    @Option(help: "Time budget, e.g. 15m, 90s, 1h (default 15m; at most 24h).")
    var budget: String = "15m"

    @Option(help: "Run shard i of n, written i/n (0 ≤ i < n).")
    var shard: String = "0/1"

    @Option(help: "Small random problems per sweep mode (exact and bound), before sharding.")
    var cases: Int = 20_000

    @Option(help: "Medium random problems per sweep mode (several cache blocks), before sharding.")
    var mediumCases: Int = 3_000

    @Option(
        help: "Large random problems (exact mode; past the blocking thresholds; release builds), before sharding.")
    var largeCases: Int = 0

    @Option(help: "Random problems whose backward passes get finite-difference checks.")
    var gradientCases: Int = 2_000

    @Option(help: "Timed runs per benchmark (median; after one warm-up).")
    var benchRuns: Int = 5

    @Option(
        help:
            "Input types of the random sweeps (comma-separated: f32, bf16, f16, f8e4m3, f8e5m2; default all, plus f16 with acc=f16)."
    )
    var dtypes: String?

    @Option(help: "Phases to run (repeatable; default all): fixtures, sweep, gradients, bench.")
    var phase: [String] = []

    @Option(help: "Fixture files (default: every .h5 in fixtures/).")
    var fixtures: [String] = []

    @Option(help: "A plug-in to check beside reference and tiled (repeatable): lib:PATH or exec:COMMAND.")
    var impl: [String] = []

    @Option(
        help:
            "Frameworks whose CPU kernels are checked too (comma-separated): torch, onnxruntime (exec: workers of tools/adapters/)."
    )
    var peers: String?

    @Flag(
        help: "Run the fixture and sweep phases in this process (a crash of an implementation then ends the whole run)."
    )
    var noIsolation = false

    @Option(
        parsing: .unconditional,
        help:
            "Seconds one fixture or sweep check (its runs and its shrinking) may take in the child before it counts as a hang."
    )
    var caseTimeout: Double = 120

    func validate() throws {
        try OptionValidation.require(
            caseTimeout.isFinite && caseTimeout > 0,
            "--case-timeout must be a positive number of seconds, got \(caseTimeout)")
    }

    func run() throws {
        guard let budgetSeconds = NightlyConfiguration.parseDuration(budget), budgetSeconds > 0,
            budgetSeconds <= NightlyConfiguration.maximumBudgetSeconds
        else {
            throw BadInput(
                "--budget must be a duration like 15m, 90s or 1h30m, above 0 and at most 24h, got '\(budget.prefix(40))'"
            )
        }
        let (index, count) = try Self.parseShard(shard)
        guard cases >= 0, mediumCases >= 0, largeCases >= 0, gradientCases >= 0, benchRuns >= 1 else {
            throw BadInput(
                "--cases, --medium-cases, --large-cases and --gradient-cases must be ≥ 0 and --bench-runs ≥ 1")
        }
        var phases = Set<NightlyPhase>()
        for name in phase {
            guard let p = NightlyPhase(rawValue: name) else {
                throw BadInput(
                    "unknown phase '\(name)'; known: \(NightlyPhase.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            phases.insert(p)
        }
        // Lock and probe --out, then read the baseline: a busy or unwritable directory or a bad
        // baseline should fail before a 15-minute run, not after.
        let directory: ReportDirectory
        do { directory = try ReportDirectory(out) } catch { throw BadInput(error.description) }
        let previous: NightlyReport?
        do { previous = try baseline.map { path throws(ReportError) in try NightlyReport.read(path) } } catch {
            throw BadInput(error.description)
        }

        // Each plug-in with the --impl spelling its isolated children load it by.
        let plugins = try (impl + (peers.map(FrameworkPeers.implementationNames) ?? [])).map {
            (spelling: $0, implementation: try Implementations.named($0))
        }
        var configuration = NightlyConfiguration(
            seed: seed ?? NightlyConfiguration.dateSeed(),
            seedSource: seed == nil ? "date" : "given",
            budgetSeconds: budgetSeconds,
            implementations: Implementations.all + plugins.map(\.implementation))
        configuration.shard = index
        configuration.shardCount = count
        configuration.fixtureFiles = fixtures.isEmpty ? ((try? VerifyCommand.defaultFiles()) ?? []) : fixtures
        configuration.displayRoot = RepositoryPaths.root
        configuration.sweepCases = cases
        configuration.mediumCases = mediumCases
        configuration.largeCases = largeCases
        configuration.gradientCases = gradientCases
        configuration.benchRuns = benchRuns
        if !phases.isEmpty { configuration.phases = phases }
        if let dtypes { configuration.precisions = try Self.parseDTypes(dtypes) }

        // Progress and the phase lines go to standard error: standard output is the report.
        let progress = PhasedProgress(stream: .standardError)
        var runner = NightlyRunner(configuration: configuration) { progress.message("nightly: " + $0) }
        if !noIsolation {
            var spellings = Dictionary(Implementations.all.map { ($0.name, $0.name) }) { a, _ in a }
            for p in plugins { spellings[p.implementation.name] = p.spelling }
            runner.isolation = IsolatedNightlySweeps(spellings: spellings, caseTimeout: caseTimeout)
            runner.fixtureIsolation = IsolatedNightlyFixtures(spellings: spellings, caseTimeout: caseTimeout)
        }
        runner.progress = {
            progress.update(phase: $0.phase, done: $0.done, total: $0.total, item: $0.item, deadline: $0.deadline)
        }
        let start = Date()
        var report = runner.run()
        progress.finish()
        if configuration.phases.contains(.fixtures) && configuration.fixtureFiles.isEmpty {
            report.skipped.append(
                SkippedWork(phase: "fixtures", item: "all", reason: "no fixture files in \(RepositoryPaths.fixtures)"))
        }
        if let previous, let path = baseline {
            report.compare(with: previous, path: path)
            runner.confirmSlowdowns(
                &report, baseline: previous, path: path, deadline: start.addingTimeInterval(budgetSeconds))
        }
        // The summary is printed even when the files cannot be written: the run's results are
        // not lost with them.
        print(MarkdownReport.render(report))
        do { try directory.publish(report) } catch { throw BadInput(error.description) }
        print("wrote \(out)/report.json, report.md, report.html")
        try Self.exitStatus(report)
    }

    /// Exit 1 when the diff raises an alarm, or (without a baseline) on any failure.
    static func exitStatus(_ report: NightlyReport) throws {
        if let diff = report.diff {
            if diff.hasAlarm {
                throw VerificationFailed(
                    failures: diff.newFailures.count + diff.drift.count + diff.performanceRegressions.count)
            }
        } else if report.failures.count > 0 {
            throw VerificationFailed(failures: report.failures.count)
        }
    }

    /// `f32,bf16,…`: each input type once, with its default accumulation and output type.
    static func parseDTypes(_ text: String) throws -> [Precision] {
        do { return try Precision.list(dtypes: [text]) } catch {
            guard case .invalidField(_, _, let reason) = error else { throw BadInput("--dtypes: \(error)") }
            throw BadInput("--dtypes: \(reason)")
        }
    }

    static func parseShard(_ text: String) throws -> (Int, Int) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else {
            throw BadInput("--shard must be i/n with 0 ≤ i < n, got '\(text)'")
        }
        return (i, n)
    }
}

/// The nightly's sweep phases in child `kernelcheck check --isolated-child` processes
/// (`IsolatedSweepDriver`), each stopped at its phase's deadline.
struct IsolatedNightlySweeps: NightlySweepIsolation {
    /// Implementation name → its `--impl` spelling.
    var spellings: [String: String]
    var caseTimeout: Double

    func run(
        _ sweep: Sweep, deadline: Date, log: (String) -> Void, checked: (Sweep.CheckedCase) -> Void,
        problemDone: (Int) -> Void
    ) throws -> Int? {
        let name = sweep.checker.implementation.name
        let impl = spellings[name] ?? name
        var driver = IsolatedSweepDriver(
            sweep: sweep, impl: impl, caseTimeout: caseTimeout,
            childArguments: IsolatedSweepDriver.checkArguments(for: sweep, impl: impl))
        driver.deadline = deadline
        driver.stopsAfterAnyCheck = true
        return try driver.run(
            message: log, checked: { c, _ in checked(c) }, problemDone: { index, _ in problemDone(index) }
        ).stoppedBefore
    }
}

/// The nightly's fixture phase in child `kernelcheck verify --isolated-child` processes
/// (`IsolatedFixtureDriver`), one file at a time.
struct IsolatedNightlyFixtures: NightlyFixtureIsolation {
    /// Implementation name → its `--impl` spelling.
    var spellings: [String: String]
    var caseTimeout: Double

    func verify(
        path: String, cases: [(index: Int, fixture: FixtureCase)], implementations: [any KernelImplementation],
        log: (String) -> Void, caseDone: (FixtureCase, [CaseOutcome]) -> Void
    ) throws {
        let driver = IsolatedFixtureDriver(
            impls: implementations.map { spellings[$0.name] ?? $0.name }, caseTimeout: caseTimeout)
        try driver.run(path: path, cases: cases, message: log) { _, fixture, outcomes in
            caseDone(fixture, outcomes)
            return true
        }
    }
}

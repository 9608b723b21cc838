import Foundation
import KernelCheckCore
import KernelCheckFixtures
import KernelCheckProblems
import KernelCheckTiled
import KernelCheckVerification

/// A benchmark layer: a label, a problem and the directions to time.
public struct NightlyBenchCase: Sendable {
    public var label: String
    public var problem: Problem
    public var directions: [Direction]

    public init(label: String, problem: Problem, directions: [Direction]) {
        self.label = label
        self.problem = problem
        self.directions = directions
    }

    /// `Benchmark.standardCases`: the layers of `kernelcheck bench`.
    public static var standard: [NightlyBenchCase] {
        Benchmark.standardCases.map {
            NightlyBenchCase(label: $0.label, problem: $0.problem, directions: $0.directions)
        }
    }
}

/// The parts of a nightly run.
public enum NightlyPhase: String, CaseIterable, Sendable {
    case fixtures, sweep, gradients, bench
}

/// What a nightly run checks and how long it may take.
public struct NightlyConfiguration: Sendable {
    public var seed: UInt64
    /// "date" (UTC yyyymmdd) or "given".
    public var seedSource: String
    public var budgetSeconds: Double
    public var shard = 0
    public var shardCount = 1
    /// Fixture files, in a fixed order (shard `i` takes the files with index ≡ i mod n).
    public var fixtureFiles: [String] = []
    /// Prefix stripped from fixture paths in replay commands (the repository root).
    public var displayRoot: String?
    /// Every implementation runs the fixtures and the gradient checks; every one but the
    /// reference runs the random sweeps (the reference against itself proves nothing).
    public var implementations: [any KernelImplementation]
    public var families: [OpFamily] = OpFamily.allCases
    /// Small random problems per sweep mode (exact and bound), before sharding.
    public var sweepCases = 20_000
    /// Medium random problems per sweep mode (larger shapes: several cache blocks of the
    /// tiled kernels), before sharding.
    public var mediumCases = 3_000
    /// Random problems whose backward passes are checked by finite differences.
    public var gradientCases = 2_000
    public var benchCases: [NightlyBenchCase] = NightlyBenchCase.standard
    public var benchRuns = 5
    /// Thread counts of the benchmarks (0 = all cores).
    public var benchThreads = [1, 0]
    public var phases = Set(NightlyPhase.allCases)
    public var shrink = true

    public init(seed: UInt64, seedSource: String, budgetSeconds: Double, implementations: [any KernelImplementation]) {
        self.seed = seed
        self.seedSource = seedSource
        self.budgetSeconds = budgetSeconds
        self.implementations = implementations
    }

    /// The seed of a UTC date: `yyyymmdd` as a number (2026-11-27 → 20261127).
    public static func dateSeed(_ date: Date = Date()) -> UInt64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return UInt64(c.year! * 10_000 + c.month! * 100 + c.day!)
    }

    /// Parses `15m`, `90s`, `1h`, `1h30m` or a plain number of seconds.
    public static func parseDuration(_ text: String) -> Double? {
        if let plain = Double(text), plain >= 0 { return plain }
        var total = 0.0, number = ""
        for ch in text {
            if ch.isNumber || ch == "." { number.append(ch); continue }
            guard let v = Double(number) else { return nil }
            switch ch {
            case "h": total += v * 3600
            case "m": total += v * 60
            case "s": total += v
            default: return nil
            }
            number = ""
        }
        return number.isEmpty && !text.isEmpty ? total : nil
    }
}

/// Runs the phases of a nightly within the budget and collects everything into a report.
///
/// Budget split: fixtures run first (fast, and the most important); whatever is left is
/// divided so that the benchmarks keep `benchShare` of it (at most `benchReserveCap`
/// seconds) and the gradient checks `gradientShare` (at most `gradientReserveCap`); the
/// sweeps get the rest: the small sweeps (exact, then bound) may use up to half of it each,
/// the medium sweeps share what the small ones left (exact up to half, bound the rest). A
/// phase that finishes early leaves its time to the next. Each phase stops drawing work at
/// its deadline and records in `skipped` what it did not do.
///
/// Seeds: small exact `seed`, small bound `seed + 1`, gradients `seed + 2`, medium exact
/// `seed + 3`, medium bound `seed + 4`.
public struct NightlyRunner {
    public static let benchShare = 0.3
    public static let benchReserveCap = 180.0
    public static let gradientShare = 0.1
    public static let gradientReserveCap = 60.0

    public var configuration: NightlyConfiguration
    /// Progress lines (phase starts and ends).
    public var log: (String) -> Void

    public init(configuration: NightlyConfiguration, log: @escaping (String) -> Void = { _ in }) {
        self.configuration = configuration
        self.log = log
    }

    /// Rows, failures and so on as the phases produce them.
    struct Collector {
        var rows: [String: ResultRow] = [:]
        var fixtureCases: [String] = []
        var failures: [FailureRecord] = []
        var benchmarks: [BenchEntry] = []
        var skipped: [SkippedWork] = []
        var phases: [PhaseSummary] = []

        mutating func add(
            _ source: CaseSource, op: String, direction: String, implementation: String,
            status: String, utilization: Double?, ulp: Int?, nmse: Double?, seconds: Double
        ) {
            let key = "\(source.rawValue)/\(op)/\(direction)/\(implementation)"
            rows[key, default: ResultRow(source: source, op: op, direction: direction, implementation: implementation)]
                .add(status: status, utilization: utilization, ulp: ulp, nmse: nmse, seconds: seconds)
        }

        mutating func add(_ source: CaseSource, _ o: CaseOutcome, op: OpFamily, seconds: Double) {
            add(
                source, op: op.rawValue, direction: o.direction.rawValue, implementation: o.implementation,
                status: o.status.rawValue, utilization: o.comparison?.boundUtilization,
                ulp: o.comparison?.maxULPDistance,
                nmse: o.comparison?.nmse, seconds: seconds)
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
            runSweep(.bound, .medium, cases: c.mediumCases, seed: c.seed &+ 4, deadline: sweepEnd, into: &out)
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

        let settings = NightlySettings(
            seed: c.seed, seedSource: c.seedSource, budgetSeconds: c.budgetSeconds,
            sweepCases: c.sweepCases, mediumCases: c.mediumCases, gradientCases: c.gradientCases,
            benchRuns: c.benchRuns,
            shard: c.shard, shardCount: c.shardCount)
        var report = NightlyReport(
            createdAt: ISO8601DateFormatter().string(from: start), environment: .current(),
            settings: settings, rows: Array(out.rows.values), fixtureCases: out.fixtureCases,
            failures: out.failures, benchmarks: out.benchmarks, skipped: out.skipped, phases: out.phases)
        report.normalize()
        return report
    }

    // MARK: Phases

    func runFixtures(deadline: Date, into out: inout Collector) {
        let c = configuration
        let start = Date()
        var cases = 0, checks = 0
        let files = c.fixtureFiles.enumerated().filter { $0.offset % c.shardCount == c.shard }.map(\.element)
        log("fixtures: \(files.count) file(s)")
        for (n, path) in files.enumerated() {
            let name = URL(fileURLWithPath: path).lastPathComponent
            let shown = display(path)
            if Date() > deadline {
                out.skipped.append(
                    SkippedWork(
                        phase: "fixtures", item: files[n...].map(display).joined(separator: ", "),
                        reason: "time budget spent"))
                break
            }
            let fixtures: [FixtureCase]
            do { fixtures = try FixtureFile.read(path) } catch {
                // An unreadable golden file is a failed check, not a skip.
                let op = String(name.dropLast(name.hasSuffix(".h5") ? 3 : 0))
                out.add(
                    .fixture, op: op, direction: "read", implementation: "hdf5", status: "failed",
                    utilization: nil, ulp: nil, nmse: nil, seconds: 0)
                out.failures.append(
                    FailureRecord(
                        source: .fixture, op: op, direction: "read", implementation: "hdf5", mode: "-",
                        seed: 0, problem: shown, shrunkProblem: shown, shrinkSteps: 0,
                        summary: error.description, replay: "kernelcheck verify \(shown)",
                        fixtureCase: name))
                continue
            }
            for fixture in fixtures {
                let id = "\(name):\(fixture.group)"
                let caseStart = Date()
                let outcomes = FixtureVerification.verify(fixture, implementations: c.implementations)
                let seconds = Date().timeIntervalSince(caseStart) / Double(max(outcomes.count, 1))
                out.fixtureCases.append(id)
                cases += 1
                for o in outcomes {
                    checks += 1
                    out.add(.fixture, o, op: fixture.problem.family, seconds: seconds)
                    if o.status == .failed {
                        out.failures.append(
                            FailureRecord(
                                source: .fixture, op: fixture.problem.family.rawValue, direction: o.direction.rawValue,
                                implementation: o.implementation, mode: o.mode.rawValue, seed: o.seed,
                                problem: o.problem,
                                shrunkProblem: o.problem, shrinkSteps: 0, summary: o.summary,
                                replay: "kernelcheck verify \(shown) --impl \(o.implementation)", fixtureCase: id))
                    }
                }
            }
        }
        out.phases.append(
            PhaseSummary(
                name: "fixtures", seconds: Date().timeIntervalSince(start), budgetSeconds: nil,
                problems: cases, checks: checks))
        log(String(format: "fixtures: %d cases, %d checks in %.1f s", cases, checks, Date().timeIntervalSince(start)))
    }

    /// The random problems of indices ≡ shard (mod shardCount) below `sweepCases`: the same
    /// problems, seeds and sharding rule as `Sweep.run`, checked here one by one so the report
    /// gets every case's utilization and NMSE.
    func runSweep(
        _ mode: ComparisonMode, _ size: GeneratorSize, cases: Int, seed: UInt64, deadline: Date,
        into out: inout Collector
    ) {
        let c = configuration
        let source: CaseSource = mode == .exact ? .sweepExact : .sweepBound
        let phase = source.rawValue + (size == .small ? "" : "_\(size.rawValue)")
        let start = Date()
        let implementations = c.implementations.filter { $0.name != "reference" }
        let sweeps = implementations.map {
            Sweep(
                families: c.families, cases: cases, seed: seed, mode: mode, size: size,
                checker: CaseChecker(implementation: $0), shrink: c.shrink, shard: c.shard, shardCount: c.shardCount)
        }
        let indices = Array(stride(from: c.shard, to: cases, by: c.shardCount))
        log(
            String(
                format: "%@: %d problems, seed %llu, %.0f s", phase, indices.count, seed, deadline.timeIntervalSinceNow)
        )
        var problems = 0, checks = 0
        for (n, index) in indices.enumerated() {
            if Date() > deadline {
                out.skipped.append(
                    SkippedWork(
                        phase: phase, item: "\(indices.count - n) of \(indices.count) problems",
                        reason: "time budget spent (stopped before problem index \(index))"))
                break
            }
            guard let first = sweeps.first else { break }
            let (problem, caseSeed) = first.problem(at: index)
            for sweep in sweeps {
                for direction in problem.directions {
                    let caseStart = Date()
                    let o = sweep.checker.check(problem, direction, seed: caseSeed, mode: mode)
                    out.add(source, o, op: problem.family, seconds: Date().timeIntervalSince(caseStart))
                    checks += 1
                    if o.status == .failed {
                        let f = sweep.shrinkFailure(o, problem, direction, caseSeed)
                        out.failures.append(
                            FailureRecord(
                                source: source, op: problem.family.rawValue, direction: direction.rawValue,
                                implementation: o.implementation, mode: o.mode.rawValue, seed: caseSeed,
                                problem: o.problem,
                                shrunkProblem: f.shrunk.problem, shrinkSteps: f.shrinkSteps, summary: f.shrunk.summary,
                                replay: f.replay))
                    }
                }
            }
            problems += 1
        }
        if implementations.isEmpty {
            out.skipped.append(
                SkippedWork(phase: phase, item: "all", reason: "no implementation other than the reference"))
        }
        out.phases.append(
            PhaseSummary(
                name: phase, seconds: Date().timeIntervalSince(start),
                budgetSeconds: deadline.timeIntervalSince(start), problems: problems, checks: checks))
        log(
            String(
                format: "%@: %d problems, %d checks in %.1f s", phase, problems, checks, Date().timeIntervalSince(start)
            ))
    }

    func runGradients(deadline: Date, into out: inout Collector) {
        let c = configuration
        let start = Date()
        let seed = c.seed &+ 2
        // Problems drawn like the sweep's (bound fills), so the seed fixes them.
        let draw = Sweep(
            families: c.families, cases: c.gradientCases, seed: seed, mode: .bound, size: .small,
            checker: CaseChecker(implementation: ReferenceImplementation()))
        let indices = Array(stride(from: c.shard, to: c.gradientCases, by: c.shardCount))
        log(
            String(
                format: "gradients: %d problems, seed %llu, %.0f s", indices.count, seed, deadline.timeIntervalSinceNow)
        )
        var problems = 0, checks = 0
        for (n, index) in indices.enumerated() {
            if Date() > deadline {
                out.skipped.append(
                    SkippedWork(
                        phase: CaseSource.gradient.rawValue, item: "\(indices.count - n) of \(indices.count) problems",
                        reason: "time budget spent (stopped before problem index \(index))"))
                break
            }
            let (problem, caseSeed) = draw.problem(at: index)
            for direction in problem.directions where direction != .fwd {
                for implementation in c.implementations {
                    let caseStart = Date()
                    let r = GradientCheck.run(problem, direction, implementation: implementation, seed: caseSeed)
                    checks += 1
                    out.add(
                        .gradient, op: problem.family.rawValue, direction: direction.rawValue,
                        implementation: implementation.name,
                        status: r.status.rawValue, utilization: r.status == .skipped ? nil : r.utilization, ulp: nil,
                        nmse: nil,
                        seconds: Date().timeIntervalSince(caseStart))
                    if r.status == .failed {
                        let type =
                            implementation.name == "reference"
                            ? "ReferenceImplementation()"
                            : implementation.name == "tiled" ? "TiledImplementation()" : "<\(implementation.name)>"
                        let replay =
                            "GradientCheck.run(try Problem.parse(\"\(r.problem)\"), Direction(rawValue: \"\(direction.rawValue)\")!, "
                            + "implementation: \(type), seed: \(caseSeed))"
                        out.failures.append(
                            FailureRecord(
                                source: .gradient, op: problem.family.rawValue, direction: direction.rawValue,
                                implementation: implementation.name, mode: "finite_difference", seed: caseSeed,
                                problem: r.problem,
                                shrunkProblem: r.problem, shrinkSteps: 0,
                                summary: (["failed", String(format: "util=%.3g", r.utilization)] + r.findings).joined(
                                    separator: "  "),
                                replay: replay))
                    }
                }
            }
            problems += 1
        }
        out.phases.append(
            PhaseSummary(
                name: CaseSource.gradient.rawValue, seconds: Date().timeIntervalSince(start),
                budgetSeconds: deadline.timeIntervalSince(start), problems: problems, checks: checks))
        log(
            String(
                format: "gradients: %d problems, %d checks in %.1f s", problems, checks, Date().timeIntervalSince(start)
            ))
    }

    /// Tiled GFLOP/s on the benchmark layers (shard `i` takes layers with index ≡ i mod n).
    /// A measurement starts only when its estimated time (runs + warm-up at a pessimistic
    /// 40 GFLOP/s per core, plus input set-up) fits before the deadline.
    func runBench(deadline: Date, into out: inout Collector) {
        let c = configuration
        let start = Date()
        guard let tiled = c.implementations.first(where: { $0 is TiledImplementation }) as? TiledImplementation else {
            out.skipped.append(
                SkippedWork(phase: "bench", item: "all", reason: "the tiled implementation is not selected"))
            return
        }
        let cases = c.benchCases.enumerated().filter { $0.offset % c.shardCount == c.shard }.map(\.element)
        log(
            String(
                format: "bench: %d layer(s), %d run(s), %.0f s", cases.count, c.benchRuns, deadline.timeIntervalSinceNow
            ))
        var measured = 0
        for bench in cases {
            for direction in bench.directions {
                for threads in c.benchThreads {
                    let name =
                        "\(bench.label) \(direction.rawValue) \(threads == 0 ? "all" : String(threads)) thread(s)"
                    let estimate = estimatedSeconds(bench, direction, threads: threads)
                    if Date().addingTimeInterval(estimate) > deadline {
                        out.skipped.append(
                            SkippedWork(
                                phase: "bench", item: name,
                                reason: String(format: "time budget: needs ≈ %.1f s", estimate)))
                        continue
                    }
                    switch measure(bench, direction, threads: threads, tiled: tiled) {
                    case .success(let entry): out.benchmarks.append(entry)
                    case .failure(let problem):
                        out.skipped.append(SkippedWork(phase: "bench", item: name, reason: problem.reason))
                        continue
                    }
                    measured += 1
                }
            }
        }
        out.phases.append(
            PhaseSummary(
                name: "bench", seconds: Date().timeIntervalSince(start),
                budgetSeconds: deadline.timeIntervalSince(start), problems: cases.count, checks: measured))
        log(String(format: "bench: %d measurements in %.1f s", measured, Date().timeIntervalSince(start)))
    }

    struct MeasurementProblem: Error { var reason: String }

    /// A pessimistic time for one measurement: warm-up and runs at 40 GFLOP/s per core, plus
    /// half a second of input set-up.
    func estimatedSeconds(_ bench: NightlyBenchCase, _ direction: Direction, threads: Int) -> Double {
        let cores = Tiled.resolveThreads(threads)
        return Double(configuration.benchRuns + 1) * bench.problem.descriptor.flops(for: direction)
            / (40e9 * Double(cores)) + 0.5
    }

    /// One benchmark measurement: inputs and output prepared once, then `benchRuns` timed runs.
    func measure(
        _ bench: NightlyBenchCase, _ direction: Direction, threads: Int, tiled: TiledImplementation
    )
        -> Result<BenchEntry, MeasurementProblem>
    {
        let d = bench.problem.descriptor
        var inputs: [String: Tensor<Float>] = [:]
        for spec in d.inputs(for: direction) {
            inputs[spec.role] = Fill.uniform(low: -1, high: 1).tensor(spec.shape, seed: 1, role: spec.role)
        }
        let count = Shape.elementCount(d.output(for: direction).shape) ?? 0
        let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(count, 1))
        defer { output.deallocate() }
        let io: KernelIO
        do {
            io = try KernelIO(bench.problem, direction, inputs, UnsafeMutableBufferPointer(rebasing: output[0..<count]))
        } catch {
            return .failure(MeasurementProblem(reason: "cannot prepare buffers: \(error)"))
        }
        var failure: ImplementationError?
        let r = Benchmark.measure(
            label: bench.label, problem: bench.problem, direction: direction,
            implementation: tiled.name, threads: threads, runs: configuration.benchRuns
        ) {
            do throws(ImplementationError) { try tiled.run(bench.problem, direction, io: io, threads: threads) } catch {
                failure = error
            }
        }
        if let failure { return .failure(MeasurementProblem(reason: "the kernel failed: \(failure)")) }
        var entry = BenchEntry(
            label: r.label, problem: r.problem, op: bench.problem.family.rawValue,
            direction: direction.rawValue, implementation: r.implementation, threads: r.threads,
            runs: r.runs, medianSeconds: r.medianSeconds, gflops: r.gflops, peakFraction: r.peakFraction)
        entry.path = tiled.path(bench.problem, direction).name
        return .success(entry)
    }

    /// Re-measures each benchmark the diff finds more than 10 % slower, up to `attempts` more
    /// times while the budget lasts, keeping the fastest median (`BenchEntry.attempts` counts
    /// the measurements): on a shared machine one unlucky median is not a regression, while a
    /// real slowdown stays slow every time. Then recomputes the diff.
    public func confirmSlowdowns(
        _ report: inout NightlyReport, baseline: NightlyReport, path: String, deadline: Date,
        attempts: Int = 2
    ) {
        guard let diff = report.diff, !diff.performanceRegressions.isEmpty,
            let tiled = configuration.implementations.first(where: { $0 is TiledImplementation })
                as? TiledImplementation
        else { return }
        let cores = Tiled.defaultThreads
        for regression in diff.performanceRegressions {
            guard let i = report.benchmarks.firstIndex(where: { $0.key == regression.key }) else { continue }
            let entry = report.benchmarks[i]
            guard let bench = configuration.benchCases.first(where: { $0.label == entry.label }),
                let direction = Direction(rawValue: entry.direction)
            else { continue }
            let threads = entry.threads == cores && !configuration.benchThreads.contains(cores) ? 0 : entry.threads
            for _ in 0..<attempts {
                if Date().addingTimeInterval(estimatedSeconds(bench, direction, threads: threads)) > deadline {
                    report.skipped.append(
                        SkippedWork(phase: "bench", item: "re-measuring \(entry.key)", reason: "time budget spent"))
                    break
                }
                guard case .success(let again) = measure(bench, direction, threads: threads, tiled: tiled) else {
                    break
                }
                let count = (report.benchmarks[i].attempts ?? 1) + 1
                if again.medianSeconds < report.benchmarks[i].medianSeconds { report.benchmarks[i] = again }
                report.benchmarks[i].attempts = count
                log(
                    String(
                        format: "bench: re-measured %@: %.3g s (baseline %.3g s)", entry.key, again.medianSeconds,
                        regression.baselineSeconds))
                if report.benchmarks[i].medianSeconds <= ReportDiff.slowdownFactor * regression.baselineSeconds {
                    break
                }
            }
        }
        report.compare(with: baseline, path: path)
    }

    func display(_ path: String) -> String {
        guard let root = configuration.displayRoot, path.hasPrefix(root + "/") else { return path }
        return String(path.dropFirst(root.count + 1))
    }
}

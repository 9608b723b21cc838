import ArgumentParser
import Foundation
import KernelCheckCore
import KernelCheckPlugins
import KernelCheckProblems
import KernelCheckVerification

/// `kernelcheck check`: a randomized property sweep (or one replayed problem) of an
/// implementation against the reference.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check an implementation against the reference on random valid problems, shrinking failures.",
        discussion: """
            Each failure is shrunk to a minimal problem and printed with the one-line command that replays it:
              kernelcheck check --problem '<problem>' --direction <d> --seed <n> --mode <m> --impl <name> --threads <t>
            (--threads is the count the failing run used, so the replay does not depend on the replaying machine).
            Failures are saved to .kernelcheck/failures/<op>.txt in the working directory and replayed first by the
            next sweep of the same op; a saved case that passes is removed. --no-failure-db neither reads nor writes it.
            Exact mode uses small-integer fills (fp32 sums are then exact: the implementation must equal the
            reference bit for bit); bound mode uses real fills and the bound 2·γ_K·(|A|·|B|) + 4u·|y| (docs/design.md),
            and calls a result suspicious (listed with its replay line, counted, exit 0) when some element is within that
            bound but beyond the probabilistic one, γ_K replaced by γ̃_K ≈ λ·√K·u; tight mode uses the same fills and
            fails such elements.
            --dtype bf16|f16|f8e4m3|f8e5m2|all (repeatable or comma-separated; default f32) gives the conv, conv_transpose,
            matmul and linear problems inputs stored in that type (the problem string's dt=, acc=, odt=): problem i of a
            family takes the precisions in turn; float32-only families run only when f32 is in the list. --acc f16
            accumulates in f16 (dt f16, f8e4m3, f8e5m2; 'all' then means those), --odt f32|f16 stores the output in
            another type than dt. The bound adds one rounding to the output type (docs/design.md, bounds per precision).
            The sweep runs in a child kernelcheck process (--no-isolation: in this one): an implementation that crashes
            or hangs (--case-timeout) fails that case, shrunk and replayable, and the sweep goes on (docs/workflow.md).
            """)

    @Option(
        help:
            "Op families to sweep (repeatable; default all): \(OpFamily.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var op: [String] = []

    @Option(
        help:
            "Directions to check (repeatable; default all): \(Direction.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var direction: [String] = []

    @Option(parsing: .unconditional, help: "Number of random problems.")
    var cases: Int = 500

    @Option(help: "Sweep seed (printed when not given). With --problem: the seed of the case's inputs.")
    var seed: UInt64?

    @Option(help: "exact, bound or tight (bound's fills, judged by the probabilistic bound).")
    var mode: String = "exact"

    @Option(
        help: """
            Implementation under test: tiled, reference, lib:PATH (a shared library, docs/plugins.md) or \
            exec:COMMAND (a worker process, docs/worker-protocol.md; each case may take \
            KERNELCHECK_WORKER_TIMEOUT seconds, default 60).
            """)
    var impl: String = "tiled"

    @Option(help: "Check this one problem string instead of random ones (replay).")
    var problem: String?

    @Option(
        help:
            "Input storage types (repeatable or comma-separated): f32 (default), bf16, f16, f8e4m3, f8e5m2 or all.")
    var dtype: [String] = []

    @Option(help: "Accumulation type with --dtype: f32 (default) or f16 (dt f16, f8e4m3, f8e5m2).")
    var acc: String = "f32"

    @Option(help: "Output type with --dtype: the storage type (default), f32, or f16 (with --acc f16).")
    var odt: String?

    @Option(
        help: "Problem sizes: small (debug-friendly), medium or large (release builds; past the blocking thresholds).")
    var size: String = "small"

    @Option(parsing: .unconditional, help: "Stop drawing new problems after this many seconds.")
    var budget: Double?

    @Option(help: "Check shard i of n, written i/n: the problems with index ≡ i mod n of the whole sweep.")
    var shard: String = "0/1"

    @Option(parsing: .unconditional, help: "Worker threads for the implementation (0 = all cores).")
    var threads: Int = 0

    @Flag(help: "Do not shrink failures.")
    var noShrink = false

    @Flag(help: "Skip the determinism check (second run, 1-thread run).")
    var noDeterminism = false

    @Flag(help: "Do not replay or save failures in .kernelcheck/failures/ of the working directory.")
    var noFailureDb = false

    @OptionGroup var output: OutputOptions

    @OptionGroup var kernelVariant: KernelVariantOption

    @OptionGroup var isolation: IsolationOptions

    func run() throws {
        try kernelVariant.select()
        let chosen = try Implementations.named(impl)
        let implementation = FaultInjectedImplementation.wrap(chosen)
        // A plug-in's own name and version (kernelcheck_name), beside the name that replays it.
        let shownName = (chosen as? SharedLibraryImplementation)?.displayName.map { "\(chosen.name) (\($0))" }
        guard let mode = ComparisonMode(rawValue: mode) else {
            throw BadInput("--mode must be exact, bound or tight, got '\(mode)'")
        }
        guard let size = GeneratorSize(rawValue: size) else {
            throw BadInput("--size must be small, medium or large, got '\(size)'")
        }
        let directions = try parseDirections(direction)
        let precisions = try parsePrecisions()
        let checker = CaseChecker(implementation: implementation, determinism: !noDeterminism, threads: threads)
        let seed = self.seed ?? UInt64(Date().timeIntervalSince1970 * 1000) % 1_000_000_007

        if let text = problem {
            let p = try parseProblem(text)
            if isolation.isolatedChild != nil {
                return Self.runIsolatedChild(p, directions: directions, checker: checker, seed: seed, mode: mode)
            }
            var outcomes: [CaseOutcome] = []
            for d in p.directions where directions?.contains(d) ?? true {
                let o = checker.check(p, d, seed: seed, mode: mode)
                outcomes.append(o)
                if output.format == .text { print("\(o.direction.rawValue): \(o.summary)") }
            }
            let totals = JSONTotals(outcomes)
            if outcomes.isEmpty { throw BadInput("'\(p)' offers none of the requested directions") }
            if output.format == .json {
                print(
                    try JSONFormat.string(
                        .checkProblem, totals: totals,
                        ProblemDocument(
                            problem: p.description, seed: seed, mode: mode, implementation: implementation.name,
                            outcomes: outcomes)))
            } else {
                if let f = outcomes.first(where: { $0.status == .failed }) { print("replay: \(f.replayCommand)") }
                if let s = outcomes.first(where: { $0.status == .suspicious }) {
                    print("suspicious replay: \(s.replayCommand)")
                }
                print(totals.summaryLine)
            }
            if totals.failed > 0 { throw VerificationFailed(failures: totals.failed) }
            return
        }

        let families = try parseFamilies(op)
        if !precisions.contains(.float32) && !families.contains(where: { $0.acceptsLowPrecision }) {
            throw BadInput(
                "--dtype without f32 needs an op family that accepts it (conv, conv_transpose, matmul, linear); got "
                    + families.map(\.rawValue).joined(separator: ", "))
        }
        let (shardIndex, shardCount) = try NightlyCommand.parseShard(shard)
        let sweep = Sweep(
            families: families, directions: directions, cases: cases, seed: seed, mode: mode, size: size,
            checker: checker, shrink: !noShrink, timeBudget: budget, shard: shardIndex, shardCount: shardCount,
            precisions: precisions)
        if let start = try isolation.childStart() {
            return sweep.runAsChild(from: start.index, skipping: start.skipping, emit: Self.emit)
        }
        let isolated = !isolation.noIsolation
        let driver = isolatedDriver(sweep)
        let memory =
            noFailureDb
            ? nil
            : FailureMemory(
                database: FailureDatabase(), checker: checker, directions: directions, text: output.format == .text,
                check: isolated ? { driver.checkInChild($0, $1, seed: $2, mode: $3) } : nil)
        let replayed = try memory?.replay(families) ?? []
        if output.format == .text {
            print(
                "check: \(cases) problems of \(families.map(\.rawValue).joined(separator: ", ")), mode \(mode.rawValue), impl \(shownName ?? implementation.name), seed \(seed)"
                    + (precisions == [.float32]
                        ? "" : ", precisions " + precisions.map(\.description).joined(separator: "; "))
            )
        }
        // Text runs show progress on standard output; a JSON run keeps it on standard error.
        let progress = Progress(
            "check", total: cases, stream: output.format == .text ? .standardOutput : .standardError)
        var result =
            isolated
            ? try runIsolated(driver, progress: progress)
            : sweep.run { done, _, failures in
                progress.update(done, note: "\(failures) failure\(failures == 1 ? "" : "s")")
            }
        progress.finish()
        try memory?.record(result.failures.map(\.shrunk))
        // Saved failures that still fail count as failures of this run.
        result.failures.insert(
            contentsOf: replayed.map { Sweep.Failure(original: $0, shrunk: $0, shrinkSteps: 0) }, at: 0)
        for o in replayed {
            let key =
                (try? Problem.parse(o.problem)).map { Sweep.tallyKey($0, o.direction) }
                ?? "saved/\(o.direction.rawValue)"
            result.tallies[key, default: Sweep.Tally()].failed += 1
        }
        if output.format == .json {
            print(try JSONFormat.string(.check, totals: result.totals, SweepDocument(result)))
        } else {
            for key in result.tallies.keys.sorted() {
                let t = result.tallies[key]!
                print(
                    key.padding(toLength: precisions == [.float32] ? 26 : 44, withPad: " ", startingAt: 0)
                        + String(
                            format:
                                " %5d passed %4d failed %4d mistrusted %4d suspicious %4d skipped  worst util %.3g  max ulp %@  %.0f cases/s",
                            t.passed, t.failed, t.mistrusted, t.suspicious, t.skipped, t.worstUtilization,
                            t.maxULP.map(String.init) ?? "—", t.casesPerSecond)
                )
            }
            for key in result.tallies.keys.sorted() {
                guard let t = result.tallies[key], t.skipped > 0, let reason = t.skipReason else { continue }
                print("skipped \(key): \(t.skipped) (first: \(MessageText.clip(reason, limit: 200)))")
            }
            for f in result.failures {
                print("FAILED \(f.original.problem) [\(f.original.direction.rawValue)]: \(f.original.summary)")
                print("  shrunk in \(f.shrinkSteps) steps to: \(f.shrunk.problem)")
                print("  \(f.shrunk.summary)")
                print("  replay: \(f.replay)")
            }
            if !result.suspicious.isEmpty {
                print("suspicious (within the worst-case bound, beyond the probabilistic one; not failures):")
                for o in result.suspicious {
                    print("SUSPICIOUS \(o.problem) [\(o.direction.rawValue)]: \(o.summary)")
                    print("  replay: \(o.replay)")
                }
            }
            Self.printCoverage(result.coverage, implementation: implementation.name)
            print(
                String(
                    format: "%d problems in %.1f s, seed %llu, %d mistrusted, %d suspicious", result.problemsChecked,
                    result.seconds, seed, result.mistrusted, result.suspiciousCount))
            print(result.totals.summaryLine)
        }
        if result.failed > 0 { throw VerificationFailed(failures: result.failed) }
        if result.comparedNothing {
            throw BadInput(
                "nothing was checked: all \(result.skipped) checks were skipped (see the skip reasons above; "
                    + "e.g. --impl reference for acc=f16, which the tiled kernels do not implement)")
        }
    }
}

extension CheckCommand {
    /// `--dtype`, `--acc` and `--odt` as the sweep's list of precisions (bad values: one line
    /// naming the option, exit 2).
    func parsePrecisions() throws -> [Precision] {
        if let list = isolation.isolatedPrecisions { return try IsolationOptions.parsePrecisionList(list) }
        guard let accumulation = ScalarType(rawValue: acc) else {
            throw BadInput("--acc must be f32 or f16, got '\(acc)'")
        }
        var output: ScalarType?
        if let odt {
            guard let t = ScalarType(rawValue: odt) else {
                throw BadInput(
                    "--odt must be one of \(ScalarType.allCases.map(\.rawValue).joined(separator: ", ")), got '\(odt)'")
            }
            output = t
        }
        if dtype.isEmpty && (accumulation != .f32 || output != nil) {
            throw BadInput("--acc and --odt need --dtype (bf16, f16, f8e4m3, f8e5m2 or all)")
        }
        do {
            return try Precision.list(dtypes: dtype, accumulation: accumulation, output: output)
        } catch {
            guard case .invalidField(_, let field, let reason) = error else { throw BadInput("\(error)") }
            throw BadInput("--\(field): \(reason)")
        }
    }
}

enum OutputFormat: String, ExpressibleByArgument { case text, json }

/// `--format`, declared once for the commands that print either a text summary or JSON.
struct OutputOptions: ParsableArguments {
    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text
}

/// The implementations the CLI can check.
enum Implementations {
    static let all: [any KernelImplementation] = [ReferenceImplementation(), TiledImplementation()]

    /// A built-in implementation, or a plug-in (`lib:PATH`, `exec:COMMAND`).
    static func named(_ name: String) throws -> any KernelImplementation {
        do {
            if let plugin = try Plugins.implementation(named: name) { return plugin }
        } catch { throw BadInput("\(error)") }
        guard let i = all.first(where: { $0.name == name }) else {
            throw BadInput(
                "unknown implementation '\(name)'; known: \(all.map(\.name).joined(separator: ", ")), lib:PATH, exec:COMMAND"
            )
        }
        return i
    }
}

func parseFamilies(_ names: [String]) throws -> [OpFamily] {
    if names.isEmpty { return OpFamily.allCases }
    return try names.map { name in
        guard let f = OpFamily(rawValue: name) else {
            throw BadInput(
                "unknown op family '\(name)'; known: \(OpFamily.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return f
    }
}

func parseDirections(_ names: [String]) throws -> Set<Direction>? {
    if names.isEmpty { return nil }
    return Set(
        try names.map { name in
            guard let d = Direction(rawValue: name) else {
                throw BadInput(
                    "unknown direction '\(name)'; known: \(Direction.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return d
        })
}

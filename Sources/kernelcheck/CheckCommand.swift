import ArgumentParser
import Foundation
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
        help: "Problem sizes: small (debug-friendly), medium or large (release builds; past the blocking thresholds).")
    var size: String = "small"

    @Option(parsing: .unconditional, help: "Stop drawing new problems after this many seconds.")
    var budget: Double?

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
        let checker = CaseChecker(implementation: implementation, determinism: !noDeterminism, threads: threads)
        let seed = self.seed ?? UInt64(Date().timeIntervalSince1970 * 1000) % 1_000_000_007

        if let text = problem {
            let p = try parseProblem(text)
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
        let memory =
            noFailureDb
            ? nil
            : FailureMemory(
                database: FailureDatabase(), checker: checker, directions: directions, text: output.format == .text)
        let replayed = try memory?.replay(families) ?? []
        if output.format == .text {
            print(
                "check: \(cases) problems of \(families.map(\.rawValue).joined(separator: ", ")), mode \(mode.rawValue), impl \(shownName ?? implementation.name), seed \(seed)"
            )
        }
        let sweep = Sweep(
            families: families, directions: directions, cases: cases, seed: seed, mode: mode, size: size,
            checker: checker, shrink: !noShrink, timeBudget: budget)
        // Text runs show progress on standard output; a JSON run keeps it on standard error.
        let progress = Progress(
            "check", total: cases, stream: output.format == .text ? .standardOutput : .standardError)
        var result = sweep.run { done, _, failures in
            progress.update(done, note: "\(failures) failure\(failures == 1 ? "" : "s")")
        }
        progress.finish()
        try memory?.record(result.failures.map(\.shrunk))
        // Saved failures that still fail count as failures of this run.
        result.failures.insert(
            contentsOf: replayed.map { Sweep.Failure(original: $0, shrunk: $0, shrinkSteps: 0) }, at: 0)
        for o in replayed {
            let family = (try? Problem.parse(o.problem).family.rawValue) ?? "saved"
            result.tallies["\(family)/\(o.direction.rawValue)", default: Sweep.Tally()].failed += 1
        }
        if output.format == .json {
            print(try JSONFormat.string(.check, totals: result.totals, SweepDocument(result)))
        } else {
            for key in result.tallies.keys.sorted() {
                let t = result.tallies[key]!
                print(
                    key.padding(toLength: 26, withPad: " ", startingAt: 0)
                        + String(
                            format:
                                " %5d passed %4d failed %4d mistrusted %4d suspicious %4d skipped  worst util %.3g  max ulp %@  %.0f cases/s",
                            t.passed, t.failed, t.mistrusted, t.suspicious, t.skipped, t.worstUtilization,
                            t.maxULP.map(String.init) ?? "—", t.casesPerSecond)
                )
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

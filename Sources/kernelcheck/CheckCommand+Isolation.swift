import ArgumentParser
import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckTiled
import KernelCheckVerification

/// `check`'s crash isolation options: by default the sweep runs in a child `kernelcheck`
/// process, so an implementation that crashes or hangs costs one case, not the report.
struct IsolationOptions: ParsableArguments {
    @Flag(help: "Run the implementation in this process (faster to debug; a crash then ends the whole run).")
    var noIsolation = false

    @Option(
        parsing: .unconditional,
        help:
            "Seconds one check (all its runs and its shrinking) may take in the isolated child before it counts as a hang."
    )
    var caseTimeout: Double = 120

    /// Internal: run as the isolated child of a sweep (`INDEX[:SKIP]`: from this problem
    /// index, skipping its first SKIP directions) or of a replayed problem, writing
    /// `IsolatedMessage` lines.
    @Option(help: .hidden)
    var isolatedChild: String?

    /// Internal: the sweep's precisions, in order, for a child whose list `--dtype`, `--acc`
    /// and `--odt` cannot spell (a nightly's f16 accumulator beside f32 ones): each
    /// `Precision.description` (`dt=f16 acc=f16 odt=f16`), joined by `;`.
    @Option(help: .hidden)
    var isolatedPrecisions: String?

    func validate() throws {
        try OptionValidation.require(
            caseTimeout.isFinite && caseTimeout > 0,
            "--case-timeout must be a positive number of seconds, got \(caseTimeout)")
    }

    /// `--isolated-child` as (index, directions to skip); nil when not a child.
    func childStart() throws -> (index: Int, skipping: Int)? {
        guard let text = isolatedChild else { return nil }
        let words = text.split(separator: ":", omittingEmptySubsequences: false)
        let parts = words.compactMap { Int($0) }
        guard (1...2).contains(parts.count), parts.count == words.count, parts.allSatisfy({ $0 >= 0 })
        else { throw BadInput("--isolated-child must be INDEX or INDEX:SKIP, got '\(text)'") }
        return (parts[0], parts.count > 1 ? parts[1] : 0)
    }
}

extension IsolationOptions {
    /// The options that give a child `precisions` in this order: `--dtype` when every entry
    /// has the default accumulation and output, else `--isolated-precisions`.
    static func precisionArguments(_ precisions: [Precision]) -> [String] {
        if precisions.allSatisfy({ $0 == Precision(storage: $0.storage) }) {
            return ["--dtype", precisions.map(\.storage.rawValue).joined(separator: ",")]
        }
        return ["--isolated-precisions", precisions.map(\.description).joined(separator: ";")]
    }

    /// Reads `--isolated-precisions` back (the inverse of `precisionArguments`).
    static func parsePrecisionList(_ text: String) throws -> [Precision] {
        try text.split(separator: ";").map { entry in
            var fields: [String: ScalarType] = [:]
            for word in entry.split(separator: " ") {
                let pair = word.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2, let type = ScalarType(rawValue: pair[1]) else {
                    throw BadInput("--isolated-precisions: '\(word)' is not KEY=TYPE")
                }
                fields[pair[0]] = type
            }
            guard let storage = fields["dt"], Set(fields.keys).isSubset(of: ["dt", "acc", "odt"]) else {
                throw BadInput("--isolated-precisions: '\(entry)' needs dt= (and optionally acc=, odt=)")
            }
            let precision = Precision(storage: storage, accumulation: fields["acc"] ?? .f32, output: fields["odt"])
            do { try precision.validate(op: "check") } catch {
                throw BadInput("--isolated-precisions: \(error)")
            }
            return precision
        }
    }
}

extension CheckCommand {
    /// The child's side: checks and writes one protocol line per step, flushed at once (a
    /// crash must not lose a line still in a buffer).
    static func emit(_ message: IsolatedMessage) {
        fflush(nil)
        FileHandle.standardOutput.write(Data(message.line.utf8))
    }

    /// The child's side of a replayed problem: one check per direction, no shrinking.
    static func runIsolatedChild(
        _ p: Problem, directions: Set<Direction>?, checker: CaseChecker, seed: UInt64, mode: ComparisonMode
    ) {
        for d in p.directions where directions?.contains(d) ?? true {
            emit(IsolatedMessage(.start, index: 0, direction: d))
            let start = Date()
            let o = checker.check(p, d, seed: seed, mode: mode)
            emit(IsolatedMessage(.outcome, index: 0, direction: d, outcome: o, wall: Date().timeIntervalSince(start)))
        }
    }

    /// This run's arguments for a child sweeping from `start`: the same options with the
    /// seed made explicit.
    func childArguments(seed: UInt64, start: Int, skipping: Int) -> [String] {
        var out: [String] = []
        var arguments = CommandLine.arguments.dropFirst()[...]
        while let a = arguments.popFirst() {
            if a == "--seed" || a == "--isolated-child" {
                _ = arguments.popFirst()
                continue
            }
            if a.hasPrefix("--seed=") || a.hasPrefix("--isolated-child=") { continue }
            out.append(a)
        }
        return out + ["--seed", String(seed), "--isolated-child", "\(start):\(skipping)"]
    }

    /// The driver of this run's isolated sweep: children spawned with this run's own
    /// arguments (`childArguments`), one-case children with its implementation and kernel variant.
    func isolatedDriver(_ sweep: Sweep) -> IsolatedSweepDriver {
        var driver = IsolatedSweepDriver(
            sweep: sweep, impl: impl, caseTimeout: isolation.caseTimeout,
            childArguments: { childArguments(seed: sweep.seed, start: $0, skipping: $1) })
        if let variant = kernelVariant.name { driver.caseArguments = ["--kernel-variant", variant] }
        driver.deadline = budget.map { Date().addingTimeInterval($0) }
        return driver
    }

    /// The sweep, its cases run by child processes (`IsolatedSweepDriver`): each failure is
    /// printed with its replay line as it arrives, progress after each problem.
    func runIsolated(_ driver: IsolatedSweepDriver, progress: Progress) throws -> Sweep.Result {
        func note(_ failures: Int) -> String { "\(failures) failure\(failures == 1 ? "" : "s")" }
        return try driver.run(
            message: progress.message,
            checked: { c, _ in
                guard let f = c.failure else { return }
                progress.message(
                    "failure: \(f.original.problem) [\(f.original.direction.rawValue)]: "
                        + f.original.failureKinds.sorted().joined(separator: ", ") + "; replay with: \(f.replay)")
            },
            problemDone: { index, result in progress.update(index + 1, note: note(result.failures.count)) }
        ).result
    }
}

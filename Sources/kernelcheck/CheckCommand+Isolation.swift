import ArgumentParser
import Foundation
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

    /// The sweep, its cases run by child processes: each result is recorded as the child
    /// reports it; a child that dies (signal or unexpected exit) or is silent for longer
    /// than `--case-timeout` during a check makes that case a `crash` or `timeout` failure,
    /// shrunk by replaying candidates in children of their own, and a fresh child goes on
    /// from the next problem.
    func runIsolated(_ sweep: Sweep, checker: CaseChecker, progress: Progress) throws -> Sweep.Result {
        var result = sweep.emptyResult()
        let start = Date()
        var next = 0
        var skipping = 0  // directions of problem `next` already checked
        var quietDeaths = 0  // children in a row that died outside a case with nothing done
        var failuresSeen = 0
        var cached: (index: Int, problem: Problem)?  // the problem of the latest outcome
        func note() -> String { "\(result.failures.count) failure\(result.failures.count == 1 ? "" : "s")" }
        func reportNewFailures() {
            for f in result.failures.dropFirst(failuresSeen) {
                progress.message(
                    "failure: \(f.original.problem) [\(f.original.direction.rawValue)]: "
                        + f.original.failureKinds.sorted().joined(separator: ", ") + "; replay with: \(f.replay)")
            }
            failuresSeen = result.failures.count
        }
        sweeping: while next < sweep.cases {
            let child: IsolatedProcess
            do {
                child = try IsolatedProcess(
                    arguments: childArguments(seed: sweep.seed, start: next, skipping: skipping))
            } catch {
                throw BadInput("cannot start the isolated child: \(error) (--no-isolation runs in this process)")
            }
            var running: (index: Int, direction: Direction, since: Date)?
            var reported = false
            reading: while true {
                let read = child.readLine(timeout: isolation.caseTimeout)
                var ended: String?
                switch read {
                case .line(let line):
                    guard let m = IsolatedMessage(line: line) else {
                        FileHandleOutput.standardError(line)  // the implementation's own output
                        continue
                    }
                    switch m.event {
                    case .start: running = m.direction.map { (m.index, $0, Date()) }
                    case .alive: break
                    case .outcome:
                        guard let o = m.outcome else { continue }
                        if cached?.index != m.index { cached = (m.index, sweep.problem(at: m.index).0) }
                        sweep.record(o, problem: cached!.problem, wall: m.wall ?? 0, failure: m.failure, into: &result)
                        running = nil
                        reported = true
                        (next, skipping) = m.index == next ? (next, skipping + 1) : (m.index, 1)
                        reportNewFailures()
                    case .done:
                        result.problemsChecked += 1
                        next = m.index + 1
                        skipping = 0
                        progress.update(next, note: note())
                        if let budget, Date().timeIntervalSince(start) > budget {
                            child.kill()
                            break sweeping
                        }
                    }
                    continue reading
                case .end:
                    let end = child.waitForExit()
                    if running == nil && end.signal == nil && end.exit == 0 { break sweeping }
                    ended =
                        end.signal.map { "killed by \(IsolatedProcess.signalName($0)) (signal \($0))" }
                        ?? "the process exited with status \(end.exit)"
                case .timeout:
                    child.kill()
                    ended = nil
                }
                guard let r = running else {
                    // Between checks (e.g. a plug-in's destructor at exit): nothing is lost; go
                    // on where the child stopped, unless children keep dying without doing anything.
                    let what = ended.map { "ended (\($0))" } ?? "was silent for \(Self.seconds(isolation.caseTimeout))"
                    quietDeaths = reported ? 0 : quietDeaths + 1
                    if next >= sweep.cases { break sweeping }
                    guard quietDeaths < 2 else {
                        throw BadInput(
                            "the isolated child \(what) outside any case, twice in a row; --no-isolation runs the sweep in this process"
                        )
                    }
                    progress.message("the isolated child \(what) outside any case; a new one goes on")
                    break reading
                }
                quietDeaths = 0
                let (problem, caseSeed) = sweep.problem(at: r.index)
                let kind = ended == nil ? "timeout" : "crash"
                let what =
                    ended.map { "\($0) while checking this case" }
                    ?? "no result within --case-timeout \(Self.seconds(isolation.caseTimeout))"
                let outcome = CaseOutcome.processFailure(
                    kind: kind, what, problem: problem, direction: r.direction,
                    implementation: checker.implementation.name,
                    seed: caseSeed, mode: sweep.mode, threads: Tiled.resolveThreads(threads),
                    seconds: Date().timeIntervalSince(r.since))
                progress.message(
                    "problem \(r.index) [\(r.direction.rawValue)]: \(outcome.findings[0])"
                        + (sweep.shrink ? "; shrinking it in child processes" : ""))
                let failure =
                    sweep.shrink
                    ? shrinkInChildren(outcome, problem, r.direction, caseSeed, checker: checker)
                    : Sweep.Failure(original: outcome, shrunk: outcome, shrinkSteps: 0)
                sweep.record(
                    outcome, problem: problem, wall: outcome.seconds, failure: failure, into: &result)
                reportNewFailures()
                // A fresh child goes on with the problem's next direction.
                let selected = sweep.selectedDirections(at: r.index)
                let position = (selected.firstIndex(of: r.direction) ?? selected.count - 1) + 1
                if position < selected.count {
                    (next, skipping) = (r.index, position)
                } else {
                    result.problemsChecked += 1
                    (next, skipping) = (r.index + 1, 0)
                    progress.update(next, note: note())
                }
                if let budget, Date().timeIntervalSince(start) > budget { break sweeping }
                break reading
            }
        }
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    static func seconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : String(format: "%.3g s", s) }

    /// Greedy shrinking of a crash or timeout, each candidate checked by a child of its own
    /// (`checkInChild`): a candidate still fails when its child crashes, hangs or reports a
    /// failure of any kind (a smaller problem often shows as an out-of-bounds write what a
    /// larger one shows as heap corruption).
    func shrinkInChildren(
        _ outcome: CaseOutcome, _ problem: Problem, _ direction: Direction, _ caseSeed: UInt64,
        checker: CaseChecker
    ) -> Sweep.Failure {
        var last = outcome
        let (_, steps) = Shrinker.shrink(problem) { candidate in
            guard candidate.directions.contains(direction) else { return false }
            let o = checkInChild(candidate, direction, seed: caseSeed, mode: outcome.mode, checker: checker)
            guard o.status == .failed else { return false }
            last = o
            return true
        }
        return Sweep.Failure(original: outcome, shrunk: last, shrinkSteps: steps)
    }

    /// Checks one case in a child (`check --problem … --isolated-child 0`): its outcome, or a
    /// `crash` / `timeout` failure when the child dies or hangs.
    func checkInChild(
        _ problem: Problem, _ direction: Direction, seed: UInt64, mode: ComparisonMode, checker: CaseChecker
    ) -> CaseOutcome {
        var arguments = [
            "check", "--problem", problem.description, "--direction", direction.rawValue, "--seed", String(seed),
            "--mode", mode.rawValue, "--impl", impl, "--threads", String(threads), "--no-failure-db",
            "--isolated-child", "0",
        ]
        if noDeterminism { arguments.append("--no-determinism") }
        if let variant = kernelVariant.name { arguments += ["--kernel-variant", variant] }
        let start = Date()
        func failure(_ kind: String, _ what: String) -> CaseOutcome {
            .processFailure(
                kind: kind, what, problem: problem, direction: direction, implementation: checker.implementation.name,
                seed: seed, mode: mode, threads: Tiled.resolveThreads(threads), seconds: Date().timeIntervalSince(start)
            )
        }
        guard let child = try? IsolatedProcess(arguments: arguments) else {
            return failure("crash", "the child process could not be started")
        }
        var outcome: CaseOutcome?
        var started = false
        while true {
            switch child.readLine(timeout: isolation.caseTimeout) {
            case .line(let line):
                guard let m = IsolatedMessage(line: line) else { continue }
                if m.event == .start { started = true }
                if m.event == .outcome { outcome = m.outcome }
            case .end:
                let end = child.waitForExit()
                if let outcome, end.signal == nil { return outcome }
                if !started && end.signal == nil {
                    // Refused before any check (its reason is on standard error): not this case's failure.
                    var o = failure("crash", "the child exited with status \(end.exit) before checking")
                    o.status = .skipped
                    return o
                }
                if let s = end.signal {
                    return failure(
                        "crash", "killed by \(IsolatedProcess.signalName(s)) (signal \(s)) while checking this case")
                }
                return failure("crash", "the process exited with status \(end.exit) while checking this case")
            case .timeout:
                child.kill()
                return failure("timeout", "no result within --case-timeout \(Self.seconds(isolation.caseTimeout))")
            }
        }
    }
}

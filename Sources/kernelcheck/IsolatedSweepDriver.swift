import Foundation
import KernelCheckProblems
import KernelCheckTiled
import KernelCheckVerification

/// The parent's side of a sweep whose cases run in child `kernelcheck check --isolated-child`
/// processes, shared by `check` and `nightly`: each outcome is handed on as the child reports
/// it; a child that dies (signal or unexpected exit) or is silent for longer than
/// `caseTimeout` during a check makes that case a `crash` or `timeout` failure, shrunk by
/// replaying candidates in children of their own, and a fresh child goes on from the next
/// direction or problem.
struct IsolatedSweepDriver {
    /// The sweep the children run; the parent draws the same problems from it.
    var sweep: Sweep
    /// The `--impl` spelling of the sweep's implementation (for the one-case children).
    var impl: String
    /// Seconds a child may stay silent during a check before the case counts as a hang.
    var caseTimeout: Double
    /// Arguments every one-case child needs to select the same kernels (`--kernel-variant`).
    var caseArguments: [String] = []
    /// The arguments of a child that sweeps from problem `start`, skipping its first
    /// `skipping` directions.
    var childArguments: (_ start: Int, _ skipping: Int) -> [String]
    /// No new problem is started after this time.
    var deadline: Date?
    /// Past `deadline` the child is killed after the check in progress (a nightly phase ends
    /// there, leaving a large problem's other directions unchecked; a failure found is still
    /// shrunk and kept); otherwise after the problem in progress (`check --budget`).
    var stopsAfterAnyCheck = false

    /// What a run did: the outcomes recorded as `Sweep.record` does, and the index of the
    /// first problem left unfinished when the deadline stopped it (nil when none was left).
    struct Run {
        var result: Sweep.Result
        var stoppedBefore: Int?
    }

    /// `check --isolated-child START:SKIP` arguments that make a child draw exactly the
    /// problems of `sweep`: its families, directions, cases, seed, mode, size, precisions,
    /// shard, threads, determinism and shrinking, spelled as options.
    static func checkArguments(for sweep: Sweep, impl: String) -> (_ start: Int, _ skipping: Int) -> [String] {
        var arguments = ["check"]
        for family in sweep.families { arguments += ["--op", family.rawValue] }
        for direction in Direction.allCases where sweep.directions?.contains(direction) ?? false {
            arguments += ["--direction", direction.rawValue]
        }
        arguments += [
            "--cases", String(sweep.cases), "--seed", String(sweep.seed), "--mode", sweep.mode.rawValue, "--size",
            sweep.size.rawValue, "--impl", impl, "--threads", String(sweep.checker.threads), "--shard",
            "\(sweep.shard)/\(sweep.shardCount)", "--no-failure-db",
        ]
        arguments += IsolationOptions.precisionArguments(sweep.precisions)
        if !sweep.checker.determinism { arguments.append("--no-determinism") }
        if !sweep.shrink { arguments.append("--no-shrink") }
        return { start, skipping in arguments + ["--isolated-child", "\(start):\(skipping)"] }
    }

    /// Runs the sweep: `checked` gets every case as it finishes (a crash or hang as a failed
    /// case), `problemDone` every problem index whose directions are all checked (with the
    /// result so far), `message` what happened to a child. Throws `BadInput` when no child can
    /// be started, or when children keep dying outside any case.
    func run(
        message: (String) -> Void, checked: (Sweep.CheckedCase, Sweep.Result) -> Void = { _, _ in },
        problemDone: (Int, Sweep.Result) -> Void = { _, _ in }
    ) throws -> Run {
        var result = sweep.emptyResult()
        let start = Date()
        var next = 0
        var skipping = 0  // directions of problem `next` already checked
        var quietDeaths = 0  // children in a row that died outside a case with nothing done
        var stoppedBefore: Int?
        var cached: (index: Int, problem: Problem)?  // the problem of the latest outcome
        func deadlinePassed() -> Bool { deadline.map { Date() > $0 } ?? false }
        func record(_ c: Sweep.CheckedCase) {
            sweep.record(c.outcome, problem: c.problem, wall: c.wall, failure: c.failure, into: &result)
            checked(c, result)
        }
        func finished(_ index: Int) {
            result.problemsChecked += 1
            problemDone(index, result)
        }
        sweeping: while next < sweep.cases {
            if deadlinePassed() {
                stoppedBefore = next
                break sweeping
            }
            let child: IsolatedProcess
            do {
                child = try IsolatedProcess(arguments: childArguments(next, skipping))
            } catch {
                throw BadInput("cannot start the isolated child: \(error) (--no-isolation runs in this process)")
            }
            var running: (index: Int, direction: Direction, since: Date)?
            var reported = false
            reading: while true {
                let read = child.readLine(timeout: caseTimeout)
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
                        record(
                            Sweep.CheckedCase(
                                outcome: o, problem: cached!.problem, wall: m.wall ?? 0, failure: m.failure))
                        running = nil
                        reported = true
                        (next, skipping) = m.index == next ? (next, skipping + 1) : (m.index, 1)
                        if stopsAfterAnyCheck && deadlinePassed() {
                            child.kill()
                            if skipping >= sweep.selectedDirections(at: next).count {
                                (next, skipping) = (next + 1, 0)
                                finished(next - 1)
                            }
                            stoppedBefore = next
                            break sweeping
                        }
                    case .done:
                        (next, skipping) = (m.index + 1, 0)
                        finished(m.index)
                        if deadlinePassed() {
                            child.kill()
                            stoppedBefore = next
                            break sweeping
                        }
                    }
                    continue reading
                case .end:
                    let how = child.ending()
                    if running == nil && how == nil { break sweeping }
                    ended = how ?? "the process exited with status 0"
                case .timeout:
                    child.kill()
                    ended = nil
                }
                guard let r = running else {
                    // Between checks (e.g. a plug-in's destructor at exit): nothing is lost; go
                    // on where the child stopped, unless children keep dying without doing anything.
                    let what = ended.map { "ended (\($0))" } ?? "was silent for \(Self.seconds(caseTimeout))"
                    quietDeaths = reported ? 0 : quietDeaths + 1
                    if next >= sweep.cases { break sweeping }
                    guard quietDeaths < 2 else {
                        throw BadInput(
                            "the isolated child \(what) outside any case, twice in a row; --no-isolation runs the sweep in this process"
                        )
                    }
                    message("the isolated child \(what) outside any case; a new one goes on")
                    break reading
                }
                quietDeaths = 0
                let (problem, caseSeed) = sweep.problem(at: r.index)
                let kind = ended == nil ? "timeout" : "crash"
                let what =
                    ended.map { "\($0) while checking this case" }
                    ?? "no result within --case-timeout \(Self.seconds(caseTimeout))"
                let outcome = CaseOutcome.processFailure(
                    kind: kind, what, problem: problem, direction: r.direction,
                    implementation: sweep.checker.implementation.name,
                    seed: caseSeed, mode: sweep.mode, threads: Tiled.resolveThreads(sweep.checker.threads),
                    seconds: Date().timeIntervalSince(r.since))
                message(
                    "problem \(r.index) [\(r.direction.rawValue)]: \(outcome.findings[0])"
                        + (sweep.shrink ? "; shrinking it in child processes" : ""))
                let failure =
                    sweep.shrink
                    ? shrinkInChildren(outcome, problem, r.direction, caseSeed)
                    : Sweep.Failure(original: outcome, shrunk: outcome, shrinkSteps: 0)
                record(Sweep.CheckedCase(outcome: outcome, problem: problem, wall: outcome.seconds, failure: failure))
                // A fresh child goes on with the problem's next direction.
                let selected = sweep.selectedDirections(at: r.index)
                let position = (selected.firstIndex(of: r.direction) ?? selected.count - 1) + 1
                if position < selected.count {
                    (next, skipping) = (r.index, position)
                } else {
                    (next, skipping) = (r.index + 1, 0)
                    finished(r.index)
                }
                break reading
            }
        }
        result.seconds = Date().timeIntervalSince(start)
        return Run(result: result, stoppedBefore: stoppedBefore.flatMap { $0 < sweep.cases ? $0 : nil })
    }

    static func seconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : String(format: "%.3g s", s) }

    /// Greedy shrinking of a crash or timeout, each candidate checked by a child of its own
    /// (`checkInChild`): a candidate still fails when its child crashes, hangs or reports a
    /// failure of any kind (a smaller problem often shows as an out-of-bounds write what a
    /// larger one shows as heap corruption).
    func shrinkInChildren(
        _ outcome: CaseOutcome, _ problem: Problem, _ direction: Direction, _ caseSeed: UInt64
    ) -> Sweep.Failure {
        var last = outcome
        let (_, steps) = Shrinker.shrink(problem) { candidate in
            guard candidate.directions.contains(direction) else { return false }
            let o = checkInChild(candidate, direction, seed: caseSeed, mode: outcome.mode)
            guard o.status == .failed else { return false }
            last = o
            return true
        }
        return Sweep.Failure(original: outcome, shrunk: last, shrinkSteps: steps)
    }

    /// Checks one case in a child (`check --problem … --isolated-child 0`): its outcome, or a
    /// `crash` / `timeout` failure when the child dies or hangs.
    func checkInChild(_ problem: Problem, _ direction: Direction, seed: UInt64, mode: ComparisonMode) -> CaseOutcome {
        let checker = sweep.checker
        var arguments = [
            "check", "--problem", problem.description, "--direction", direction.rawValue, "--seed", String(seed),
            "--mode", mode.rawValue, "--impl", impl, "--threads", String(checker.threads), "--no-failure-db",
            "--isolated-child", "0",
        ]
        if !checker.determinism { arguments.append("--no-determinism") }
        arguments += caseArguments
        let start = Date()
        func failure(_ kind: String, _ what: String) -> CaseOutcome {
            .processFailure(
                kind: kind, what, problem: problem, direction: direction, implementation: checker.implementation.name,
                seed: seed, mode: mode, threads: Tiled.resolveThreads(checker.threads),
                seconds: Date().timeIntervalSince(start))
        }
        guard let child = try? IsolatedProcess(arguments: arguments) else {
            return failure("crash", "the child process could not be started")
        }
        var outcome: CaseOutcome?
        var started = false
        while true {
            switch child.readLine(timeout: caseTimeout) {
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
                return failure("timeout", "no result within --case-timeout \(Self.seconds(caseTimeout))")
            }
        }
    }
}

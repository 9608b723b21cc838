import Foundation
import KernelCheckFixtures
import KernelCheckProblems
import KernelCheckTiled
import KernelCheckVerification

/// The parent's side of fixture verification in child `kernelcheck verify --isolated-child`
/// processes, shared by `verify` and `nightly`: the cases of one file are checked by a child
/// that streams each outcome; a child that dies (signal or unexpected exit) or is silent for
/// longer than `caseTimeout` during a check makes that check a `crash` or `timeout` failure,
/// and a fresh child goes on with the case's next check.
struct IsolatedFixtureDriver {
    /// The `--impl` spellings of the implementations, in the order the child checks them.
    var impls: [String]
    /// Seconds a child may stay silent during a check before the check counts as a hang.
    var caseTimeout: Double
    /// Arguments every child needs beside the file, implementations and cases
    /// (`--direction`, `--tight`).
    var extraArguments: [String] = []
    /// Judge real-filled cases in tight mode (must match `--tight` in `extraArguments`).
    var tight = false
    /// Directions checked (nil: all; must match `--direction` in `extraArguments`).
    var directions: Set<Direction>?

    /// `verify FILE --impl … --isolated-child C1,C2,…:SKIP`: a child that checks the cases of
    /// `path` at those positions (in its order), leaving out the first `skipping` checks of
    /// the first.
    func childArguments(path: String, cases: [Int], skipping: Int) -> [String] {
        ["verify", path] + impls.flatMap { ["--impl", $0] } + extraArguments + [
            "--isolated-child", cases.map(String.init).joined(separator: ",") + ":\(skipping)",
        ]
    }

    /// The checks a case has: its selected directions × the implementations.
    func checkCount(_ fixture: FixtureCase) -> Int {
        fixture.directions.filter { directions?.contains($0) ?? true }.count * impls.count
    }

    /// Checks `cases` (position in the file, case) of the file at `path` in order;
    /// `caseDone` gets each case's outcomes (in `FixtureVerification.verify` order) once all
    /// its checks are in, and returns false to stop there; `message` hears what happened to
    /// a child (without the file's name). Throws `BadInput` when no child can be started, or when children keep dying
    /// outside any check.
    func run(
        path: String, cases: [(index: Int, fixture: FixtureCase)], message: (String) -> Void,
        caseDone: (_ index: Int, _ fixture: FixtureCase, _ outcomes: [CaseOutcome]) -> Bool
    ) throws {
        var pending = cases[...]
        var current: [CaseOutcome] = []  // outcomes of the first pending case so far
        var quietDeaths = 0  // children in a row that died outside a check with nothing done
        func finishCase() -> Bool {
            let (index, fixture) = pending.removeFirst()
            defer { current = [] }
            return caseDone(index, fixture, current)
        }
        while let first = pending.first {
            if current.count >= checkCount(first.fixture) {
                guard finishCase() else { return }
                continue
            }
            let child: IsolatedProcess
            do {
                child = try IsolatedProcess(
                    arguments: childArguments(path: path, cases: pending.map(\.index), skipping: current.count))
            } catch {
                throw BadInput("cannot start the isolated child: \(error) (--no-isolation verifies in this process)")
            }
            var running: (direction: Direction, implementation: String, since: Date)?
            var reported = false
            var ended: String?
            reading: while true {
                switch child.readLine(timeout: caseTimeout) {
                case .line(let line):
                    guard let m = IsolatedMessage(line: line) else {
                        FileHandleOutput.standardError(line)  // the implementation's own output
                        continue
                    }
                    guard m.index == pending.first?.index else { continue }
                    switch m.event {
                    case .start:
                        running = m.direction.map { ($0, m.implementation ?? "", Date()) }
                    case .alive: break
                    case .outcome:
                        guard let o = m.outcome else { continue }
                        current.append(o)
                        running = nil
                        reported = true
                    case .done:
                        running = nil
                        guard finishCase() else {
                            child.kill()
                            return
                        }
                    }
                case .end:
                    let how = child.ending()
                    if running == nil && how == nil && pending.isEmpty { return }
                    ended = how ?? "the process exited with status 0"
                    break reading
                case .timeout:
                    child.kill()
                    ended = nil
                    break reading
                }
            }
            guard let r = running, let fixture = pending.first?.fixture else {
                // Between checks: nothing is lost; go on where the child stopped, unless
                // children keep dying without doing anything.
                if pending.isEmpty { return }
                let what = ended.map { "ended (\($0))" } ?? "was silent for \(IsolatedSweepDriver.seconds(caseTimeout))"
                quietDeaths = reported ? 0 : quietDeaths + 1
                guard quietDeaths < 2 else {
                    throw BadInput(
                        "the isolated child \(what) outside any check, twice in a row; --no-isolation verifies in this process"
                    )
                }
                message("the isolated child \(what) outside any check; a new one goes on")
                continue
            }
            quietDeaths = 0
            let kind = ended == nil ? "timeout" : "crash"
            let what =
                ended.map { "\($0) while checking this case" }
                ?? "no result within --case-timeout \(IsolatedSweepDriver.seconds(caseTimeout))"
            let outcome = CaseOutcome.processFailure(
                kind: kind, what, problem: fixture.problem, direction: r.direction, implementation: r.implementation,
                seed: UInt64(bitPattern: fixture.seed), mode: FixtureVerification.mode(of: fixture, tight: tight),
                threads: Tiled.resolveThreads(0), seconds: Date().timeIntervalSince(r.since))
            message("case \(fixture.group) [\(r.direction.rawValue), \(r.implementation)]: \(outcome.findings[0])")
            current.append(outcome)
        }
    }
}

import Foundation
import KernelCheckCore
import KernelCheckFixtures
import KernelCheckProblems
import KernelCheckTiled
import KernelCheckVerification

// The verification phases of the nightly run: golden fixtures, the random sweep, gradients.
extension NightlyRunner {
    func runFixtures(deadline: Date, into out: inout Collector) {
        let c = configuration
        let start = Date()
        var cases = 0, checks = 0
        let files = c.fixtureFiles.enumerated().filter { $0.offset % c.shardCount == c.shard }.map(\.element)
        log("fixtures: \(files.count) file(s)")
        report("fixtures", 0, of: files.count, "", deadline: deadline)
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
            var caseStart = Date()
            func record(_ fixture: FixtureCase, _ outcomes: [CaseOutcome]) {
                let id = "\(name):\(fixture.group)"
                let seconds = Date().timeIntervalSince(caseStart) / Double(max(outcomes.count, 1))
                out.fixtureCases.append(id)
                cases += 1
                report("fixtures", n + 1, of: files.count, id, deadline: deadline)
                for o in outcomes {
                    checks += 1
                    out.add(.fixture, o, problem: fixture.problem, seconds: seconds)
                    if o.status == .failed {
                        out.failures.append(
                            FailureRecord(
                                source: .fixture, op: fixture.problem.family.rawValue, direction: o.direction.rawValue,
                                implementation: o.implementation, mode: o.mode.rawValue, seed: o.seed,
                                problem: o.problem,
                                shrunkProblem: o.problem, shrinkSteps: 0, summary: o.summary,
                                replay: o.fixtureReplayCommand(file: shown), fixtureCase: id))
                    }
                }
                caseStart = Date()
            }
            if let fixtureIsolation {
                var done = 0
                do {
                    try fixtureIsolation.verify(
                        path: path, cases: Array(fixtures.enumerated()).map { ($0.offset, $0.element) },
                        implementations: c.implementations, log: { log("fixtures: \(shown) \($0)") },
                        caseDone: {
                            done += 1
                            record($0, $1)
                        })
                } catch {
                    log("fixtures: \(error)")
                    out.skipped.append(
                        SkippedWork(
                            phase: "fixtures", item: "\(fixtures.count - done) of \(fixtures.count) cases of \(shown)",
                            reason: "\(error)"))
                }
            } else {
                for fixture in fixtures {
                    caseStart = Date()
                    record(fixture, FixtureVerification.verify(fixture, implementations: c.implementations))
                }
            }
        }
        out.phases.append(
            PhaseSummary(
                name: "fixtures", seconds: Date().timeIntervalSince(start), budgetSeconds: nil,
                problems: cases, checks: checks))
        log(String(format: "fixtures: %d cases, %d checks in %.1f s", cases, checks, Date().timeIntervalSince(start)))
    }

    /// The random problems of indices ≡ shard (mod shardCount) below `cases`: the same
    /// problems, seeds, precisions and sharding rule as `Sweep.run` (so `kernelcheck check`
    /// replays them), each case recorded with its utilization and NMSE. With `isolation` each
    /// implementation's cases run there (an equal share of the time left each), else here.
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
                checker: CaseChecker(implementation: $0), shrink: c.shrink, shard: c.shard, shardCount: c.shardCount,
                precisions: c.precisions)
        }
        let indices = Array(stride(from: c.shard, to: cases, by: c.shardCount))
        log(
            String(
                format: "%@: %d problems, seed %llu, %.0f s", phase, indices.count, seed, deadline.timeIntervalSinceNow)
        )
        var problems = 0, checks = 0
        report(phase, 0, of: indices.count, "", deadline: deadline)
        if implementations.isEmpty {
            out.skipped.append(
                SkippedWork(phase: phase, item: "all", reason: "no implementation other than the reference"))
        } else if sweeps[0].families.isEmpty {
            out.skipped.append(
                SkippedWork(
                    phase: phase, item: "all",
                    reason: "no op family takes the precisions "
                        + c.precisions.map(ResultRow.precisionLabel).joined(separator: ", ")))
        } else if let isolation, !indices.isEmpty {
            for (k, sweep) in sweeps.enumerated() {
                let share = Date().addingTimeInterval(max(0, deadline.timeIntervalSinceNow) / Double(sweeps.count - k))
                let name = sweep.checker.implementation.name
                let suffix = sweeps.count > 1 ? " (\(name))" : ""
                var done = 0
                var last = ""  // the problem of the latest case (drawing it again costs a targeted draw)
                do {
                    let stopped = try isolation.run(
                        sweep, deadline: share, log: { log("\(phase)\(suffix): \($0)") },
                        checked: {
                            checks += 1
                            last = $0.problem.description
                            out.add(source, $0, threads: sweep.checker.threads)
                        },
                        problemDone: { _ in
                            done += 1
                            report(phase, done, of: indices.count, last, deadline: share)
                        })
                    if let stopped, let first = indices.first(where: { $0 >= stopped }) {
                        out.skipped.append(
                            SkippedWork(
                                phase: phase, item: "\(indices.count - done) of \(indices.count) problems\(suffix)",
                                reason: "time budget spent (stopped before problem index \(first))"))
                    }
                } catch {
                    log("\(phase)\(suffix): \(error)")
                    out.skipped.append(
                        SkippedWork(
                            phase: phase, item: "\(indices.count - done) of \(indices.count) problems\(suffix)",
                            reason: "\(error)"))
                }
                problems = max(problems, done)
            }
        } else {
            for (n, index) in indices.enumerated() {
                if Date() > deadline {
                    out.skipped.append(
                        SkippedWork(
                            phase: phase, item: "\(indices.count - n) of \(indices.count) problems",
                            reason: "time budget spent (stopped before problem index \(index))"))
                    break
                }
                let (problem, caseSeed) = sweeps[0].problem(at: index)
                for sweep in sweeps {
                    for direction in problem.directions {
                        let caseStart = Date()
                        let o = sweep.checker.check(problem, direction, seed: caseSeed, mode: mode)
                        let wall = Date().timeIntervalSince(caseStart)
                        let failure =
                            o.status == .failed ? sweep.shrinkFailure(o, problem, direction, caseSeed) : nil
                        out.add(
                            source, Sweep.CheckedCase(outcome: o, problem: problem, wall: wall, failure: failure),
                            threads: sweep.checker.threads)
                        checks += 1
                    }
                }
                problems += 1
                report(phase, n + 1, of: indices.count, problem.description, deadline: deadline)
            }
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
        report(CaseSource.gradient.rawValue, 0, of: indices.count, "", deadline: deadline)
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
            report(CaseSource.gradient.rawValue, n + 1, of: indices.count, problem.description, deadline: deadline)
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
}

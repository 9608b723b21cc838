import Foundation
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckVerification
import Testing

@testable import KernelCheckReports

/// A nightly with an isolation (`NightlyRunner.isolation`) hands each sweep phase to it:
/// every case it reports becomes a row (a crash a failure with its replay line), the problems
/// it finishes are counted, and a phase it stops early or cannot run is listed as skipped.
@Suite struct NightlyIsolationRunnerTests {
    /// Checks the first `stopAfter` problems of each sweep in this process, reporting the
    /// first direction of the first problem as a crash, then stops as at a deadline.
    final class StoppingIsolation: NightlySweepIsolation {
        let stopAfter: Int
        var sweeps: [Sweep] = []
        init(stopAfter: Int) { self.stopAfter = stopAfter }

        func run(
            _ sweep: Sweep, deadline: Date, log: (String) -> Void, checked: (Sweep.CheckedCase) -> Void,
            problemDone: (Int) -> Void
        ) throws -> Int? {
            sweeps.append(sweep)
            let indices = Array(stride(from: sweep.shard, to: sweep.cases, by: sweep.shardCount))
            for (n, index) in indices.prefix(stopAfter).enumerated() {
                let (problem, seed) = sweep.problem(at: index)
                for (k, direction) in problem.directions.enumerated() {
                    let o =
                        n == 0 && k == 0
                        ? CaseOutcome.processFailure(
                            kind: "crash", "killed by SIGSEGV (signal 11) while checking this case", problem: problem,
                            direction: direction, implementation: sweep.checker.implementation.name, seed: seed,
                            mode: sweep.mode, threads: 1, seconds: 0)
                        : sweep.checker.check(problem, direction, seed: seed, mode: sweep.mode)
                    checked(Sweep.CheckedCase(outcome: o, problem: problem, wall: 0.001, failure: nil))
                }
                problemDone(index)
            }
            return indices.count > stopAfter ? indices[stopAfter] : nil
        }
    }

    struct Refused: Error, CustomStringConvertible { var description = "cannot start the isolated child" }

    final class RefusingIsolation: NightlySweepIsolation {
        func run(
            _ sweep: Sweep, deadline: Date, log: (String) -> Void, checked: (Sweep.CheckedCase) -> Void,
            problemDone: (Int) -> Void
        ) throws -> Int? { throw Refused() }
    }

    func configuration() -> NightlyConfiguration {
        var c = NightlyConfiguration(
            seed: 11, seedSource: "given", budgetSeconds: 600, implementations: [TiledImplementation()])
        c.phases = [.sweep]
        c.families = [.activation, .matmul]
        c.sweepCases = 10
        c.mediumCases = 0
        return c
    }

    @Test func theSweepPhasesGoThroughTheIsolation() throws {
        let isolation = StoppingIsolation(stopAfter: 4)
        var runner = NightlyRunner(configuration: configuration())
        runner.isolation = isolation
        let r = runner.run()
        // Small exact (seed 11) and small bound (seed 12); no medium problems asked for.
        #expect(isolation.sweeps.map(\.seed) == [11, 12])
        #expect(isolation.sweeps.map(\.mode) == [.exact, .bound])
        #expect(isolation.sweeps.allSatisfy { $0.precisions == NightlyConfiguration.allPrecisions })
        for phase in ["sweep_exact", "sweep_bound"] {
            let summary = try #require(r.phases.first { $0.name == phase })
            #expect(summary.problems == 4)
            let cases = r.rows.filter { $0.source.rawValue == phase }.map(\.cases).reduce(0, +)
            #expect(cases == summary.checks && cases > 4, "\(phase): \(cases) rows, \(summary.checks) checks")
            let skipped = try #require(r.skipped.first { $0.phase == phase })
            #expect(skipped.item == "6 of 10 problems")
            #expect(skipped.reason == "time budget spent (stopped before problem index 4)")
        }
        #expect(r.failures.count == 2)
        for f in r.failures {
            #expect(f.summary.contains("crash: killed by SIGSEGV"), "\(f.summary)")
            #expect(f.replay.hasPrefix("kernelcheck check --problem '\(f.problem)'"), "\(f.replay)")
        }
    }

    @Test func aPhaseTheIsolationCannotRunIsSkippedWithItsReason() {
        var runner = NightlyRunner(configuration: configuration())
        runner.isolation = RefusingIsolation()
        let r = runner.run()
        let skipped = r.skipped.filter { $0.phase.hasPrefix("sweep_") }
        #expect(skipped.count == 2)
        #expect(skipped.allSatisfy { $0.item == "10 of 10 problems" && $0.reason == "cannot start the isolated child" })
        #expect(r.rows.isEmpty && r.failures.isEmpty)
    }
}

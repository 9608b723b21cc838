import Foundation
import KernelCheckPlugins
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckVerification
import Testing

/// `exec:COMMAND` workers: a correct worker passes, every kind of broken worker fails the
/// case that breaks it with a finding naming the fault, and the next case runs on a fresh
/// worker.
@Suite struct WorkerProcessTests {
    static let faulty = try! Problem.parse("relu shape=7")
    static let healthy = try! Problem.parse("relu shape=3")

    @Test func skeletonWorkerPassesASmallSweep() throws {
        let worker = try WorkerProcessImplementation(command: TestWorkers.skeleton)
        #expect(worker.name == "exec:" + TestWorkers.skeleton)
        #expect(worker.workerName == "numpy-skeleton")
        #expect(!worker.honoursThreads)
        let sweep = Sweep(
            families: [.activation, .matmul], cases: 24, seed: 11, mode: .exact,
            checker: CaseChecker(implementation: worker, threads: 2), shrink: false)
        let result = sweep.run()
        #expect(result.passed > 0)
        #expect(result.failed == 0, "\(result.failures.map(\.original.summary))")
        // The worker's table offers no matmul gradients: skipped, not sent.
        #expect(result.tallies["matmul/bwd_data"].map { $0.skipped > 0 && $0.passed == 0 } ?? false)
    }

    @Test func workerThatIgnoresThreadsGetsANoteNotAPassedDeterminismCheck() throws {
        let worker = try WorkerProcessImplementation(command: TestWorkers.skeleton)
        let o = CaseChecker(implementation: worker).check(Self.healthy, .fwd, seed: 3, mode: .exact)
        #expect(o.status == .passed, "\(o.summary)")
        #expect(o.notes == ["determinism across thread counts not applicable: \(worker.name) ignores threads"])
        #expect(o.summary.contains("not applicable"))
    }

    /// Each fault on `relu shape=7`, and a phrase its finding must contain.
    static let faults: [(mode: String, phrase: String)] = [
        ("crash", "killed by signal 9 (Killed)"),
        ("exit", "exited with status 3"),
        ("hang", "timed out after 1 s waiting for the answer to request"),
        ("garbage", "expected a JSON status line"),
        ("wrong-id", "answered id 100"),
        ("short", "announced 24 bytes of output, expected 28"),
        ("truncated", "timed out after 1 s waiting for 28 bytes of output"),
        ("error", "worker reported: out of cheese"),
    ]

    @Test(arguments: faults)
    func brokenWorkerFailsTheCaseAndTheNextCaseRunsOnAFreshWorker(mode: String, phrase: String) throws {
        let dir = try TestWorkers.directory()
        defer { TestSupport.removeScratch(dir) }
        let worker = try WorkerProcessImplementation(command: TestWorkers.command(dir, mode), timeout: 1)
        let checker = CaseChecker(implementation: worker, determinism: false)
        let start = Date()
        let bad = checker.check(Self.faulty, .fwd, seed: 1, mode: .exact)
        #expect(Date().timeIntervalSince(start) < 10, "the harness must not hang")
        #expect(bad.status == .failed)
        let finding = bad.findings.joined(separator: " | ")
        #expect(finding.contains(phrase), "\(mode): \(finding)")
        #expect(finding.contains("relu shape=7"), "the finding names the problem: \(finding)")
        #expect(bad.replayCommand.contains("--impl 'exec:python3 "))
        for direction in [Direction.fwd, .bwdData] {
            let next = checker.check(Self.healthy, direction, seed: 2, mode: .exact)
            #expect(next.status == .passed, "\(mode) then \(direction): \(next.summary)")
        }
    }

    /// Stray bytes behind a right answer, or a worker that exits after a right answer: the
    /// next case runs on a fresh worker instead of failing.
    @Test(arguments: ["extra", "exit-after"])
    func workerOutOfStepBetweenCasesIsReplacedBeforeTheNextCase(mode: String) throws {
        let dir = try TestWorkers.directory()
        defer { TestSupport.removeScratch(dir) }
        let worker = try WorkerProcessImplementation(command: TestWorkers.command(dir, mode), timeout: 5)
        let checker = CaseChecker(implementation: worker, determinism: false)
        #expect(checker.check(Self.faulty, .fwd, seed: 1, mode: .exact).status == .passed)
        usleep(100_000)
        let next = checker.check(Self.healthy, .fwd, seed: 2, mode: .exact)
        #expect(next.status == .passed, "\(next.summary)")
    }

    @Test func unsupportedAnswerIsASkip() throws {
        let dir = try TestWorkers.directory()
        defer { TestSupport.removeScratch(dir) }
        let worker = try WorkerProcessImplementation(command: TestWorkers.command(dir, "unsupported"), timeout: 5)
        let o = CaseChecker(implementation: worker).check(Self.faulty, .fwd, seed: 1, mode: .exact)
        #expect(o.status == .skipped, "\(o.summary)")
        #expect(o.findings == ["\(worker.name) does not implement fwd of 'relu shape=7'"])
    }

    @Test func concurrentCallsAreSerialized() throws {
        let worker = try WorkerProcessImplementation(command: TestWorkers.skeleton)
        let checker = CaseChecker(implementation: worker, determinism: false)
        let statuses = Statuses()
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            let p = try! Problem.parse("relu shape=\(i + 1)x5")
            statuses.append(checker.check(p, i % 2 == 0 ? .fwd : .bwdData, seed: UInt64(i), mode: .bound).status)
        }
        #expect(statuses.all.count == 16 && statuses.all.allSatisfy { $0 == .passed }, "\(statuses.all)")
    }

    @Test(arguments: [
        ("bad-handshake", "expected a JSON line"),
        ("future-version", "the worker speaks protocol 2; this harness speaks 1"),
    ])
    func badHandshakeIsAPluginError(mode: String, phrase: String) throws {
        let dir = try TestWorkers.directory()
        defer { TestSupport.removeScratch(dir) }
        let error = #expect(throws: PluginError.self) {
            try WorkerProcessImplementation(command: TestWorkers.command(dir, mode), timeout: 5)
        }
        #expect(error?.description.contains(phrase) ?? false, "\(String(describing: error))")
    }

    @Test func commandThatCannotStartIsAPluginErrorAtLoad() throws {
        let error = #expect(throws: PluginError.self) {
            try Plugins.implementation(named: "exec:/no/such/worker --flag")
        }
        #expect(error?.description.contains("exited with status 127") ?? false, "\(String(describing: error))")
    }
}

/// Statuses collected from several threads.
final class Statuses: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [ComparisonStatus] = []
    func append(_ s: ComparisonStatus) { lock.withLock { values.append(s) } }
    var all: [ComparisonStatus] { lock.withLock { values } }
}

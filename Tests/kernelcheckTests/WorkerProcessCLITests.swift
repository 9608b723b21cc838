import Foundation
import Testing

/// `--impl exec:COMMAND` end to end: the skeleton worker passes, a failure's replay line
/// quotes the command so that it replays, and a worker that cannot start is exit 2.
@Suite(.serialized) struct WorkerProcessCLITests {
    static let skeleton = "exec:python3 tools/worker_skeleton.py"

    @Test func skeletonWorkerPassesACheck() throws {
        let r = try CLI.run([
            "check", "--impl", Self.skeleton, "--op", "activation", "--cases", "20", "--seed", "3", "--no-failure-db",
        ])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("impl \(Self.skeleton)"))
        #expect(!r.stdout.contains(" 0 passed,"), "\(r.stdout)")
    }

    @Test func replayLineOfAFailingWorkerReplaysIt() throws {
        let fault = ["KERNELCHECK_INJECT_FAULT": "activation"]
        let r = try CLI.run(
            [
                "check", "--impl", Self.skeleton, "--op", "activation", "--cases", "6", "--seed", "3",
                "--no-failure-db", "--no-shrink",
            ],
            environment: fault)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        let line = try #require(r.stdout.split(separator: "\n").first { $0.contains("replay: ") })
        let words = CLI.words(String(line.split(separator: "replay: ", maxSplits: 1)[1]))
        #expect(words.contains(Self.skeleton), "\(words)")
        let replay = try CLI.run(words, environment: fault)
        #expect(replay.status == 1 && replay.stdout.contains("1 failed"), "\(replay.stdout)\(replay.stderr)")
    }

    @Test func workerThatCannotStartOrABadTimeoutIsExitTwo() throws {
        let missing = try CLI.run(["check", "--impl", "exec:/no/such/worker", "--cases", "1"])
        #expect(missing.status == 2)
        #expect(
            missing.stderr.hasSuffix(
                "exec:/no/such/worker: the worker failed its handshake: worker exited with status 127 while the harness was waiting for the handshake\n"
            ), "\(missing.stderr)")
        let timeout = try CLI.run(
            ["check", "--impl", Self.skeleton, "--cases", "1"], environment: ["KERNELCHECK_WORKER_TIMEOUT": "soon"])
        #expect(timeout.status == 2)
        #expect(
            timeout.stderr
                == "kernelcheck: error: environment variable KERNELCHECK_WORKER_TIMEOUT='soon' is invalid:"
                + " expected a positive number of seconds\n")
    }
}

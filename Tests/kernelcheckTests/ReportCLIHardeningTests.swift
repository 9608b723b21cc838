import Foundation
import KernelCheckFixtures
import Testing

/// `report diff`, `report merge` and `nightly` against damaged reports, incomplete shard
/// sets, a busy or unwritable `--out` and absurd budgets: exit 2, one line, at once.
@Suite(.serialized) struct ReportCLIHardeningTests {
    static let tiny = ["--phase", "sweep", "--cases", "2", "--medium-cases", "0", "--budget", "2s"]

    /// A real one-shard report (shard 0 of 2) from a tiny nightly run.
    static func shardReport(_ dir: String) throws -> String {
        let r = try CLI.run(["nightly", "--out", dir + "/s0", "--seed", "5", "--shard", "0/2"] + tiny)
        #expect(r.status == 0, "\(r.stderr)")
        return dir + "/s0/report.json"
    }

    @Test func reportDiffOnTruncatedZeroAndDirectoryInputs() throws {
        let dir = CLIHardeningTests.scratch("diff")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = try Self.shardReport(dir)
        let truncated = dir + "/truncated.json"
        try FileManager.default.contents(atPath: good)!.prefix(300).write(to: URL(fileURLWithPath: truncated))
        try CLIHardeningTests.expectBadInput(["report", "diff", truncated, good], mentions: [truncated, "truncated"])
        try CLIHardeningTests.expectBadInput(["report", "diff", "/dev/zero", good], mentions: ["not a regular file"])
        try CLIHardeningTests.expectBadInput(["report", "diff", dir, good], mentions: [dir, "is a directory"])
    }

    @Test func mergeOfAnIncompleteOrDuplicatedShardSet() throws {
        let dir = CLIHardeningTests.scratch("merge")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shard0 = try Self.shardReport(dir)
        try CLIHardeningTests.expectBadInput(
            ["report", "merge", shard0, "--out", dir + "/m"], mentions: ["missing shard(s) 1 of 2"])
        try CLIHardeningTests.expectBadInput(
            ["report", "merge", shard0, shard0, "--out", dir + "/m"], mentions: ["shard 0 appears twice"])
        #expect(!FileManager.default.fileExists(atPath: dir + "/m/report.json"))
    }

    @Test func budgetsThatAreNotDurations() throws {
        for budget in ["nan", "99999999999h", "inf"] {
            try CLIHardeningTests.expectBadInput(
                ["nightly", "--out", "/tmp/kc-never-written", "--budget", budget], mentions: ["--budget", budget])
        }
    }

    @Test func aBusyOrUnwritableOutFailsBeforeTheRun() throws {
        let dir = CLIHardeningTests.scratch("busy")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Another writer holds the lock (as a running nightly would).
        let fd = open(dir + "/.out.lock", O_RDWR | O_CREAT, 0o644)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        _ = "4242\n".withCString { write(fd, $0, 5) }
        let start = Date()
        try CLIHardeningTests.expectBadInput(
            ["nightly", "--out", dir + "/out", "--budget", "1h"], mentions: ["is in use", "pid 4242"])
        try CLIHardeningTests.expectBadInput(
            ["nightly", "--out", "/proc/kc-out", "--budget", "1h"], mentions: ["cannot write /proc/kc-out"])
        #expect(Date().timeIntervalSince(start) < 10)
    }

    /// The run's results are not lost with its files: the summary comes out on stdout
    /// even when the write fails (here the staging directory is replaced by a file mid-run).
    @Test func theSummaryIsPrintedWhenTheReportsCannotBeWritten() throws {
        let dir = CLIHardeningTests.scratch("nowrite")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments =
            ["nightly", "--out", dir + "/out", "--seed", "5", "--phase", "sweep", "--cases", "100"]
            + ["--medium-cases", "0", "--budget", "3s"]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let staging = dir + "/.out.tmp-\(process.processIdentifier)"
        for _ in 0..<500 where !FileManager.default.fileExists(atPath: staging) { usleep(10_000) }
        try FileManager.default.removeItem(atPath: staging)
        try Data("in the way".utf8).write(to: URL(fileURLWithPath: staging))
        let out = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2, "\(err)")
        #expect(out.contains("# KernelCheck nightly") && out.contains("seed 5"))
        #expect(
            err.split(separator: "\n").last?.hasPrefix("kernelcheck: error: cannot write \(dir)/out/") == true, "\(err)"
        )
    }
}

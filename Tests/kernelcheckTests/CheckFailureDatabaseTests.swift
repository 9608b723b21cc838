import Foundation
import Testing

/// `check`'s complete replay line and its failure database (.kernelcheck/failures/ of the
/// working directory), end to end. Failures come from the KERNELCHECK_INJECT_FAULT test hook
/// (the first output element of every activation problem off by one).
@Suite(.serialized) struct CheckFailureDatabaseTests {
    static let fault = ["KERNELCHECK_INJECT_FAULT": "activation"]
    static let sweep = ["check", "--op", "activation", "--direction", "fwd", "--cases", "3", "--seed", "1"]

    /// A fresh scratch working directory.
    static func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kc-check-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func database(_ dir: String) -> [String] {
        let text = (try? String(contentsOfFile: dir + "/.kernelcheck/failures/activation.txt", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    @Test func replayLineNamesThreadsModeSeedAndImplementationAndReproduces() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(Self.sweep + ["--no-failure-db"], environment: Self.fault, directory: dir)
        #expect(r.status == 1)
        let replays = r.stdout.split(separator: "\n").filter { $0.hasPrefix("  replay: ") }.map { $0.dropFirst(10) }
        #expect(replays.count == 3, "\(r.stdout)")
        for line in replays {
            for flag in ["--problem '", "--direction fwd", "--seed ", "--mode exact", "--impl tiled", "--threads "] {
                #expect(line.contains(flag), "\(line) lacks \(flag)")
            }
            let words = CLI.words(String(line))
            let again = try CLI.run(words, environment: Self.fault, directory: dir)
            #expect(
                again.status == 1
                    && again.stdout.hasSuffix("0 passed, 1 failed, 0 mistrusted, 0 suspicious, 0 skipped\n"),
                "\(again.stdout)")
            #expect(try CLI.run(words, directory: dir).status == 0)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/.kernelcheck"), "--no-failure-db wrote the database")
    }

    @Test func failuresAreSavedReplayedFirstAndRemovedOncePassing() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try CLI.run(Self.sweep, environment: Self.fault, directory: dir)
        #expect(first.status == 1)
        #expect(first.stdout.contains("saved 3 failure(s) to .kernelcheck/failures/"))
        let saved = Self.database(dir)
        #expect(saved.count == 3, "\(saved)")
        #expect(saved.allSatisfy { $0.contains(" | fwd | seed=") && $0.hasSuffix(" | mode=exact | impl=tiled") })
        // The same failures again: replayed first, still failing, not duplicated.
        let second = try CLI.run(Self.sweep, environment: Self.fault, directory: dir)
        #expect(second.status == 1)
        #expect(second.stdout.hasPrefix("replaying 3 saved failure(s) from .kernelcheck/failures/activation.txt\n"))
        #expect(second.stdout.components(separatedBy: "  still fails: ").count == 4)
        #expect(Self.database(dir).sorted() == saved.sorted())
        // A replay alone (no new problems) still fails the run on the saved failures.
        let only = try CLI.run(
            ["check", "--op", "activation", "--cases", "0"], environment: Self.fault, directory: dir)
        #expect(
            only.status == 1 && only.stdout.hasSuffix("0 passed, 3 failed, 0 mistrusted, 0 suspicious, 0 skipped\n"),
            "\(only.stdout)")
        // Other ops, and --no-failure-db, leave the saved failures alone.
        let otherOp = try CLI.run(["check", "--op", "loss", "--cases", "1"], directory: dir)
        #expect(otherOp.status == 0 && !otherOp.stdout.contains("replaying"))
        let off = try CLI.run(Self.sweep + ["--no-failure-db"], directory: dir)
        #expect(off.status == 0 && !off.stdout.contains("replaying"))
        #expect(Self.database(dir).count == 3)
        // The kernel fixed: each saved case passes on replay and is removed; the file goes.
        let fixed = try CLI.run(Self.sweep, directory: dir)
        #expect(fixed.status == 0, "\(fixed.stdout)")
        #expect(fixed.stdout.components(separatedBy: ", removed: ").count == 4, "\(fixed.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/.kernelcheck/failures/activation.txt"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir + "/.kernelcheck/failures")
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test func unreadableLinesAreKeptAndAnUnwritableDatabaseIsAnError() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(
            atPath: dir + "/.kernelcheck/failures", withIntermediateDirectories: true)
        let path = dir + "/.kernelcheck/failures/activation.txt"
        try "not a failure line\nrelu shape=scalar | fwd | seed=5 | mode=exact | impl=tiled\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(Self.sweep, directory: dir)
        #expect(r.status == 0 && r.stdout.contains(", removed: relu shape=scalar [fwd]"), "\(r.stdout)")
        #expect(Self.database(dir) == ["not a failure line"])
        // A database path that is a directory cannot be written: one error line, exit 2.
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let bad = try CLI.run(Self.sweep, environment: Self.fault, directory: dir)
        #expect(bad.status == 2 && bad.stderr.hasPrefix("kernelcheck: error: cannot "), "\(bad.stderr)")
    }
}

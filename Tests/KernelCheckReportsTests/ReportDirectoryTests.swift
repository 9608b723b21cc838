import Foundation
import Testing

@testable import KernelCheckReports

/// `ReportDirectory`: one unit per write, one writer at a time, failures before the run.
struct ReportDirectoryTests {
    static let deadPID = "2147483646"

    static func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kc-rd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aSecondWriterIsRefusedWhileTheFirstHoldsTheLock() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try ReportDirectory(dir + "/out")
        let text = Crafted.reason { _ = try ReportDirectory(dir + "/out") }
        #expect(text.contains("is in use") && text.contains("pid \(getpid())"), "\(text)")
        try first.publish(Crafted.report())
        first.release()
        // Released with its owner: the next writer gets in.
        try ReportDirectory(dir + "/out").publish(Crafted.report(seed: 7))
        #expect(try NightlyReport.read(dir + "/out/report.json").settings.seed == 7)
        #expect(try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8).contains("seed 7"))
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(left == [".out.lock", "out"], "\(left)")
    }

    @Test func staleTemporariesOfDeadRunsAreSweptAndAParkedSetPutBack() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Crafted.report(seed: 1).write(to: dir + "/out")
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/.out.tmp-\(Self.deadPID)", withIntermediateDirectories: false)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/out/.report.json.tmp-\(Self.deadPID)"))
        // Killed between its two renames: the old set parked, no `out`.
        try fm.moveItem(atPath: dir + "/out", toPath: dir + "/.out.old-\(Self.deadPID)")
        let directory = try ReportDirectory(dir + "/out")
        #expect(try NightlyReport.read(dir + "/out/report.json").settings.seed == 1)
        #expect(!fm.fileExists(atPath: dir + "/.out.tmp-\(Self.deadPID)"))
        #expect(!fm.fileExists(atPath: dir + "/out/.report.json.tmp-\(Self.deadPID)"))
        try directory.publish(Crafted.report(seed: 2))
        #expect(
            try fm.contentsOfDirectory(atPath: dir + "/out").sorted() == ["report.html", "report.json", "report.md"])
    }

    @Test func unwritableOrForeignDirectoriesFailBeforeTheRun() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        #expect(Crafted.reason { _ = try ReportDirectory(dir + "/file/out") }.hasPrefix("cannot write \(dir)/file/out"))
        #expect(Crafted.reason { _ = try ReportDirectory(dir + "/file") }.contains("not a directory"))
        #expect(Crafted.reason { _ = try ReportDirectory("/proc/kc-out") }.hasPrefix("cannot write /proc/kc-out"))
        try FileManager.default.createDirectory(atPath: dir + "/home", withIntermediateDirectories: false)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/home/precious"))
        #expect(Crafted.reason { _ = try ReportDirectory(dir + "/home") }.contains("holds 'precious'"))
        #expect(FileManager.default.fileExists(atPath: dir + "/home/precious"))
    }
}

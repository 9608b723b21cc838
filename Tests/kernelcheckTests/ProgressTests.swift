import Foundation
import Testing

@testable import kernelcheck

/// The pure parts of the progress display: clock format, ETA, bar, line text, and how often a
/// non-terminal run writes a line. Expected values are worked out by hand in each test.
@Suite struct ProgressTests {
    @Test func clockIsMinutesSecondsThenHours() {
        #expect(ProgressText.clock(0) == "00:00")
        #expect(ProgressText.clock(12.4) == "00:12")
        #expect(ProgressText.clock(75) == "01:15")
        #expect(ProgressText.clock(3723) == "1:02:03")  // 1 h 2 min 3 s
        #expect(ProgressText.clock(-1) == "--:--")
        #expect(ProgressText.clock(.nan) == "--:--")
        #expect(ProgressText.clock(.infinity) == "--:--")
    }

    @Test func remainingIsTheRateSoFarCappedByTheDeadline() {
        #expect(ProgressText.remaining(done: 0, total: 100, elapsed: 5) == nil)
        // 25 items in 10 s: 0.4 s each, 75 left → 30 s.
        #expect(ProgressText.remaining(done: 25, total: 100, elapsed: 10) == 30)
        // The phase stops at 20 s whatever is left: 10 s.
        #expect(ProgressText.remaining(done: 25, total: 100, elapsed: 10, deadline: 20) == 10)
        #expect(ProgressText.remaining(done: 0, total: 100, elapsed: 5, deadline: 20) == 15)
        #expect(ProgressText.remaining(done: 100, total: 100, elapsed: 10) == 0)
    }

    @Test func barFillsInProportion() {
        #expect(ProgressText.bar(done: 5, total: 10, width: 10) == "[=====     ]")
        #expect(ProgressText.bar(done: 0, total: 10, width: 4) == "[    ]")
        #expect(ProgressText.bar(done: 12, total: 10, width: 4) == "[====]")
        #expect(ProgressText.bar(done: 3, total: 0, width: 4) == "[    ]")
    }

    @Test func lineTextOnATerminalAndInALog() {
        let plain = ProgressText.line(
            label: "check", done: 123, total: 500, elapsed: 12, remaining: 37, note: "2 failures", bar: false)
        #expect(plain == "check: 123/500 (24%)  00:12 elapsed, ~00:37 left  2 failures")
        // 20 cells × 123/500 = 4.9 → 4 filled.
        let terminal = ProgressText.line(
            label: "check", done: 123, total: 500, elapsed: 12, remaining: 37, note: "", bar: true)
        #expect(terminal == "[====                ] 123/500  00:12 elapsed, ~00:37 left")
        let complete = ProgressText.line(
            label: "bench", done: 8, total: 8, elapsed: 61, remaining: 0, note: "", bar: false)
        #expect(complete == "bench: 8/8 (100%)  01:01 elapsed")
    }

    /// Lines written for items 1...total finishing at `secondsPerItem` each.
    static func lines(total: Int, secondsPerItem: Double) -> [Int] {
        var rate = LineRate()
        return (1...total).filter { rate.due(done: $0, total: total, now: Double($0) * secondsPerItem) }
    }

    @Test func aQuickRunWritesOneLinePerTenPercent() {
        #expect(Self.lines(total: 500, secondsPerItem: 0.01) == Array(stride(from: 50, through: 500, by: 50)))
        // 7 items: a step of one item (10 % rounded up), so every item, the last included.
        #expect(Self.lines(total: 7, secondsPerItem: 0.01) == Array(1...7))
    }

    @Test func aSlowRunWritesALineEveryTenSeconds() {
        // 1000 items of 3 s: 10 % is 300 s, so the 10 s interval rules: one line every 4th item
        // (12 s ≥ 10 s after the previous one).
        let written = Self.lines(total: 1000, secondsPerItem: 3)
        #expect(written.prefix(3) == [4, 8, 12])
        #expect(written.last == 1000)
        // 4, 8, …, 1000: 250 lines (the 10 % marks, multiples of 100, are among them).
        #expect(written == Array(stride(from: 4, through: 1000, by: 4)))
    }

    @Test func aPipedCheckPrintsProgressLinesAndJSONStaysClean() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kc-progress-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["check", "--op", "activation", "--cases", "20", "--seed", "1", "--no-failure-db"]
        let text = try CLI.run(args, directory: dir)
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("\ncheck: 2/20 (10%)  00:00 elapsed"), "\(text.stdout)")
        #expect(text.stdout.contains("\ncheck: 20/20 (100%)  "), "\(text.stdout)")
        #expect(!text.stdout.contains("\r"))
        let json = try CLI.run(args + ["--format", "json"], directory: dir)
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(doc?["kind"] as? String == "check")
        #expect(json.stderr.contains("check: 20/20 (100%)"))
    }
}

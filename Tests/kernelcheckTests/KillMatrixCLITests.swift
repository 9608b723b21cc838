import Foundation
import Testing

/// `report merge --kill-matrix` end to end: a matrix in the driver's format becomes the
/// report's Mutation testing section; a damaged one, or a report given in its place, is
/// exit 2 with one line naming the file, and no report is written.
@Suite(.serialized) struct KillMatrixCLITests {
    /// One killed mutant (by exact alone), one survivor: counted by hand.
    static let matrix = """
        {"kind": "kill_matrix", "schema_version": 1, "planned": 2, "date": "2026-12-06 03:10 UTC",
         "detectors": ["verify", "exact"], "mutants": [
          {"id": "m-killed", "description": "K tail dropped", "path": "sgemm", "direction": "all", "class": "tail",
           "status": "killed", "results": {"verify": {"status": "survived", "seconds": 1.0, "exit": 0},
             "exact": {"status": "killed", "seconds": 2.5, "exit": 1, "shrunk": "relu shape=1 [fwd]"}}},
          {"id": "m-survivor", "description": "band one row short", "path": "direct", "direction": "fwd",
           "class": "band", "status": "survived", "results": {"verify": {"status": "survived", "seconds": 1.0},
             "exact": {"status": "survived", "seconds": 2.0}}}]}
        """

    @Test func mergeShowsTheMatrixAndRefusesADamagedOne() throws {
        let dir = CLIHardeningTests.scratch("killmatrix")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shard = try CLI.run(
            ["nightly", "--out", dir + "/s", "--seed", "5", "--shard", "0/1"] + ReportCLIHardeningTests.tiny)
        #expect(shard.status == 0, "\(shard.stderr)")
        let report = dir + "/s/report.json"
        let good = dir + "/kill-matrix.json"
        try Data(Self.matrix.utf8).write(to: URL(fileURLWithPath: good))

        let merged = try CLI.run(["report", "merge", report, "--out", dir + "/m", "--kill-matrix", good])
        #expect(merged.status == 0, "\(merged.stderr)")
        let md = try String(contentsOfFile: dir + "/m/report.md", encoding: .utf8)
        #expect(md.contains("**killed 1, survived 1, timeout 0, error 0, stillborn 0, inapplicable 0 of 2 mutants**"))
        #expect(md.contains("- **gap** `m-survivor`: band one row short"))
        #expect(md.contains("Kills per detector (alone): verify 0 (0), exact 1 (1)."))
        let html = try String(contentsOfFile: dir + "/m/report.html", encoding: .utf8)
        #expect(html.contains("<summary><b>Kill matrix (2 mutants × 2 detectors)</b></summary>"))
        let json = try String(contentsOfFile: dir + "/m/report.json", encoding: .utf8)
        #expect(json.contains("\"mutation_testing\""))

        let truncated = dir + "/truncated.json"
        try Data(Self.matrix.utf8).prefix(200).write(to: URL(fileURLWithPath: truncated))
        for (matrix, mentions) in [
            (truncated, [truncated, "is not a kill matrix", "truncated"]),
            (report, [report, "is not a kill matrix", "nightly_report"]),
            (dir, [dir, "is a directory"]),
        ] {
            try CLIHardeningTests.expectBadInput(
                ["report", "merge", report, "--out", dir + "/bad", "--kill-matrix", matrix], mentions: mentions)
        }
        try CLIHardeningTests.expectBadInput(
            ["report", "merge", report, "--out", dir + "/bad", "--kill-matrix", good, "--kill-matrix-missing", "none"],
            mentions: ["not both"])
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad"))

        try CLIHardeningTests.expectBadInput(
            ["report", "merge", report, "--out", dir + "/bad", "--kill-matrix-missing", " "],
            mentions: ["needs a reason"])
        let missing = try CLI.run(
            ["report", "merge", report, "--out", dir + "/none", "--kill-matrix-missing", "no kill matrix this week"])
        #expect(missing.status == 0, "\(missing.stderr)")
        let none = try String(contentsOfFile: dir + "/none/report.md", encoding: .utf8)
        #expect(none.contains("**No kill matrix: no kill matrix this week.**"))
    }
}

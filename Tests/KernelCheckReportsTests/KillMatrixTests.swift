import Foundation
import KernelCheckVerification
import Testing

@testable import KernelCheckReports

/// The kill matrix of tools/mutants/driver.py read into the report (`KillMatrix.read`), its
/// typed errors on damaged files, and the Mutation testing section in JSON, Markdown and HTML.
/// The fixture is written by hand in the driver's format; the counts below are counted by hand
/// from it: 6 mutants, killed 2 (`a-killed` by verify and exact, `f-bound-only` by bound
/// alone), survived 1, timeout 1, error 0, stillborn 1, inapplicable 1; kills (alone):
/// verify 1 (0), exact 1 (0), bound 1 (1).
@Suite struct KillMatrixTests {
    static let fixture = """
        {
          "kind": "kill_matrix", "schema_version": 1, "planned": 6,
          "date": "2026-12-06 03:10 UTC", "cpu": "Test CPU, 2 CPUs",
          "command": "tools/mutants.sh --out mutants",
          "detectors": ["verify", "exact", "bound"],
          "commands": {"verify": "kernelcheck verify", "exact": "kernelcheck check", "bound": "kernelcheck check"},
          "mutants": [
            {"id": "a-killed", "description": "K tail < kc dropped", "path": "sgemm", "direction": "all",
             "class": "K tail", "build_seconds": 25.0, "status": "killed", "results": {
               "verify": {"status": "killed", "seconds": 0.5, "exit": 1, "shrunk": "matmul a=2x3 b=3x4 [fwd]"},
               "exact": {"status": "killed", "seconds": 3.25, "exit": 1, "shrunk": "relu shape=1 [bwd_data]",
                         "checked": 300, "failures": 12},
               "bound": {"status": "survived", "seconds": 3.0, "exit": 0, "checked": 3000, "failures": 0}}},
            {"id": "b-survivor", "description": "band one row short", "path": "direct", "direction": "fwd",
             "class": "band", "status": "survived", "results": {
               "verify": {"status": "survived", "seconds": 1.0, "exit": 0},
               "exact": {"status": "survived", "seconds": 3.9, "exit": 0},
               "bound": {"status": "survived", "seconds": 3.6, "exit": 0}}},
            {"id": "c-timeout", "description": "slow", "path": "dual", "direction": "bwd_data", "class": "hang",
             "status": "undecided", "results": {
               "verify": {"status": "survived", "seconds": 1.0, "exit": 0},
               "exact": {"status": "timeout", "seconds": 90.0, "exit": null},
               "bound": {"status": "survived", "seconds": 3.6, "exit": 0}}},
            {"id": "d-stillborn", "description": "type error", "path": "pointwise", "direction": "fwd",
             "class": "syntax", "status": "stillborn", "results": {}, "error": "error: cannot convert"},
            {"id": "e-inapplicable", "description": "stale edit", "path": "band", "direction": "fwd",
             "class": "stale", "status": "inapplicable", "results": {},
             "error": "Sources/KernelCheckTiled/X.swift: the find text occurs 0 times, not once"},
            {"id": "f-bound-only", "description": "thread order", "path": "channelSums", "direction": "bwd_bias",
             "class": "order", "status": "killed", "results": {
               "verify": {"status": "survived", "seconds": 1.0, "exit": 0},
               "exact": {"status": "survived", "seconds": 3.2, "exit": 0},
               "bound": {"status": "killed", "seconds": 4.1, "exit": 1, "shrunk": "sigmoid shape=1x2 [bwd_data]"}}}
          ],
          "summary": "2 killed, 1 survived, 1 undecided, 1 stillborn, 1 inapplicable"
        }
        """

    static func matrix() throws -> KillMatrix {
        try KillMatrix.decode(Data(fixture.utf8), path: "mutants/kill-matrix.json")
    }

    static func report() throws -> NightlyReport {
        var r = Crafted.report()
        r.mutationTesting = MutationTesting(killMatrix: try matrix())
        return r
    }

    /// The error text `decode` gives for `text`, or "no error".
    static func reason(_ text: String) -> String {
        do {
            _ = try KillMatrix.decode(Data(text.utf8), path: "km.json")
            return "no error"
        } catch { return error.description }
    }

    static func replacing(_ old: String, _ new: String) -> String {
        precondition(fixture.contains(old), old)
        return fixture.replacingOccurrences(of: old, with: new)
    }

    @Test func theFixtureReadsWithItsHandCountedTotals() throws {
        let m = try Self.matrix()
        let t = m.totals
        let counts: [Int] = [t.mutants, t.killed, t.survived, t.timeout, t.error, t.stillborn, t.inapplicable]
        #expect(counts == [6, 2, 1, 1, 0, 1, 1])
        #expect(m.detectorKills.map(\.detector) == ["verify", "exact", "bound"])
        #expect(m.detectorKills.map(\.kills) == [1, 1, 1])
        #expect(m.detectorKills.map(\.soleKills) == [0, 0, 1])
        #expect(
            m.gapsFirst.map(\.id) == [
                "b-survivor", "c-timeout", "d-stillborn", "e-inapplicable", "a-killed", "f-bound-only",
            ])
        #expect(!m.isIncomplete)
        let a = m.mutants[0]
        #expect(a.results.map(\.detector) == ["verify", "exact", "bound"])
        #expect(a.results[1].checked == 300 && a.results[1].failures == 12)
        #expect(a.bugClass == "K tail")
    }

    @Test func textOfTheFileCannotBreakTheMarkdown() throws {
        let text = Self.replacing(#""description": "band one row short""#, #""description": "band\none | row""#)
            .replacingOccurrences(of: #""id": "b-survivor""#, with: #""id": "b|s""#)
        var r = Crafted.report()
        r.mutationTesting = MutationTesting(killMatrix: try KillMatrix.decode(Data(text.utf8), path: "km.json"))
        let md = MarkdownReport.render(r)
        #expect(md.contains("- **gap** `b|s`: band one | row (direct, fwd, band): survived every detector"))
        #expect(md.contains("| `b\\|s` | survived | · | · | · |  |"))
    }

    @Test func aMatrixWithoutTheAdditiveFieldsStillReads() throws {
        let old = Self.replacing(#""kind": "kill_matrix", "schema_version": 1, "planned": 6,"#, "")
        let m = try KillMatrix.decode(Data(old.utf8), path: "old.json")
        #expect(m.totals.mutants == 6 && m.planned == nil && !m.isIncomplete)
        let stopped = try KillMatrix.decode(Data(Self.replacing(#""planned": 6"#, #""planned": 56"#).utf8), path: "p")
        #expect(stopped.isIncomplete)
        #expect(MutationSection.provenance(stopped).contains("Incomplete: 6 of the 56 mutants chosen ran"))
    }

    @Test func damagedFilesGiveTheTypedErrorNamingFileAndField() {
        let cases: [(String, String)] = [
            ("", "km.json is not a kill matrix: the file is empty"),
            (String(Self.fixture.prefix(400)), "km.json is not a kill matrix: invalid JSON (truncated or corrupt)"),
            ("[1, 2]", "km.json is not a kill matrix: the JSON is not an object"),
            (
                #"{"kind": "nightly_report", "schema_version": 1, "rows": []}"#,
                "km.json is not a kill matrix: its kind is 'nightly_report', not kill_matrix"
            ),
            (
                Self.replacing(#""schema_version": 1"#, #""schema_version": 2"#),
                "schema_version 2; this kernelcheck reads version 1"
            ),
            (
                Self.replacing(#""seconds": 0.5"#, #""seconds": "0.5""#),
                "km.json is not a valid kill matrix: mutants[0].results.verify.seconds: not a Double"
            ),
            (
                Self.replacing(#""status": "killed", "seconds": 0.5"#, #""status": "kiled", "seconds": 0.5"#),
                "km.json is not a valid kill matrix: mutants[0].results.verify.status: 'kiled' is not one of killed, "
                    + "survived, timeout, error"
            ),
            (
                Self.replacing(#""detectors": ["verify", "exact", "bound"],"#, ""),
                "km.json is not a valid kill matrix: detectors: missing"
            ),
            (
                Self.replacing(#""class": "band", "status": "survived""#, #""class": "band", "status": "killed""#),
                "km.json is not a valid kill matrix: mutants[1].status: killed, but its results make it survived"
            ),
            (
                Self.replacing(#""status": "undecided""#, #""status": "survived""#),
                "mutants[2].status: survived, but its results make it undecided"
            ),
            (
                Self.replacing(#""detectors": ["verify", "exact", "bound"]"#, #""detectors": ["verify", "exact"]"#),
                "mutants[0].results.bound: 'bound' is not a listed detector"
            ),
            (
                Self.replacing(#""seconds": 3.0"#, #""seconds": -3.0"#),
                "mutants[0].results.bound.seconds: not a time ≥ 0"
            ),
            (
                Self.replacing(#""id": "b-survivor""#, #""id": "a-killed""#),
                "mutants: mutant 'a-killed' is listed twice"
            ),
            (Self.replacing(#""planned": 6"#, #""planned": 5"#), "planned: 5 is fewer than the 6 mutants listed"),
            (Self.replacing(#""results": {}, "error": "error"#, #""error": "error"#), "mutants[3].results: missing"),
        ]
        for (text, expected) in cases {
            let got = Self.reason(text)
            #expect(got.contains(expected), "expected '\(expected)', got '\(got)'")
            #expect(!got.contains("\n"), "one line: \(got)")
        }
    }

    @Test func unreadablePathsAreTypedErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kc-km-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (path, expected) in [
            (
                dir,
                KillMatrixError.unreadable(path: dir, reason: "is a directory (give the kill-matrix.json inside it)")
            ),
            ("/dev/zero", .unreadable(path: "/dev/zero", reason: "not a regular file")),
        ] {
            #expect(throws: expected) { try KillMatrix.read(path) }
        }
        #expect(throws: KillMatrixError.self) { try KillMatrix.read(dir + "/absent.json") }
        try Data(Self.fixture.utf8).write(to: URL(fileURLWithPath: dir + "/kill-matrix.json"))
        #expect(try KillMatrix.read(dir + "/kill-matrix.json").source == dir + "/kill-matrix.json")
    }

    @Test func markdownShowsTotalsKillsSurvivorsFirstAndTheTable() throws {
        let md = MarkdownReport.render(try Self.report())
        #expect(md.contains("## Mutation testing"))
        #expect(md.contains("**killed 2, survived 1, timeout 1, error 0, stillborn 1, inapplicable 1 of 6 mutants**"))
        #expect(md.contains("Kills per detector (alone): verify 1 (0), exact 1 (0), bound 1 (1)."))
        #expect(md.contains("- **gap** `b-survivor`: band one row short (direct, fwd, band): survived every detector"))
        #expect(md.contains("| `b-survivor` | survived | · | · | · |  |"))
        #expect(md.contains("| `c-timeout` | timeout | · | T | · |  |"))
        #expect(md.contains("| `a-killed` | killed | ✗ 0.5 s | ✗ 3.25 s | · | matmul a=2x3 b=3x4 [fwd] |"))
        #expect(md.contains("| `d-stillborn` | stillborn | – | – | – |  |"))
        let survivor = try #require(md.range(of: "`b-survivor`")), killed = try #require(md.range(of: "`a-killed`"))
        #expect(survivor.lowerBound < killed.lowerBound)
    }

    @Test func htmlFoldsTheMatrixAndEscapes() throws {
        let html = HTMLReport.render(try Self.report())
        #expect(HTMLReportTests.unbalancedTag(html) == nil)
        #expect(html.contains("<h2>Mutation testing</h2>"))
        #expect(html.contains("killed 2, survived 1, timeout 1, error 0, stillborn 1, inapplicable 1 of 6 mutants"))
        #expect(html.contains("<summary><b>Kill matrix (6 mutants × 3 detectors)</b></summary>"))
        #expect(html.contains("<span class=\"fail\">gap</span> <code>b-survivor</code>"))
        #expect(html.contains("<tr><td>bound</td><td class=\"n\">1</td><td class=\"n\">1</td></tr>"))
        #expect(html.contains("K tail &lt; kc dropped"))
        #expect(!html.contains("K tail < kc"))
    }

    @Test func jsonCarriesTheSectionAndReadsBack() throws {
        let report = try Self.report()
        let data = try report.jsonData()
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let section = try #require(doc["mutation_testing"] as? [String: Any])
        let km = try #require(section["kill_matrix"] as? [String: Any])
        let totals = try #require(km["totals"] as? [String: Int])
        #expect(
            totals == [
                "mutants": 6, "killed": 2, "survived": 1, "timeout": 1, "error": 0, "stillborn": 1, "inapplicable": 1,
            ])
        let mutants = try #require(km["mutants"] as? [[String: Any]])
        #expect(
            mutants.map { $0["id"] as? String } == [
                "a-killed", "b-survivor", "c-timeout", "d-stillborn", "e-inapplicable", "f-bound-only",
            ])
        let results = try #require(mutants[0]["results"] as? [[String: Any]])
        #expect(results.map { $0["detector"] as? String } == ["verify", "exact", "bound"])
        #expect(section["missing"] == nil)
        #expect(try NightlyReport.decode(data) == report)
    }

    @Test func noMatrixIsShownAsUnknownNeverAsAPass() throws {
        var r = Crafted.report()
        #expect(!MarkdownReport.render(r).contains("Mutation testing"))
        r.mutationTesting = MutationTesting()
        let md = MarkdownReport.render(r)
        #expect(md.contains("**No kill matrix: no kill matrix this week.**"))
        #expect(md.contains("not a pass"))
        let html = HTMLReport.render(r)
        #expect(html.contains("<p class=\"alarm\"><b>No kill matrix: no kill matrix this week.</b>"))
        let doc = try JSONSerialization.jsonObject(with: try r.jsonData()) as? [String: Any]
        #expect((doc?["mutation_testing"] as? [String: String]) == ["missing": "no kill matrix this week"])
    }
}

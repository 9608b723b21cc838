import Foundation
import KernelCheckVerification
import Testing

@testable import KernelCheckReports

@Suite struct ReportSchemaTests {
    @Test func aCraftedReportRoundTripsThroughJSON() throws {
        var r = Crafted.report()
        r.rows.append(Crafted.row(.sweepBound, op: "matmul", utilizations: [.infinity, 0.5], failed: 1))
        r.failures = [Crafted.failure()]
        r.skipped = [SkippedWork(phase: "bench", item: "matmul 2048³ fwd 1 thread(s)", reason: "time budget")]
        var baseline = Crafted.report()
        baseline.benchmarks = [Crafted.bench(seconds: 0.005)]
        r.compare(with: baseline, path: "/prev/report.json")
        r.normalize()
        let data = try r.jsonData()
        let back = try NightlyReport.decode(data)
        #expect(back == r)
        #expect(back.diff?.performanceRegressions.count == 1)  // 0.01 s vs 0.005 s
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"schema_version\" : 1"))
        #expect(text.contains("\"worst_utilization\" : \"inf\""))
        #expect(text.contains("\"max_ulp\""))
    }

    @Test func aRunnerReportRoundTrips() throws {
        var c = NightlyConfiguration(
            seed: 5, seedSource: "given", budgetSeconds: 30, implementations: [TiledImplementation()])
        c.phases = [.sweep]
        c.sweepCases = 8
        c.mediumCases = 0
        let r = NightlyRunner(configuration: c).run()
        #expect(r.checks > 8)
        #expect(try NightlyReport.decode(r.jsonData()) == r)
    }

    func withVersion(_ version: String?) throws -> Data {
        var object = try JSONSerialization.jsonObject(with: Crafted.report().jsonData()) as! [String: Any]
        object["schema_version"] = version.map { Int($0)! as Any }
        if version == nil { object.removeValue(forKey: "schema_version") }
        return try JSONSerialization.data(withJSONObject: object)
    }

    @Test func anotherSchemaVersionIsRefusedWithATypedError() throws {
        #expect(throws: ReportError.unsupportedSchemaVersion(path: "old.json", found: 0, supported: 1)) {
            try NightlyReport.decode(try withVersion("0"), path: "old.json")
        }
        #expect(throws: ReportError.unsupportedSchemaVersion(path: "new.json", found: 2, supported: 1)) {
            try NightlyReport.decode(try withVersion("2"), path: "new.json")
        }
        #expect(throws: ReportError.missingSchemaVersion(path: "x.json")) {
            try NightlyReport.decode(try withVersion(nil), path: "x.json")
        }
        let message = ReportError.unsupportedSchemaVersion(path: "new.json", found: 2, supported: 1).description
        #expect(message.contains("schema_version 2") && message.contains("version 1"))
    }

    @Test func malformedReportsNameTheProblem() throws {
        do {
            _ = try NightlyReport.decode(Data("[1, 2]".utf8), path: "a.json")
            Issue.record("an array decoded as a report")
        } catch {
            guard case .notAReport(let path, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(path == "a.json")
        }
        var object = try JSONSerialization.jsonObject(with: Crafted.report().jsonData()) as! [String: Any]
        object.removeValue(forKey: "rows")
        let withoutRows = try JSONSerialization.data(withJSONObject: object)
        do {
            _ = try NightlyReport.decode(withoutRows, path: "b.json")
            Issue.record("a report without rows decoded")
        } catch {
            guard case .notAReport(_, let reason) = error else { Issue.record("wrong error \(error)"); return }
            #expect(reason.contains("rows"))
        }
        #expect(throws: ReportError.self) { try NightlyReport.read("/nonexistent/report.json") }
    }

    @Test func filesAreWrittenAtomicallyWithoutLeftovers() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kc-reports-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.write("old", to: dir + "/a.txt")
        try AtomicFile.write("new", to: dir + "/a.txt")
        #expect(try String(contentsOfFile: dir + "/a.txt", encoding: .utf8) == "new")
        let paths = try Crafted.report().write(to: dir + "/out")
        #expect(
            paths.map { URL(fileURLWithPath: $0).lastPathComponent } == ["report.md", "report.html", "report.json"])
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir + "/out").sorted() == [
                "report.html", "report.json", "report.md",
            ])
        #expect(try NightlyReport.read(dir + "/out/report.json") == Crafted.report())
        // A directory where the file should go: the write fails with a typed error.
        try FileManager.default.createDirectory(atPath: dir + "/blocked/report.json", withIntermediateDirectories: true)
        #expect(throws: ReportError.self) { try AtomicFile.write("x", to: dir + "/blocked/report.json") }
    }

    @Test func durationsAndDateSeeds() {
        #expect(NightlyConfiguration.parseDuration("15m") == 900)
        #expect(NightlyConfiguration.parseDuration("1h30m") == 5400)
        #expect(NightlyConfiguration.parseDuration("90s") == 90)
        #expect(NightlyConfiguration.parseDuration("90") == 90)
        #expect(NightlyConfiguration.parseDuration("2.5m") == 150)
        for bad in ["", "m", "15x", "abc", "-5", "1h30"] {
            #expect(NightlyConfiguration.parseDuration(bad) == nil, "\(bad)")
        }
        // 2026-11-27T23:30:00Z is 1795822200 s after the epoch; UTC keeps it on the 27th.
        #expect(NightlyConfiguration.dateSeed(Date(timeIntervalSince1970: 1_795_822_200)) == 20261127)
        #expect(NightlyConfiguration.dateSeed(Date(timeIntervalSince1970: 0)) == 19700101)
    }
}

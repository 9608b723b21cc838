import Foundation
import Testing

@testable import KernelCheckReports

/// Hostile or damaged report files: each is refused with one `ReportError` naming the file
/// and, for a report that decodes, the field that breaks a rule.
struct ReportReadHardeningTests {
    static func scratch(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kc-rh-\(UUID().uuidString)-\(name)").path
    }

    /// `Crafted.report()` as a JSON object, changed by `edit`, written to a file.
    static func crafted(_ edit: (inout [String: Any]) -> Void) throws -> String {
        var object = try JSONSerialization.jsonObject(with: Crafted.report().jsonData()) as! [String: Any]
        edit(&object)
        let path = scratch("report.json")
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func truncatedFileIsCalledTruncatedNotANonObject() throws {
        let whole = try Crafted.report().jsonData()
        let path = Self.scratch("truncated.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try whole.prefix(300).write(to: URL(fileURLWithPath: path))
        let text = Crafted.reason { _ = try NightlyReport.read(path) }
        #expect(text.contains(path) && text.contains("truncated"), "\(text)")
        #expect(!text.contains("not a JSON object"))
        try Data().write(to: URL(fileURLWithPath: path))
        #expect(Crafted.reason { _ = try NightlyReport.read(path) }.contains("empty"))
    }

    @Test func devZeroAndDirectoriesAreRefusedAtOnce() throws {
        let zero = Crafted.reason { _ = try NightlyReport.read("/dev/zero") }
        #expect(zero == "cannot read report /dev/zero: not a regular file")
        let dir = Self.scratch("dir")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = Crafted.reason { _ = try NightlyReport.read(dir) }
        #expect(text.contains("is a directory") && !text.contains("NSCocoaErrorDomain"), "\(text)")
    }

    @Test func semanticRulesNameTheField() throws {
        func rows(_ o: inout [String: Any], _ key: String, _ value: Any) {
            var r = o["rows"] as! [[String: Any]]
            r[0][key] = value
            o["rows"] = r
        }
        func settings(_ o: inout [String: Any], _ key: String, _ value: Any) {
            var s = o["settings"] as! [String: Any]
            s[key] = value
            o["settings"] = s
        }
        func bench(_ o: inout [String: Any], _ value: Double) {
            var b = o["benchmarks"] as! [[String: Any]]
            b[0]["median_seconds"] = value
            o["benchmarks"] = b
        }
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("rows[0].worst_utilization: NaN", { rows(&$0, "worst_utilization", "nan") }),
            ("rows[0].failed: negative count -3", { rows(&$0, "failed", -3) }),
            ("settings.shard_count: must be ≥ 1, got 0", { settings(&$0, "shard_count", 0) }),
            (
                "settings.shards[0]: shard 5 is outside 0..<4",
                {
                    settings(&$0, "shard_count", 4); settings(&$0, "shards", [5])
                }
            ),
            ("benchmarks[0].median_seconds: must be > 0, got 0", { bench(&$0, 0) }),
            ("benchmarks[0].median_seconds: must be > 0, got -1", { bench(&$0, -1) }),
            ("rows[0].seconds: not a finite number", { rows(&$0, "seconds", "inf") }),
            ("rows[0].worst_utilization: infinite without a failed case", { rows(&$0, "worst_utilization", "inf") }),
        ]
        for (expected, edit) in cases {
            let path = try Self.crafted(edit)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let text = Crafted.reason { _ = try NightlyReport.read(path) }
            #expect(
                text == "\(path) is not a valid nightly report: \(expected)"
                    || text.hasPrefix("\(path) is not a valid nightly report: \(expected)"), "\(text)")
        }
    }

    @Test func mergeRefusesMissingAndDuplicateShardsByName() throws {
        func shard(_ i: Int) -> NightlyReport {
            var r = Crafted.report()
            r.settings.shardCount = 4
            r.settings.shards = [i]
            return r
        }
        let missing = Crafted.reason { _ = try NightlyReport.merge([shard(0), shard(1), shard(3)]) }
        #expect(missing == "cannot merge: missing shard(s) 2 of 4 (have 0, 1, 3)")
        let twice = Crafted.reason {
            _ = try NightlyReport.merge([shard(0), shard(1), shard(1)], paths: ["a.json", "b.json", "c.json"])
        }
        #expect(twice.contains("shard 1 appears twice (b.json and c.json)"), "\(twice)")
        #expect((try? NightlyReport.merge([shard(0), shard(1), shard(3)], allowMissing: true)) != nil)
        #expect((try? NightlyReport.merge([0, 1, 2, 3].map(shard)))?.settings.shards == [0, 1, 2, 3])
    }

    @Test func nonFiniteAndHugeBudgetsAreNotDurations() {
        for bad in ["nan", "inf", "1e999", "-inf", "nanm"] {
            #expect(NightlyConfiguration.parseDuration(bad) == nil, "\(bad)")
        }
        #expect(NightlyConfiguration.parseDuration("99999999999h")! > NightlyConfiguration.maximumBudgetSeconds)
    }
}

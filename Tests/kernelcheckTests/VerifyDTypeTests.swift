import Foundation
import Testing

/// `verify --dtype`: selects the committed low-precision fixture cases by input type.
@Suite struct VerifyDTypeTests {
    static let linear = CLI.repositoryRoot + "/fixtures/linear.h5"

    /// Each low-precision case of linear.h5 appears in exactly one type's selection, and a
    /// selection holds only cases of its type (their problem strings say `dt=<type>`).
    @Test func dtypeSelectsCasesByTheirInputType() throws {
        var lines: [String] = []
        for t in ["bf16", "f16", "f8e4m3", "f8e5m2"] {
            let r = try CLI.run(["verify", Self.linear, "--dtype", t, "-v", "--impl", "reference"])
            #expect(r.status == 0, "\(t): \(r.stderr)")
            let checks = r.stdout.split(separator: "\n").dropLast().map(String.init)
            #expect(!checks.isEmpty && checks.allSatisfy { $0.contains(" dt=\(t)") }, "\(t): \(r.stdout)")
            lines += checks
        }
        #expect(Set(lines).count == lines.count)
        let f32 = try CLI.run(["verify", Self.linear, "--dtype", "f32", "-v", "--impl", "reference"])
        #expect(f32.status == 0 && !f32.stdout.contains(" dt="), "\(f32.stdout)")
    }

    @Test func anUnknownTypeIsBadInput() throws {
        let r = try CLI.run(["verify", Self.linear, "--dtype", "f64"])
        #expect(r.status == 2)
        #expect(r.stderr == "kernelcheck: error: --dtype: 'f64' is not a type; known: f32, bf16, f16, f8e4m3, f8e5m2\n")
    }
}

/// `nightly --dtypes`: the sweep's precision axis from the command line.
@Suite struct NightlyDTypesTests {
    @Test(arguments: [
        ("f64", "kernelcheck: error: --dtypes: 'f64' is not a type; known: all, f32, bf16, f16, f8e4m3, f8e5m2\n"),
        ("bf16,", "kernelcheck: error: --dtypes: '' is not a type; known: all, f32, bf16, f16, f8e4m3, f8e5m2\n"),
    ])
    func badTypesAreRefusedInOneLine(_ value: String, _ message: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kc-dtypes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let r = try CLI.run(["nightly", "--out", directory.path, "--dtypes", value, "--phase", "sweep", "--cases", "0"])
        #expect(r.status == 2)
        #expect(r.stderr == message)
    }

    @Test func theReportListsTheChosenAxis() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kc-dtypes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let r = try CLI.run([
            "nightly", "--out", directory.path, "--dtypes", "f32,f8e5m2", "--phase", "sweep", "--cases", "12",
            "--medium-cases", "0", "--seed", "3",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let data = try Data(contentsOf: directory.appendingPathComponent("report.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect((json["settings"] as! [String: Any])["precisions"] as? [String] == ["f32", "f8e5m2"])
        let labels = Set((json["rows"] as! [[String: Any]]).compactMap { $0["precision"] as? String })
        #expect(labels.isSubset(of: ["f32", "f8e5m2"]) && labels.contains("f8e5m2"), "\(labels)")
    }
}

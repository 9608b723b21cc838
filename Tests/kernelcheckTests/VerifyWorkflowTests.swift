import Foundation
import KernelCheckHDF5
import Testing

/// `verify` as a kernel author runs it: quiet by default, -v, the filters, --fail-fast, the
/// one-case replay line and the suspect-fixture message, end to end through the binary.
@Suite(.serialized) struct VerifyWorkflowTests {
    static let activation = "fixtures/activation.h5"

    /// A fixture file of relu cases `relu shape=n` for each n, x = 1, −2, 3, … and expected
    /// values `y` (wrong where `wrong` says: the last element off by one).
    static func reluFile(shapes: [Int], wrong: Bool) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-verify-\(UUID().uuidString).h5")
            .path
        let file = try HDF5File.create(path)
        try file.setAttribute("schema_version", .int(1))
        for n in shapes {
            let g = "/relu shape=\(n)"
            _ = try file.createGroup(g)
            let attributes: [String: HDF5AttributeValue] = [
                "problem": .string("relu shape=\(n)"), "fill": .string("normal(0,1)"), "oracle": .string("hand"),
                "directions": .string("fwd"), "schema_version": .int(1), "seed": .int(1),
            ]
            for (k, v) in attributes { try file.setAttribute(k, v, on: g) }
            let x = (0..<n).map { Float($0 + 1) * ($0 % 2 == 0 ? 1 : -1) }
            var y = x.map { Double(max($0, 0)) }
            if wrong { y[n - 1] += 1 }
            try file.write(x, shape: [n], to: g + "/x")
            try file.write(y, shape: [n], to: g + "/y")
        }
        try file.close()
        return path
    }

    static func lines(_ text: String) -> [Substring] { text.split(separator: "\n") }

    /// The summary's counts: "P passed, F failed, M mistrusted, Q suspicious, S skipped (C checks, …".
    static func counts(_ r: CLI.Result) -> [Int] {
        guard let last = lines(r.stdout).last else { return [] }
        return last.split(whereSeparator: { !$0.isNumber && $0 != "." }).prefix(6).compactMap { Int($0) }
    }

    @Test func quietByDefaultVerboseWithDashV() throws {
        let quiet = try CLI.run(["verify", Self.activation])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(Self.lines(quiet.stdout).count == 1, "\(quiet.stdout)")
        #expect(
            quiet.stdout.hasPrefix(
                "108 passed, 0 failed, 0 mistrusted, 0 suspicious, 0 skipped (108 checks, 1 file, worst"))
        for flag in ["-v", "--verbose"] {
            let loud = try CLI.run(["verify", Self.activation, flag])
            #expect(loud.status == 0)
            #expect(Self.lines(loud.stdout).count == 109)
            #expect(loud.stdout.hasPrefix("passed "))
        }
    }

    @Test func filtersSelectCasesOpsAndDirections() throws {
        // Exact problem: 'relu shape=2x3' is also a substring of 'leaky_relu shape=2x3 slope=0.01'.
        let exact = try CLI.run(["verify", Self.activation, "--case", "relu shape=2x3", "-v"])
        #expect(exact.status == 0)
        #expect(Self.counts(exact) == [4, 0, 0, 0, 0, 4], "\(exact.stdout)")
        #expect(!exact.stdout.contains("leaky_relu"))
        // A non-canonical spelling of a problem selects it too; other text is a substring.
        let sub = try CLI.run(["verify", Self.activation, "--case", "tanh", "-v"])
        let tanh = Self.lines(sub.stdout).dropLast()
        #expect(!tanh.isEmpty && tanh.allSatisfy { $0.contains("tanh") })
        #expect(Self.counts(sub).last == tanh.count)
        let fwd = try CLI.run(["verify", Self.activation, "--direction", "fwd", "-v"])
        #expect(Self.counts(fwd) == [54, 0, 0, 0, 0, 54], "\(fwd.stdout)")
        #expect(Self.lines(fwd.stdout).dropLast().allSatisfy { $0.contains(" fwd ") })
        let both = try CLI.run(["verify", Self.activation, "--direction", "fwd", "--direction", "bwd_data"])
        #expect(Self.counts(both).last == 108)
        // --op without files reads only fixtures/<op>.h5.
        let op = try CLI.run(["verify", "--op", "activation"])
        #expect(op.status == 0 && op.stdout.contains("(108 checks, 1 file,"), "\(op.stdout)")
    }

    @Test func aSelectionOfNothingIsAnErrorNeverAPass() throws {
        for args in [
            ["--case", "no such problem"], ["--op", "loss"], ["--direction", "bwd_weights"], ["--case", ""],
        ] {
            let r = try CLI.run(["verify", Self.activation] + args)
            #expect(r.status == 2, "\(args): \(r.stdout)")
            #expect(!r.stdout.contains("passed"), "\(args): \(r.stdout)")
            #expect(r.stderr.hasPrefix("kernelcheck: error: ") && Self.lines(r.stderr).count == 1, "\(r.stderr)")
        }
        let none = try CLI.run(["verify", Self.activation, "--case", "nope"])
        #expect(none.stdout == "0 checks — nothing matched --case nope in 27 cases of 1 file\n", "\(none.stdout)")
        for bad in [["--op", "bogus"], ["--direction", "sideways"], ["--impl", "fastest"], ["-q"]] {
            let r = try CLI.run(["verify", Self.activation] + bad)
            #expect(r.status == 2, "\(bad): \(r.stderr)")
        }
    }

    @Test func failFastStopsAfterTheFirstFailingCase() throws {
        let path = try Self.reluFile(shapes: [3, 4], wrong: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let all = try CLI.run(["verify", path])
        #expect(all.status == 1)
        #expect(Self.counts(all) == [0, 4, 0, 0, 0, 4], "\(all.stdout)")
        for flag in ["-x", "--fail-fast"] {
            let fast = try CLI.run(["verify", path, flag])
            #expect(fast.status == 1)
            #expect(Self.counts(fast) == [0, 2, 0, 0, 0, 2], "\(fast.stdout)")
            #expect(fast.stdout.contains("stopped at the first failure (--fail-fast)"))
            #expect(!fast.stdout.contains("relu shape=4"))
        }
    }

    @Test func everyFailurePrintsAReplayThatSelectsExactlyThatCheck() throws {
        let path = try Self.reluFile(shapes: [3, 4], wrong: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try CLI.run(["verify", path])
        let replays = Self.lines(r.stdout).filter { $0.hasPrefix("    replay: ") }.map { $0.dropFirst(12) }
        #expect(replays.count == 4, "\(r.stdout)")
        #expect(replays.first == "kernelcheck verify \(path) --case 'relu shape=3' --direction fwd --impl reference")
        for line in replays {
            let words = CLI.words(String(line))
            let again = try CLI.run(words + ["-v"])
            #expect(again.status == 1)
            #expect(Self.counts(again) == [0, 1, 0, 0, 0, 1], "\(line): \(again.stdout)")
        }
        // The replay of a passing fixture check selects one check too.
        let one = try CLI.run(
            CLI.words("verify \(Self.activation) --case 'relu shape=2x3' --direction bwd_data --impl tiled") + ["-v"])
        #expect(one.status == 0 && Self.counts(one) == [1, 0, 0, 0, 0, 1], "\(one.stdout)")
    }

    @Test func identicalFailuresOfEveryImplementationMakeTheFixtureSuspect() throws {
        let path = try Self.reluFile(shapes: [3], wrong: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try CLI.run(["verify", path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("suspect fixture: every implementation fails fwd of 'relu shape=3'"), "\(r.stdout)")
        #expect(r.stdout.contains("\n    kernelcheck fixtures regenerate --op activation\n"))
        #expect(r.stdout.contains("1 suspect fixture case(s)"))
        let json = try CLI.run(["verify", path, "--format", "json"])
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((doc?["suspect_fixtures"] as? [Any])?.count == 1)
        #expect((doc?["failures"] as? [[String: Any]])?.first?["replay"] as? String != nil)
        // One implementation alone proves nothing about the file; a correct file is not suspect.
        #expect(!(try CLI.run(["verify", path, "--impl", "tiled"])).stdout.contains("suspect"))
        let good = try Self.reluFile(shapes: [3], wrong: false)
        defer { try? FileManager.default.removeItem(atPath: good) }
        let fine = try CLI.run(["verify", good])
        #expect(fine.status == 0 && !fine.stdout.contains("suspect"))
    }
}

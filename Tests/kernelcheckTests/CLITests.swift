import Foundation
import Testing

/// End-to-end tests of the `kernelcheck` binary: help, exit codes, verify, check, fixtures.
@Suite(.serialized) struct CLITests {
    @Test func helpListsEverySubcommand() throws {
        let r = try CLI.run(["--help"])
        #expect(r.status == 0)
        for sub in ["problem", "verify", "check", "bench", "fixtures"] {
            #expect(r.stdout.contains(sub), "--help lacks \(sub)")
            let h = try CLI.run([sub, "--help"])
            #expect(h.status == 0 && h.stdout.contains("USAGE"), "\(sub) --help: \(h.stderr)")
        }
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try CLI.run(["no-such-command"]).status == 2)
        #expect(try CLI.run(["check", "--cases", "many"]).status == 2)
        let bad = try CLI.run(["problem", "conv2d n=1 ic=3 oc=8 g=2 in=5x5 k=3x3"])
        #expect(bad.status == 2)
        #expect(bad.stderr == "kernelcheck: error: conv2d: invalid g: groups 2 do not divide ic=3\n")
    }

    @Test func problemPrintsCanonicalFormAndShapes() throws {
        let r = try CLI.run(["problem", "conv1d n=1 ic=32 oc=64 in=10 k=3 p=same"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("conv1d n=1 ic=32 oc=64 g=1 in=10 k=3 s=1 d=1 p=same bias=0\n"))
        #expect(r.stdout.contains("y[1x64x10]"))
        // 10 outputs × 3 taps, 2 of the 30 pairs in the padding: 28/30.
        #expect(r.stdout.contains("    real products: 93.3 % of flops (the rest multiply zero padding)\n"))
    }

    @Test func verifyPassesOnACommittedFixture() throws {
        let r = try CLI.run(["verify", "fixtures/loss.h5"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout.hasPrefix("60 passed, 0 failed, 0 mistrusted, 0 suspicious, 0 skipped (60 checks, 1 file"),
            "\(r.stdout.suffix(200))")
    }

    @Test func verifyOfAMissingFileExitsTwoNamingIt() throws {
        let r = try CLI.run(["verify", "/nonexistent/case.h5"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("/nonexistent/case.h5"))
    }

    /// A case written by h5py from "someone else's framework" (numpy) is accepted and verified.
    @Test(.enabled(if: CLI.hasH5py, "python3 with h5py and numpy is not available"))
    func verifiesACaseWrittenByH5py() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-h5py-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", CLI.repositoryRoot + "/tools/make_example_case.py", path]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let r = try CLI.run(["verify", path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("2 passed, 0 failed"), "\(r.stdout)")
    }

    @Test func checkReplaysOneProblem() throws {
        let r = try CLI.run([
            "check", "--problem", "conv2d n=1 ic=2 oc=3 in=5x5 k=3x3 s=2x2 p=1x1:1x1 bias=1", "--seed", "4",
        ])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasSuffix("4 passed, 0 failed, 0 mistrusted, 0 suspicious, 0 skipped\n"))
    }

    @Test func checkSweepsAndSummarizes() throws {
        let r = try CLI.run(["check", "--op", "matmul", "--cases", "30", "--seed", "9", "--mode", "bound"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("seed 9"))
        #expect(r.stdout.contains("matmul/fwd"))
        #expect(r.stdout.contains(" passed, 0 failed, "), "\(r.stdout)")
        #expect(r.stdout.hasSuffix(" mistrusted, 0 suspicious, 0 skipped\n"), "\(r.stdout)")
    }

    @Test func fixturesListCountsTheManifest() throws {
        let r = try CLI.run(["fixtures", "list", "--op", "padproj_b"])
        #expect(r.status == 0)
        #expect(r.stdout.hasSuffix("14 cases\n"))
        #expect(try CLI.run(["fixtures", "list", "--op", "nope"]).status == 2)
    }
}

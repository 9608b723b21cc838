import Foundation
import KernelCheckTestSupport
import Testing

/// `verify` and the nightly's fixture phase check fixture cases in child processes: an
/// implementation that crashes (KERNELCHECK_INJECT_FAULT=activation:crash raises SIGSEGV in
/// every activation check) costs those checks — each a failed `crash` outcome naming its file
/// and case, with its replay line — not the run: the loss cases checked after them are still
/// reported, as an in-process run (`--no-isolation`) without the fault reports them.
@Suite(.serialized) struct VerifyIsolationTests {
    static let files = ["fixtures/activation.h5", "fixtures/loss.h5"]
    static let crash = ["KERNELCHECK_INJECT_FAULT": "activation:crash", "SWIFT_BACKTRACE": "enable=no"]
    static let finding = "crash: killed by SIGSEGV (signal 11) while checking this case"

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// file / problem / direction / implementation → status, for every outcome of a verify document.
    static func statuses(_ doc: [String: Any]) -> [String: String] {
        var out: [String: String] = [:]
        for o in doc["outcomes"] as? [[String: Any]] ?? [] {
            let key = ["file", "problem", "direction", "implementation"].map { "\(o[$0] ?? "-")" }
            out[key.joined(separator: " / ")] = o["status"] as? String
        }
        return out
    }

    @Test func aCrashingCheckIsAFailureAndVerifyGoesOn() throws {
        // fwd only: the children get the direction filter too (bwd_data would show as missing checks).
        let arguments = ["verify"] + Self.files + ["--format", "json", "--direction", "fwd"]
        let crashed = try CLI.run(arguments, environment: Self.crash)
        #expect(crashed.status == 1, "\(crashed.stderr)")
        let plain = try CLI.run(arguments + ["--no-isolation"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let (a, b) = (try Self.json(crashed.stdout), try Self.json(plain.stdout))
        let (crashStatuses, plainStatuses) = (Self.statuses(a), Self.statuses(b))
        // The same checks, in both runs; every activation check crashed, every loss check is the plain run's.
        #expect(crashStatuses.keys.sorted() == plainStatuses.keys.sorted())
        #expect(plainStatuses.values.allSatisfy { $0 == "passed" })
        let activation = crashStatuses.filter { $0.key.hasPrefix("fixtures/activation.h5 / ") }
        let loss = crashStatuses.filter { $0.key.hasPrefix("fixtures/loss.h5 / ") }
        #expect(!activation.isEmpty && !loss.isEmpty)
        #expect(activation.values.allSatisfy { $0 == "failed" }, "\(activation)")
        #expect(loss.values.allSatisfy { $0 == "passed" }, "\(loss)")
        #expect(activation.count + loss.count == crashStatuses.count)
        #expect(crashStatuses.keys.allSatisfy { $0.contains(" / fwd / ") })

        for o in a["outcomes"] as? [[String: Any]] ?? [] where o["status"] as? String == "failed" {
            #expect(o["findings"] as? [String] == [Self.finding], "\(o)")
            let problem = try #require(o["problem"] as? String)
            let direction = try #require(o["direction"] as? String)
            let implementation = try #require(o["implementation"] as? String)
            #expect(
                o["replay"] as? String
                    == "kernelcheck verify fixtures/activation.h5 --case '\(problem)' --direction \(direction)"
                    + " --impl \(implementation)", "\(o)")
        }
        let failures = a["failures"] as? [[String: Any]] ?? []
        #expect(failures.count == activation.count)
        // Each crash is named on standard error with its file and case.
        #expect(
            crashed.stderr.components(separatedBy: "kernelcheck: fixtures/activation.h5 case ").count - 1
                == activation.count, "\(crashed.stderr)")

        // The replay line crashes alone, the same way.
        let line = try #require(failures.first?["replay"] as? String)
        let replay = try CLI.run(CLI.words(line), environment: Self.crash)
        #expect(replay.status == 1, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains(Self.finding), "\(replay.stdout)")
        #expect(replay.stdout.contains("0 passed, 1 failed"), "\(replay.stdout)")
    }

    @Test func failFastStopsAtTheFirstCrashedCase() throws {
        let r = try CLI.run(
            ["verify"] + Self.files + ["--format", "json", "--fail-fast", "--impl", "tiled"], environment: Self.crash)
        #expect(r.status == 1, "\(r.stderr)")
        let doc = try Self.json(r.stdout)
        #expect(doc["stopped_early"] as? Bool == true)
        let outcomes = doc["outcomes"] as? [[String: Any]] ?? []
        // One activation case (fwd and bwd_data), both crashed.
        #expect(Set(outcomes.compactMap { $0["problem"] as? String }).count == 1, "\(outcomes)")
        #expect(outcomes.count == 2 && outcomes.allSatisfy { $0["status"] as? String == "failed" }, "\(outcomes)")
    }

    @Test func isolatedAndInProcessPrintTheSameTable() throws {
        let isolated = try CLI.run(["verify", "-v"] + Self.files)
        let inProcess = try CLI.run(["verify", "-v", "--no-isolation"] + Self.files)
        #expect(isolated.status == 0 && inProcess.status == 0, "\(isolated.stderr)\(inProcess.stderr)")
        #expect(isolated.stdout == inProcess.stdout)
        #expect(isolated.stdout.contains(" checks, 2 files"), "\(isolated.stdout)")
    }

    /// A `lib:` plug-in that crashes (or hangs) on conv2d cases with n = 3 and oc ≥ 5 (the
    /// plug-in of CrashIsolationTests): those fwd checks of fixtures/conv.h5 are `crash`
    /// (`timeout`) failures, and no other check is.
    @Test(
        .enabled(if: CrashIsolationTests.compilerAvailable, "no C compiler: 'cc' is not on PATH"),
        arguments: [nil, "HANG"])
    func aPlugInThatCrashesOrHangsCostsItsChecks(define: String?) throws {
        let directory = try TestSupport.makeScratchDirectory("verify-isolation-plugin")
        defer { TestSupport.removeScratch(directory) }
        let library = try CrashIsolationTests.build(in: directory, define: define)
        let r = try CLI.run(
            [
                "verify", CLI.repositoryRoot + "/fixtures/conv.h5", "--impl", "lib:" + library, "--direction", "fwd",
                "--case-timeout", "1", "--format", "json",
            ], directory: directory.path)
        #expect(r.status == 1, "\(r.stderr)")
        let outcomes = try Self.json(r.stdout)["outcomes"] as? [[String: Any]] ?? []
        let expected =
            define == nil ? Self.finding : "timeout: no result within --case-timeout 1 s"
        var failed = 0
        for o in outcomes {
            let problem = o["problem"] as? String ?? ""
            let oc = problem.split(separator: " ").first { $0.hasPrefix("oc=") }.flatMap { Int($0.dropFirst(3)) } ?? 0
            let hit = problem.hasPrefix("conv2d n=3 ") && oc >= 5
            if hit { failed += 1 }
            #expect((o["status"] as? String == "failed") == hit, "\(o)")
            #expect((o["findings"] as? [String] == [expected]) == hit, "\(o)")
        }
        #expect(failed > 0 && outcomes.count > failed, "\(outcomes.count) outcomes")
    }

    @Test func nightlyFixturePhaseKeepsTheOtherRows() throws {
        let directory = try TestSupport.makeScratchDirectory("verify-isolation-nightly")
        defer { TestSupport.removeScratch(directory) }
        let arguments = ["--phase", "fixtures"] + Self.files.flatMap { ["--fixtures", $0] }
        let crashed = try CLI.run(
            ["nightly", "--out", directory.appendingPathComponent("crash").path] + arguments, environment: Self.crash)
        #expect(crashed.status == 1, "\(crashed.stderr)")
        let plain = try CLI.run(
            ["nightly", "--out", directory.appendingPathComponent("plain").path, "--no-isolation"] + arguments)
        #expect(plain.status == 0, "\(plain.stderr)")
        let a = try NightlyIsolationTests.report(directory.appendingPathComponent("crash"))
        let b = try NightlyIsolationTests.report(directory.appendingPathComponent("plain"))
        let (crashRows, plainRows) = (NightlyIsolationTests.counts(a), NightlyIsolationTests.counts(b))
        #expect(crashRows.keys.sorted() == plainRows.keys.sorted())
        #expect(
            crashRows.filter { !$0.key.contains("/activation/") }
                == plainRows.filter { !$0.key.contains("/activation/") })
        #expect(crashRows.keys.contains { $0.contains("/loss/") })
        var crashedChecks = 0
        for (key, value) in crashRows where key.contains("/activation/") {
            // cases passed failed mistrusted suspicious skipped: every case failed.
            let n = value.split(separator: " ").map { Int($0) ?? -1 }
            #expect(n[0] > 0 && n[2] == n[0] && n[1] == 0, "\(key): \(value)")
            #expect(plainRows[key]?.split(separator: " ").first.map(String.init) == String(n[0]))
            crashedChecks += n[2]
        }
        let failures = a["failures"] as? [[String: Any]] ?? []
        #expect(failures.count == crashedChecks)
        for f in failures {
            #expect((f["summary"] as? String)?.contains(Self.finding) == true, "\(f)")
            #expect((f["replay"] as? String)?.hasPrefix("kernelcheck verify fixtures/activation.h5 --case ") == true)
            #expect((f["fixture_case"] as? String)?.hasPrefix("activation.h5:") == true, "\(f)")
        }
    }
}

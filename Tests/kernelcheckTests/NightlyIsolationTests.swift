import Foundation
import KernelCheckFixtures
import KernelCheckProblems
import KernelCheckReports
import KernelCheckTestSupport
import KernelCheckVerification
import Testing

@testable import kernelcheck

/// `nightly` checks its sweep phases in child processes: an implementation that crashes
/// (KERNELCHECK_INJECT_FAULT=matmul:crash raises SIGSEGV in every matmul check) costs the
/// crashing cases — failures named `crash`, shrunk, with replay lines that crash alone — not
/// the report: every other row is what an in-process run (`--no-isolation`) of the same seed
/// reports, so the children drew the same problems, precisions included, and the sweep went on.
@Suite(.serialized) struct NightlyIsolationTests {
    static let sweep = ["--phase", "sweep", "--cases", "20", "--medium-cases", "0", "--seed", "5", "--budget", "10m"]

    static func report(_ directory: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("report.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Each row's counts (no timings, no error histograms), keyed by source, op, direction,
    /// precision and implementation.
    static func counts(_ report: [String: Any]) -> [String: String] {
        var out: [String: String] = [:]
        for row in report["rows"] as? [[String: Any]] ?? [] {
            let key = ["source", "op", "direction", "precision", "implementation"].map { "\(row[$0] ?? "-")" }
            let values = ["cases", "passed", "failed", "mistrusted", "suspicious", "skipped"].map { "\(row[$0] ?? 0)" }
            out[key.joined(separator: "/")] = values.joined(separator: " ")
        }
        return out
    }

    @Test func aCrashIsAFailureAndTheSweepGoesOn() throws {
        let directory = try TestSupport.makeScratchDirectory("nightly-isolation")
        defer { TestSupport.removeScratch(directory) }
        let crashing = ["KERNELCHECK_INJECT_FAULT": "matmul:crash", "SWIFT_BACKTRACE": "enable=no"]
        let crashed = try CLI.run(
            ["nightly", "--out", directory.appendingPathComponent("crash").path] + Self.sweep, environment: crashing)
        #expect(crashed.status == 1, "\(crashed.stderr)")
        let plain = try CLI.run(
            ["nightly", "--out", directory.appendingPathComponent("plain").path, "--no-isolation"] + Self.sweep)
        #expect(plain.status == 0, "\(plain.stderr)")
        let a = try Self.report(directory.appendingPathComponent("crash"))
        let b = try Self.report(directory.appendingPathComponent("plain"))

        let failures = a["failures"] as? [[String: Any]] ?? []
        #expect(!failures.isEmpty)
        for f in failures {
            #expect(f["op"] as? String == "matmul", "\(f)")
            #expect((f["problem"] as? String)?.hasPrefix("matmul ") == true, "\(f)")
            #expect((f["summary"] as? String)?.contains("crash: killed by SIGSEGV (signal 11)") == true, "\(f)")
            let shrunk = f["shrunk_problem"] as? String ?? "?"
            #expect((f["replay"] as? String)?.hasPrefix("kernelcheck check --problem '\(shrunk)' ") == true, "\(f)")
        }
        // Every matmul check that crashed is one failure; every other row is the in-process run's.
        let (crashRows, plainRows) = (Self.counts(a), Self.counts(b))
        let failedMatmul = crashRows.filter { $0.key.contains("/matmul/") }.map {
            Int($0.value.split(separator: " ")[2]) ?? 0
        }
        #expect(failedMatmul.reduce(0, +) == failures.count)
        #expect(crashRows.filter { !$0.key.contains("/matmul/") } == plainRows.filter { !$0.key.contains("/matmul/") })
        #expect(crashRows.keys.sorted() == plainRows.keys.sorted())
        let expected = ["sweep_exact": 20, "sweep_bound": 20, "sweep_exact_medium": 0, "sweep_bound_medium": 0]
        for report in [a, b] {
            var problems: [String: Int] = [:]
            for phase in report["phases"] as? [[String: Any]] ?? [] {
                if let name = phase["name"] as? String, name.hasPrefix("sweep_") {
                    problems[name] = phase["problems"] as? Int
                }
            }
            #expect(problems == expected)
        }

        // The replay line crashes alone, the same way.
        let line = try #require(failures.first?["replay"] as? String)
        let replay = try ChildProcess.run(
            CLI.binary, CLI.words(line),
            environment: ProcessInfo.processInfo.environment.merging(crashing) { $1 }, directory: directory.path,
            timeout: 60)
        #expect(replay.terminatedBySignal && replay.status == SIGSEGV, "\(replay.status) \(replay.stderrText)")
    }

    /// The child's `check` options, parsed back, draw exactly the sweep's problems (an f16
    /// accumulator in the axis included) and carry its shard, threads and shrinking.
    @Test(arguments: [NightlyConfiguration.allPrecisions, [Precision(storage: .bf16), .float32]])
    func theChildArgumentsDrawTheSweepsProblems(_ precisions: [Precision]) throws {
        let checker = CaseChecker(implementation: TiledImplementation(), threads: 3)
        let sweep = Sweep(
            families: [.conv, .matmul, .activation], cases: 60, seed: 77, mode: .bound, size: .medium,
            checker: checker, shrink: false, shard: 1, shardCount: 3, precisions: precisions)
        let arguments = IsolatedSweepDriver.checkArguments(for: sweep, impl: "tiled")(7, 2)
        #expect(arguments.first == "check" && arguments.suffix(2) == ["--isolated-child", "7:2"])
        let command = try CheckCommand.parse(Array(arguments.dropFirst()))
        #expect(try command.parsePrecisions() == precisions)
        let child = Sweep(
            families: try parseFamilies(command.op), cases: command.cases, seed: try #require(command.seed),
            mode: try #require(ComparisonMode(rawValue: command.mode)),
            size: try #require(GeneratorSize(rawValue: command.size)), checker: checker,
            precisions: try command.parsePrecisions())
        #expect((0..<60).allSatisfy { child.problem(at: $0) == sweep.problem(at: $0) })
        #expect(command.shard == "1/3" && command.noShrink && command.threads == 3 && command.impl == "tiled")
        #expect(!command.noDeterminism && command.noFailureDb)
    }

    /// A phase's deadline stops its child: the problems before index K are checked (K of them,
    /// every check a row), and the rest are listed as skipped, "stopped before problem index K".
    @Test func theDeadlineStopsTheChildAndListsTheRest() throws {
        let directory = try TestSupport.makeScratchDirectory("nightly-isolation-deadline")
        defer { TestSupport.removeScratch(directory) }
        let r = try CLI.run([
            "nightly", "--out", directory.path + "/out", "--phase", "sweep", "--cases", "20000", "--medium-cases", "0",
            "--seed", "5", "--budget", "3s",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try Self.report(directory.appendingPathComponent("out"))
        let phases = report["phases"] as? [[String: Any]] ?? []
        let skipped = report["skipped"] as? [[String: Any]] ?? []
        let rows = report["rows"] as? [[String: Any]] ?? []
        for (name, source) in [("sweep_exact", "sweep_exact"), ("sweep_bound", "sweep_bound")] {
            let phase = try #require(phases.first { $0["name"] as? String == name })
            let done = try #require(phase["problems"] as? Int)
            #expect(done > 0 && done < 20000, "\(phase)")
            let entry = try #require(skipped.first { $0["phase"] as? String == name }, "\(skipped)")
            #expect(entry["item"] as? String == "\(20000 - done) of 20000 problems", "\(entry)")
            #expect(
                entry["reason"] as? String == "time budget spent (stopped before problem index \(done))", "\(entry)")
            let cases = rows.filter { $0["source"] as? String == source }.map { $0["cases"] as? Int ?? 0 }
            #expect(cases.reduce(0, +) == phase["checks"] as? Int, "\(name)")
        }
    }

    /// A plug-in's children load it by its `--impl` spelling: its rows sit beside tiled's, and
    /// a crash of it (conv2d n = 3, oc ≥ 5) is its failure, replayed with `--impl lib:PATH`.
    @Test(.enabled(if: CrashIsolationTests.compilerAvailable, "no C compiler: 'cc' is not on PATH"))
    func aPlugInIsCheckedInItsOwnChildren() throws {
        let directory = try TestSupport.makeScratchDirectory("nightly-isolation-lib")
        defer { TestSupport.removeScratch(directory) }
        let library = try CrashIsolationTests.build(in: directory)
        let out = directory.appendingPathComponent("out")
        let r = try CLI.run(
            ["nightly", "--out", out.path, "--impl", "lib:" + library] + Self.sweep,
            environment: ["SWIFT_BACKTRACE": "enable=no"], directory: directory.path)
        #expect([0, 1].contains(r.status), "\(r.stderr)")
        let report = try Self.report(out)
        let rows = report["rows"] as? [[String: Any]] ?? []
        for implementation in ["tiled", "lib:" + library] {
            let passed = rows.filter { $0["implementation"] as? String == implementation }.map {
                $0["passed"] as? Int ?? 0
            }
            #expect(passed.reduce(0, +) > 0, "\(implementation)")
        }
        for f in report["failures"] as? [[String: Any]] ?? [] {
            #expect(f["implementation"] as? String == "lib:" + library, "\(f)")
            #expect((f["replay"] as? String)?.contains("--impl lib:") == true, "\(f)")
        }
    }

    /// `check --shard i/n` (the children's spelling of the nightly's shard) checks the problems
    /// with index ≡ i (mod n): 3 of 6.
    @Test func checkRunsOneShard() throws {
        let r = try CLI.run([
            "check", "--op", "activation", "--cases", "6", "--seed", "3", "--shard", "1/2", "--no-failure-db",
        ])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("3 problems in"), "\(r.stdout)")
        let bad = try CLI.run(["check", "--op", "activation", "--cases", "6", "--shard", "2/2"])
        #expect(bad.status == 2 && bad.stderr.contains("--shard must be i/n with 0 ≤ i < n"), "\(bad.stderr)")
    }

    @Test(arguments: ["0", "-1", "nan"]) func badCaseTimeoutIsExitTwo(value: String) throws {
        let r = try CLI.run(["nightly", "--out", "/tmp/kc-never-written", "--case-timeout", value])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--case-timeout must be a positive number of seconds"), "\(r.stderr)")
    }
}

import Foundation
import KernelCheckFixtures
import KernelCheckTestSupport
import Testing

/// `check` runs its sweep in a child process: a plug-in that crashes (or hangs) on the conv2d
/// problems with n = 3 and oc ≥ 5 costs that one case — reported as a `crash` (`timeout`) failure
/// naming the signal, shrunk to oc = 5 with a replay line — while the cases before and after
/// it are still checked and reported.
@Suite(.serialized) struct CrashIsolationTests {
    /// The example conv plug-in (examples/c-conv/conv.c, correct for fwd and bwd_data),
    /// wrapped so that a conv2d problem with n = 3 and oc ≥ 5 dereferences NULL (SIGSEGV), or
    /// with -DHANG never returns. (n = 3 keeps crashes to a few of the sweep's problems: each
    /// is shrunk by a few dozen child processes.)
    static let crashingCode = """
        #include "kernelcheck.h"
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        #define kernelcheck_run example_conv_run
        #include "conv.c"
        #undef kernelcheck_run

        static int ran = 0;

        #ifdef ABORT_AT_EXIT
        /* In the process that ran kernels (the isolated child), not in the one that only loaded it. */
        __attribute__((destructor)) static void unload(void) { if (ran) abort(); }
        #endif

        static long output_channels(const char *problem) {
            const char *field = strstr(problem, " oc=");
            return field ? atol(field + 4) : 0;
        }

        int kernelcheck_run(const char *problem, const char *direction, const kernelcheck_tensor *inputs,
                            size_t input_count, const kernelcheck_output *output, int threads, char *message,
                            size_t capacity) {
            ran = 1;
            if (output_channels(problem) >= 5 && strncmp(problem, "conv2d n=3 ", 11) == 0) {
        #ifdef HANG
                for (;;) pause();
        #else
                volatile float *nowhere = NULL;
                *nowhere = 1.0f;
        #endif
            }
            return example_conv_run(problem, direction, inputs, input_count, output, threads, message, capacity);
        }
        """

    static let compilerAvailable: Bool =
        (try? ChildProcess.run("/usr/bin/env", ["cc", "--version"]))?.status == 0

    /// Compiles the plug-in into `directory/<define or "crashing">.so` (with `-D<define>`:
    /// HANG, ABORT_AT_EXIT).
    static func build(in directory: URL, define: String? = nil) throws -> String {
        let source = directory.appendingPathComponent("crashing.c")
        try Data(crashingCode.utf8).write(to: source)
        let library = directory.appendingPathComponent((define ?? "crashing") + ".so").path
        let r = try ChildProcess.run(
            "/usr/bin/env",
            [
                "cc", "-std=gnu99", "-O1", "-shared", "-fPIC", "-I", TestSupport.path("include"), "-I",
                TestSupport.path("examples/c-conv"),
            ] + (define.map { ["-D" + $0] } ?? []) + [source.path, "-o", library])
        guard r.status == 0 else { throw BuildFailed(description: "cc failed: \(r.stderrText)") }
        return library
    }

    struct BuildFailed: Error, CustomStringConvertible { var description: String }

    @Test(.enabled(if: compilerAvailable, "no C compiler: 'cc' is not on PATH"))
    func crashIsAFailureShrunkAndReplayableAndTheSweepGoesOn() throws {
        let directory = try TestSupport.makeScratchDirectory("crash-isolation")
        defer { TestSupport.removeScratch(directory) }
        let library = try Self.build(in: directory)
        let r = try CLI.run(
            [
                "check", "--impl", "lib:" + library, "--op", "conv", "--direction", "fwd", "--cases", "40",
                "--seed", "2", "--no-failure-db", "--threads", "2",
            ], environment: ["SWIFT_BACKTRACE": "enable=no"], directory: directory.path)
        let all = r.stdout + r.stderr
        #expect(r.status == 1, "\(all)")
        // Every crash is one failure naming the signal; the sweep went on to problem 40.
        let failed = r.stdout.split(separator: "\n").filter { $0.hasPrefix("FAILED ") }
        #expect(!failed.isEmpty && failed.allSatisfy { $0.contains("crash: killed by SIGSEGV") }, "\(all)")
        #expect(r.stdout.contains("40 problems in"), "\(all)")
        let tally = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("conv/fwd ") })
        let passed = Int(tally.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
        #expect(passed > 0, "\(tally)")
        // Shrunk to the smallest problem that still crashes: oc = 5.
        let shrunk = try #require(r.stdout.split(separator: "\n").first { $0.contains("shrunk in ") })
        #expect(shrunk.contains(" oc=5 "), "\(shrunk)")
        // The replay line crashes alone, the same way.
        let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("  replay: ") })
        let words = CLI.words(String(line.dropFirst("  replay: ".count)))
        #expect(words.contains("--problem") && words.contains("--seed"), "\(words)")
        let replay = try ChildProcess.run(
            CLI.binary, words,
            environment: ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 },
            directory: directory.path, timeout: 60)
        #expect(replay.terminatedBySignal && replay.status == SIGSEGV, "\(replay.status) \(replay.stderrText)")
    }

    @Test(.enabled(if: compilerAvailable, "no C compiler: 'cc' is not on PATH"))
    func hangIsATimeoutFailure() throws {
        let directory = try TestSupport.makeScratchDirectory("crash-isolation-hang")
        defer { TestSupport.removeScratch(directory) }
        let library = try Self.build(in: directory, define: "HANG")
        let r = try CLI.run(
            [
                "check", "--impl", "lib:" + library, "--op", "conv", "--direction", "fwd", "--cases", "12",
                "--seed", "7", "--no-failure-db", "--no-shrink", "--case-timeout", "1",
            ], directory: directory.path)
        let all = r.stdout + r.stderr
        #expect(r.status == 1, "\(all)")
        #expect(r.stdout.contains("timeout: no result within --case-timeout 1 s"), "\(all)")
        #expect(r.stdout.contains("12 problems in"), "\(all)")
        #expect(r.stdout.contains("replay: kernelcheck check --problem"), "\(all)")
    }

    /// A child that dies after its last check (here: the plug-in's destructor aborts at exit
    /// of a process that ran a kernel)
    /// loses nothing: every result was reported before.
    @Test(.enabled(if: compilerAvailable, "no C compiler: 'cc' is not on PATH"))
    func crashAfterTheLastCheckLosesNothing() throws {
        let directory = try TestSupport.makeScratchDirectory("crash-isolation-exit")
        defer { TestSupport.removeScratch(directory) }
        let library = try Self.build(in: directory, define: "ABORT_AT_EXIT")
        let r = try CLI.run(
            [
                "check", "--impl", "lib:" + library, "--op", "conv", "--direction", "fwd", "--cases", "8",
                "--seed", "2", "--no-failure-db",
            ], environment: ["SWIFT_BACKTRACE": "enable=no"], directory: directory.path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("8 problems in"), "\(r.stdout)")
        #expect(!r.stdout.contains(" 0 passed,"), "\(r.stdout)")
    }

    /// A saved crash is replayed by the next sweep in a child too: it still fails, and the
    /// sweep goes on (in-process replay would end the run at the first saved crash).
    @Test func savedCrashIsReplayedInAChild() throws {
        let directory = try TestSupport.makeScratchDirectory("crash-isolation-db")
        defer { TestSupport.removeScratch(directory) }
        let arguments = ["check", "--op", "activation", "--cases", "2", "--seed", "1", "--no-shrink"]
        let crash = ["KERNELCHECK_INJECT_FAULT": "activation:crash", "SWIFT_BACKTRACE": "enable=no"]
        let first = try CLI.run(arguments, environment: crash, directory: directory.path)
        #expect(first.status == 1, "\(first.stdout)\(first.stderr)")
        let saved = try String(
            contentsOfFile: directory.appendingPathComponent(".kernelcheck/failures/activation.txt").path,
            encoding: .utf8)
        let lines = saved.split(separator: "\n")
        #expect(lines.count == first.stdout.components(separatedBy: "\nFAILED ").count - 1, "\(saved)")
        let second = try CLI.run(arguments, environment: crash, directory: directory.path)
        #expect(second.status == 1, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.components(separatedBy: "  still fails: ").count == lines.count + 1, "\(second.stdout)")
        #expect(second.stdout.contains("2 problems in"), "\(second.stdout)")
    }

    @Test(arguments: ["0", "-1", "nan"]) func badCaseTimeoutIsExitTwo(value: String) throws {
        let r = try CLI.run(["check", "--op", "activation", "--cases", "1", "--case-timeout", value])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--case-timeout must be a positive number of seconds"), "\(r.stderr)")
    }

    @Test func noIsolationStillRunsInProcess() throws {
        let r = try CLI.run([
            "check", "--op", "activation", "--cases", "5", "--seed", "3", "--no-failure-db", "--no-isolation",
        ])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("5 problems in"), "\(r.stdout)")
    }
}

import Foundation
import Testing

/// Numeric options, environment variables and over-long problem strings: each bad value is
/// one `kernelcheck: error:` line naming the option or variable, exit 2 — never a trap, never
/// a run that checks nothing and passes, never a value silently replaced by its default.
@Suite struct CLIOptionValidationTests {
    @Test(arguments: [
        (["check", "--op", "activation", "--cases", "-5"], "--cases must be 0 (saved failures only) or more, got -5"),
        (["check", "--op", "activation", "--cases=-5"], "--cases must be 0 (saved failures only) or more, got -5"),
        (["check", "--op", "activation", "--cases", "0", "--no-failure-db"], "--no-failure-db turns them off"),
        (["check", "--op", "activation", "--threads", "-1"], "--threads must be 0 (all cores) or more, got -1"),
        (["check", "--op", "activation", "--budget", "-3"], "--budget must be a positive number of seconds"),
        (["check", "--op", "activation", "--budget", "nan"], "--budget must be a positive number of seconds"),
        (["bench", "--runs", "-1"], "--runs must be at least 1, got -1"),
        (
            ["nightly", "--out", "/tmp/kernelcheck-never-written", "--peers", "torch,tensorflow"],
            "unknown peer 'tensorflow' in --peers; known: torch, onnxruntime"
        ),
    ])
    func badNumericOptions(arguments: [String], message: String) throws {
        try CLIHardeningTests.expectBadInput(arguments, mentions: [message])
    }

    /// `--cases 0` runs only the saved failures; with none saved it would check nothing.
    @Test func zeroCasesWithoutSavedFailuresIsRefused() throws {
        let dir = try CheckFailureDatabaseTests.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["check", "--op", "activation", "--cases", "0"], directory: dir)
        #expect(r.status == 2)
        #expect(r.stderr.contains("it holds none for 'tiled' and the selected ops"), "\(r.stderr)")
    }

    @Test(arguments: [
        ("KERNELCHECK_MEMORY_BUDGET", "12X", "a byte count"),
        ("KERNELCHECK_ADDRESS_LIMIT", "-4G", "a byte count"),
        ("KERNELCHECK_HDF5_PROBE", "yes", "0 (off) or 1 (on)"),
        ("KERNELCHECK_HDF5_PROBE_TIMEOUT", "-1", "a positive number of seconds"),
        ("KERNELCHECK_INJECT_FAULT", "convolution", "an op family"),
        ("KERNELCHECK_KERNEL_VARIANT", "avx3", "a kernel variant this machine runs"),
    ])
    func badEnvironmentValues(name: String, value: String, expected: String) throws {
        try CLIHardeningTests.expectBadInput(
            ["check", "--op", "activation", "--cases", "1"], environment: [name: value],
            mentions: ["environment variable \(name)='\(value)' is invalid: expected \(expected)"])
    }

    @Test func misspeltEnvironmentVariableIsWarnedAbout() throws {
        let r = try CLI.run(
            ["check", "--op", "activation", "--cases", "2"], environment: ["KERNELCHECK_MEMORY_BUGDET": "1G"])
        #expect(r.status == 0)
        #expect(r.stderr.contains("warning: unknown environment variable KERNELCHECK_MEMORY_BUGDET is ignored"))
    }

    /// A 100 KB problem string was echoed whole (twice: the text and its bad token).
    @Test func overLongProblemStringIsClipped() throws {
        let junk = String(repeating: "x", count: 100_000)
        let stderr = try CLIHardeningTests.expectBadInput(
            ["check", "--problem", "relu shape=3 " + junk], mentions: ["malformed problem string", "bytes)"])
        #expect(stderr.utf8.count < 1_000, "\(stderr.utf8.count) bytes of error message")
    }
}

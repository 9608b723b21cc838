import ArgumentParser

/// The `kernelcheck` root command.
///
/// Exit codes: 0 success, 1 a verification found a failure, 2 bad input or usage.
struct KernelCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernelcheck",
        abstract: "Proves neural-network kernels compute the right numbers.",
        discussion: """
            Exit codes: 0 success, 1 verification failure, 2 bad input or usage.
            A problem string describes one case, e.g. 'conv2d n=2 ic=3 oc=8 g=1 in=5x5 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=1'.
            """,
        subcommands: [
            ProblemCommand.self, VerifyCommand.self, CheckCommand.self, BenchCommand.self, FixturesCommand.self,
            NightlyCommand.self, ReportCommand.self,
        ]
    )
}

/// Thrown by a command whose checks ran and found failures (exit code 1).
struct VerificationFailed: Error, CustomStringConvertible {
    var failures: Int
    var description: String { "\(failures) check(s) failed" }
}

/// Bad input that is not a usage mistake (a malformed file, an invalid problem string):
/// printed as one line `kernelcheck: error: …`, exit code 2, no usage text.
struct BadInput: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

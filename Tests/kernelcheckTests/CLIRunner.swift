import Foundation
import KernelCheckFixtures

/// Runs the built `kernelcheck` binary (it sits next to the test bundle) and captures its
/// exit status, standard output and standard error.
enum CLI {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("kernelcheck").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return repositoryRoot + "/.build/debug/kernelcheck"
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// A child still running after this many seconds is killed: a hang fails its test
    /// instead of stalling the run.
    static let timeout = 120.0

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let r = try ChildProcess.run(
            binary, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: repositoryRoot, timeout: timeout)
        return Result(
            status: r.status, stdout: r.stdoutText,
            stderr: r.stderrText + (r.timedOut ? "(killed after \(Int(timeout)) s: a hang)\n" : ""))
    }

    /// python3 with h5py and numpy, for the interop tests.
    static let hasH5py: Bool = {
        (try? ChildProcess.run("/usr/bin/env", ["python3", "-c", "import h5py, numpy"]))?.status == 0
    }()
}

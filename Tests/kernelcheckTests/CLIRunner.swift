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

    /// Runs the binary in `directory` (default: the repository root).
    static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil
    ) throws
        -> Result
    {
        let r = try ChildProcess.run(
            binary, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: directory ?? repositoryRoot, timeout: timeout)
        return Result(
            status: r.status, stdout: r.stdoutText,
            stderr: r.stderrText + (r.timedOut ? "(killed after \(Int(timeout)) s: a hang)\n" : ""))
    }

    /// The words of a printed shell command line (single quotes and `'\''` as the replay
    /// lines write them), without the leading `kernelcheck`.
    static func words(_ line: String) -> [String] {
        var words: [String] = [], current = "", quoted = false, inWord = false, escaped = false
        for c in line {
            if escaped {
                current.append(c); escaped = false
            } else if c == "'" {
                quoted.toggle(); inWord = true
            } else if c == "\\" && !quoted {
                escaped = true; inWord = true
            } else if c == " " && !quoted {
                if inWord { words.append(current) }
                current = ""; inWord = false
            } else {
                current.append(c); inWord = true
            }
        }
        if inWord { words.append(current) }
        return Array(words.drop { $0 == "kernelcheck" })
    }

    /// python3 with h5py and numpy, for the interop tests.
    static let hasH5py: Bool = {
        (try? ChildProcess.run("/usr/bin/env", ["python3", "-c", "import h5py, numpy"]))?.status == 0
    }()
}

import Foundation

/// Runs a program to completion and captures its exit status, standard output and standard
/// error: the oracle subprocess here, and the tests' runs of the `kernelcheck` binary and of
/// the `kernelcheck-fuzz` replayer.
///
/// Both pipes are drained at once (standard error on another thread), so a chatty child never
/// blocks on a full pipe. With a `timeout`, a child still running then is terminated
/// (SIGTERM) and `timedOut` is set.
public enum ChildProcess {
    public struct Result: Sendable {
        /// The exit status, or the signal number when `terminatedBySignal`.
        public var status: Int32
        public var terminatedBySignal: Bool
        /// True when the child was terminated at the timeout.
        public var timedOut: Bool
        public var stdout: Data
        public var stderr: Data

        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Runs `executable` with `arguments`; `environment` replaces the child's whole environment
    /// (nil: this process's), `directory` is its working directory (nil: this one's). Throws
    /// only when the program cannot be started.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        directory: String? = nil, timeout: Double? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        nonisolated(unsafe) var stderr = Data()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { stderr = err.fileHandleForReading.readDataToEndOfFile() }
        nonisolated(unsafe) var timedOut = false
        if let timeout {
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if process.isRunning { timedOut = true; process.terminate() }
            }
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, terminatedBySignal: process.terminationReason == .uncaughtSignal,
            timedOut: timedOut, stdout: stdout, stderr: stderr)
    }
}

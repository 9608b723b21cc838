import Foundation
import KernelCheckCore

/// The independent oracle: `tools/oracle.py`, PyTorch in float64 on the CPU, run as a
/// subprocess. KernelCheck never computes a fixture's expected values itself.
public struct Oracle: Sendable {
    public var script: String
    public var python: String

    public init(script: String, python: String = ProcessInfo.processInfo.environment["KERNELCHECK_PYTHON"] ?? "python3")
    {
        self.script = script
        self.python = python
    }

    /// One line on how to get the oracle's dependencies.
    public static let installHint =
        "install the oracle's requirements: pip install -r tools/requirements-oracle.txt (PyTorch must be the CPU wheel torch==2.13.0+cpu; plain 'pip install torch' pulls GPU packages)"

    /// `oracle.py fill FILE`: computes every expected output of every case in `file` (whose
    /// inputs are already written) and adds them as float64 datasets.
    public func fill(_ file: String) throws(FixtureError) {
        _ = try run(["fill", file])
    }

    /// The oracle's identity, e.g. `torch 2.13.0+cpu float64`.
    public func version() throws(FixtureError) -> String {
        try run(["--version"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func run(_ arguments: [String]) throws(FixtureError) -> String {
        guard FileManager.default.fileExists(atPath: script) else {
            throw .oracle(reason: "oracle script not found at \(script)")
        }
        let result: ChildProcess.Result
        do { result = try ChildProcess.run("/usr/bin/env", [python, script] + arguments) } catch {
            throw .oracle(
                reason:
                    "cannot start \(python): \(error.localizedDescription); install Python 3 and \(Self.installHint)")
        }
        let message = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        switch result.status {
        case 0: return result.stdoutText
        case 127: throw .oracle(reason: "\(python) not found; install Python 3 and \(Self.installHint)")
        case 3: throw .oracle(reason: message.isEmpty ? Self.installHint : message)
        default:
            let command = "\(python) \(script) \(arguments.joined(separator: " "))"
            guard !message.isEmpty else { throw .oracle(reason: "\(command) exited \(result.status)") }
            throw .oracle(reason: "\(command) exited \(result.status): " + Self.oneLine(message))
        }
    }

    /// A Python failure as one line: its last exception line (`RuntimeError: …`) and, when a
    /// read or write failed, the operating system's reason; the whole output goes to a log
    /// file that the line names. A full disk printed a 25-line traceback.
    static func oneLine(_ stderr: String) -> String {
        let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let exception = lines.last {
            $0.range(of: #"^[A-Za-z_.]*(Error|Exception|Exit)\b"#, options: .regularExpression) != nil
        }
        var text = MessageText.clip(exception ?? lines.last ?? "", limit: 200)
        // h5py's messages continue on the next line: drop the unclosed "(file write failed: time = …".
        if text.filter({ $0 == "(" }).count > text.filter({ $0 == ")" }).count, let open = text.lastIndex(of: "(") {
            text = text[..<open].trimmingCharacters(in: .whitespaces)
        }
        if let os = stderr.range(of: "error message = '"), let end = stderr[os.upperBound...].firstIndex(of: "'") {
            let reason = String(stderr[os.upperBound..<end])
            if !text.contains(reason) { text += " (\(reason))" }
        }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("kernelcheck-oracle-\(getpid()).log")
        if lines.count > 1, (try? stderr.write(to: log, atomically: true, encoding: .utf8)) != nil {
            text += "; full output in \(log.path)"
        }
        return text
    }
}

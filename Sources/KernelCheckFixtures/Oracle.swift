import Foundation

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
            throw .oracle(
                reason: message.isEmpty
                    ? "\(python) \(script) \(arguments.joined(separator: " ")) exited \(result.status)" : message)
        }
    }
}

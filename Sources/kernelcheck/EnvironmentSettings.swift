import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckTiled
import KernelCheckVerification

/// The `KERNELCHECK_*` environment variables, checked once before any command runs: a value
/// that does not parse is bad input (exit 2) rather than silently replaced by the default, and
/// a misspelt name gets a warning that lists the known ones.
enum EnvironmentSettings {
    /// Each known variable and the check of its value (nil when valid, else what it must be).
    static let known: [(name: String, problem: @Sendable (String) -> String?)] = [
        ("KERNELCHECK_MEMORY_BUDGET", byteCount),
        ("KERNELCHECK_ADDRESS_LIMIT", byteCount),
        ("KERNELCHECK_HDF5_PROBE", { ["0", "1"].contains($0) ? nil : "0 (off) or 1 (on)" }),
        ("KERNELCHECK_HDF5_PROBE_TIMEOUT", positiveSeconds),
        ("KERNELCHECK_WORKER_TIMEOUT", positiveSeconds),
        (
            "KERNELCHECK_INJECT_FAULT",
            {
                FaultInjectedImplementation.parse($0) != nil
                    ? nil
                    : "an op family (\(OpFamily.allCases.map(\.rawValue).joined(separator: ", "))), "
                        + "optionally with :rel<x> (e.g. conv:rel1e-5) or :crash"
            }
        ),
        (
            KernelVariant.environmentVariable,
            { name in
                (try? KernelVariant.named(name)) != nil
                    ? nil
                    : "a kernel variant this machine runs (\(KernelVariant.executable.map(\.rawValue).joined(separator: ", ")))"
            }
        ),
        // Read by tools/bench_peers.py, which `bench` runs.
        ("KERNELCHECK_PEER_ISA", { ["avx2", ""].contains($0) ? nil : "avx2 (or empty: the peers' own choice)" }),
        ("KERNELCHECK_ROOT", { isDirectory($0) ? nil : "an existing directory (the repository root)" }),
        ("KERNELCHECK_PYTHON", { $0.isEmpty ? "a Python interpreter (e.g. python3)" : nil }),
        // Read by the fuzz target and the test suites, not by this command.
        ("KERNELCHECK_FUZZ_TMP", { _ in nil }), ("KERNELCHECK_FUZZ_BUDGET", { _ in nil }),
        ("KERNELCHECK_LIBFUZZER", { _ in nil }),
    ]

    /// Throws `BadInput` for the first known variable whose value is invalid; returns a warning
    /// for each `KERNELCHECK_` variable this build does not know.
    static func check(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String] {
        for (name, problem) in known {
            guard let value = environment[name], let expected = problem(value) else { continue }
            throw BadInput("environment variable \(name)='\(MessageText.clip(value))' is invalid: expected \(expected)")
        }
        let names = Set(known.map(\.name))
        return environment.keys.filter { $0.hasPrefix("KERNELCHECK_") && !names.contains($0) }.sorted().map {
            "kernelcheck: warning: unknown environment variable \($0) is ignored (known: "
                + known.map(\.name).joined(separator: ", ") + ")"
        }
    }

    private static func byteCount(_ text: String) -> String? {
        MemoryBudget.parse(text) == nil ? "a byte count, optionally with a K, M or G suffix (e.g. 512M)" : nil
    }

    private static func positiveSeconds(_ text: String) -> String? {
        guard let v = Double(text), v.isFinite, v > 0 else { return "a positive number of seconds" }
        return nil
    }

    private static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}

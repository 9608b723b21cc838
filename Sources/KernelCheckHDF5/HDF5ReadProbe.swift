import CHDF5Probe
import Foundation
import KernelCheckCore

/// Reads an untrusted file once in a child process before this process lets libhdf5 near it.
///
/// libhdf5 1.10 crashes, loops or allocates gigabytes on some corrupt files (see
/// tools/fuzz-regressions/README.md), and no Swift code can catch a SIGSEGV inside a C
/// library. So `HDF5File.open` first forks a child that opens the file and reads everything
/// KernelCheck could read from it — every object looked up by name, every attribute, every
/// dataset within the memory budget — under an address-space cap and a timeout:
///
/// - the child finishes (with or without libhdf5 errors): the caller's own reads are safe, and
///   any libhdf5 error reaches the caller as the usual typed error;
/// - the child crashes, hangs or runs out of memory: `open` throws `HDF5Error.cannotOpen` with
///   "corrupt file: …" saying which, and this process never reads the file.
///
/// Cost: one `fork` and a second read of the file (≈ 1 ms per megabyte of fixtures).
/// Settings: `KERNELCHECK_HDF5_PROBE=0` turns the probe off (trusted files only),
/// `KERNELCHECK_HDF5_PROBE_TIMEOUT` (seconds, default 60) bounds the child's time.
public enum HDF5ReadProbe {
    /// Whether `HDF5File.open` probes files first.
    nonisolated(unsafe) public static var isEnabled: Bool =
        getenv("KERNELCHECK_HDF5_PROBE").map { String(cString: $0) != "0" } ?? true

    /// Seconds the child may take before it counts as hung.
    nonisolated(unsafe) public static var timeout: Double =
        getenv("KERNELCHECK_HDF5_PROBE_TIMEOUT").flatMap { Double(String(cString: $0)) }.flatMap { $0 > 0 ? $0 : nil }
        ?? 60

    /// The child may grow by the memory budget plus this much before allocations fail: room
    /// for the largest dataset it reads plus libhdf5's own buffers.
    static let headroomBeyondBudget = 1 << 30

    /// What the child reported.
    public enum Outcome: Equatable, Sendable {
        case readable
        /// libhdf5 reported an error the caller will meet (and report) itself.
        case libraryError(String)
        case outOfMemory(String)
        /// The child died from `signal`, or (0) a sanitizer stopped it at a memory error.
        case crashed(signal: Int32)
        case timedOut(seconds: Double)
        case unexpectedExit(status: Int32, message: String)
        /// No child could be started (errno); the caller reads without the probe.
        case unavailable(errno: Int32)
        /// The child found, before reading it, an object the caller must not read either
        /// (`externalLink` or `externalStorage`).
        case refused(HDF5Error)

        /// Why the file must not be read in-process, or `nil` when it may be.
        public var refusal: String? {
            switch self {
            case .readable, .libraryError, .unavailable, .refused:
                return nil
            case .outOfMemory(let message):
                return "reading it needs more memory than the budget allows (a corrupt length?)"
                    + (message.isEmpty ? "" : ": \(message)")
            case .crashed(let signal) where signal == 0:
                return "libhdf5 crashed reading it (a memory error, stopped by the sanitizer) in a probe process"
            case .crashed(let signal):
                return "libhdf5 crashed reading it (signal \(signal), \(signalName(signal))) in a probe process"
            case .timedOut(let seconds):
                return "libhdf5 did not finish reading it within \(String(format: "%g", seconds)) s in a probe process"
                    + " (KERNELCHECK_HDF5_PROBE_TIMEOUT)"
            case .unexpectedExit(let status, let message):
                return "the probe process reading it exited with status \(status)"
                    + (message.isEmpty ? "" : ": \(message)")
            }
        }
    }

    /// Reads `path` in a child process. The caller holds the HDF5 lock (`HDF5Library.withLock`).
    static func probe(_ path: String) -> Outcome {
        var message = [CChar](repeating: 0, count: 1024)
        var detail: Int32 = 0
        let budget = MemoryBudget.bytes
        let (headroom, overflow) = budget.addingReportingOverflow(headroomBeyondBudget)
        let outcome = message.withUnsafeMutableBufferPointer { buffer in
            kc_probe_file(
                path, timeout, Int64(overflow ? Int.max : headroom), Int64(budget),
                buffer.baseAddress, buffer.count, &detail)
        }
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch outcome {
        case KC_PROBE_OK: return .readable
        case KC_PROBE_HDF5_ERROR: return .libraryError(text)
        case KC_PROBE_OUT_OF_MEMORY: return .outOfMemory(text)
        case KC_PROBE_CRASHED: return .crashed(signal: detail)
        case KC_PROBE_TIMED_OUT: return .timedOut(seconds: timeout)
        case KC_PROBE_UNEXPECTED_EXIT: return .unexpectedExit(status: detail, message: text)
        case KC_PROBE_REFUSED: return .refused(refusal(text, path))
        default: return .unavailable(errno: detail)
        }
    }

    /// Throws `cannotOpen` ("corrupt file: …") when the probe says the file must not be read,
    /// and `externalLink` / `externalStorage` when it holds an object that would make libhdf5
    /// read another file.
    static func check(_ path: String) throws(HDF5Error) {
        let outcome = probe(path)
        if case .refused(let error) = outcome { throw error }
        if let refusal = outcome.refusal {
            throw .cannotOpen(file: path, reason: "corrupt file: " + refusal)
        }
    }

    /// The typed error for the child's "kind<US>object<US>detail" report.
    private static func refusal(_ text: String, _ path: String) -> HDF5Error {
        let parts = text.split(separator: "\u{1f}", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        let object = parts.count > 1 ? parts[1] : "?", detail = parts.count > 2 ? parts[2] : "?"
        switch parts.first {
        case "external-link": return .externalLink(file: path, object: object, target: detail)
        case "external-storage": return .externalStorage(file: path, object: object, reason: detail)
        case "unavailable-filter": return .unavailableFilter(file: path, object: object, filter: Int(detail) ?? -1)
        default: return .cannotOpen(file: path, reason: "the probe process refused it: \(text)")
        }
    }

    private static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: return "SIGSEGV"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGABRT: return "SIGABRT"
        case SIGILL: return "SIGILL"
        case SIGKILL: return "SIGKILL"
        default: return "signal"
        }
    }
}

import Foundation
import KernelCheckCore
import Testing

@testable import KernelCheckFixtures

/// Mutation fuzzing of the fixture reader inside `swift test` (tools/fuzz.sh is the
/// coverage-guided companion): bit flips, byte runs and truncations of real fixture files.
/// Every input must either read or throw a typed `FixtureError` — no trap, no hang, and no
/// crash inside libhdf5 either: `HDF5File.open` reads each file in a probe process first
/// (`HDF5ReadProbe`) and refuses the ones that crash, hang or exhaust libhdf5.
///
/// The inputs run in a child process, the `kernelcheck-fuzz` replayer (built by `swift test`
/// with the rest of the package), without its crash guard, so that a crash is pinned to its
/// input, reported with the input kept for replay, and the run resumes after it (one crash
/// must not hide the next). The replayer prints one outcome line per input (`read N cases` or
/// the error's type and case).
///
/// `swift test` runs a short sample (96 mutants, a few seconds): enough to reach reads, typed
/// errors and every kind of mutation. `KERNELCHECK_FUZZ_BUDGET=<n>` multiplies the number of
/// mutants by n; the nightly workflow sets 25 (2,400 mutants, the same seeds: the sample is
/// their first 96), e.g. `KERNELCHECK_FUZZ_BUDGET=25 swift test --filter FuzzTests`. The
/// coverage-guided search is tools/fuzz.sh.
@Suite(.serialized) struct FuzzTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The replayer beside the test bundle, else in the default debug build directory.
    static var replayer: String? {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("kernelcheck-fuzz").path
        for candidate in [beside, root + "/.build/debug/kernelcheck-fuzz"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }

    /// What happened to one input.
    enum Outcome: Equatable {
        case read(String)  // "read N cases"
        case typedError(String)  // "FixtureError.…"
        case crash(String)  // a trap, a signal, a sanitizer report
        case hang
    }

    /// Runs `files` (fuzz inputs: mode byte + bytes) through the replayer, restarting after
    /// each input that crashes; `timeout` bounds the silence before an input counts as a hang.
    static func replay(_ files: [String], timeout: Double = 30) throws -> [String: Outcome] {
        guard let binary = replayer else { throw ReplayerMissing() }
        var outcomes: [String: Outcome] = [:]
        var pending = files[...]
        while !pending.isEmpty {
            // Under `swift test --sanitize=…` the child is instrumented too: let its allocator
            // return NULL for libhdf5's absurd allocations, as glibc does (libhdf5 then reports
            // an error) instead of aborting.
            var environment = ProcessInfo.processInfo.environment
            environment["SWIFT_BACKTRACE"] = "enable=no"
            for key in ["ASAN_OPTIONS", "TSAN_OPTIONS"] {
                environment[key] = (environment[key].map { $0 + ":" } ?? "") + "allocator_may_return_null=1"
            }
            // A watchdog: each batch gets `timeout` seconds per 100 inputs.
            let run = try ChildProcess.run(
                binary, Array(pending), environment: environment,
                timeout: timeout * Double(max(pending.count, 100)) / 100)
            var done = 0
            for line in run.stdoutText.split(separator: "\n") {
                let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                outcomes[parts[1]] = parts[0].hasPrefix("read ") ? .read(parts[0]) : .typedError(parts[0])
                done += 1
            }
            pending = pending.dropFirst(done)
            guard let culprit = pending.first else { break }
            if run.timedOut {
                outcomes[culprit] = .hang
            } else {
                outcomes[culprit] = .crash(
                    "status \(run.status) (\(run.terminatedBySignal ? "signal" : "exit")): \(run.stderrText.suffix(600))"
                )
            }
            pending = pending.dropFirst()
        }
        return outcomes
    }

    /// The multiplier of the mutant counts: `KERNELCHECK_FUZZ_BUDGET`, a positive integer (1 when unset).
    static func budget() throws -> Int {
        guard let text = ProcessInfo.processInfo.environment["KERNELCHECK_FUZZ_BUDGET"] else { return 1 }
        guard let n = Int(text), n >= 1 else { throw BadBudget(text: text) }
        return n
    }

    struct BadBudget: Error, CustomStringConvertible {
        var text: String
        var description: String {
            "KERNELCHECK_FUZZ_BUDGET must be a positive integer (a multiplier of the mutant counts), got '\(text)'"
        }
    }

    struct ReplayerMissing: Error, CustomStringConvertible {
        var description: String {
            "kernelcheck-fuzz not built: run `swift build --product kernelcheck-fuzz` (swift test builds it)"
        }
    }

    /// Mutants of `original`: bit flips and byte runs (half of them inside the first 8 KiB or
    /// the global heap, where HDF5 keeps its metadata — flips in float data only change
    /// values) and truncations.
    static func mutants(of original: [UInt8], count: Int, rng: inout SeededRNG) -> [(kind: String, bytes: [UInt8])] {
        let heap = original.indices.dropLast(4).first {
            original[$0] == 0x47 && Array(original[$0..<$0 + 4]) == Array("GCOL".utf8)
        }
        func position() -> Int {
            switch rng.nextInt(in: 0...3) {
            case 0: return rng.nextInt(in: 0...min(8191, original.count - 1))
            case 1:
                if let heap { return min(heap + rng.nextInt(in: 0...4095), original.count - 1) } else { fallthrough }
            default: return rng.nextInt(in: 0...(original.count - 1))
            }
        }
        var out: [(String, [UInt8])] = []
        for _ in 0..<count {
            var b = original
            switch rng.nextInt(in: 0...9) {
            case 0...5:
                for _ in 0..<rng.nextInt(in: 1...8) { b[position()] ^= UInt8(1) << UInt8(rng.nextInt(in: 0...7)) }
                out.append(("bit flips", b))
            case 6, 7:
                let at = position(), length = rng.nextInt(in: 1...16),
                    value: UInt8 = rng.nextInt(in: 0...1) == 0 ? 0 : 0xFF
                for i in at..<min(at + length, b.count) { b[i] = value }
                out.append(("byte run", b))
            default:
                out.append(("truncation", Array(b.prefix(rng.nextInt(in: 0...(b.count - 1))))))
            }
        }
        return out
    }

    /// (file, mutants at budget 1, whether intact mutants read: the h5py sample is HDF5 but no fixture).
    @Test(arguments: [
        ("fixtures/loss.h5", 40, true),
        ("fixtures/activation.h5", 32, true),
        ("fixtures/testdata/h5py_sample.h5", 24, false),
    ])
    func mutatedFixtureFilesReadOrThrowTypedErrors(_ file: String, _ sample: Int, _ isFixture: Bool) throws {
        let count = sample * (try Self.budget())
        let seed = SeededRNG.fnv1a(file)
        var rng = SeededRNG(seed: seed)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.root + "/" + file)))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kc-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var tally: [String: Int] = [:]
        var kinds: [String: String] = [:]
        var failures: [String] = []
        // Batches keep the scratch directory small.
        var produced = 0
        /// Copies a failing input out of the scratch directory (replay: kernelcheck-fuzz FILE).
        func keep(_ path: String, _ label: String) -> String {
            let kept = directory.deletingLastPathComponent().appendingPathComponent(
                "kc-fuzz-\(label)-\(seed)-\(URL(fileURLWithPath: path).lastPathComponent)"
            ).path
            try? FileManager.default.removeItem(atPath: kept)
            try? FileManager.default.copyItem(atPath: path, toPath: kept)
            return kept
        }
        while produced < count {
            let batch = Self.mutants(of: original, count: min(250, count - produced), rng: &rng)
            var paths: [String] = []
            for (i, m) in batch.enumerated() {
                let path = directory.appendingPathComponent("input-\(produced + i)").path
                #expect(FileManager.default.createFile(atPath: path, contents: Data([1] + m.bytes)))
                paths.append(path)
                kinds[path] = m.kind
            }
            let outcomes = try Self.replay(paths)
            for path in paths {
                switch outcomes[path] {
                case .read: tally["read", default: 0] += 1
                case .typedError(let name): tally[name, default: 0] += 1
                case .crash(let why): failures.append("\(kinds[path]!) \(keep(path, "crash")): \(why)")
                case .hang:
                    failures.append("\(kinds[path]!) \(keep(path, "hang")): no outcome within the timeout (hang)")
                case nil: failures.append("\(path): no outcome")
                }
            }
            produced += batch.count
        }
        let summary = tally.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("FuzzTests \(file) (seed \(seed)): \(count) mutants → \(summary)")
        #expect(
            failures.isEmpty,
            "seed \(seed): \(failures.count) inputs crashed or hung (replay: .build/debug/kernelcheck-fuzz FILE):\n\(failures.prefix(5).joined(separator: "\n"))"
        )
        // The mutations must reach typed errors (and reads, for a fixture file), or they are
        // too wild or too tame to test anything.
        #expect(tally.keys.contains { $0.hasPrefix("FixtureError") }, "\(summary)")
        #expect(
            Set(kinds.values) == ["bit flips", "byte run", "truncation"], "every kind of mutation: \(Set(kinds.values))"
        )
        if isFixture { #expect(tally["read", default: 0] > 0, "\(summary)") }
        #expect(tally.values.reduce(0, +) + failures.count == count)
    }
}

import ArgumentParser
import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckTiled
import KernelCheckVerification

/// `kernelcheck bench`: GFLOP/s of the tiled kernels on the standard layer list, with the
/// reference and the peers (PyTorch, numpy/OpenBLAS via tools/bench_peers.py) measured in the
/// same run, medians of several runs, 1 thread and all threads.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark the tiled kernels against the reference and PyTorch / numpy (release build).",
        discussion: """
            Build in release for meaningful numbers: swift run -c release kernelcheck bench
            Peers come from python3 tools/bench_peers.py (torch CPU wheel, numpy, ONNX Runtime; OPENBLAS_CORETYPE and
            OPENBLAS_L2_SIZE are unset for that subprocess only). The header names the CPU, its vector ISA,
            caches and fp32 FMA peak per core, measured on this machine; '% peak' is against that peak.
            The path column names the code the tiled kernel took (see 'kernelcheck problem').
            The reference (naive loops, Float64 accumulation) runs a smaller batch of each layer.
            --dtype bf16 (f16, f8e4m3, f8e5m2, a comma list, or all) also times each layer with its inputs and output
            stored in that type (float32 accumulation) and prints a second table: GFLOP/s beside the float32 row of the
            same layer and beside PyTorch's CPU kernel for that type, or n/a with PyTorch's reason where it has none.
            """)

    @Option(parsing: .unconditional, help: "Comma-separated thread counts (0 = all cores).")
    var threads: String = "1,0"

    @Option(
        parsing: .unconditional,
        help:
            "Timed samples per measurement, each ≥ 20 ms of back-to-back calls after a ≥ 0.1 s warm-up (the median is reported)."
    )
    var runs: Int = 5

    @Option(help: "Only layers whose label or problem contains this text.")
    var only: String?

    @Option(help: "Only these directions (repeatable).")
    var direction: [String] = []

    @Option(help: "Implementation to time against the peers: tiled, or a plug-in (lib:PATH, exec:COMMAND).")
    var impl: String = "tiled"

    @Option(help: "Storage types to time besides f32: bf16, f16, f8e4m3, f8e5m2, a comma list, or all.")
    var dtype: String = "f32"

    @Flag(help: "Skip the PyTorch / numpy peers.")
    var noPeers = false

    @Flag(help: "Skip the reference measurements.")
    var noReference = false

    @Flag(help: "Also time the SGEMM register tile alone (panels in L1): the kernel's ceiling.")
    var micro = false

    @Option(help: "Output format: text (markdown table) or json.")
    var format: OutputFormat = .text

    @Option(help: "Also write the JSON records to this file (atomically).")
    var out: String?

    @OptionGroup var kernelVariant: KernelVariantOption

    func run() throws {
        try kernelVariant.select()
        let threadCounts = try threads.split(separator: ",").map { t -> Int in
            guard let v = Int(t), v >= 0 else {
                throw BadInput("--threads must be comma-separated non-negative integers, got '\(threads)'")
            }
            return Tiled.resolveThreads(v)
        }
        let directions = try parseDirections(direction)
        let dtypes = try parseStorageTypes(dtype)
        let implementation = impl == "tiled" ? nil : try Implementations.named(impl)
        let cases = Benchmark.standardCases.filter { c in
            only.map { c.label.contains($0) || c.problem.description.contains($0) } ?? true
        }
        if cases.isEmpty { throw BadInput("no benchmark layer matches '\(only ?? "")'") }
        #if DEBUG
            FileHandleOutput.standardError(
                "kernelcheck bench: this is a debug build; use 'swift run -c release kernelcheck bench' for real numbers"
            )
        #endif
        let machine = MachineProfile.current
        // With --format json standard output is the JSON document alone (it has the machine).
        let say: (String) -> Void = format == .json ? { FileHandleOutput.standardError($0) } : { print($0) }
        say("machine: \(machine.summary)")
        if micro {
            let t = Benchmark.registerTile(kc: 256, calls: 20_000, runs: runs)
            say(
                String(
                    format: "register tile %@ alone: %.1f GFLOP/s (%.0f%% of one core's measured %.1f)",
                    machine.registerTile, t.gflops, 100 * t.gflops / machine.peakGFLOPSPerCore,
                    machine.peakGFLOPSPerCore))
        }
        var records: [BenchmarkRecord] = []
        var peers: [PeerRecord] = []
        var unavailable: [PeerRecord] = []
        let sortedThreads = Array(Set(threadCounts)).sorted()
        // Progress over the tiled measurements, on standard error with the measurement lines
        // (standard output is the table or the JSON).
        let total = cases.map { c in c.directions.filter { directions?.contains($0) ?? true }.count }.reduce(0, +)
        let progress = Progress("bench", total: total * sortedThreads.count * dtypes.count, stream: .standardError)
        var measured = 0
        defer { progress.finish() }
        for c in cases {
            let caseDirections = c.directions.filter { directions?.contains($0) ?? true }
            for d in caseDirections {
                for type in dtypes {
                    guard let problem = Benchmark.stored(c.problem, as: type) else { continue }
                    let stored = Benchmark.Case(label: c.label, problem: problem, directions: c.directions)
                    for t in sortedThreads {
                        guard let r = try measure(implementation, stored, d, threads: t) else { continue }
                        progress.message(
                            String(
                                format: "%@ %@ %@ threads=%d: %.1f GFLOP/s", c.label, d.rawValue, type.rawValue, t,
                                r.gflops))
                        records.append(r)
                        measured += 1
                        progress.update(measured, note: "\(c.label) \(d.rawValue) \(type)")
                    }
                }
                if !noReference {
                    records.append(
                        Benchmark.measureReference(label: c.label, problem: c.problem, direction: d, runs: min(runs, 3))
                    )
                }
            }
            // The peers of each layer run right after its tiled runs, so that a ratio compares
            // timings taken seconds apart: this VM's speed drifts by several percent over a
            // minute, and a run is a minute and a half long.
            if !noPeers && !caseDirections.isEmpty {
                let (found, gaps) = PeerBenchmarks.run(
                    cases: [c], threads: sortedThreads, directions: caseDirections, dtypes: dtypes, runs: runs)
                unavailable += gaps
                // Peers join by problem string: say so when none came back for this layer
                // (a peer list out of step with the layer list), instead of empty columns.
                if found.isEmpty {
                    FileHandleOutput.standardError("kernelcheck bench: no peer timings for '\(c.label)' (\(c.problem))")
                }
                peers += found
            }
        }
        let report = BenchReport(
            machine: machine, records: records, peers: peers, implementation: impl,
            peersUnavailable: unavailable.isEmpty ? nil : unavailable)
        let json = try JSONFormat.string(.bench, totals: report.totals, report)
        if let out { try writeAtomically(json, to: out) }
        print(format == .json ? json : report.markdownTable())
        if format != .json && dtypes != [.f32] { print("\n" + report.lowPrecisionTable()) }
    }

    /// `--dtype`: f32 first (the rows the narrow ones are compared with), then each type named.
    func parseStorageTypes(_ text: String) throws -> [ScalarType] {
        if text == "all" { return ScalarType.allCases }
        var types: [ScalarType] = [.f32]
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let type = ScalarType(rawValue: name) else {
                throw BadInput(
                    "--dtype: '\(name)' is not a type; known: \(ScalarType.allCases.map(\.rawValue).joined(separator: ", ")), all"
                )
            }
            if !types.contains(type) { types.append(type) }
        }
        return types
    }

    /// The tiled kernel, or the `--impl` plug-in (nil, with a note, where it does not implement
    /// the direction).
    func measure(
        _ implementation: (any KernelImplementation)?, _ c: Benchmark.Case, _ d: Direction, threads: Int
    ) throws -> BenchmarkRecord? {
        guard let implementation else {
            return Benchmark.measureTiled(
                label: c.label, problem: c.problem, direction: d, threads: threads, runs: runs)
        }
        do {
            if let r = try Benchmark.measureImplementation(
                implementation, label: c.label, problem: c.problem, direction: d, threads: threads, runs: runs)
            {
                return r
            }
        } catch {
            FileHandleOutput.standardError("kernelcheck bench: \(error)")
            throw VerificationFailed(failures: 1)
        }
        FileHandleOutput.standardError("\(implementation.name) does not implement \(d.rawValue) of \(c.label): skipped")
        return nil
    }
}

/// Tiled (or `--impl`), reference and peer numbers of one run (the body of the `bench` JSON
/// document).
struct BenchReport: Codable {
    var machine: MachineProfile?
    var records: [BenchmarkRecord]
    var peers: [PeerRecord]
    /// The implementation of the timed column: tiled or a plug-in.
    var implementation = "tiled"
    /// PyTorch directions that have no CPU kernel for a storage type, with PyTorch's reason.
    var peersUnavailable: [PeerRecord]?

    /// Every measurement taken counts as a passed check (a benchmark judges no numbers).
    var totals: JSONTotals { JSONTotals(passed: records.count, failed: 0, mistrusted: 0, skipped: 0) }

    func markdownTable() -> String {
        var lines = [
            "| layer | direction | path | threads | \(implementation) GFLOP/s | % peak | reference GFLOP/s | PyTorch GFLOP/s | numpy GFLOP/s | \(implementation) / PyTorch | \(implementation) / numpy | vs fwd | ONNX Runtime GFLOP/s | \(implementation) / best peer |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        let tiled = records.filter { $0.implementation == implementation && ($0.dtype ?? .f32) == .f32 }
        func fmt(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "–" }
        func ratio(_ a: Double, _ b: Double?) -> String { b.map { String(format: "%.2f×", a / $0) } ?? "–" }
        func peer(_ p: PeerRecord?) -> String { fmt(p?.gflops) + (p?.starved == true ? " †" : "") }
        var anyStarved = false
        for r in tiled {
            let reference = records.first {
                $0.implementation == "reference" && $0.label == r.label && $0.direction == r.direction
            }
            let torch = peers.first {
                $0.framework == "torch" && $0.problem == r.problem && $0.direction == r.direction.rawValue
                    && $0.threads == r.threads
            }
            // numpy measures the forward GEMM; a matmul backward pass is a GEMM of the same size.
            let numpy = peers.first {
                $0.framework == "numpy" && $0.problem == r.problem && $0.direction == r.direction.rawValue
                    && $0.threads == r.threads
            }
            let ort = peers.first {
                $0.framework == "onnxruntime" && $0.problem == r.problem && $0.direction == r.direction.rawValue
                    && $0.threads == r.threads
            }
            let best = [torch, numpy, ort].compactMap { $0?.gflops }.max()
            anyStarved = anyStarved || r.starved || [torch, numpy, ort].contains { $0?.starved == true }
            let forward = tiled.first { $0.label == r.label && $0.direction == .fwd && $0.threads == r.threads }
            let vsForward = r.direction == .fwd ? "" : ratio(r.gflops, forward?.gflops)
            lines.append(
                "| \(r.label) | \(r.direction.rawValue) | \(r.path ?? "–") | \(r.threads) | \(fmt(r.gflops))\(r.starved ? " †" : "") | \(String(format: "%.0f%%", 100 * r.peakFraction)) | \(fmt(reference?.gflops)) | \(peer(torch)) | \(peer(numpy)) | \(ratio(r.gflops, torch?.gflops)) | \(ratio(r.gflops, numpy?.gflops)) | \(vsForward) | \(peer(ort)) | \(ratio(r.gflops, best)) |"
            )
        }
        if let note = paddingNote(tiled) { lines += ["", note] }
        if anyStarved {
            lines += [
                "",
                "† The process (KernelCheck's or the peer's) had less than 85 % of its threads' cores during these samples (another process, "
                    + "or a virtual CPU the host did not run): the time is the machine's, not the kernel's; measure again.",
            ]
        }
        return lines.joined(separator: "\n")
    }
}

extension BenchReport {
    /// The layers whose counted FLOPs include products with zero padding, with the share that
    /// is real, or nil when there are none: a peer that skips those products does less work
    /// for the same count (and `% peak` can pass 100 for a kernel that skips some).
    func paddingNote(_ rows: [BenchmarkRecord]) -> String? {
        var seen = Set<String>(), shares: [String] = []
        for r in rows {
            guard let real = r.realProducts, seen.insert(r.label).inserted else { continue }
            shares.append("\(r.label) \(String(format: "%.1f", 100 * real)) %")
        }
        guard !shares.isEmpty else { return nil }
        return "Counted FLOPs include the products with zero padding; the real share: "
            + shares.joined(separator: ", ") + "."
    }
}

extension BenchReport {
    /// The narrow-type rows beside the float32 row of the same layer, direction and threads
    /// (`dt / f32`) and beside PyTorch's kernel for the same type (n/a, with the reason listed
    /// under the table, where PyTorch has none).
    func lowPrecisionTable() -> String {
        var lines = [
            "| layer | direction | threads | dt | \(implementation) f32 GFLOP/s | \(implementation) dt GFLOP/s | dt / f32 | PyTorch dt GFLOP/s | \(implementation) / PyTorch (dt) | PyTorch f32 GFLOP/s |",
            "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        var reasons: [String] = []
        func fmt(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "–" }
        func ratio(_ a: Double, _ b: Double?) -> String { b.map { String(format: "%.2f×", a / $0) } ?? "–" }
        let timed = records.filter { $0.implementation == implementation }
        for r in timed where (r.dtype ?? .f32) != .f32 {
            let f32 = timed.first {
                $0.label == r.label && $0.direction == r.direction && $0.threads == r.threads
                    && ($0.dtype ?? .f32) == .f32
            }
            func torch(_ problem: String?) -> PeerRecord? {
                peers.first {
                    $0.framework == "torch" && $0.problem == problem && $0.direction == r.direction.rawValue
                        && $0.threads == r.threads
                }
            }
            let peer = torch(r.problem)
            var peerText = fmt(peer?.gflops)
            if peer == nil,
                let gap = peersUnavailable?.first(where: {
                    $0.problem == r.problem && $0.direction == r.direction.rawValue && $0.threads == r.threads
                }), let reason = gap.unavailable
            {
                if !reasons.contains(reason) { reasons.append(reason) }
                peerText = "n/a [\(reasons.firstIndex(of: reason)! + 1)]"
            }
            lines.append(
                "| \(r.label) | \(r.direction.rawValue) | \(r.threads) | \(r.dtype?.rawValue ?? "f32") | \(fmt(f32?.gflops)) | \(fmt(r.gflops)) | \(ratio(r.gflops, f32?.gflops)) | \(peerText) | \(ratio(r.gflops, peer?.gflops)) | \(fmt(torch(f32?.problem)?.gflops)) |"
            )
        }
        for (i, reason) in reasons.enumerated() { lines.append("\n[\(i + 1)] PyTorch: \(reason)") }
        return lines.joined(separator: "\n")
    }
}

/// One line of tools/bench_peers.py: a timing (`runs`, `median_s`, `gflops`), or, for a
/// problem the framework has no kernel for, the reason (`unavailable`).
struct PeerRecord: Codable {
    var framework: String
    var version: String
    var op: String
    var direction: String
    var problem: String
    var threads: Int
    var runs: Int?
    var median_s: Double?
    var gflops: Double?
    var unavailable: String?
    /// Cores the peer's process kept busy during its samples (`Samples.cores_used` in
    /// `tools/bench_peers.py`), when it reported it.
    var cores_used: Double?

    /// Whether the peer had less than 85 % of its threads' cores (`Benchmark.starved`).
    var starved: Bool { Benchmark.starved(coresUsed: cores_used, threads: threads) }
}

enum PeerBenchmarks {
    /// Runs tools/bench_peers.py; on any failure prints one line and returns no peers. Also
    /// returns the lines of problems a peer has no kernel for (`unavailable`).
    static func run(
        cases: [Benchmark.Case], threads: [Int], directions: [Direction], dtypes: [ScalarType] = [.f32], runs: Int
    ) -> ([PeerRecord], [PeerRecord]) {
        // Only the peer families, matmul sizes, convolutions and directions of these layers.
        var families = Set<String>(), sizes = Set<Int>(), problems: [String] = []
        for c in cases {
            switch c.problem {
            case .matmul(let p): families.insert("matmul"); sizes.insert(p.m)
            case .convTranspose: families.insert("convt2d"); problems.append(c.problem.description)
            default: families.insert("conv2d"); problems.append(c.problem.description)
            }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = [
            "python3", RepositoryPaths.root + "/tools/bench_peers.py",
            "--threads", threads.map(String.init).joined(separator: ","), "--runs", String(runs),
            "--only", families.sorted().joined(separator: ","),
        ]
        arguments += ["--directions", directions.map { $0.rawValue }.joined(separator: ",")]
        arguments += ["--dtypes", dtypes.map(\.rawValue).joined(separator: ",")]
        if !sizes.isEmpty { arguments += ["--matmul-sizes", sizes.sorted().map(String.init).joined(separator: ",")] }
        for problem in problems { arguments += ["--problem", problem] }
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        do { try process.run() } catch {
            FileHandleOutput.standardError(
                "kernelcheck bench: peers skipped: cannot run python3 (\(error.localizedDescription))")
            return ([], [])
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            FileHandleOutput.standardError(
                "kernelcheck bench: peers skipped: tools/bench_peers.py exited \(process.terminationStatus)")
            return ([], [])
        }
        let decoder = JSONDecoder()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map { Data($0.utf8) }
        let parsed = lines.compactMap { try? decoder.decode(PeerRecord.self, from: $0) }
        return (parsed.filter { $0.gflops != nil }, parsed.filter { $0.gflops == nil && $0.unavailable != nil })
    }
}

/// Writes text to a temporary file beside `path`, then renames it over `path`.
func writeAtomically(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    do {
        try Data(text.utf8).write(to: temporary)
        // rename(2) replaces the target atomically within one directory.
        guard rename(temporary.path, path) == 0 else {
            throw BadInput("cannot rename \(temporary.path) to \(path): \(String(cString: strerror(errno)))")
        }
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw BadInput("cannot write \(path): \(error.localizedDescription)")
    }
}

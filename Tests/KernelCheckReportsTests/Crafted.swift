import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckVerification

@testable import KernelCheckReports

enum Crafted {
    /// The message of the `ReportError` that `body` throws, "no error", or "untyped: …" for
    /// any other error (so an expectation on the text names what happened instead).
    static func reason(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch { return (error as? ReportError)?.description ?? "untyped: \(error)" }
    }

    static let environment = ReportEnvironment(
        cpuModel: "Test CPU", cores: 2, toolchain: "Swift test", os: "TestOS", gitCommit: "abc123")

    static func row(
        _ source: CaseSource = .sweepBound, op: String = "conv", direction: String = "fwd", impl: String = "tiled",
        utilizations: [Double] = [0.01, 0.1], failed: Int = 0
    ) -> ResultRow {
        var r = ResultRow(source: source, op: op, direction: direction, implementation: impl)
        for u in utilizations { r.add(status: "passed", utilization: u, ulp: 3, nmse: 1e-14, seconds: 0.001) }
        for _ in 0..<failed { r.add(status: "failed", utilization: 5, ulp: 900, nmse: 1e-3, seconds: 0.001) }
        return r
    }

    static func failure(
        _ problem: String = "matmul a=2x3 b=3x4", direction: String = "fwd", source: CaseSource = .sweepExact
    ) -> FailureRecord {
        FailureRecord(
            source: source, op: "matmul", direction: direction, implementation: "tiled", mode: "exact", seed: 42,
            problem: problem, shrunkProblem: problem, shrinkSteps: 0, summary: "failed util=<inf> & worse",
            replay:
                "kernelcheck check --problem '\(problem)' --direction \(direction) --seed 42 --mode exact --impl tiled")
    }

    static func bench(_ label: String = "matmul 256³", seconds: Double = 0.01, threads: Int = 1) -> BenchEntry {
        BenchEntry(
            label: label, problem: "matmul a=256x256 b=256x256", op: "matmul", direction: "fwd",
            implementation: "tiled",
            threads: threads, runs: 3, medianSeconds: seconds, gflops: 2 * 256 * 256 * 256 / seconds / 1e9,
            peakFraction: 0.1)
    }

    /// A small report with one row per source, a fixture case, a benchmark and no failures.
    static func report(seed: UInt64 = 20261127) -> NightlyReport {
        let settings = NightlySettings(
            seed: seed, seedSource: "given", budgetSeconds: 60, sweepCases: 10, mediumCases: 0, gradientCases: 2,
            benchRuns: 3, shard: 0, shardCount: 1)
        var r = NightlyReport(
            createdAt: "2026-11-27T00:00:00Z", environment: environment, settings: settings,
            rows: [
                row(.fixture), row(.sweepExact, utilizations: [0, 0]), row(.sweepBound),
                row(.gradient, direction: "bwd_data"),
            ],
            fixtureCases: ["conv.h5:case0"], benchmarks: [bench()],
            phases: [PhaseSummary(name: "sweep_exact", seconds: 1, budgetSeconds: 10, problems: 10, checks: 30)])
        r.normalize()
        return r
    }
}

/// Passes every call to the tiled kernels and records which (problem, direction) it ran.
final class RecordingImplementation: KernelImplementation, @unchecked Sendable {
    private let lock = NSLock()
    private var seen = Set<String>()
    let inner = TiledImplementation()
    var name: String { "recording" }

    func supports(_ problem: Problem, _ direction: Direction) -> Bool { inner.supports(problem, direction) }

    func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError) {
        lock.lock()
        seen.insert("\(problem.description) | \(direction.rawValue)")
        lock.unlock()
        try inner.run(problem, direction, inputs: inputs, output: output, threads: threads)
    }

    var keys: Set<String> { lock.lock(); defer { lock.unlock() }; return seen }
}

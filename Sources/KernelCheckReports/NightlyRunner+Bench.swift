import Foundation
import KernelCheckCore
import KernelCheckFixtures
import KernelCheckProblems
import KernelCheckTiled
import KernelCheckVerification

// The benchmark phase of the nightly run and the re-timing that confirms a slowdown.
extension NightlyRunner {
    /// Tiled GFLOP/s on the benchmark layers (shard `i` takes layers with index ≡ i mod n).
    /// A measurement starts only when its estimated time (runs + warm-up at a pessimistic
    /// 40 GFLOP/s per core, plus input set-up) fits before the deadline.
    func runBench(deadline: Date, into out: inout Collector) {
        let c = configuration
        let start = Date()
        guard let tiled = c.implementations.first(where: { $0 is TiledImplementation }) as? TiledImplementation else {
            out.skipped.append(
                SkippedWork(phase: "bench", item: "all", reason: "the tiled implementation is not selected"))
            return
        }
        let cases = c.benchCases.enumerated().filter { $0.offset % c.shardCount == c.shard }.map(\.element)
        log(
            String(
                format: "bench: %d layer(s), %d run(s), %.0f s", cases.count, c.benchRuns, deadline.timeIntervalSinceNow
            ))
        var measured = 0, attempted = 0
        let total = cases.map { $0.directions.count * c.benchThreads.count }.reduce(0, +)
        report("bench", 0, of: total, "", deadline: deadline)
        for bench in cases {
            for direction in bench.directions {
                for threads in c.benchThreads {
                    let name =
                        "\(bench.label) \(direction.rawValue) \(threads == 0 ? "all" : String(threads)) thread(s)"
                    attempted += 1
                    defer { report("bench", attempted, of: total, name, deadline: deadline) }
                    let estimate = estimatedSeconds(bench, direction, threads: threads)
                    if Date().addingTimeInterval(estimate) > deadline {
                        out.skipped.append(
                            SkippedWork(
                                phase: "bench", item: name,
                                reason: String(format: "time budget: needs ≈ %.1f s", estimate)))
                        continue
                    }
                    switch measure(bench, direction, threads: threads, tiled: tiled) {
                    case .success(let entry): out.benchmarks.append(entry)
                    case .failure(let problem):
                        out.skipped.append(SkippedWork(phase: "bench", item: name, reason: problem.reason))
                        continue
                    }
                    measured += 1
                }
            }
        }
        out.phases.append(
            PhaseSummary(
                name: "bench", seconds: Date().timeIntervalSince(start),
                budgetSeconds: deadline.timeIntervalSince(start), problems: cases.count, checks: measured))
        log(String(format: "bench: %d measurements in %.1f s", measured, Date().timeIntervalSince(start)))
    }

    struct MeasurementProblem: Error { var reason: String }

    /// A pessimistic time for one measurement: warm-up and runs at 40 GFLOP/s per core, plus
    /// half a second of input set-up.
    func estimatedSeconds(_ bench: NightlyBenchCase, _ direction: Direction, threads: Int) -> Double {
        let cores = Tiled.resolveThreads(threads)
        return Double(configuration.benchRuns + 1) * bench.problem.descriptor.flops(for: direction)
            / (40e9 * Double(cores)) + 0.5
    }

    /// One benchmark measurement: inputs and output prepared once, then `benchRuns` timed runs.
    func measure(
        _ bench: NightlyBenchCase, _ direction: Direction, threads: Int, tiled: TiledImplementation
    )
        -> Result<BenchEntry, MeasurementProblem>
    {
        let d = bench.problem.descriptor
        var inputs: [String: Tensor<Float>] = [:]
        for spec in d.inputs(for: direction) {
            inputs[spec.role] = Fill.uniform(low: -1, high: 1).tensor(spec.shape, seed: 1, role: spec.role)
        }
        let count = Shape.elementCount(d.output(for: direction).shape) ?? 0
        let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(count, 1))
        defer { output.deallocate() }
        let io: KernelIO
        do {
            io = try KernelIO(bench.problem, direction, inputs, UnsafeMutableBufferPointer(rebasing: output[0..<count]))
        } catch {
            return .failure(MeasurementProblem(reason: "cannot prepare buffers: \(error)"))
        }
        var failure: ImplementationError?
        let r = Benchmark.measure(
            label: bench.label, problem: bench.problem, direction: direction,
            implementation: tiled.name, threads: threads, runs: configuration.benchRuns
        ) {
            do throws(ImplementationError) { try tiled.run(bench.problem, direction, io: io, threads: threads) } catch {
                failure = error
            }
        }
        if let failure { return .failure(MeasurementProblem(reason: "the kernel failed: \(failure)")) }
        var entry = BenchEntry(
            label: r.label, problem: r.problem, op: bench.problem.family.rawValue,
            direction: direction.rawValue, implementation: r.implementation, threads: r.threads,
            runs: r.runs, medianSeconds: r.medianSeconds, gflops: r.gflops, peakFraction: r.peakFraction)
        entry.path = tiled.path(bench.problem, direction).name
        return .success(entry)
    }

    /// Re-measures each benchmark the diff finds more than 10 % slower, up to `attempts` more
    /// times while the budget lasts, keeping the fastest median (`BenchEntry.attempts` counts
    /// the measurements): on a shared machine one unlucky median is not a regression, while a
    /// real slowdown stays slow every time. Then recomputes the diff.
    public func confirmSlowdowns(
        _ report: inout NightlyReport, baseline: NightlyReport, path: String, deadline: Date,
        attempts: Int = 2
    ) {
        guard let diff = report.diff, !diff.performanceRegressions.isEmpty,
            let tiled = configuration.implementations.first(where: { $0 is TiledImplementation })
                as? TiledImplementation
        else { return }
        let cores = Tiled.defaultThreads
        for regression in diff.performanceRegressions {
            guard let i = report.benchmarks.firstIndex(where: { $0.key == regression.key }) else { continue }
            let entry = report.benchmarks[i]
            guard let bench = configuration.benchCases.first(where: { $0.label == entry.label }),
                let direction = Direction(rawValue: entry.direction)
            else { continue }
            let threads = entry.threads == cores && !configuration.benchThreads.contains(cores) ? 0 : entry.threads
            for _ in 0..<attempts {
                if Date().addingTimeInterval(estimatedSeconds(bench, direction, threads: threads)) > deadline {
                    report.skipped.append(
                        SkippedWork(phase: "bench", item: "re-measuring \(entry.key)", reason: "time budget spent"))
                    break
                }
                guard case .success(let again) = measure(bench, direction, threads: threads, tiled: tiled) else {
                    break
                }
                let count = (report.benchmarks[i].attempts ?? 1) + 1
                if again.medianSeconds < report.benchmarks[i].medianSeconds { report.benchmarks[i] = again }
                report.benchmarks[i].attempts = count
                log(
                    String(
                        format: "bench: re-measured %@: %.3g s (baseline %.3g s)", entry.key, again.medianSeconds,
                        regression.baselineSeconds))
                if report.benchmarks[i].medianSeconds <= ReportDiff.slowdownFactor * regression.baselineSeconds {
                    break
                }
            }
        }
        report.compare(with: baseline, path: path)
    }
}

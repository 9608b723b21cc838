import KernelCheckCore
import KernelCheckProblems

extension Benchmark {
    /// Times the tiled kernel of one direction on buffers filled once (uniform [−1, 1]); only
    /// the kernel call is inside the timed region.
    public static func measureTiled(
        label: String, problem: Problem, direction: Direction, threads: Int, runs: Int
    ) -> BenchmarkRecord {
        let d = problem.descriptor
        let inputs = benchmarkInputs(problem, direction)
        let count = Shape.elementCount(d.output(for: direction).shape) ?? 0
        let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(count, 1))
        defer { output.deallocate() }
        let io = try! KernelIO(problem, direction, inputs, UnsafeMutableBufferPointer(rebasing: output[0..<count]))
        let tiled = TiledImplementation()
        var record = measure(
            label: label, problem: problem, direction: direction, implementation: "tiled", threads: threads, runs: runs
        ) {
            try! tiled.run(problem, direction, io: io, threads: threads)
        }
        record.path = tiled.path(problem, direction).name
        return record
    }

    /// Times any implementation's `run` (everything it does per call counts, e.g. a plug-in's
    /// input copies) on the inputs `measureTiled` uses, into a guarded buffer. Nil when it does
    /// not implement the direction; a failing first call throws instead of being timed.
    public static func measureImplementation(
        _ implementation: any KernelImplementation, label: String, problem: Problem, direction: Direction,
        threads: Int, runs: Int
    ) throws(ImplementationError) -> BenchmarkRecord? {
        guard implementation.supports(problem, direction) else { return nil }
        let inputs = benchmarkInputs(problem, direction)
        let output = GuardedBuffer(count: Shape.elementCount(problem.descriptor.output(for: direction).shape) ?? 0)
        try implementation.run(problem, direction, inputs: inputs, output: output.payload, threads: threads)
        return measure(
            label: label, problem: problem, direction: direction, implementation: implementation.name,
            threads: threads, runs: runs
        ) {
            try? implementation.run(problem, direction, inputs: inputs, output: output.payload, threads: threads)
        }
    }

    /// The inputs of one direction, uniform in [−1, 1] (a variance in [0.5, 2]), seed 1,
    /// rounded to the problem's storage type (so that they are values of it).
    static func benchmarkInputs(_ problem: Problem, _ direction: Direction) -> [String: Tensor<Float>] {
        var inputs: [String: Tensor<Float>] = [:]
        let storage = problem.descriptor.precision.storage
        for spec in problem.descriptor.inputs(for: direction) {
            let fill: Fill = spec.role == "var" ? .uniform(low: 0.5, high: 2) : .uniform(low: -1, high: 1)
            var t: Tensor<Float> = fill.tensor(spec.shape, seed: 1, role: spec.role)
            if storage != .f32 {
                for i in t.storage.indices { t.storage[i] = storage.rounded(t.storage[i]) }
            }
            inputs[spec.role] = t
        }
        return inputs
    }
}

import KernelCheckCore
import KernelCheckProblems

extension Benchmark {
    /// Times the tiled kernel of one direction on buffers filled once (uniform [−1, 1]); only
    /// the kernel call is inside the timed region.
    public static func measureTiled(
        label: String, problem: Problem, direction: Direction, threads: Int, runs: Int
    ) -> BenchmarkRecord {
        let d = problem.descriptor
        var inputs: [String: Tensor<Float>] = [:]
        for spec in d.inputs(for: direction) {
            let fill: Fill = spec.role == "var" ? .uniform(low: 0.5, high: 2) : .uniform(low: -1, high: 1)
            inputs[spec.role] = fill.tensor(spec.shape, seed: 1, role: spec.role)
        }
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
}

import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTiled

/// One timed measurement: median seconds of several runs of one direction of one problem.
public struct BenchmarkRecord: Codable, Sendable {
    public var label: String
    public var problem: String
    public var direction: Direction
    public var implementation: String
    public var threads: Int
    public var runs: Int
    public var medianSeconds: Double
    public var gflops: Double
    /// Fraction of this machine's fp32 FMA peak for `threads` cores, the peak measured by
    /// `MachineProfile` on the machine that ran the benchmark.
    public var peakFraction: Double
    /// Set when the measured problem differs from `problem` (the reference runs a smaller
    /// batch of the same layer: naive loops would take minutes on the full one).
    public var measuredProblem: String?
    /// The code path the tiled implementation took (`TiledImplementation.path`), so that a
    /// number names the code it belongs to; nil for other implementations.
    public var path: String?
    /// The storage type of the problem's inputs and output (`dt`): `f32`, `bf16`, `f16`,
    /// `f8e4m3` or `f8e5m2` (also in `problem`, as ` dt=…`).
    public var dtype: ScalarType? = nil
    /// The share of the counted products that multiply real input (`realProductFraction`),
    /// when below 1: the rest multiply zero padding, which a kernel may skip.
    public var realProducts: Double? = nil
    /// Cores the process kept busy during the timed samples (`BenchmarkTiming.coresUsed`).
    public var coresUsed: Double? = nil

    /// Whether the measurement had less than 85 % of its cores (`Benchmark.starved`).
    public var starved: Bool { Benchmark.starved(coresUsed: coresUsed, threads: threads) }
}

extension Benchmark {
    /// Whether a measurement that kept `coresUsed` cores busy on average had less than 85 % of
    /// its `threads` cores: a thread waited for a CPU, so the time is the machine's, not the
    /// kernel's. False when not measured.
    public static func starved(coresUsed: Double?, threads: Int) -> Bool {
        coresUsed.map { $0 < 0.85 * Double(threads) } ?? false
    }
}

/// `kernelcheck bench`: GFLOP/s of the tiled kernels (and of the reference, for scale) on the
/// standard layers, median of several runs, 1 thread and all threads.
public enum Benchmark {
    /// fp32 FMA peak of one core of this machine, measured once per process.
    public static var peakGFLOPSPerCore: Double { MachineProfile.current.peakGFLOPSPerCore }

    /// Leaves glibc malloc as a long-running process leaves it, once per process: freeing a
    /// block of just under 32 MiB raises its mmap threshold to that size, so per-call scratch
    /// buffers of a few MB come from the heap instead of fresh, page-faulting mappings.
    /// `tools/bench_peers.py` does the same in each peer process (a fresh PyTorch process ran
    /// its first conv ≈ 15 % slower without it), so both sides are timed in the same state.
    static let warmAllocator: Void = {
        free(malloc((32 << 20) - (64 << 10)))
    }()

    /// A named layer.
    public struct Case: Sendable {
        public var label: String
        public var problem: Problem
        public var directions: [Direction]

        public init(label: String, problem: Problem, directions: [Direction]) {
            self.label = label
            self.problem = problem
            self.directions = directions
        }
    }

    /// The benchmark list: matmul 256³/1024³/2048³, the GAN generator layers (batch 16), the
    /// ResNet layers (batch 8) and the 3→32 k5 conv of the user question (batch 16).
    public static var standardCases: [Case] {
        let gemmDirections: [Direction] = [.fwd, .bwdData, .bwdWeights]
        let layers = [
            ("matmul 256³", "matmul a=256x256 b=256x256"),
            ("matmul 1024³", "matmul a=1024x1024 b=1024x1024"),
            ("matmul 2048³", "matmul a=2048x2048 b=2048x2048"),
            ("GAN conv 128→256 k5 16²", "conv2d n=16 ic=128 oc=256 in=16x16 k=5x5 p=2x2:2x2"),
            ("GAN convT 256→256 k4 s2 16→32", "convt2d n=16 ic=256 oc=256 in=16x16 k=4x4 s=2x2 p=1x1:1x1"),
            ("GAN conv 256→256 k5 32²", "conv2d n=16 ic=256 oc=256 in=32x32 k=5x5 p=2x2:2x2"),
            ("GAN conv 256→3 k7 32²", "conv2d n=16 ic=256 oc=3 in=32x32 k=7x7 p=3x3:3x3"),
            ("ResNet conv 64→64 k3 56²", "conv2d n=8 ic=64 oc=64 in=56x56 k=3x3 p=1x1:1x1"),
            ("ResNet 1×1 s2 256→512 56²", "conv2d n=8 ic=256 oc=512 in=56x56 k=1x1 s=2x2"),
            ("conv 3→32 k5 256²", "conv2d n=16 ic=3 oc=32 in=256x256 k=5x5 p=2x2:2x2"),
        ]
        return layers.map { label, problem in
            Case(label: label, problem: try! Problem.parse(problem), directions: gemmDirections)
        }
    }

    /// `problem` with its inputs and output stored in `type` (accumulation float32), or nil
    /// for an op that is float32 only (padding projections, activations, losses).
    public static func stored(_ problem: Problem, as type: ScalarType) -> Problem? {
        let precision = Precision(storage: type)
        switch problem {
        case .conv(var p): p.precision = precision; return .conv(p)
        case .convTranspose(var p): p.precision = precision; return .convTranspose(p)
        case .matmul(var p): p.precision = precision; return .matmul(p)
        case .linear(var p): p.precision = precision; return .linear(p)
        default: return type == .f32 ? problem : nil
        }
    }

    /// Median timing of `timed` (one untimed warm-up call first), as GFLOP/s of `problem`'s
    /// direction (or of `measuredProblem` when a smaller stand-in was timed).
    public static func measure(
        label: String, problem: Problem, direction: Direction, implementation: String, threads: Int, runs: Int,
        measuredProblem: Problem? = nil, _ timed: () -> Void
    ) -> BenchmarkRecord {
        warmAllocator
        let measured = measuredProblem ?? problem
        let timing = time(
            name: label, threads: threads, flops: measured.descriptor.flops(for: direction), runs: runs, timed)
        let seconds = timing.medianSeconds, gflops = timing.gflops
        let cores = Tiled.resolveThreads(threads)
        return BenchmarkRecord(
            label: label, problem: problem.description, direction: direction, implementation: implementation,
            threads: cores, runs: runs, medianSeconds: seconds, gflops: gflops,
            peakFraction: gflops / (peakGFLOPSPerCore * Double(cores)),
            measuredProblem: measuredProblem?.description, dtype: problem.descriptor.precision.storage,
            realProducts: Self.realProducts(measured, direction), coresUsed: timing.coresUsed)
    }

    /// `realProductFraction` of `problem`'s direction, or nil when every counted product is real.
    static func realProducts(_ problem: Problem, _ direction: Direction) -> Double? {
        let fraction = problem.descriptor.realProductFraction(for: direction)
        return fraction < 1 ? fraction : nil
    }

    /// The same layer with a smaller batch (or smaller M for matmul) so the naive reference
    /// finishes in about a second; its GFLOP/s rate is what the table reports.
    public static func referenceScaled(_ problem: Problem) -> Problem {
        switch problem {
        case .conv(var p): p.batch = 1; if p.macs > 3e8 { p.outChannels = max(1, p.outChannels / 8) }; return .conv(p)
        case .convTranspose(var p):
            p.batch = 1; if p.macs > 3e8 { p.outChannels = max(1, p.outChannels / 8) }; return .convTranspose(p)
        case .matmul(let p): return .matmul(MatmulProblem(m: 64, n: min(p.n, 256), k: min(p.k, 256)))
        default: return problem
        }
    }

    /// Times the reference (Float64 accumulation, naive loops) on `referenceScaled(problem)`.
    public static func measureReference(
        label: String, problem: Problem, direction: Direction, runs: Int
    ) -> BenchmarkRecord {
        let scaled = referenceScaled(problem)
        let d = scaled.descriptor
        var inputs: [String: Tensor<Double>] = [:]
        for spec in d.inputs(for: direction) {
            inputs[spec.role] = Fill.uniform(low: -1, high: 1).tensor(spec.shape, seed: 1, role: spec.role)
        }
        return measure(
            label: label, problem: problem, direction: direction, implementation: "reference", threads: 1, runs: runs,
            measuredProblem: scaled
        ) {
            _ = try! Reference.run(scaled, direction, inputs: inputs)
        }
    }
}

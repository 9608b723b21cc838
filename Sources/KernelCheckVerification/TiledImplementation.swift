import KernelCheckCore
import KernelCheckProblems
import KernelCheckTiled

/// The tiled kernels behind the `KernelImplementation` protocol.
public struct TiledImplementation: KernelImplementation {
    public init() {}
    public var name: String { "tiled" }

    public func run(
        _ problem: Problem, _ direction: Direction, inputs: [String: Tensor<Float>],
        output: UnsafeMutableBufferPointer<Float>, threads: Int
    ) throws(ImplementationError) {
        try run(problem, direction, io: KernelIO(problem, direction, inputs, output), threads: threads)
    }

    /// Every direction of every problem, except sums accumulated in f16 (`acc=f16`): the
    /// tiled kernels accumulate in float32 only.
    public func supports(_ problem: Problem, _ direction: Direction) -> Bool {
        problem.directions.contains(direction) && problem.descriptor.precision.accumulation == .f32
    }

    /// Runs on buffers prepared once (the benchmark's timed call: no copies, no checks).
    ///
    /// A problem stored in a narrow type (`dt=bf16`, `f16`, `f8e4m3`, `f8e5m2`) reads its
    /// inputs as bit patterns (`KernelIO.stored`), which the kernels widen to float32 (matmul
    /// and linear while packing GEMM panels, the convolutions up front); sums are float32 and
    /// the output is rounded once to `odt`.
    public func run(_ problem: Problem, _ direction: Direction, io: KernelIO, threads: Int) throws(ImplementationError)
    {
        guard io.precision.accumulation == .f32 else {
            throw .unsupported(implementation: name, problem: problem.description, direction: direction)
        }
        let out = io.output
        let t = threads
        /// A role as the kernels take it: its stored patterns when narrow, else its floats.
        func input(_ role: String) -> Tiled.Input {
            io.stored(role).map { Tiled.Input(bits: $0, type: io.precision.storage) } ?? Tiled.Input(io[role])
        }
        func optionalInput(_ role: String) -> Tiled.Input? { io.optional(role) == nil ? nil : input(role) }
        switch (problem, direction) {
        case (.conv(let p), .fwd):
            Tiled.convForward(p, x: input("x"), w: input("w"), b: optionalInput("b"), y: out, threads: t)
        case (.conv(let p), .bwdData): Tiled.convBackwardData(p, dy: input("dy"), w: input("w"), dx: out, threads: t)
        case (.conv(let p), .bwdWeights):
            Tiled.convBackwardWeights(p, x: input("x"), dy: input("dy"), dw: out, threads: t)
        case (.conv(let p), .bwdBias): Tiled.convBackwardBias(p, dy: input("dy"), db: out, threads: t)
        case (.convTranspose(let p), .fwd):
            Tiled.convTransposeForward(p, x: input("x"), w: input("w"), b: optionalInput("b"), y: out, threads: t)
        case (.convTranspose(let p), .bwdData):
            Tiled.convTransposeBackwardData(p, dy: input("dy"), w: input("w"), dx: out, threads: t)
        case (.convTranspose(let p), .bwdWeights):
            Tiled.convTransposeBackwardWeights(p, x: input("x"), dy: input("dy"), dw: out, threads: t)
        case (.convTranspose(let p), .bwdBias):
            Tiled.convTransposeBackwardBias(p, dy: input("dy"), db: out, threads: t)
        case (.padProjectionA(let p), .fwd): Tiled.padProjectionAForward(p, x: io["x"], y: out, threads: t)
        case (.padProjectionA(let p), .bwdData): Tiled.padProjectionABackwardData(p, dy: io["dy"], dx: out, threads: t)
        case (.padProjectionB(let p), .fwd):
            Tiled.padProjectionBForward(
                p, x: io["x"], w: io["w"], gamma: io["gamma"], beta: io["beta"], mean: io["mean"],
                variance: io["var"], y: out, threads: t)
        case (.padProjectionB(let p), .bwdData):
            Tiled.padProjectionBBackwardData(
                p, dy: io["dy"], w: io["w"], gamma: io["gamma"], variance: io["var"], dx: out, threads: t)
        case (.padProjectionB(let p), .bwdWeights):
            Tiled.padProjectionBBackwardWeights(
                p, x: io["x"], dy: io["dy"], gamma: io["gamma"], variance: io["var"], dw: out, threads: t)
        case (.padProjectionB(let p), .bwdGamma):
            Tiled.padProjectionBBackwardGamma(
                p, x: io["x"], w: io["w"], dy: io["dy"], mean: io["mean"], variance: io["var"],
                dgamma: out, threads: t)
        case (.padProjectionB(let p), .bwdBeta):
            Tiled.padProjectionBBackwardBeta(p, dy: io["dy"], dbeta: out, threads: t)
        case (.matmul(let p), .fwd): Tiled.matmulForward(p, a: input("a"), b: input("b"), y: out, threads: t)
        case (.matmul(let p), .bwdData):
            Tiled.matmulBackwardA(p, dy: input("dy"), b: input("b"), da: out, threads: t)
        case (.matmul(let p), .bwdWeights):
            Tiled.matmulBackwardB(p, a: input("a"), dy: input("dy"), db: out, threads: t)
        case (.linear(let p), .fwd):
            Tiled.linearForward(p, x: input("x"), w: input("w"), b: optionalInput("b"), y: out, threads: t)
        case (.linear(let p), .bwdData):
            Tiled.linearBackwardData(p, dy: input("dy"), w: input("w"), dx: out, threads: t)
        case (.linear(let p), .bwdWeights):
            Tiled.linearBackwardWeights(p, x: input("x"), dy: input("dy"), dw: out, threads: t)
        case (.linear(let p), .bwdBias): Tiled.linearBackwardBias(p, dy: input("dy"), db: out, threads: t)
        case (.activation(let p), .fwd): Tiled.activationForward(p, x: io["x"], y: out, threads: t)
        case (.activation(let p), .bwdData): Tiled.activationBackward(p, x: io["x"], dy: io["dy"], dx: out, threads: t)
        case (.loss(let p), .fwd): Tiled.lossForward(p, x: io["x"], target: io["target"], y: out, threads: t)
        case (.loss(let p), .bwdData):
            Tiled.lossBackward(p, x: io["x"], target: io["target"], dy: io["dy"], dx: out, threads: t)
        default:
            throw .unsupported(implementation: name, problem: problem.description, direction: direction)
        }
    }

    /// The code path this implementation takes for `problem`'s `direction`, with the reason:
    /// the convolution's `ConvPlan` path (e.g. `direct`, `directPhases`, `panelWeights`), or
    /// the kernel family of the other ops.
    public func path(_ problem: Problem, _ direction: Direction) -> (name: String, reason: String) {
        switch problem {
        case .conv(let p):
            let (path, reason) = Tiled.convPath(p, direction)
            return (path.rawValue, reason)
        case .convTranspose(let p):
            let (path, reason) = Tiled.convTransposePath(p, direction)
            return (path.rawValue, reason)
        case .matmul, .linear:
            return direction == .bwdBias
                ? ("channelSums", "column sums of dy") : ("sgemm", "one SGEMM per batch matrix")
        case .padProjectionB:
            return direction == .fwd || direction == .bwdData || direction == .bwdWeights
                ? ("sgemm", "strided 1×1 convolution as SGEMM, BatchNorm folded per channel")
                : ("channelSums", "per-channel reductions")
        case .padProjectionA: return ("copy", "strided copy into the middle channels")
        case .activation: return ("elementwise", "one pass over the elements")
        case .loss: return ("reduction", "elementwise terms summed in a fixed order")
        }
    }
}

import KernelCheckCore
import KernelCheckProblems

/// Transposed convolution, the adjoint of a convolution, run through that convolution
/// (`TiledConv(adjointOf:)`, input = this op's output): its forward is the convolution's
/// backward-data, its backward-data the convolution's forward, its backward-weights the
/// convolution's backward-weights with `x` and `dy` exchanged; each takes the path
/// `ConvPlan` picks (`Tiled.convTransposePath` names it).
/// Shapes and math as in `ConvTransposeProblem`: `x = N × C_in × in…`,
/// `w = C_in × C_out/g × k…`, `b = C_out`, `y = N × C_out × out…`.
///
/// Every pointer must hold exactly its tensor's element count. The output is rounded to
/// `p.precision.output` when that is narrower than float32; narrow-stored inputs go through
/// the `Input` overloads (`Convolution+Narrow.swift`). The descriptor must be valid;
/// an invalid one traps. `threads: 0` uses every core; results are bit-identical for any
/// thread count.
extension Tiled {
    /// `y[n, co, i·s − pb + k·d] += x[n, ci, i] · w[ci, co − g·C_out/G, k]` over `ci` in `co`'s
    /// group, plus `b[co]` when `b` is non-nil.
    public static func convTransposeForward(
        _ p: ConvTransposeProblem, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
        b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        convTransposeForward(p, x: x, w: w, b: b, y: y, threads: threads, tuning: .standard)
    }

    /// `dx[n, ci, i…] = Σ_{co ∈ group(ci)} Σ_{k…} w[ci, co_g, k…] · dy[n, co, i·s − pb + k·d]`
    /// (a convolution of `dy`).
    public static func convTransposeBackwardData(
        _ p: ConvTransposeProblem, dy: UnsafePointer<Float>,
        w: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        convTransposeBackwardData(p, dy: dy, w: w, dx: dx, threads: threads, tuning: .standard)
    }

    /// `dw[ci, co_g, k…] = Σ_n Σ_{i…} x[n, ci, i…] · dy[n, co, i·s − pb + k·d]`:
    /// per group `dW = Σ_n X[n] · col(dY[n])ᵀ`.
    public static func convTransposeBackwardWeights(
        _ p: ConvTransposeProblem, x: UnsafePointer<Float>,
        dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>,
        threads: Int
    ) {
        convTransposeBackwardWeights(p, x: x, dy: dy, dw: dw, threads: threads, tuning: .standard)
    }

    /// `db[co] = Σ_n Σ_{o…} dy[n, co, o…]`.
    public static func convTransposeBackwardBias(
        _ p: ConvTransposeProblem, dy: UnsafePointer<Float>,
        db: UnsafeMutablePointer<Float>, threads: Int
    ) {
        outputChannelSums(p, dy: dy, into: db, threads: threads)
        roundOutput(db, count: p.outChannels, to: p.precision.output, threads: threads)
    }

    // Internal entry points with explicit tuning (tests shrink the blocks).

    static func convTransposeForward(
        _ p: ConvTransposeProblem, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
        b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, threads: Int,
        tuning: ConvTuning
    ) {
        requireValid(p)
        TiledConv(adjointOf: p, tuning: tuning).backwardData(output: x, weights: w, input: y, threads: threads)
        if let b { addChannelBias(p, b, to: y, threads: threads) }
        roundOutput(y, count: p.yShape.reduce(1, *), to: p.precision.output, threads: threads)
    }

    /// `y[n, co, o…] += b[co]` (the transposed convolution's bias, after its sums).
    static func addChannelBias(
        _ p: ConvTransposeProblem, _ b: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let channels = p.outChannels, spatial = p.outputSize.reduce(1, *)
        Tiled.forEachItem(p.batch * channels, threads: threads) { row, _ in
            let out = y + row * spatial, bias = b[row % channels]
            for i in 0..<spatial { out[i] += bias }
        }
    }

    static func convTransposeBackwardData(
        _ p: ConvTransposeProblem, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, threads: Int, tuning: ConvTuning
    ) {
        requireValid(p)
        TiledConv(adjointOf: p, tuning: tuning).forward(input: dy, weights: w, bias: nil, output: dx, threads: threads)
        roundOutput(dx, count: p.xShape.reduce(1, *), to: p.precision.output, threads: threads)
    }

    static func convTransposeBackwardWeights(
        _ p: ConvTransposeProblem, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dw: UnsafeMutablePointer<Float>, threads: Int, tuning: ConvTuning
    ) {
        requireValid(p)
        TiledConv(adjointOf: p, tuning: tuning).backwardWeights(input: dy, output: x, weights: dw, threads: threads)
        roundOutput(dw, count: p.wShape.reduce(1, *), to: p.precision.output, threads: threads)
    }
}

import KernelCheckCore
import KernelCheckProblems

/// Convolution (1-D, 2-D, 3-D; groups, dilation, asymmetric padding). Each direction runs
/// the path `ConvPlan` picks for the shape (`Tiled.convPath` names it: direct implicit GEMM,
/// output phases, im2col into SGEMM, …; see `Conv/`). Shapes and math as in `ConvProblem`:
/// `x = N × C_in × in…`, `w = C_out × C_in/g × k…`, `b = C_out`, `y = N × C_out × out…`.
///
/// Every pointer must hold exactly its tensor's element count (row-major, contiguous). The
/// output is rounded to `p.precision.output` when that is narrower than float32 (the sums are
/// float32); narrow-stored inputs go through the `Input` overloads (`Convolution+Narrow.swift`).
/// The descriptor must be valid (`validate()`); an invalid one traps. `threads: 0` uses every
/// core; results are bit-identical for any thread count.
extension Tiled {
    /// `y[n, co, o…] = b[co] + Σ_{ci ∈ group(co)} Σ_{k…} w[co, ci, k…] · x[n, ci, o·s − pb + k·d]`.
    /// The bias is added when `b` is non-nil.
    public static func convForward(
        _ p: ConvProblem, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
        b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        convForward(p, x: x, w: w, b: b, y: y, threads: threads, tuning: .standard)
    }

    /// `dx[n, ci, i…] = Σ_{co ∈ group(ci)} Σ_{k…, o…: o·s − pb + k·d = i} w[co, ci, k…] · dy[n, co, o…]`.
    public static func convBackwardData(
        _ p: ConvProblem, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        convBackwardData(p, dy: dy, w: w, dx: dx, threads: threads, tuning: .standard)
    }

    /// `dw[co, ci, k…] = Σ_n Σ_{o…} dy[n, co, o…] · x[n, ci, o·s − pb + k·d]`.
    public static func convBackwardWeights(
        _ p: ConvProblem, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        convBackwardWeights(p, x: x, dy: dy, dw: dw, threads: threads, tuning: .standard)
    }

    /// `db[co] = Σ_n Σ_{o…} dy[n, co, o…]`.
    public static func convBackwardBias(
        _ p: ConvProblem, dy: UnsafePointer<Float>, db: UnsafeMutablePointer<Float>,
        threads: Int
    ) {
        outputChannelSums(p, dy: dy, into: db, threads: threads)
        roundOutput(db, count: p.outChannels, to: p.precision.output, threads: threads)
    }

    // Internal entry points with explicit tuning (tests shrink the blocks).

    static func convForward(
        _ p: ConvProblem, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
        b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, threads: Int,
        tuning: ConvTuning
    ) {
        requireValid(p)
        TiledConv(p, tuning: tuning).forward(input: x, weights: w, bias: b, output: y, threads: threads)
        roundOutput(y, count: p.yShape.reduce(1, *), to: p.precision.output, threads: threads)
    }

    static func convBackwardData(
        _ p: ConvProblem, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, threads: Int, tuning: ConvTuning
    ) {
        requireValid(p)
        TiledConv(p, tuning: tuning).backwardData(output: dy, weights: w, input: dx, threads: threads)
        roundOutput(dx, count: p.xShape.reduce(1, *), to: p.precision.output, threads: threads)
    }

    static func convBackwardWeights(
        _ p: ConvProblem, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dw: UnsafeMutablePointer<Float>, threads: Int, tuning: ConvTuning
    ) {
        requireValid(p)
        TiledConv(p, tuning: tuning).backwardWeights(input: x, output: dy, weights: dw, threads: threads)
        roundOutput(dw, count: p.wShape.reduce(1, *), to: p.precision.output, threads: threads)
    }
}

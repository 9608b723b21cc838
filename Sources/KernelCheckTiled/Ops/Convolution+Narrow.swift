import KernelCheckCore
import KernelCheckProblems

// Convolution and transposed convolution on inputs stored in a narrow type (`Tiled.Input`:
// bf16, f16, fp8 bit patterns). The path `ConvPlan` picks runs on the narrow inputs where it
// copies or packs them anyway (the padded buffers, weight panels and A panels of the direct
// paths, widened on their way in); every other operand is widened once, up front, into a
// float32 workspace (`Conv/TiledConv+Narrow.swift`, docs/tiled-convolution.md#low-precision-inputs).
// Widening is exact, so the sums are the float32 path's own; the output is rounded once to
// `p.precision.output`. A float32 `Input` is passed through without a copy.

extension Tiled {
    /// `convForward` on inputs that may be narrow.
    public static func convForward(
        _ p: ConvProblem, x: Input, w: Input, b: Input?, y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        convForward(p, x: x, w: w, b: b, y: y, threads: threads, tuning: .standard)
    }

    /// `convBackwardData` on inputs that may be narrow.
    public static func convBackwardData(
        _ p: ConvProblem, dy: Input, w: Input, dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        convBackwardData(p, dy: dy, w: w, dx: dx, threads: threads, tuning: .standard)
    }

    /// `convBackwardWeights` on inputs that may be narrow.
    public static func convBackwardWeights(
        _ p: ConvProblem, x: Input, dy: Input, dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        convBackwardWeights(p, x: x, dy: dy, dw: dw, threads: threads, tuning: .standard)
    }

    /// `convBackwardBias` on a `dy` that may be narrow.
    public static func convBackwardBias(_ p: ConvProblem, dy: Input, db: UnsafeMutablePointer<Float>, threads: Int) {
        withFloats(dy, count: p.yShape.reduce(1, *), threads: threads) { dy in
            convBackwardBias(p, dy: dy!, db: db, threads: threads)
        }
    }

    /// `convTransposeForward` on inputs that may be narrow.
    public static func convTransposeForward(
        _ p: ConvTransposeProblem, x: Input, w: Input, b: Input?, y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        convTransposeForward(p, x: x, w: w, b: b, y: y, threads: threads, tuning: .standard)
    }

    /// `convTransposeBackwardData` on inputs that may be narrow.
    public static func convTransposeBackwardData(
        _ p: ConvTransposeProblem, dy: Input, w: Input, dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        convTransposeBackwardData(p, dy: dy, w: w, dx: dx, threads: threads, tuning: .standard)
    }

    /// `convTransposeBackwardWeights` on inputs that may be narrow.
    public static func convTransposeBackwardWeights(
        _ p: ConvTransposeProblem, x: Input, dy: Input, dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        convTransposeBackwardWeights(p, x: x, dy: dy, dw: dw, threads: threads, tuning: .standard)
    }

    /// `convTransposeBackwardBias` on a `dy` that may be narrow.
    public static func convTransposeBackwardBias(
        _ p: ConvTransposeProblem, dy: Input, db: UnsafeMutablePointer<Float>, threads: Int
    ) {
        withFloats(dy, count: p.yShape.reduce(1, *), threads: threads) { dy in
            convTransposeBackwardBias(p, dy: dy!, db: db, threads: threads)
        }
    }

    // Internal entry points with explicit tuning (tests force paths with it).

    static func convForward(
        _ p: ConvProblem, x: Input, w: Input, b: Input?, y: UnsafeMutablePointer<Float>, threads: Int,
        tuning: ConvTuning
    ) {
        requireValid(p)
        TiledConv(p, tuning: tuning).forward(input: x, weights: w, bias: b, output: y, threads: threads)
        roundOutput(y, count: p.yShape.reduce(1, *), to: p.precision.output, threads: threads)
    }

    static func convBackwardData(
        _ p: ConvProblem, dy: Input, w: Input, dx: UnsafeMutablePointer<Float>, threads: Int, tuning: ConvTuning
    ) {
        requireValid(p)
        TiledConv(p, tuning: tuning).backwardData(output: dy, weights: w, input: dx, threads: threads)
        roundOutput(dx, count: p.xShape.reduce(1, *), to: p.precision.output, threads: threads)
    }

    static func convBackwardWeights(
        _ p: ConvProblem, x: Input, dy: Input, dw: UnsafeMutablePointer<Float>, threads: Int, tuning: ConvTuning
    ) {
        requireValid(p)
        TiledConv(p, tuning: tuning).backwardWeights(input: x, output: dy, weights: dw, threads: threads)
        roundOutput(dw, count: p.wShape.reduce(1, *), to: p.precision.output, threads: threads)
    }

    static func convTransposeForward(
        _ p: ConvTransposeProblem, x: Input, w: Input, b: Input?, y: UnsafeMutablePointer<Float>, threads: Int,
        tuning: ConvTuning
    ) {
        requireValid(p)
        TiledConv(adjointOf: p, tuning: tuning).backwardData(output: x, weights: w, input: y, threads: threads)
        withFloats(b, count: p.outChannels, threads: threads) { b in
            if let b { addChannelBias(p, b, to: y, threads: threads) }
        }
        roundOutput(y, count: p.yShape.reduce(1, *), to: p.precision.output, threads: threads)
    }

    static func convTransposeBackwardData(
        _ p: ConvTransposeProblem, dy: Input, w: Input, dx: UnsafeMutablePointer<Float>, threads: Int,
        tuning: ConvTuning
    ) {
        requireValid(p)
        TiledConv(adjointOf: p, tuning: tuning).forward(input: dy, weights: w, bias: nil, output: dx, threads: threads)
        roundOutput(dx, count: p.xShape.reduce(1, *), to: p.precision.output, threads: threads)
    }

    static func convTransposeBackwardWeights(
        _ p: ConvTransposeProblem, x: Input, dy: Input, dw: UnsafeMutablePointer<Float>, threads: Int,
        tuning: ConvTuning
    ) {
        requireValid(p)
        TiledConv(adjointOf: p, tuning: tuning).backwardWeights(input: dy, output: x, weights: dw, threads: threads)
        roundOutput(dw, count: p.wShape.reduce(1, *), to: p.precision.output, threads: threads)
    }
}

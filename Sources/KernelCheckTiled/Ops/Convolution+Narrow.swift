import KernelCheckCore
import KernelCheckProblems

// Convolution and transposed convolution on inputs stored in a narrow type (`Tiled.Input`:
// bf16, f16, fp8 bit patterns). Every path of the tiled convolution reads float32, and the
// direct paths read `x` in place without packing, so each narrow input is widened once, up
// front, into a float32 workspace (exact: every value of these types is a float32 value);
// the path `ConvPlan` picks then runs unchanged, sums in float32, and its output is rounded
// once to `p.precision.output` (docs/tiled-convolution.md#low-precision-inputs). A float32
// `Input` is passed through without a copy.

extension Tiled {
    /// `convForward` on inputs that may be narrow.
    public static func convForward(
        _ p: ConvProblem, x: Input, w: Input, b: Input?, y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        withFloats(x, count: p.xShape.reduce(1, *), threads: threads) { x in
            withFloats(w, count: p.wShape.reduce(1, *), threads: threads) { w in
                withFloats(b, count: p.outChannels, threads: threads) { b in
                    convForward(p, x: x!, w: w!, b: b, y: y, threads: threads, tuning: .standard)
                }
            }
        }
    }

    /// `convBackwardData` on inputs that may be narrow.
    public static func convBackwardData(
        _ p: ConvProblem, dy: Input, w: Input, dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        withFloats(dy, count: p.yShape.reduce(1, *), threads: threads) { dy in
            withFloats(w, count: p.wShape.reduce(1, *), threads: threads) { w in
                convBackwardData(p, dy: dy!, w: w!, dx: dx, threads: threads, tuning: .standard)
            }
        }
    }

    /// `convBackwardWeights` on inputs that may be narrow.
    public static func convBackwardWeights(
        _ p: ConvProblem, x: Input, dy: Input, dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        withFloats(x, count: p.xShape.reduce(1, *), threads: threads) { x in
            withFloats(dy, count: p.yShape.reduce(1, *), threads: threads) { dy in
                convBackwardWeights(p, x: x!, dy: dy!, dw: dw, threads: threads, tuning: .standard)
            }
        }
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
        withFloats(x, count: p.xShape.reduce(1, *), threads: threads) { x in
            withFloats(w, count: p.wShape.reduce(1, *), threads: threads) { w in
                withFloats(b, count: p.outChannels, threads: threads) { b in
                    convTransposeForward(p, x: x!, w: w!, b: b, y: y, threads: threads, tuning: .standard)
                }
            }
        }
    }

    /// `convTransposeBackwardData` on inputs that may be narrow.
    public static func convTransposeBackwardData(
        _ p: ConvTransposeProblem, dy: Input, w: Input, dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        withFloats(dy, count: p.yShape.reduce(1, *), threads: threads) { dy in
            withFloats(w, count: p.wShape.reduce(1, *), threads: threads) { w in
                convTransposeBackwardData(p, dy: dy!, w: w!, dx: dx, threads: threads, tuning: .standard)
            }
        }
    }

    /// `convTransposeBackwardWeights` on inputs that may be narrow.
    public static func convTransposeBackwardWeights(
        _ p: ConvTransposeProblem, x: Input, dy: Input, dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        withFloats(x, count: p.xShape.reduce(1, *), threads: threads) { x in
            withFloats(dy, count: p.yShape.reduce(1, *), threads: threads) { dy in
                convTransposeBackwardWeights(p, x: x!, dy: dy!, dw: dw, threads: threads, tuning: .standard)
            }
        }
    }

    /// `convTransposeBackwardBias` on a `dy` that may be narrow.
    public static func convTransposeBackwardBias(
        _ p: ConvTransposeProblem, dy: Input, db: UnsafeMutablePointer<Float>, threads: Int
    ) {
        withFloats(dy, count: p.yShape.reduce(1, *), threads: threads) { dy in
            convTransposeBackwardBias(p, dy: dy!, db: db, threads: threads)
        }
    }
}

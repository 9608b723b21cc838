import KernelCheckCore
import KernelCheckProblems

// A fully connected layer as GEMMs on the flattened `rows × in` input
// (rows = product of the leading dims of x). Inputs may be stored in a narrow type
// (`p.precision.storage`): the GEMM widens them while packing, the bias and `dy` of the bias
// gradient are widened up front (one row / one pass); every output is summed in float32 and
// rounded once to `p.precision.output`.

extension Tiled {
    /// `y = x·Wᵀ + b`: `x` is `rows×in`, `w` is `out×in`, `b` (when `p.hasBias`) is `out`.
    ///
    /// With a bias, each row of y starts at `b` and the GEMM accumulates onto it. `b` is
    /// ignored when the problem has no bias. The problem must be valid.
    public static func linearForward(
        _ p: LinearProblem, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
        b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        linearForward(p, x: Input(x), w: Input(w), b: b.map(Input.init), y: y, threads: threads)
    }

    /// `linearForward` on inputs that may be narrow.
    public static func linearForward(
        _ p: LinearProblem, x: Input, w: Input, b: Input?, y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let rows = p.rows, input = p.inFeatures, output = p.outFeatures
        guard rows > 0 && output > 0 else { return }
        let bias = p.hasBias ? b : nil
        if let bias {
            widen(bias, count: output, into: y)
            for r in 1..<max(1, rows) { (y + r * output).update(from: y, count: output) }
        }
        product(
            transA: false, transB: true, m: rows, n: output, k: input, a: x, b: w, c: y,
            accumulate: bias != nil, threads: threads)
        roundOutput(y, count: rows * output, to: p.precision.output, threads: threads)
    }

    /// `dx = dy·W` (`rows×out` · `out×in`).
    public static func linearBackwardData(
        _ p: LinearProblem, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        linearBackwardData(p, dy: Input(dy), w: Input(w), dx: dx, threads: threads)
    }

    /// `linearBackwardData` on inputs that may be narrow.
    public static func linearBackwardData(
        _ p: LinearProblem, dy: Input, w: Input, dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        product(
            transA: false, transB: false, m: p.rows, n: p.inFeatures, k: p.outFeatures, a: dy, b: w, c: dx,
            accumulate: false, threads: threads)
        roundOutput(dx, count: p.rows * p.inFeatures, to: p.precision.output, threads: threads)
    }

    /// `dW = dyᵀ·x` (`out×rows` · `rows×in`), the sum over all leading positions.
    public static func linearBackwardWeights(
        _ p: LinearProblem, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        linearBackwardWeights(p, x: Input(x), dy: Input(dy), dw: dw, threads: threads)
    }

    /// `linearBackwardWeights` on inputs that may be narrow.
    public static func linearBackwardWeights(
        _ p: LinearProblem, x: Input, dy: Input, dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        product(
            transA: true, transB: false, m: p.outFeatures, n: p.inFeatures, k: p.rows, a: dy, b: x, c: dw,
            accumulate: false, threads: threads)
        roundOutput(dw, count: p.outFeatures * p.inFeatures, to: p.precision.output, threads: threads)
    }

    /// `C = op(A)·op(B)` on dense row-major operands: `C` is `m×n`; `A` is `m×k` (`k×m` when
    /// `transA`), `B` is `k×n` (`n×k` when `transB`). An empty `C` is left alone; `k = 0`
    /// gives `C = 0`, or leaves `C` as it is when accumulating.
    private static func product(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: Input, b: Input,
        c: UnsafeMutablePointer<Float>, accumulate: Bool, threads: Int
    ) {
        guard m > 0 && n > 0 else { return }
        gemm(
            transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: max(1, transA ? m : k), b: b,
            ldb: max(1, transB ? k : n), c: c, ldc: n, accumulate: accumulate, threads: threads)
    }

    /// `db[o] = Σ_r dy[r, o]`, summed over rows in increasing r (threads split the outputs o,
    /// so every element is summed in the same order).
    public static func linearBackwardBias(
        _ p: LinearProblem, dy: UnsafePointer<Float>,
        db: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let rows = p.rows, output = p.outFeatures
        guard output > 0 else { return }
        let t = rows * output < 1 << 16 ? 1 : threads
        parallelChunks(output, threads: t, grain: 256) { range in
            let out = db + range.lowerBound
            out.update(repeating: 0, count: range.count)
            for r in 0..<rows {
                let row = dy + r * output + range.lowerBound
                for o in 0..<range.count { out[o] += row[o] }
            }
        }
        roundOutput(db, count: output, to: p.precision.output, threads: threads)
    }

    /// `linearBackwardBias` on a `dy` that may be narrow (widened up front).
    public static func linearBackwardBias(
        _ p: LinearProblem, dy: Input, db: UnsafeMutablePointer<Float>, threads: Int
    ) {
        withFloats(dy, count: p.rows * p.outFeatures, threads: threads) { dy in
            linearBackwardBias(p, dy: dy!, db: db, threads: threads)
        }
    }
}

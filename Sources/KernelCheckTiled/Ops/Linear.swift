import KernelCheckProblems

// A fully connected layer as GEMMs on the flattened `rows × in` input
// (rows = product of the leading dims of x).

extension Tiled {
    /// `y = x·Wᵀ + b`: `x` is `rows×in`, `w` is `out×in`, `b` (when `p.hasBias`) is `out`.
    ///
    /// With a bias, each row of y starts at `b` and the GEMM accumulates onto it. `b` is
    /// ignored when the problem has no bias. The problem must be valid.
    public static func linearForward(
        _ p: LinearProblem, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
        b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let rows = p.rows, input = p.inFeatures, output = p.outFeatures
        guard rows > 0 && output > 0 else { return }
        let bias = p.hasBias ? b : nil
        if let bias {
            for r in 0..<rows { (y + r * output).update(from: bias, count: output) }
        }
        product(
            transA: false, transB: true, m: rows, n: output, k: input, a: x, b: w, c: y,
            accumulate: bias != nil, threads: threads)
    }

    /// `dx = dy·W` (`rows×out` · `out×in`).
    public static func linearBackwardData(
        _ p: LinearProblem, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        product(
            transA: false, transB: false, m: p.rows, n: p.inFeatures, k: p.outFeatures, a: dy, b: w, c: dx,
            accumulate: false, threads: threads)
    }

    /// `dW = dyᵀ·x` (`out×rows` · `rows×in`), the sum over all leading positions.
    public static func linearBackwardWeights(
        _ p: LinearProblem, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        product(
            transA: true, transB: false, m: p.outFeatures, n: p.inFeatures, k: p.rows, a: dy, b: x, c: dw,
            accumulate: false, threads: threads)
    }

    /// `C = op(A)·op(B)` on dense row-major operands: `C` is `m×n`; `A` is `m×k` (`k×m` when
    /// `transA`), `B` is `k×n` (`n×k` when `transB`). An empty `C` is left alone; `k = 0`
    /// gives `C = 0`, or leaves `C` as it is when accumulating.
    private static func product(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, accumulate: Bool, threads: Int
    ) {
        guard m > 0 && n > 0 else { return }
        sgemm(
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
    }
}

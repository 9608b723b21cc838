import KernelCheckProblems

// Batched matmul on top of `sgemm`: each batch entry is one GEMM on row-major matrices.
// Broadcast batch dims (size 1 in one operand) reuse that operand's matrix in the forward
// pass; in the backward pass the gradient of such an operand is the sum over every batch
// entry that used it, accumulated into its matrix in increasing batch order, so the result
// does not depend on the thread count.
// A 1-D operand (`torch.matmul`'s vector) reaches the GEMM as the 1×K or K×1 matrix that
// `MatmulProblem` makes of it: the same memory, so nothing here distinguishes it.

extension Tiled {
    /// `y[β] = op(A)[β]·op(B)[β]` for every broadcast batch index β (`MatmulProblem`).
    ///
    /// `a`, `b` hold `p.aShape`, `p.bShape`; `y` receives `p.yShape`, rounded to
    /// `p.precision.output` when that is narrower than float32. The problem must be valid.
    public static func matmulForward(
        _ p: MatmulProblem, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        matmulForward(p, a: Input(a), b: Input(b), y: y, threads: threads)
    }

    /// `matmulForward` on inputs that may be stored in `p.precision.storage` (widened while
    /// packing, summed in float32, rounded once to `p.precision.output`).
    public static func matmulForward(
        _ p: MatmulProblem, a: Input, b: Input, y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let layout = MatmulLayout(p)
        let (m, n, k) = (p.m, p.n, p.k)
        forEachBatch(layout.batchCount, work: m * n * k, threads: threads) { beta, inner in
            gemm(
                transA: p.transposeA, transB: p.transposeB, m: m, n: n, k: k,
                a: a.advanced(by: layout.aIndex[beta] * m * k), lda: layout.lda,
                b: b.advanced(by: layout.bIndex[beta] * k * n), ldb: layout.ldb,
                c: y + beta * m * n, ldc: n, accumulate: false, threads: inner)
        }
        roundOutput(y, count: layout.batchCount * m * n, to: p.precision.output, threads: threads)
    }

    /// `da = Σ_β dy[β]·op(B)[β]ᵀ` (transposed back when `ta`), summed over the batch entries β
    /// that use each matrix of A (all of them for a broadcast A), in increasing β.
    public static func matmulBackwardA(
        _ p: MatmulProblem, dy: UnsafePointer<Float>, b: UnsafePointer<Float>,
        da: UnsafeMutablePointer<Float>, threads: Int
    ) {
        matmulBackwardA(p, dy: Input(dy), b: Input(b), da: da, threads: threads)
    }

    /// `matmulBackwardA` on inputs that may be narrow (rounded once to `p.precision.output`).
    public static func matmulBackwardA(
        _ p: MatmulProblem, dy: Input, b: Input, da: UnsafeMutablePointer<Float>, threads: Int
    ) {
        matmulGradient(p, ofA: true, dy: dy, other: b, into: da, threads: threads)
    }

    /// `db = Σ_β op(A)[β]ᵀ·dy[β]` (transposed back when `tb`), summed over the batch entries β
    /// that use each matrix of B, in increasing β.
    public static func matmulBackwardB(
        _ p: MatmulProblem, a: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        db: UnsafeMutablePointer<Float>, threads: Int
    ) {
        matmulBackwardB(p, a: Input(a), dy: Input(dy), db: db, threads: threads)
    }

    /// `matmulBackwardB` on inputs that may be narrow (rounded once to `p.precision.output`).
    public static func matmulBackwardB(
        _ p: MatmulProblem, a: Input, dy: Input, db: UnsafeMutablePointer<Float>, threads: Int
    ) {
        matmulGradient(p, ofA: false, dy: dy, other: a, into: db, threads: threads)
    }

    /// The gradient of A (`ofA`; `other` is B) or of B (`other` is A): for each stored matrix
    /// i of that operand, `grad[i] = Σ_β X_β·Y_β` over the batch entries β that read it, in
    /// increasing β, with `X_β·Y_β = dy[β]·op(B)[β]ᵀ` (M×K) for A and `op(A)[β]ᵀ·dy[β]` (K×N)
    /// for B; stored transposed (`Y_βᵀ·X_βᵀ`) when the operand is; zero when no entry reads i.
    private static func matmulGradient(
        _ p: MatmulProblem, ofA: Bool, dy: Input, other: Input,
        into grad: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let layout = MatmulLayout(p)
        let (m, n, k) = (p.m, p.n, p.k)
        let (index, count) = ofA ? (layout.aIndex, layout.aCount) : (layout.bIndex, layout.bCount)
        let users = layout.users(of: index, count: count)
        let (rows, columns, inner) = ofA ? (m, k, n) : (k, n, m)
        let transposed = ofA ? p.transposeA : p.transposeB
        forEachBatch(count, work: m * n * k * max(1, layout.batchCount / max(1, count)), threads: threads) {
            i, threadsInside in
            let out = grad + i * rows * columns
            guard !users[i].isEmpty else { return zero(out, count: rows * columns) }
            for (step, beta) in users[i].enumerated() {
                let g = Operand(dy.advanced(by: beta * m * n), ld: n, transposed: false)
                let (x, y) =
                    ofA
                    ? (
                        g,
                        Operand(
                            other.advanced(by: layout.bIndex[beta] * k * n), ld: layout.ldb, transposed: !p.transposeB)
                    )
                    : (
                        Operand(
                            other.advanced(by: layout.aIndex[beta] * m * k), ld: layout.lda, transposed: !p.transposeA),
                        g
                    )
                // (X·Y)ᵀ = Yᵀ·Xᵀ: swap the factors and read each the other way.
                let (l, r) = transposed ? (y.transposedView, x.transposedView) : (x, y)
                let (ldc, height) = transposed ? (rows, columns) : (columns, rows)
                gemm(
                    transA: l.transposed, transB: r.transposed, m: height, n: ldc, k: inner,
                    a: Input(bits: l.raw, type: l.type), lda: l.ld, b: Input(bits: r.raw, type: r.type), ldb: r.ld,
                    c: out, ldc: ldc, accumulate: step > 0, threads: threadsInside)
            }
        }
        roundOutput(grad, count: count * rows * columns, to: p.precision.output, threads: threads)
    }

    /// Runs `body(index, innerThreads)` for `count` independent GEMM jobs of `work`
    /// multiply-adds each: in parallel over jobs (one thread each) when there are many small
    /// ones, else one after another with the threads inside each GEMM. Either way every job
    /// computes the same numbers.
    static func forEachBatch(_ count: Int, work: Int, threads: Int, _ body: (Int, Int) -> Void) {
        let t = resolveThreads(threads)
        if count > 1 && t > 1 && (work < 1 << 21 || count >= 4 * t) {
            parallelChunks(count, threads: t, grain: 1) { range in
                for index in range { body(index, 1) }
            }
        } else {
            for index in 0..<count { body(index, t) }
        }
    }

    static func zero(_ p: UnsafeMutablePointer<Float>, count: Int) {
        if count > 0 { p.update(repeating: 0, count: count) }
    }
}

/// Where each broadcast batch entry of a `MatmulProblem` finds its matrices.
struct MatmulLayout {
    /// Entries of the broadcast batch (`Π batchShape`).
    let batchCount: Int
    /// Matrices stored in A and in B (`Π batchA`, `Π batchB`).
    let aCount: Int, bCount: Int
    /// For batch entry β (row-major over the broadcast shape): its matrix in A and in B.
    let aIndex: [Int], bIndex: [Int]
    /// Row strides of A and B as stored.
    let lda: Int, ldb: Int

    init(_ p: MatmulProblem) {
        let full = p.batchShape ?? []
        batchCount = full.reduce(1, *)
        aCount = p.batchA.reduce(1, *)
        bCount = p.batchB.reduce(1, *)
        aIndex = MatmulLayout.operandIndices(full: full, operand: p.batchA)
        bIndex = MatmulLayout.operandIndices(full: full, operand: p.batchB)
        lda = p.transposeA ? p.m : p.k
        ldb = p.transposeB ? p.k : p.n
    }

    /// For each row-major index over `full`, the row-major index over `operand`
    /// (right-aligned; a size-1 dim of the operand is broadcast: index 0).
    static func operandIndices(full: [Int], operand: [Int]) -> [Int] {
        let count = full.reduce(1, *)
        let padded = Array(repeating: 1, count: full.count - operand.count) + operand
        var strides = Array(repeating: 0, count: full.count)
        var s = 1
        for d in stride(from: full.count - 1, through: 0, by: -1) {
            strides[d] = padded[d] == 1 ? 0 : s
            s *= padded[d]
        }
        var result = Array(repeating: 0, count: count)
        var index = Array(repeating: 0, count: full.count)
        for flat in 0..<count {
            var offset = 0
            for d in 0..<full.count { offset += index[d] * strides[d] }
            result[flat] = offset
            // Row-major increment of the multi-index.
            var d = full.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < full[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return result
    }

    /// For each operand matrix, the batch entries that read it, in increasing order.
    func users(of index: [Int], count: Int) -> [[Int]] {
        var users = Array(repeating: [Int](), count: count)
        for (beta, i) in index.enumerated() { users[i].append(beta) }
        return users
    }
}

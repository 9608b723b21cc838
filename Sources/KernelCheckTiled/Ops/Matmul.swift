import KernelCheckProblems

// Batched matmul on top of `sgemm`: each batch entry is one GEMM on row-major matrices.
// Broadcast batch dims (size 1 in one operand) reuse that operand's matrix in the forward
// pass; in the backward pass the gradient of such an operand is the sum over every batch
// entry that used it, accumulated into its matrix in increasing batch order, so the result
// does not depend on the thread count.

extension Tiled {
    /// `y[β] = op(A)[β]·op(B)[β]` for every broadcast batch index β (`MatmulProblem`).
    ///
    /// `a`, `b` hold `p.aShape`, `p.bShape`; `y` receives `p.yShape`. The problem must be valid.
    public static func matmulForward(
        _ p: MatmulProblem, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let layout = MatmulLayout(p)
        let (m, n, k) = (p.m, p.n, p.k)
        forEachBatch(layout.batchCount, work: m * n * k, threads: threads) { beta, inner in
            sgemm(
                transA: p.transposeA, transB: p.transposeB, m: m, n: n, k: k,
                a: a + layout.aIndex[beta] * m * k, lda: layout.lda,
                b: b + layout.bIndex[beta] * k * n, ldb: layout.ldb,
                c: y + beta * m * n, ldc: n, accumulate: false, threads: inner)
        }
    }

    /// `da = Σ_β dy[β]·op(B)[β]ᵀ` (transposed back when `ta`), summed over the batch entries β
    /// that use each matrix of A (all of them for a broadcast A), in increasing β.
    public static func matmulBackwardA(
        _ p: MatmulProblem, dy: UnsafePointer<Float>, b: UnsafePointer<Float>,
        da: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let layout = MatmulLayout(p)
        let (m, n, k) = (p.m, p.n, p.k)
        let users = layout.users(of: layout.aIndex, count: layout.aCount)
        forEachBatch(
            layout.aCount, work: m * n * k * max(1, layout.batchCount / max(1, layout.aCount)),
            threads: threads
        ) { alpha, inner in
            let out = da + alpha * m * k
            guard !users[alpha].isEmpty else { return zero(out, count: m * k) }
            for (step, beta) in users[alpha].enumerated() {
                let g = dy + beta * m * n
                let bm = b + layout.bIndex[beta] * k * n
                if p.transposeA {
                    // da is K×M: daᵀ-form = op(B)·dyᵀ.
                    sgemm(
                        transA: p.transposeB, transB: true, m: k, n: m, k: n,
                        a: bm, lda: layout.ldb, b: g, ldb: n,
                        c: out, ldc: m, accumulate: step > 0, threads: inner)
                } else {
                    // da is M×K: dy·op(B)ᵀ.
                    sgemm(
                        transA: false, transB: !p.transposeB, m: m, n: k, k: n,
                        a: g, lda: n, b: bm, ldb: layout.ldb,
                        c: out, ldc: k, accumulate: step > 0, threads: inner)
                }
            }
        }
    }

    /// `db = Σ_β op(A)[β]ᵀ·dy[β]` (transposed back when `tb`), summed over the batch entries β
    /// that use each matrix of B, in increasing β.
    public static func matmulBackwardB(
        _ p: MatmulProblem, a: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        db: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let layout = MatmulLayout(p)
        let (m, n, k) = (p.m, p.n, p.k)
        let users = layout.users(of: layout.bIndex, count: layout.bCount)
        forEachBatch(
            layout.bCount, work: m * n * k * max(1, layout.batchCount / max(1, layout.bCount)),
            threads: threads
        ) { beta0, inner in
            let out = db + beta0 * k * n
            guard !users[beta0].isEmpty else { return zero(out, count: k * n) }
            for (step, beta) in users[beta0].enumerated() {
                let g = dy + beta * m * n
                let am = a + layout.aIndex[beta] * m * k
                if p.transposeB {
                    // db is N×K: dyᵀ·op(A).
                    sgemm(
                        transA: true, transB: p.transposeA, m: n, n: k, k: m,
                        a: g, lda: n, b: am, ldb: layout.lda,
                        c: out, ldc: k, accumulate: step > 0, threads: inner)
                } else {
                    // db is K×N: op(A)ᵀ·dy.
                    sgemm(
                        transA: !p.transposeA, transB: false, m: k, n: n, k: m,
                        a: am, lda: layout.lda, b: g, ldb: n,
                        c: out, ldc: n, accumulate: step > 0, threads: inner)
                }
            }
        }
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

import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckTiled
import Testing

/// torch.matmul with one 1-D operand, written from its definition with the vector's shape
/// (not `MatmulProblem`'s matrix view of it): the matrix side is `batch… × rows × cols` as
/// stored (`transposed`: its last two dims swapped), the vector has `K` entries and no batch.
///
/// Vector first (`v·M`, `M` stored `K×N` or `N×K`): `y[β, j] = Σ_k v[k]·M[β][k, j]`.
/// Matrix first (`M·v`, `M` stored `N×K` or `K×N`): `y[β, j] = Σ_k M[β][j, k]·v[k]`.
/// `dv[k] = Σ_β Σ_j dy[β, j]·M[β][k, j]` (the vector is shared by every batch entry);
/// `dM[β][k, j] = v[k]·dy[β, j]` at the stored offset.
struct NaiveVectorProduct {
    var batch: Int, k: Int, n: Int
    var vectorFirst: Bool, transposed: Bool

    /// Stored offset of the matrix entry pairing vector index `kk` with output index `j`.
    func matrixOffset(_ beta: Int, _ kk: Int, _ j: Int) -> Int {
        // Vector first: M is K×N (N×K when transposed); matrix first: M is N×K (K×N).
        let kMajor = vectorFirst != transposed
        return beta * k * n + (kMajor ? kk * n + j : j * k + kk)
    }

    func forEachProduct(_ body: (_ y: Int, _ v: Int, _ m: Int) -> Void) {
        for beta in 0..<batch {
            for j in 0..<n {
                for kk in 0..<k { body(beta * n + j, kk, matrixOffset(beta, kk, j)) }
            }
        }
    }

    func forward(vector v: [Float], matrix m: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: batch * n)
        forEachProduct { yi, vi, mi in y[yi] += v[vi] * m[mi] }
        return y
    }

    func vectorGradient(dy: [Float], matrix m: [Float]) -> [Float] {
        var dv = [Float](repeating: 0, count: k)
        forEachProduct { yi, vi, mi in dv[vi] += dy[yi] * m[mi] }
        return dv
    }

    func matrixGradient(vector v: [Float], dy: [Float]) -> [Float] {
        var dm = [Float](repeating: 0, count: batch * k * n)
        forEachProduct { yi, vi, mi in dm[mi] += v[vi] * dy[yi] }
        return dm
    }
}

@Suite("Matmul with 1-D operands")
struct MatmulVectorTests {
    @Test("a dot product is a scalar: [1, 2, 3]·[4, 5, 6] = 32; with dy = 2, da = 2b, db = 2a")
    func dotProduct() throws {
        let p = MatmulProblem(aShape: [3], bShape: [3])
        try p.validate()
        let a: [Float] = [1, 2, 3], b: [Float] = [4, 5, 6]
        #expect(tiledMatmulForward(p, a, b, threads: 1) == [32])
        #expect(tiledMatmulBackwardA(p, [2], b, threads: 1) == [8, 10, 12])
        #expect(tiledMatmulBackwardB(p, a, [2], threads: 1) == [2, 4, 6])
    }

    @Test("a=4 b=2x4x1 (ONNX test_matmul_1d_3d): y = [[10], [5]], da sums both batch entries")
    func rowVectorAgainstBatchedColumns() throws {
        // Columns [1, 1, 1, 1] and [1, −1, 2, 0] against [1, 2, 3, 4]: 10 and 1 − 2 + 6 = 5.
        // dy = [[1], [2]]: da = [1, 1, 1, 1] + 2·[1, −1, 2, 0] = [3, −1, 5, 1];
        // db[β, k] = a[k]·dy[β].
        let p = MatmulProblem(aShape: [4], bShape: [2, 4, 1])
        try p.validate()
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [1, 1, 1, 1, 1, -1, 2, 0]
        #expect(tiledMatmulForward(p, a, b, threads: 2) == [10, 5])
        #expect(tiledMatmulBackwardA(p, [1, 2], b, threads: 2) == [3, -1, 5, 1])
        #expect(tiledMatmulBackwardB(p, a, [1, 2], threads: 2) == [1, 2, 3, 4, 2, 4, 6, 8])
    }

    /// (batch dims, K, N, vector first, matrix transposed): the ONNX node-test shapes, both
    /// orders with both storage orders of the matrix, K and N around the 12×32 register tile.
    static let shapes: [([Int], Int, Int, Bool, Bool)] = [
        ([2], 4, 1, true, false),  // a=4 b=2x4x1
        ([1, 2], 3, 4, false, false),  // a=1x2x4x3 b=3
        ([], 3, 1, true, false),  // a=3 b=3
        ([], 33, 65, true, false),
        ([], 33, 65, true, true),
        ([3], 17, 13, false, false),
        ([2, 1], 40, 31, false, true),
        ([], 70, 90, true, false),
    ]

    @Test(
        "forward, bwd_data and bwd_weights equal torch.matmul's vector semantics (integer fill, exact)",
        arguments: shapes)
    func matchesNaiveVectorProduct(
        _ batch: [Int], _ k: Int, _ n: Int, _ vectorFirst: Bool, _ transposed: Bool
    )
        throws
    {
        let matrix = batch + (vectorFirst != transposed ? [k, n] : [n, k])
        // A vector-times-vector case (n = 1, no batch) is the dot product: both operands 1-D.
        let dot = batch.isEmpty && n == 1
        let vectorShape = [k], matrixShape = dot ? [k] : matrix
        let p =
            vectorFirst
            ? MatmulProblem(aShape: vectorShape, bShape: matrixShape, transposeB: transposed)
            : MatmulProblem(aShape: matrixShape, bShape: vectorShape, transposeA: transposed)
        try p.validate()
        #expect(p.yShape == (dot ? [] : batch + [n]), "\(p)")
        let naive = NaiveVectorProduct(
            batch: count(batch), k: k, n: n, vectorFirst: vectorFirst, transposed: transposed)
        // Dense integers in [−4, 4] (MatmulData's half-zero fill can zero a 3-vector): every
        // sum is exact in fp32, so the comparison is exact whatever the summation order.
        let seed = UInt64(k * 100 + n)
        func fill(_ shape: [Int], _ role: String) -> [Float] {
            TestData.filled(count(shape), .integers(k: 4, density: 1), seed: seed, role: role)
        }
        let a = fill(p.aShape, "a"), b = fill(p.bShape, "b"), dy = fill(p.yShape, "dy")
        let (v, m) = vectorFirst ? (a, b) : (b, a)
        #expect(v.contains { $0 != 0 } && m.contains { $0 != 0 }, "seed \(seed): an all-zero fill proves nothing")
        #expect(
            mismatch(tiledMatmulForward(p, a, b, threads: 2), naive.forward(vector: v, matrix: m)) == nil, "\(p) fwd")
        let (da, db) = (tiledMatmulBackwardA(p, dy, b, threads: 2), tiledMatmulBackwardB(p, a, dy, threads: 2))
        let (dv, dm) = vectorFirst ? (da, db) : (db, da)
        #expect(mismatch(dv, naive.vectorGradient(dy: dy, matrix: m)) == nil, "\(p) vector gradient, seed \(seed)")
        #expect(mismatch(dm, naive.matrixGradient(vector: v, dy: dy)) == nil, "\(p) matrix gradient, seed \(seed)")
    }

    @Test("a 1-D operand gives the bits of the 1×K / K×1 matrix it stands for, for any thread count")
    func sameBitsAsTheUnitMatrixProblem() throws {
        // Real-valued fills: the rounding order must match too, not only the exact sums.
        let pairs = [
            (MatmulProblem(aShape: [70], bShape: [3, 70, 90]), MatmulProblem(aShape: [1, 70], bShape: [3, 70, 90])),
            (MatmulProblem(aShape: [2, 90, 70], bShape: [70]), MatmulProblem(aShape: [2, 90, 70], bShape: [70, 1])),
            (MatmulProblem(aShape: [300], bShape: [300]), MatmulProblem(aShape: [1, 300], bShape: [300, 1])),
        ]
        for (vector, matrix) in pairs {
            try vector.validate(); try matrix.validate()
            let d = MatmulData(vector, seed: 11, integer: false)
            let reference = MatmulData(matrix, seed: 11, integer: false)
            #expect(d.a == reference.a && d.b == reference.b && d.dy == reference.dy)
            let one = reference.tiled(threads: 1)
            for threads in [1, 3] {
                let t = d.tiled(threads: threads)
                #expect(mismatch(t.y, one.y, bitwise: true) == nil, "\(vector) fwd, \(threads) threads")
                #expect(mismatch(t.da, one.da, bitwise: true) == nil, "\(vector) bwd_data, \(threads) threads")
                #expect(mismatch(t.db, one.db, bitwise: true) == nil, "\(vector) bwd_weights, \(threads) threads")
            }
        }
    }
}

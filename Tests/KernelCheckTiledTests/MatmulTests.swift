import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import KernelCheckTiled
import Testing

/// Naive batched matmul written from the `MatmulProblem` doc comment, independently of the
/// tiled code: batch index β over the broadcast shape, each operand's batch index obtained
/// by dropping broadcast (size-1) dims.
struct NaiveMatmul {
    let p: MatmulProblem
    var full: [Int] { p.batchShape! }
    var m: Int { p.m }
    var n: Int { p.n }
    var k: Int { p.k }

    /// Flat index into an operand's batch dims for flat broadcast index β.
    func operandBatch(_ beta: Int, _ dims: [Int]) -> Int {
        var rest = beta, index = 0, scale = 1
        for d in stride(from: full.count - 1, through: 0, by: -1) {
            let i = rest % full[d]
            rest /= full[d]
            let od = d - (full.count - dims.count)
            if od >= 0 {
                index += (dims[od] == 1 ? 0 : i) * scale
                scale *= dims[od]
            }
        }
        return index
    }

    /// Calls `body(y, a, b)` with the offsets of every product
    /// `y[β, i, j] += op(A)[β, i, kk] · op(B)[β, kk, j]` in y and in the stored A and B
    /// (transposed and broadcast as the problem says).
    func forEachProduct(_ body: (_ y: Int, _ a: Int, _ b: Int) -> Void) {
        for beta in 0..<count(full) {
            let baseA = operandBatch(beta, p.batchA) * m * k, baseB = operandBatch(beta, p.batchB) * k * n
            for i in 0..<m {
                for j in 0..<n {
                    for kk in 0..<k {
                        body(
                            (beta * m + i) * n + j,
                            baseA + (p.transposeA ? kk * m + i : i * k + kk),
                            baseB + (p.transposeB ? j * k + kk : kk * n + j))
                    }
                }
            }
        }
    }

    /// y[β] = op(A)[β]·op(B)[β].
    func forward(_ a: [Float], _ b: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: count(p.yShape))
        forEachProduct { yi, ai, bi in y[yi] += a[ai] * b[bi] }
        return y
    }

    /// dA[α] = Σ_{β using α} dy[β]·op(B)[β]ᵀ, stored transposed when `ta`.
    func backwardA(_ dy: [Float], _ b: [Float]) -> [Float] {
        var da = [Float](repeating: 0, count: count(p.aShape))
        forEachProduct { yi, ai, bi in da[ai] += dy[yi] * b[bi] }
        return da
    }

    /// dB[α] = Σ_{β using α} op(A)[β]ᵀ·dy[β], stored transposed when `tb`.
    func backwardB(_ a: [Float], _ dy: [Float]) -> [Float] {
        var db = [Float](repeating: 0, count: count(p.bShape))
        forEachProduct { yi, ai, bi in db[bi] += a[ai] * dy[yi] }
        return db
    }
}

func tiledMatmulForward(_ p: MatmulProblem, _ a: [Float], _ b: [Float], threads: Int) -> [Float] {
    runKernel([a, b], outputCount: count(p.yShape)) { i, y in
        Tiled.matmulForward(p, a: i[0], b: i[1], y: y, threads: threads)
    }
}

func tiledMatmulBackwardA(_ p: MatmulProblem, _ dy: [Float], _ b: [Float], threads: Int) -> [Float] {
    runKernel([dy, b], outputCount: count(p.aShape)) { i, da in
        Tiled.matmulBackwardA(p, dy: i[0], b: i[1], da: da, threads: threads)
    }
}

func tiledMatmulBackwardB(_ p: MatmulProblem, _ a: [Float], _ dy: [Float], threads: Int) -> [Float] {
    runKernel([a, dy], outputCount: count(p.bShape)) { i, db in
        Tiled.matmulBackwardB(p, a: i[0], dy: i[1], db: db, threads: threads)
    }
}

/// Seeded A, B and dY for `p` (integers, or uniform reals) and what the tiled kernels make of them.
struct MatmulData {
    let p: MatmulProblem
    let a: [Float], b: [Float], dy: [Float]

    init(_ p: MatmulProblem, seed: UInt64, integer: Bool = true) {
        func fill(_ shape: [Int], _ stream: String) -> [Float] {
            integer
                ? TestData.integers(count(shape), seed: seed, stream: stream)
                : TestData.uniform(count(shape), seed: seed, stream: stream)
        }
        (self.p, a, b, dy) = (p, fill(p.aShape, "a"), fill(p.bShape, "b"), fill(p.yShape, "dy"))
    }

    /// y, dA and dB from the tiled kernels.
    func tiled(threads: Int) -> (y: [Float], da: [Float], db: [Float]) {
        (
            tiledMatmulForward(p, a, b, threads: threads), tiledMatmulBackwardA(p, dy, b, threads: threads),
            tiledMatmulBackwardB(p, a, dy, threads: threads)
        )
    }
}

/// Broadcasting cases: A broadcast over B's batch, B broadcast over A's, both ways at once,
/// plain 2-D, and shapes around the register tile.
let broadcastProblems: [(a: [Int], b: [Int])] = [
    ([2, 1, 3, 4], [5, 4, 2]),
    ([3, 4], [2, 4, 5]),
    ([2, 3, 4], [4, 5]),
    ([13, 33], [33, 31]),
    ([2, 12, 7], [1, 7, 33]),
]

@Suite("Matmul")
struct MatmulTests {
    @Test("forward: a hand-computed 2×2 product, plain and transposed")
    func forwardHandComputed() {
        // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]];
        // with ta the stored A is read as its transpose [[1, 3], [2, 4]]:
        // [[1, 3], [2, 4]] · [[5, 6], [7, 8]] = [[26, 30], [38, 44]].
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        let plain = MatmulProblem(aShape: [2, 2], bShape: [2, 2])
        #expect(tiledMatmulForward(plain, a, b, threads: 1) == [19, 22, 43, 50])
        let ta = MatmulProblem(aShape: [2, 2], bShape: [2, 2], transposeA: true)
        #expect(tiledMatmulForward(ta, a, b, threads: 1) == [26, 30, 38, 44])
    }

    @Test(
        "forward, backward A and backward B equal naive loops (integer fill) with broadcast batches",
        arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matchesNaiveWithBroadcast(transA: Bool, transB: Bool) throws {
        for (index, shapes) in broadcastProblems.enumerated() {
            // The shapes above are op(A) = M×K and op(B) = K×N; swap the stored last two dims
            // of a transposed operand.
            func stored(_ s: [Int], _ t: Bool) -> [Int] { t ? s.dropLast(2) + [s[s.count - 1], s[s.count - 2]] : s }
            let p = MatmulProblem(
                aShape: stored(shapes.a, transA), bShape: stored(shapes.b, transB),
                transposeA: transA, transposeB: transB)
            try p.validate()
            let d = MatmulData(p, seed: UInt64(40 + index)), tiled = d.tiled(threads: 2), naive = NaiveMatmul(p: p)
            #expect(mismatch(tiled.y, naive.forward(d.a, d.b)) == nil, "\(p) fwd")
            #expect(mismatch(tiled.da, naive.backwardA(d.dy, d.b)) == nil, "\(p) bwd_data")
            #expect(mismatch(tiled.db, naive.backwardB(d.a, d.dy)) == nil, "\(p) bwd_weights")
        }
    }

    @Test("adjoint identity ⟨A·B, dY⟩ = ⟨A, dA⟩ = ⟨B, dB⟩ holds exactly for integer data")
    func adjointIdentity() throws {
        let p = MatmulProblem(aShape: [3, 1, 5, 7], bShape: [2, 9, 7], transposeA: false, transposeB: true)
        try p.validate()
        let d = MatmulData(p, seed: 3), t = d.tiled(threads: 2)
        // The output is linear in each operand: ⟨f(a, b), dy⟩ = ⟨a, ∂a⟩ = ⟨b, ∂b⟩.
        #expect(dot(t.y, d.dy) == dot(d.a, t.da))
        #expect(dot(t.y, d.dy) == dot(d.b, t.db))
        #expect(dot(t.y, d.dy) != 0, "a zero inner product would make the identity vacuous")
    }

    @Test("backward passes are bit-identical for 1, 2 and 3 threads (real-valued, broadcast sums)")
    func deterministicAcrossThreads() throws {
        // B is shared by 3 batch entries (its gradient sums them); A by none.
        let p = MatmulProblem(aShape: [3, 40, 70], bShape: [70, 90])
        try p.validate()
        let d = MatmulData(p, seed: 8, integer: false), one = d.tiled(threads: 1)
        for threads in [2, 3] {
            let t = d.tiled(threads: threads)
            #expect(mismatch(t.y, one.y, bitwise: true) == nil)
            #expect(mismatch(t.da, one.da, bitwise: true) == nil)
            #expect(mismatch(t.db, one.db, bitwise: true) == nil)
        }
    }

    @Test("an empty batch gives an empty output and a zero gradient for the broadcast operand")
    func emptyBatch() throws {
        let p = MatmulProblem(aShape: [0, 3, 4], bShape: [4, 5])
        try p.validate()
        let a: [Float] = [], b = TestData.integers(20, seed: 1, stream: "b"), dy: [Float] = []
        #expect(tiledMatmulForward(p, a, b, threads: 2).isEmpty)
        #expect(tiledMatmulBackwardB(p, a, dy, threads: 2) == [Float](repeating: 0, count: 20))
    }
}

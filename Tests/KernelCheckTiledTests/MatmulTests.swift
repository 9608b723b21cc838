import KernelCheckCore
import KernelCheckProblems
import Testing
import KernelCheckTiled
import KernelCheckTestSupport

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

    func opA(_ a: [Float], _ beta: Int, _ i: Int, _ kk: Int) -> Float {
        let base = operandBatch(beta, p.batchA) * m * k
        return p.transposeA ? a[base + kk * m + i] : a[base + i * k + kk]
    }

    func opB(_ b: [Float], _ beta: Int, _ kk: Int, _ j: Int) -> Float {
        let base = operandBatch(beta, p.batchB) * k * n
        return p.transposeB ? b[base + j * k + kk] : b[base + kk * n + j]
    }

    func forward(_ a: [Float], _ b: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: count(p.yShape))
        for beta in 0..<count(full) {
            for i in 0..<m { for j in 0..<n {
                var s: Float = 0
                for kk in 0..<k { s += opA(a, beta, i, kk) * opB(b, beta, kk, j) }
                y[(beta * m + i) * n + j] = s
            } }
        }
        return y
    }

    /// dA[α] = Σ_{β using α} dy[β]·op(B)[β]ᵀ, stored transposed when `ta`.
    func backwardA(_ dy: [Float], _ b: [Float]) -> [Float] {
        var da = [Float](repeating: 0, count: count(p.aShape))
        for beta in 0..<count(full) {
            let base = operandBatch(beta, p.batchA) * m * k
            for i in 0..<m { for kk in 0..<k {
                var s: Float = 0
                for j in 0..<n { s += dy[(beta * m + i) * n + j] * opB(b, beta, kk, j) }
                da[base + (p.transposeA ? kk * m + i : i * k + kk)] += s
            } }
        }
        return da
    }

    /// dB[α] = Σ_{β using α} op(A)[β]ᵀ·dy[β], stored transposed when `tb`.
    func backwardB(_ a: [Float], _ dy: [Float]) -> [Float] {
        var db = [Float](repeating: 0, count: count(p.bShape))
        for beta in 0..<count(full) {
            let base = operandBatch(beta, p.batchB) * k * n
            for kk in 0..<k { for j in 0..<n {
                var s: Float = 0
                for i in 0..<m { s += opA(a, beta, i, kk) * dy[(beta * m + i) * n + j] }
                db[base + (p.transposeB ? j * k + kk : kk * n + j)] += s
            } }
        }
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

    @Test("forward, backward A and backward B equal naive loops (integer fill) with broadcast batches",
          arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matchesNaiveWithBroadcast(transA: Bool, transB: Bool) throws {
        for (index, shapes) in broadcastProblems.enumerated() {
            // The shapes above are op(A) = M×K and op(B) = K×N; swap the stored last two dims
            // of a transposed operand.
            func stored(_ s: [Int], _ t: Bool) -> [Int] { t ? s.dropLast(2) + [s[s.count - 1], s[s.count - 2]] : s }
            let p = MatmulProblem(aShape: stored(shapes.a, transA), bShape: stored(shapes.b, transB),
                                  transposeA: transA, transposeB: transB)
            try p.validate()
            let seed = UInt64(40 + index)
            let a = TestData.integers(count(p.aShape), seed: seed, stream: "a")
            let b = TestData.integers(count(p.bShape), seed: seed, stream: "b")
            let dy = TestData.integers(count(p.yShape), seed: seed, stream: "dy")
            let naive = NaiveMatmul(p: p)
            #expect(mismatch(tiledMatmulForward(p, a, b, threads: 2), naive.forward(a, b)) == nil, "\(p) fwd")
            #expect(mismatch(tiledMatmulBackwardA(p, dy, b, threads: 2), naive.backwardA(dy, b)) == nil, "\(p) bwd_data")
            #expect(mismatch(tiledMatmulBackwardB(p, a, dy, threads: 2), naive.backwardB(a, dy)) == nil, "\(p) bwd_weights")
        }
    }

    @Test("adjoint identity ⟨A·B, dY⟩ = ⟨A, dA⟩ = ⟨B, dB⟩ holds exactly for integer data")
    func adjointIdentity() throws {
        let p = MatmulProblem(aShape: [3, 1, 5, 7], bShape: [2, 9, 7], transposeA: false, transposeB: true)
        try p.validate()
        let a = TestData.integers(count(p.aShape), seed: 3, stream: "a")
        let b = TestData.integers(count(p.bShape), seed: 3, stream: "b")
        let dy = TestData.integers(count(p.yShape), seed: 3, stream: "dy")
        let y = tiledMatmulForward(p, a, b, threads: 2)
        let da = tiledMatmulBackwardA(p, dy, b, threads: 2)
        let db = tiledMatmulBackwardB(p, a, dy, threads: 2)
        // The output is linear in each operand: ⟨f(a, b), dy⟩ = ⟨a, ∂a⟩ = ⟨b, ∂b⟩.
        #expect(dot(y, dy) == dot(a, da))
        #expect(dot(y, dy) == dot(b, db))
        #expect(dot(y, dy) != 0, "a zero inner product would make the identity vacuous")
    }

    @Test("backward passes are bit-identical for 1, 2 and 3 threads (real-valued, broadcast sums)")
    func deterministicAcrossThreads() throws {
        // B is shared by 3 batch entries (its gradient sums them); A by none.
        let p = MatmulProblem(aShape: [3, 40, 70], bShape: [70, 90])
        try p.validate()
        let a = TestData.uniform(count(p.aShape), seed: 8, stream: "a")
        let b = TestData.uniform(count(p.bShape), seed: 8, stream: "b")
        let dy = TestData.uniform(count(p.yShape), seed: 8, stream: "dy")
        let y1 = tiledMatmulForward(p, a, b, threads: 1)
        let da1 = tiledMatmulBackwardA(p, dy, b, threads: 1)
        let db1 = tiledMatmulBackwardB(p, a, dy, threads: 1)
        for threads in [2, 3] {
            #expect(mismatch(tiledMatmulForward(p, a, b, threads: threads), y1, bitwise: true) == nil)
            #expect(mismatch(tiledMatmulBackwardA(p, dy, b, threads: threads), da1, bitwise: true) == nil)
            #expect(mismatch(tiledMatmulBackwardB(p, a, dy, threads: threads), db1, bitwise: true) == nil)
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

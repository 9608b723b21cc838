import KernelCheckCore
import KernelCheckTestSupport
import Testing

@testable import KernelCheckTiled

/// One SGEMM call: shapes, transposes, padded leading dimensions.
struct GEMMCase: CustomStringConvertible, Sendable {
    var transA: Bool, transB: Bool
    var m: Int, n: Int, k: Int
    /// Extra elements per stored row beyond the width (leading dim = width + pad).
    var padA = 0, padB = 0, padC = 0
    var accumulate = false

    var lda: Int { max(1, (transA ? m : k) + padA) }
    var ldb: Int { max(1, (transB ? k : n) + padB) }
    var ldc: Int { max(1, n + padC) }
    var aCount: Int { (transA ? k : m) * lda }
    var bCount: Int { (transB ? n : k) * ldb }
    var cCount: Int { m * ldc }

    var description: String {
        "sgemm \(transA ? "t" : "n")\(transB ? "t" : "n") m=\(m) n=\(n) k=\(k) pad=\(padA),\(padB),\(padC) acc=\(accumulate)"
    }

    /// Naive triple loop in Float, k in increasing order: `C = (acc ? C : 0) + op(A)·op(B)`.
    /// Only cells `C[i, j]` with `j < n` are written.
    func naive(a: [Float], b: [Float], c: inout [Float]) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = accumulate ? c[i * ldc + j] : 0
                for p in 0..<k {
                    let x = transA ? a[p * lda + i] : a[i * lda + p]
                    let y = transB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += x * y
                }
                c[i * ldc + j] = sum
            }
        }
    }

    /// Runs `Tiled.sgemm` on `c` (which has `guardCount` sentinel cells after the matrix).
    func tiled(a: [Float], b: [Float], c: inout [Float], threads: Int) {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    Tiled.sgemm(
                        transA: transA, transB: transB, m: m, n: n, k: k,
                        a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                        c: c.baseAddress!, ldc: ldc, accumulate: accumulate, threads: threads)
                }
            }
        }
    }
}

/// Cells past the end of C that must never be written.
let guardCount = 40

/// Inputs for a case: operands (at least one element so the pointers exist) and a C whose
/// padding columns and trailing guard cells hold the sentinel.
func gemmInputs(_ g: GEMMCase, seed: UInt64, integer: Bool) -> (a: [Float], b: [Float], c: [Float]) {
    func fill(_ count: Int, _ stream: String) -> [Float] {
        integer
            ? TestData.integers(count, seed: seed, stream: stream) : TestData.uniform(count, seed: seed, stream: stream)
    }
    let a = fill(max(1, g.aCount), "a")
    let b = fill(max(1, g.bCount), "b")
    var c = fill(g.cCount + guardCount, "c")
    for i in 0..<g.m { for j in g.n..<g.ldc { c[i * g.ldc + j] = sentinel } }
    for i in g.cCount..<c.count { c[i] = sentinel }
    return (a, b, c)
}

/// The tiled SGEMM on integer inputs equals the naive loop bit for bit (and leaves C's
/// padding columns and guard cells alone).
func expectTiledEqualsNaive(
    _ g: GEMMCase, seed: UInt64, threads: Int, sourceLocation: SourceLocation = #_sourceLocation
) {
    let (a, b, c0) = gemmInputs(g, seed: seed, integer: true)
    var expected = c0, actual = c0
    g.naive(a: a, b: b, c: &expected)
    g.tiled(a: a, b: b, c: &actual, threads: threads)
    #expect(mismatch(actual, expected) == nil, "\(g) seed=\(seed)", sourceLocation: sourceLocation)
}

/// Register-tile-relative shapes: equal, one less, one more, multiples of the `mr × nr` tile;
/// K at, one past and across two K blocks; M past the row block; N past the column block;
/// narrow C (computed as Cᵀ = op(B)ᵀ·op(A)ᵀ) and short C (B read in place).
let tileShapes: [(m: Int, n: Int, k: Int)] = {
    let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr, kc = GEMMBlocking.kc
    return [
        (mr, nr, 8), (mr - 1, nr - 1, 5), (mr + 1, nr + 1, 9), (2 * mr, 2 * nr, 3), (2 * mr + 1, 2 * nr + 1, 2),
        (3 * mr, 3 * nr, 1), (1, 1, 1), (1, nr, 4), (mr, 1, 4), (2, 17, 3),
        (5, 7, kc), (5, 7, kc + 1), (mr + 1, nr + 1, 2 * kc + 6),
        (GEMMBlocking.mc + 1, nr + 1, 3), (2, GEMMBlocking.nc + 1, 2),
        (100, 3, 20), (70, 1, kc + 1), (50, 13, 9), (3, 3 * nr + 5, kc + 3), (2 * mr, 2 * nr, 7),
        // Last row panel of 4 or 8 rows (the narrow kernels, straight into C or via the tile).
        (5 * mr + 4, 2 * nr, 9), (2 * mr + 8, nr + 3, kc + 2), (4, 2 * nr, 6), (8, nr, 3), (mr + 6, nr, 5),
    ]
}()

@Suite("SGEMM")
struct SGEMMTests {
    @Test(
        "equals a naive loop bit for bit (integer fill) around the tile sizes",
        arguments: [(false, false), (false, true), (true, false), (true, true)])
    func exactAroundTileSizes(transA: Bool, transB: Bool) {
        for (index, shape) in tileShapes.enumerated() {
            for accumulate in [false, true] {
                let g = GEMMCase(
                    transA: transA, transB: transB, m: shape.m, n: shape.n, k: shape.k,
                    padA: index % 3, padB: (index + 1) % 4, padC: index % 2 == 0 ? 0 : 5,
                    accumulate: accumulate)
                expectTiledEqualsNaive(g, seed: UInt64(100 + index), threads: 2)
            }
        }
    }

    @Test("equals a naive loop bit for bit on a seeded sweep of shapes, transposes and leading dims")
    func exactSeededSweep() {
        var rng = SeededRNG(seed: 2024, stream: "sgemm-sweep")
        for trial in 0..<48 {
            let g = GEMMCase(
                transA: rng.nextInt(in: 0...1) == 1, transB: rng.nextInt(in: 0...1) == 1,
                m: rng.nextInt(in: 1...40), n: rng.nextInt(in: 1...80), k: rng.nextInt(in: 0...(GEMMBlocking.kc + 100)),
                padA: rng.nextInt(in: 0...3), padB: rng.nextInt(in: 0...3), padC: rng.nextInt(in: 0...3),
                accumulate: rng.nextInt(in: 0...1) == 1)
            expectTiledEqualsNaive(g, seed: UInt64(5000 + trial), threads: 1 + trial % 3)
        }
    }

    @Test("k = 0 gives C = 0, or leaves C unchanged when accumulating")
    func emptyInnerDimension() {
        for accumulate in [false, true] {
            let g = GEMMCase(transA: false, transB: false, m: 5, n: 7, k: 0, padC: 2, accumulate: accumulate)
            let (a, b, c0) = gemmInputs(g, seed: 9, integer: true)
            var actual = c0
            g.tiled(a: a, b: b, c: &actual, threads: 2)
            for i in 0..<actual.count {
                let inMatrix = i < g.cCount && i % g.ldc < g.n
                let want: Float = inMatrix && !accumulate ? 0 : c0[i]
                #expect(actual[i] == want, "k=0 acc=\(accumulate) cell \(i)")
            }
        }
    }

    @Test("m = 0 or n = 0 writes nothing", arguments: [(0, 5), (5, 0), (0, 0)])
    func emptyOutput(m: Int, n: Int) {
        var c = [Float](repeating: sentinel, count: 16)
        let a: [Float] = [1, 2, 3], b: [Float] = [4, 5, 6]
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    Tiled.sgemm(
                        transA: false, transB: false, m: m, n: n, k: 3, a: a.baseAddress!, lda: 3,
                        b: b.baseAddress!, ldb: max(1, n), c: c.baseAddress!, ldc: max(1, n),
                        accumulate: false, threads: 2)
                }
            }
        }
        #expect(c.allSatisfy { $0 == sentinel })
    }

    @Test("a hand-computed 2×3 · 3×2 product in every transpose form")
    func handComputed() {
        // A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]]:
        // C[0,0] = 7 + 18 + 33 = 58, C[0,1] = 8 + 20 + 36 = 64,
        // C[1,0] = 28 + 45 + 66 = 139, C[1,1] = 32 + 50 + 72 = 154.
        let a: [Float] = [1, 2, 3, 4, 5, 6], aT: [Float] = [1, 4, 2, 5, 3, 6]
        let b: [Float] = [7, 8, 9, 10, 11, 12], bT: [Float] = [7, 9, 11, 8, 10, 12]
        for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
            var c = [Float](repeating: sentinel, count: 4)
            let g = GEMMCase(transA: transA, transB: transB, m: 2, n: 2, k: 3)
            g.tiled(a: transA ? aT : a, b: transB ? bT : b, c: &c, threads: 1)
            #expect(c == [58, 64, 139, 154], "\(g)")
        }
    }

    @Test("real-valued inputs: bit-identical for 1, 2, 3 and all threads, and across runs")
    func deterministicAcrossThreadCounts() {
        // 70 × 150 × (kc + 44): above the parallel threshold, several tiles in each
        // direction, two K blocks, edge tiles in both M and N; then a narrow C (computed
        // transposed) and a short C (B read in place).
        for (transA, transB, m, n) in [
            (false, false, 70, 150), (true, true, 70, 150), (false, true, 300, 7), (true, false, 9, 400),
        ] {
            let g = GEMMCase(
                transA: transA, transB: transB, m: m, n: n, k: GEMMBlocking.kc + 44, padA: 1, padB: 2, padC: 3,
                accumulate: true)
            let (a, b, c0) = gemmInputs(g, seed: 77, integer: false)
            var reference = c0
            g.tiled(a: a, b: b, c: &reference, threads: 1)
            for threads in [2, 3, 0, 2] {
                var c = c0
                g.tiled(a: a, b: b, c: &c, threads: threads)
                #expect(mismatch(c, reference, bitwise: true) == nil, "\(g) threads=\(threads)")
            }
        }
    }

    @Test(
        "large C (threads share one packed B block): bit-identical for any thread count, exact on integers",
        arguments: [(false, false), (false, true), (true, false), (true, true)])
    func sharedPackedB(transA: Bool, transB: Bool) {
        // Rows and columns large enough for the shared-B path, with edge tiles in both,
        // more than one nc block of columns and two K blocks. The big case (0.46 G
        // multiply-adds, slow in a debug build) runs untransposed and fully transposed, which
        // packs A and B each way once; the small
        // one for all four transposes.
        let small = GEMMCase(
            transA: transA, transB: transB, m: 4 * GEMMBlocking.mc + 1,
            n: 16 * GEMMBlocking.nr + 1, k: 45, padA: 2, padB: 1, padC: 1)
        #expect(Tiled.prefersSharedB(rows: small.m, columns: small.n, threads: 2))
        expectTiledEqualsNaive(small, seed: 92, threads: 2)
        guard transA == transB else { return }
        let big = GEMMCase(
            transA: transA, transB: transB, m: 4 * GEMMBlocking.mc + 13,
            n: GEMMBlocking.nc + 45, k: GEMMBlocking.kc + 44, padA: 1, padB: 2, padC: 3,
            accumulate: true)
        #expect(Tiled.prefersSharedB(rows: big.m, columns: big.n, threads: 2))
        let (a, b, c0) = gemmInputs(big, seed: 91, integer: false)
        var reference = c0
        big.tiled(a: a, b: b, c: &reference, threads: 1)
        for threads in [2, 3] {
            var c = c0
            big.tiled(a: a, b: b, c: &c, threads: threads)
            #expect(mismatch(c, reference, bitwise: true) == nil, "\(big) threads=\(threads)")
        }
    }

    @Test("real-valued inputs: error within the forward bound γ_K·(|A|·|B|) of a Float64 product")
    func realValuedWithinForwardBound() {
        let g = GEMMCase(transA: false, transB: true, m: 29, n: 45, k: 600)
        let (a, b, c0) = gemmInputs(g, seed: 31, integer: false)
        var c = c0
        g.tiled(a: a, b: b, c: &c, threads: 2)
        let u = 0x1p-24, gamma = Double(g.k) * u / (1 - Double(g.k) * u)
        var worst = 0.0
        for i in 0..<g.m {
            for j in 0..<g.n {
                var exact = 0.0, magnitude = 0.0
                for p in 0..<g.k {
                    let x = Double(a[i * g.lda + p]), y = Double(b[j * g.ldb + p])
                    exact += x * y
                    magnitude += Swift.abs(x * y)
                }
                let bound = gamma * magnitude + u * Swift.abs(exact)
                worst = max(worst, Swift.abs(Double(c[i * g.ldc + j]) - exact) / bound)
            }
        }
        #expect(worst <= 1, "bound utilization \(worst)")
        #expect(worst > 0, "a real-valued product should show some rounding")
    }

    @Test("narrow C is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ; wide or square C is not")
    func transposedFormulationChoice() {
        #expect(Tiled.prefersTransposedProblem(m: 4096, n: 3))
        #expect(Tiled.prefersTransposedProblem(m: 100, n: 3))
        #expect(!Tiled.prefersTransposedProblem(m: 3, n: 4096))
        #expect(!Tiled.prefersTransposedProblem(m: 12, n: 1))
        #expect(!Tiled.prefersTransposedProblem(m: 256, n: 256))
    }

    @Test("every code path sums an element the same way: C, (Bᵀ·Aᵀ)ᵀ, in-place and packed B agree bit for bit")
    func pathsAgreeBitwise() {
        // Real-valued data, so any difference in summation order would show.
        // 100 × 3 is computed as its transpose; 3 × 100 with B untransposed reads B in place;
        // with B stored transposed it packs B. All must give identical bits.
        let (m, n, k) = (100, 3, GEMMBlocking.kc + 37)
        let a = TestData.uniform(m * k, seed: 21, stream: "a"), b = TestData.uniform(k * n, seed: 21, stream: "b")
        func transpose(_ x: [Float], rows: Int, columns: Int) -> [Float] {
            var t = [Float](repeating: 0, count: x.count)
            for i in 0..<rows { for j in 0..<columns { t[j * rows + i] = x[i * columns + j] } }
            return t
        }
        var c = [Float](repeating: 0, count: m * n)
        GEMMCase(transA: false, transB: false, m: m, n: n, k: k).tiled(a: a, b: b, c: &c, threads: 1)
        // Cᵀ = Bᵀ·Aᵀ with both operands read transposed from their stored forms (B packed).
        var ct = [Float](repeating: 0, count: n * m)
        GEMMCase(transA: true, transB: true, m: n, n: m, k: k).tiled(a: b, b: a, c: &ct, threads: 1)
        #expect(mismatch(transpose(ct, rows: n, columns: m), c, bitwise: true) == nil, "C vs (BᵀAᵀ)ᵀ")
        // Cᵀ = Bᵀ·Aᵀ with Aᵀ materialized: B operand untransposed and short C → read in place.
        var ctInPlace = [Float](repeating: 0, count: n * m)
        GEMMCase(transA: true, transB: false, m: n, n: m, k: k)
            .tiled(a: b, b: transpose(a, rows: m, columns: k), c: &ctInPlace, threads: 1)
        #expect(mismatch(ctInPlace, ct, bitwise: true) == nil, "in-place B vs packed B")
    }

    @Test(
        "thread split covers C exactly once, in whole register tiles",
        arguments: [1, 2, 3, 4, 7])
    func splitCoversOutput(threads: Int) {
        for (m, n) in [(1, 1), (12, 32), (13, 33), (100, 5), (5, 100), (240, 700), (24, 64), (256, 256)] {
            for inPlaceB in [false, true] {
                let split = GEMMSplit(m: m, n: n, threads: threads, inPlaceB: inPlaceB)
                #expect(split.count >= 1 && split.count <= threads)
                var covered = [Int](repeating: 0, count: m * n)
                for part in 0..<split.count {
                    let rows = split.rows(part), cols = split.columns(part)
                    #expect(rows.lowerBound % GEMMBlocking.mr == 0 && cols.lowerBound % GEMMBlocking.nr == 0)
                    for i in rows { for j in cols { covered[i * n + j] += 1 } }
                }
                #expect(covered.allSatisfy { $0 == 1 }, "m=\(m) n=\(n) threads=\(threads) inPlaceB=\(inPlaceB)")
            }
        }
    }

    /// 256 × 256 on 2 threads: 22 row tiles × 8 column tiles. Row halves (11 × 8) and column
    /// halves (22 × 4) are equally large; only row halves of ≤ 11 tiles read B in place.
    @Test("thread split prefers row blocks that read B in place among equal splits")
    func splitPrefersInPlaceB() {
        let packed = GEMMSplit(m: 256, n: 256, threads: 2, inPlaceB: false)
        #expect(packed.rowParts == 1 && packed.columnParts == 2)
        let inPlace = GEMMSplit(m: 256, n: 256, threads: 2, inPlaceB: true)
        #expect(inPlace.rowParts == 2 && inPlace.columnParts == 1)
        #expect(inPlace.rows(0) == 0..<132 && inPlace.rows(1) == 132..<256)
        // 1024 rows: halves of 43 tiles pack B either way, so the tie keeps column parts.
        let large = GEMMSplit(m: 1024, n: 1024, threads: 2, inPlaceB: true)
        #expect(large.rowParts == 1 && large.columnParts == 2)
    }
}

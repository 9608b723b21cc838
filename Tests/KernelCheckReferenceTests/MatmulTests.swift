import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

/// A = [[1, 2, 3], [4, 5, 6]] (2×3), B = [[7, 8], [9, 10], [11, 12]] (3×2):
/// C = [[1·7 + 2·9 + 3·11, 1·8 + 2·10 + 3·12], [4·7 + 5·9 + 6·11, 4·8 + 5·10 + 6·12]]
///   = [[58, 64], [139, 154]].
enum MatmulHandCase {
    static let a: [Double] = [1, 2, 3, 4, 5, 6]
    static let aTransposed: [Double] = [1, 4, 2, 5, 3, 6]  // stored 3×2
    static let b: [Double] = [7, 8, 9, 10, 11, 12]
    static let bTransposed: [Double] = [7, 9, 11, 8, 10, 12]  // stored 2×3
    static let c: [Double] = [58, 64, 139, 154]
}

@Suite struct MatmulForwardTests {
    @Test func twoByThreeTimesThreeByTwo() throws {
        let p = MatmulProblem(m: 2, n: 2, k: 3)
        let c = Reference.matmulForward(
            p, a: try tensor([2, 3], MatmulHandCase.a), b: try tensor([3, 2], MatmulHandCase.b))
        #expect(c.shape == [2, 2])
        #expect(c.storage == MatmulHandCase.c)
    }

    /// The same product with A and/or B stored transposed (ta/tb) must give the same C.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func transposedOperands(_ ta: Bool, _ tb: Bool) throws {
        let p = MatmulProblem(
            aShape: ta ? [3, 2] : [2, 3], bShape: tb ? [2, 3] : [3, 2], transposeA: ta, transposeB: tb)
        let a = try tensor(p.aShape, ta ? MatmulHandCase.aTransposed : MatmulHandCase.a)
        let b = try tensor(p.bShape, tb ? MatmulHandCase.bTransposed : MatmulHandCase.b)
        #expect(Reference.matmulForward(p, a: a, b: b).storage == MatmulHandCase.c)
    }

    /// a 2×1×3×4 with b 5×4×6 broadcasts to 2×5×3×6: C[i, j] = a[i, 0]·b[j]. Checked against
    /// a per-batch triple loop through multi-index subscripts (not the offsets the reference
    /// uses), integer fills so both sums are exact.
    @Test func batchBroadcastLikeTorchMatmul() {
        let p = MatmulProblem(aShape: [2, 1, 3, 4], bShape: [5, 4, 6])
        #expect(p.yShape == [2, 5, 3, 6])
        let a = integerTensor(p.aShape, seed: 31, role: "a"), b = integerTensor(p.bShape, seed: 31, role: "b")
        let c = Reference.matmulForward(p, a: a, b: b)
        #expect(c.shape == [2, 5, 3, 6])
        for i in 0..<2 {
            for j in 0..<5 {
                for r in 0..<3 {
                    for col in 0..<6 {
                        var expected = 0.0
                        for k in 0..<4 { expected += a[i, 0, r, k] * b[j, k, col] }
                        #expect(c[i, j, r, col] == expected, "C[\(i), \(j), \(r), \(col)]")
                    }
                }
            }
        }
        #expect(c.storage.contains { $0 != 0 })
    }

    /// Reference over Float inputs equals the Float64 path on exactly representable values.
    @Test func floatInputsAccumulateInDouble() throws {
        let p = MatmulProblem(m: 2, n: 2, k: 3)
        let a = try tensor([2, 3], MatmulHandCase.a).converted(to: Float.self)
        let b = try tensor([3, 2], MatmulHandCase.b).converted(to: Float.self)
        #expect(Reference.matmulForward(p, a: a, b: b).storage == MatmulHandCase.c)
    }
}

@Suite struct MatmulBackwardDataTests {
    /// With dC = I₂: dA = dC·Bᵀ = Bᵀ = [[7, 9, 11], [8, 10, 12]].
    @Test func handCase() throws {
        let p = MatmulProblem(m: 2, n: 2, k: 3)
        let da = Reference.matmulBackwardA(
            p, dy: try tensor([2, 2], [1, 0, 0, 1]), b: try tensor([3, 2], MatmulHandCase.b))
        #expect(da.shape == [2, 3])
        #expect(da.storage == [7, 9, 11, 8, 10, 12])
    }

    /// A broadcast along a batch dim receives the sum of that dim's gradients: a (3×2, one
    /// batch) against b of batch 2 whose two matrices are equal gives twice the unbatched dA.
    @Test func broadcastOperandGradientIsSummed() throws {
        let p = MatmulProblem(aShape: [2, 3], bShape: [2, 3, 2])
        let b = try tensor([2, 3, 2], MatmulHandCase.b + MatmulHandCase.b)
        let dy = try tensor([2, 2, 2], [1, 0, 0, 1, /**/ 1, 0, 0, 1])
        #expect(Reference.matmulBackwardA(p, dy: dy, b: b).storage == [14, 18, 22, 16, 20, 24])
    }
}

@Suite struct MatmulBackwardWeightsTests {
    /// With dC = I₂: dB = Aᵀ·dC = Aᵀ = [[1, 4], [2, 5], [3, 6]].
    @Test func handCase() throws {
        let p = MatmulProblem(m: 2, n: 2, k: 3)
        let db = Reference.matmulBackwardB(
            p, a: try tensor([2, 3], MatmulHandCase.a), dy: try tensor([2, 2], [1, 0, 0, 1]))
        #expect(db.shape == [3, 2])
        #expect(db.storage == [1, 4, 2, 5, 3, 6])
    }

    /// With tb, dB is stored transposed too: (Aᵀ)ᵀ = A = [[1, 2, 3], [4, 5, 6]] as 2×3.
    @Test func transposedHandCase() throws {
        let p = MatmulProblem(aShape: [2, 3], bShape: [2, 3], transposeB: true)
        let db = Reference.matmulBackwardB(
            p, a: try tensor([2, 3], MatmulHandCase.a), dy: try tensor([2, 2], [1, 0, 0, 1]))
        #expect(db.storage == MatmulHandCase.a)
    }
}

/// Identities and finite differences over both operands.
@Suite struct MatmulGradientTests {
    static let problems = [
        MatmulProblem(m: 3, n: 4, k: 5),
        MatmulProblem(aShape: [4, 3], bShape: [5, 4], transposeA: true, transposeB: true),
        MatmulProblem(aShape: [2, 1, 3, 4], bShape: [5, 4, 6]),
        MatmulProblem(aShape: [3, 4, 2], bShape: [2, 1, 3, 4], transposeA: true, transposeB: true),
        MatmulProblem(aShape: [1, 2, 3], bShape: [3, 1], transposeA: false),
        // 1-D operands (torch.matmul's vectors): the three ONNX MatMul node-test shapes and
        // a vector against a transposed, broadcast matrix.
        MatmulProblem(aShape: [4], bShape: [2, 4, 1]),
        MatmulProblem(aShape: [1, 2, 4, 3], bShape: [3]),
        MatmulProblem(aShape: [3], bShape: [3]),
        MatmulProblem(aShape: [5], bShape: [3, 1, 2, 5], transposeB: true),
        MatmulProblem(aShape: [2, 5, 3], bShape: [5], transposeA: true),
    ]

    /// ⟨op(A)·op(B), G⟩ = ⟨A, bwd_a(G)⟩ = ⟨B, bwd_b(G)⟩, exact with integer fills.
    @Test(arguments: problems) func adjointIdentities(_ p: MatmulProblem) throws {
        try p.validate()
        let a = integerTensor(p.aShape, seed: 41, role: "a"), b = integerTensor(p.bShape, seed: 41, role: "b")
        let g = integerTensor(p.yShape, seed: 41, role: "dy")
        let forward = Reference.matmulForward(p, a: a, b: b).dot(g)
        #expect(forward == a.dot(Reference.matmulBackwardA(p, dy: g, b: b)))
        #expect(forward == b.dot(Reference.matmulBackwardB(p, a: a, dy: g)))
        #expect(forward != 0, "a zero inner product would make the identity vacuous")
    }

    @Test(arguments: problems) func finiteDifferences(_ p: MatmulProblem) {
        let a = randomTensor(p.aShape, seed: 42, role: "a"), b = randomTensor(p.bShape, seed: 42, role: "b")
        let g = randomTensor(p.yShape, seed: 42, role: "dy")
        checkGradient("\(p) da", analytic: Reference.matmulBackwardA(p, dy: g, b: b), at: a, seed: 42) {
            Reference.matmulForward(p, a: $0, b: b).dot(g)
        }
        checkGradient("\(p) db", analytic: Reference.matmulBackwardB(p, a: a, dy: g), at: b, seed: 43) {
            Reference.matmulForward(p, a: a, b: $0).dot(g)
        }
    }
}

/// 1-D operands as torch.matmul defines them: a 1-D `a` is a row vector, a 1-D `b` a column
/// vector, and that dimension is absent from the result. Values worked by hand.
@Suite struct MatmulVectorTests {
    /// [1, 2, 3]·[4, 5, 6] = 4 + 10 + 18 = 32, a scalar (shape []).
    @Test func dotProduct() throws {
        let p = MatmulProblem(aShape: [3], bShape: [3])
        let y = Reference.matmulForward(p, a: try tensor([3], [1, 2, 3]), b: try tensor([3], [4, 5, 6]))
        #expect(y.shape == [])
        #expect(y.storage == [32])
    }

    /// With dy = 2: da = dy·b = [8, 10, 12], db = a·dy = [2, 4, 6], both 1-D.
    @Test func dotProductGradients() throws {
        let p = MatmulProblem(aShape: [3], bShape: [3])
        let a = try tensor([3], [1, 2, 3]), b = try tensor([3], [4, 5, 6]), dy = try tensor([], [2])
        let da = Reference.matmulBackwardA(p, dy: dy, b: b), db = Reference.matmulBackwardB(p, a: a, dy: dy)
        #expect(da.shape == [3] && da.storage == [8, 10, 12])
        #expect(db.shape == [3] && db.storage == [2, 4, 6])
    }

    /// [1, 2, 3]·B (B of `MatmulHandCase`) = A's first row times B = [58, 64], shape [2];
    /// with tb the stored Bᵀ gives the same.
    @Test(arguments: [false, true]) func vectorTimesMatrix(_ tb: Bool) throws {
        let p = MatmulProblem(aShape: [3], bShape: tb ? [2, 3] : [3, 2], transposeB: tb)
        try p.validate()
        let b = try tensor(p.bShape, tb ? MatmulHandCase.bTransposed : MatmulHandCase.b)
        let y = Reference.matmulForward(p, a: try tensor([3], [1, 2, 3]), b: b)
        #expect(y.shape == [2])
        #expect(y.storage == [58, 64])
    }

    /// A·[7, 9, 11] (B's first column) = C's first column = [58, 139], shape [2]; with ta
    /// the stored Aᵀ gives the same.
    @Test(arguments: [false, true]) func matrixTimesVector(_ ta: Bool) throws {
        let p = MatmulProblem(aShape: ta ? [3, 2] : [2, 3], bShape: [3], transposeA: ta)
        try p.validate()
        let a = try tensor(p.aShape, ta ? MatmulHandCase.aTransposed : MatmulHandCase.a)
        let y = Reference.matmulForward(p, a: a, b: try tensor([3], [7, 9, 11]))
        #expect(y.shape == [2])
        #expect(y.storage == [58, 139])
    }

    /// a = [1, 2, 3, 4] (1-D) against b = 2×4×1 with columns [1, 1, 1, 1] and [1, −1, 2, 0]:
    /// y = [[1 + 2 + 3 + 4], [1 − 2 + 6 + 0]] = [[10], [5]], shape [2, 1] (ONNX test_matmul_1d_3d).
    /// Backward with dy = [[1], [2]]: da[k] = Σ_β dy[β]·b[β, k] = [1, 1, 1, 1] + 2·[1, −1, 2, 0]
    /// = [3, −1, 5, 1] (a is shared by both batch entries, so its gradient sums them);
    /// db[β, k] = a[k]·dy[β] = [1, 2, 3, 4, 2, 4, 6, 8].
    @Test func rowVectorAgainstBatchedColumns() throws {
        let p = MatmulProblem(aShape: [4], bShape: [2, 4, 1])
        try p.validate()
        let a = try tensor([4], [1, 2, 3, 4]), b = try tensor([2, 4, 1], [1, 1, 1, 1, 1, -1, 2, 0])
        let y = Reference.matmulForward(p, a: a, b: b)
        #expect(y.shape == [2, 1] && y.storage == [10, 5])
        let dy = try tensor([2, 1], [1, 2])
        let da = Reference.matmulBackwardA(p, dy: dy, b: b), db = Reference.matmulBackwardB(p, a: a, dy: dy)
        #expect(da.shape == [4] && da.storage == [3, -1, 5, 1])
        #expect(db.shape == [2, 4, 1] && db.storage == [1, 2, 3, 4, 2, 4, 6, 8])
    }

    /// a = 1×2×2×3 holding A and then 10·A, b = [7, 9, 11]: y = [[[58, 139], [580, 1390]]],
    /// shape [1, 2, 2] (ONNX test_matmul_4d_1d's pattern). With dy all ones,
    /// db[k] = Σ_{β, i} a[β, i, k] = 11·(A's column sums [5, 7, 9]) = [55, 77, 99].
    @Test func batchedMatrixTimesVector() throws {
        let p = MatmulProblem(aShape: [1, 2, 2, 3], bShape: [3])
        try p.validate()
        let a = try tensor([1, 2, 2, 3], MatmulHandCase.a + MatmulHandCase.a.map { 10 * $0 })
        let y = Reference.matmulForward(p, a: a, b: try tensor([3], [7, 9, 11]))
        #expect(y.shape == [1, 2, 2] && y.storage == [58, 139, 580, 1390])
        let db = Reference.matmulBackwardB(p, a: a, dy: try tensor([1, 2, 2], [1, 1, 1, 1]))
        #expect(db.shape == [3] && db.storage == [55, 77, 99])
    }
}

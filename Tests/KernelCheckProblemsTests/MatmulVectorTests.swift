import KernelCheckCore
import Testing

@testable import KernelCheckProblems

/// 1-D matmul operands as `torch.matmul` (and ONNX `MatMul`) define them: a 1-D `a` is a row
/// vector whose dimension is removed from the result, a 1-D `b` a column vector likewise.
/// Expected shapes are torch's, e.g. `torch.matmul(torch.ones(4), torch.ones(2, 4, 1)).shape`
/// is `(2, 1)`; the three ONNX node tests `test_matmul_1d_3d`, `test_matmul_4d_1d`,
/// `test_matmul_1d_1d` give `(2, 1)`, `(1, 2, 4)` and `()`.
@Suite struct MatmulVectorTests {
    struct Case: Sendable, CustomStringConvertible {
        var a: [Int], b: [Int], ta = false, tb = false
        /// torch.matmul's result shape and (M, K, N) of the matrix product behind it.
        var y: [Int], mkn: (Int, Int, Int)
        var description: String { "a=\(a) b=\(b) ta=\(ta) tb=\(tb)" }
    }

    static let cases: [Case] = [
        Case(a: [4], b: [2, 4, 1], y: [2, 1], mkn: (1, 4, 1)),  // test_matmul_1d_3d
        Case(a: [1, 2, 4, 3], b: [3], y: [1, 2, 4], mkn: (4, 3, 1)),  // test_matmul_4d_1d
        Case(a: [3], b: [3], y: [], mkn: (1, 3, 1)),  // test_matmul_1d_1d: a dot product
        Case(a: [5], b: [5, 6], y: [6], mkn: (1, 5, 6)),
        Case(a: [5], b: [6, 5], tb: true, y: [6], mkn: (1, 5, 6)),
        Case(a: [6, 5], b: [5], y: [6], mkn: (6, 5, 1)),
        Case(a: [5, 6], b: [5], ta: true, y: [6], mkn: (6, 5, 1)),
        Case(a: [2, 3, 7, 5], b: [5], y: [2, 3, 7], mkn: (7, 5, 1)),
        Case(a: [5], b: [3, 1, 5, 2], y: [3, 1, 2], mkn: (1, 5, 2)),
    ]

    @Test(arguments: cases) func shapesFollowTorchMatmul(_ c: Case) throws {
        let p = MatmulProblem(aShape: c.a, bShape: c.b, transposeA: c.ta, transposeB: c.tb)
        try p.validate()
        #expect(p.yShape == c.y)
        #expect(p.m == c.mkn.0 && p.k == c.mkn.1 && p.n == c.mkn.2)
        // The gradients have the operands' own shapes (1-D stays 1-D), dy has y's.
        #expect(p.output(for: .bwdData).shape == c.a)
        #expect(p.output(for: .bwdWeights).shape == c.b)
        #expect(p.inputs(for: .bwdData).map(\.shape) == [c.y, c.b])
        #expect(p.inputs(for: .bwdWeights).map(\.shape) == [c.a, c.y])
    }

    /// `a=4 b=2x4x1`: 2 batch entries of a 1×4 · 4×1 product. FLOPs 2·2·1·1·4 = 16. A forward
    /// sum has K = 4 terms; da[k] = Σ_β dy[β]·b[β, k] sums 2 (A is shared by both entries);
    /// db[β, k] = a[k]·dy[β] is one product.
    @Test func rowVectorTimesBatchedColumn() throws {
        let p = try MatmulProblem(fields: ProblemFields(parsing: "matmul a=4 b=2x4x1"))
        try p.validate()
        #expect(p.description == "matmul a=4 b=2x4x1 ta=0 tb=0")
        #expect(p.flops(for: .fwd) == 16)
        #expect(p.accumulationLength(for: .fwd) == 4)
        #expect(p.accumulationLength(for: .bwdData) == 2)
        #expect(p.accumulationLength(for: .bwdWeights) == 1)
    }

    /// `a=1x2x4x3 b=3`: y[β, i] = Σ_k a[β, i, k]·b[k], FLOPs 2·2·4·1·3 = 48; db[k] sums
    /// a[β, i, k]·dy[β, i] over 2 batch entries × 4 rows = 8 terms; da[β, i, k] = dy[β, i]·b[k].
    @Test func batchedMatrixTimesVector() throws {
        let p = MatmulProblem(aShape: [1, 2, 4, 3], bShape: [3])
        try p.validate()
        #expect(p.flops(for: .fwd) == 48)
        #expect(p.accumulationLength(for: .fwd) == 3)
        #expect(p.accumulationLength(for: .bwdData) == 1)
        #expect(p.accumulationLength(for: .bwdWeights) == 8)
    }

    /// `a=3 b=3`: the dot product, a scalar y of 3 terms (6 FLOPs); each gradient entry is
    /// one product (da = dy·b, db = a·dy).
    @Test func dotProductIsAScalar() throws {
        let p = MatmulProblem(aShape: [3], bShape: [3])
        try p.validate()
        #expect(p.yShape == [])
        #expect(p.output(for: .fwd).shape == [])
        #expect(p.flops(for: .fwd) == 6)
        #expect(p.accumulationLength(for: .fwd) == 3)
        #expect(p.accumulationLength(for: .bwdData) == 1)
        #expect(p.accumulationLength(for: .bwdWeights) == 1)
    }

    /// The vector operand's memory is the 1×K (or K×1) matrix's, so the products agree with
    /// the matrix problem in every count but y's rank.
    @Test func sameCountsAsTheUnitMatrixProblem() throws {
        let vector = MatmulProblem(aShape: [5], bShape: [3, 5, 2])
        let matrix = MatmulProblem(aShape: [1, 5], bShape: [3, 5, 2])
        try vector.validate(); try matrix.validate()
        #expect(matrix.yShape == [3, 1, 2] && vector.yShape == [3, 2])
        for d in vector.directions {
            #expect(vector.flops(for: d) == matrix.flops(for: d), "\(d)")
            #expect(vector.accumulationLength(for: d) == matrix.accumulationLength(for: d), "\(d)")
        }
    }

    @Test func narrowPrecisionsAcceptVectors() throws {
        let p = try Problem.parse("matmul a=4 b=2x4x1 dt=bf16 odt=f32")
        #expect(p.description == "matmul a=4 b=2x4x1 ta=0 tb=0 dt=bf16 odt=f32")
    }

    /// A transposed vector is refused by the flag's name; rank 0 by the operand's.
    @Test(arguments: [
        ("matmul a=4 b=4x2 ta=1", "ta"), ("matmul a=2x4 b=4 tb=1", "tb"),
        ("matmul a=scalar b=3", "a"), ("matmul a=3 b=scalar", "b"), ("matmul a=3 b=4", "b"),
        ("matmul a=3 b=2x4x1", "b"), ("matmul a=2x3 b=4", "b"),
    ])
    func invalidVectorProblemsNameTheField(_ text: String, _ field: String) {
        do {
            _ = try Problem.parse(text)
            Issue.record("'\(text)' should be invalid")
        } catch let error {
            guard case .invalidField(_, let f, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(f == field, "\(error)")
        }
    }
}

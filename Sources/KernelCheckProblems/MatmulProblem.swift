import KernelCheckCore

/// Batched matrix product `C = op(A)·op(B)`, op ∈ {identity, transpose of the last two dims},
/// batch dimensions broadcast like `torch.matmul` (right-aligned; equal, or one of them 1).
///
/// `A` is stored as `batchA… × M × K` (`× K × M` when `ta`), `B` as `batchB… × K × N`
/// (`× N × K` when `tb`); `C = broadcast(batchA, batchB) × M × N` and
/// `C[β, i, j] = Σ_k op(A)[β, i, k] · op(B)[β, k, j]`.
/// Gradients: `dA = dC·op(B)ᵀ` (summed over broadcast batch dims, transposed back when `ta`),
/// `dB = op(A)ᵀ·dC` likewise. Roles: `a`, `b` → `y`; `bwd_data` gives `da`, `bwd_weights` `db`.
///
/// 1-D operands as `torch.matmul` and ONNX `MatMul` define them: a 1-D `a` of length `K` is the
/// row vector `1×K` and a 1-D `b` the column vector `K×1` (the same memory either way); that
/// `M` (or `N`) dimension is then removed from `C`, so `a=K b=K` gives a scalar (shape `[]`)
/// and `a=4 b=2x4x1` gives `C` of shape `2×1`. `da` and `db` keep the operands' own shapes.
/// A vector has no transpose: `ta=1` on a 1-D `a` (`tb=1` on a 1-D `b`) is refused.
///
/// Canonical text: `matmul a=2x3x4 b=4x5 ta=0 tb=0`, `matmul a=4 b=2x4x1 ta=0 tb=0`.
public struct MatmulProblem: ProblemDescriptor {
    public var aShape: [Int]
    public var bShape: [Int]
    public var transposeA: Bool
    public var transposeB: Bool
    public var precision: Precision = .float32

    public init(aShape: [Int], bShape: [Int], transposeA: Bool = false, transposeB: Bool = false) {
        self.aShape = aShape
        self.bShape = bShape
        self.transposeA = transposeA
        self.transposeB = transposeB
    }

    /// Plain `M×K · K×N`.
    public init(m: Int, n: Int, k: Int) { self.init(aShape: [m, k], bShape: [k, n]) }

    public static let family = OpFamily.matmul
    public static let opNames = ["matmul"]
    public var opName: String { "matmul" }

    /// `a` is a vector (rank 1): the row vector `1×K`, its `M` dimension absent from `C`.
    public var aIsVector: Bool { aShape.count == 1 }
    /// `b` is a vector (rank 1): the column vector `K×1`, its `N` dimension absent from `C`.
    public var bIsVector: Bool { bShape.count == 1 }
    /// `A` as a batch of matrices: a 1-D `a` of length `K` is `1×K`, with the same memory.
    public var aMatrixShape: [Int] { aIsVector ? [1] + aShape : aShape }
    /// `B` as a batch of matrices: a 1-D `b` of length `K` is `K×1`, with the same memory.
    public var bMatrixShape: [Int] { bIsVector ? bShape + [1] : bShape }

    public var m: Int { matrixDim(aMatrixShape, fromEnd: transposeA ? 1 : 2) }
    public var k: Int { matrixDim(aMatrixShape, fromEnd: transposeA ? 2 : 1) }
    public var n: Int { matrixDim(bMatrixShape, fromEnd: transposeB ? 2 : 1) }
    var kOfB: Int { matrixDim(bMatrixShape, fromEnd: transposeB ? 1 : 2) }
    public var batchA: [Int] { Array(aMatrixShape.dropLast(2)) }
    public var batchB: [Int] { Array(bMatrixShape.dropLast(2)) }

    /// Dimension `fromEnd` (1 = last) of a matrix shape; 0 for a shape of rank < 2, which
    /// `validate` refuses.
    private func matrixDim(_ shape: [Int], fromEnd: Int) -> Int { shape.count >= 2 ? shape[shape.count - fromEnd] : 0 }

    /// The broadcast batch shape, or `nil` when the batch dims are incompatible.
    public var batchShape: [Int]? {
        let r = max(batchA.count, batchB.count)
        let a = Array(repeating: 1, count: r - batchA.count) + batchA
        let b = Array(repeating: 1, count: r - batchB.count) + batchB
        var out: [Int] = []
        for (x, y) in zip(a, b) {
            if x == y || y == 1 { out.append(x) } else if x == 1 { out.append(y) } else { return nil }
        }
        return out
    }
    /// `broadcast(batchA, batchB) × M × N`, without `M` when `a` is a vector and without `N`
    /// when `b` is one.
    public var yShape: [Int] { (batchShape ?? []) + (aIsVector ? [] : [m]) + (bIsVector ? [] : [n]) }
    public var batchCount: Int { (batchShape ?? []).reduce(1, *) }

    public func validate() throws(ProblemError) {
        try precision.validate(op: opName)
        try check(aShape.count >= 1, opName, "a", "needs rank ≥ 1, got \(Shape.format(aShape))")
        try check(bShape.count >= 1, opName, "b", "needs rank ≥ 1, got \(Shape.format(bShape))")
        // torch.matmul has no transpose flag; a transposed row vector would be a column, which
        // is a different product (M = K, not 1), so the flag is refused rather than guessed.
        try check(!(aIsVector && transposeA), opName, "ta", "a 1-D a is a row vector and has no transpose")
        try check(!(bIsVector && transposeB), opName, "tb", "a 1-D b is a column vector and has no transpose")
        try check(aShape.allSatisfy { $0 >= 0 }, opName, "a", "dimensions must be ≥ 0")
        try check(bShape.allSatisfy { $0 >= 0 }, opName, "b", "dimensions must be ≥ 0")
        try check(k == kOfB, opName, "b", "inner dimensions differ: op(A) is \(m)×\(k), op(B) is \(kOfB)×\(n)")
        try check(
            batchShape != nil, opName, "b",
            "batch dims \(Shape.format(batchA)) and \(Shape.format(batchB)) do not broadcast")
        try checkMemoryBudget()
    }

    public var directions: [Direction] { [.fwd, .bwdData, .bwdWeights] }
    public func inputs(for direction: Direction) -> [TensorSpec] {
        switch direction {
        case .fwd: return [TensorSpec("a", aShape), TensorSpec("b", bShape)]
        case .bwdData: return [TensorSpec("dy", yShape), TensorSpec("b", bShape)]
        default: return [TensorSpec("a", aShape), TensorSpec("dy", yShape)]
        }
    }
    public func output(for direction: Direction) -> TensorSpec {
        switch direction {
        case .fwd: return TensorSpec("y", yShape)
        case .bwdData: return TensorSpec("da", aShape)
        default: return TensorSpec("db", bShape)
        }
    }
    public func flops(for direction: Direction) -> Double { 2 * Double(batchCount) * Double(m) * Double(n) * Double(k) }

    public func accumulationLength(for direction: Direction) -> Int {
        let r = (batchShape ?? []).count
        let aPad = Array(repeating: 1, count: r - batchA.count) + batchA
        let bPad = Array(repeating: 1, count: r - batchB.count) + batchB
        let full = batchShape ?? []
        // Broadcast dims of an operand are reduced over in its gradient.
        let reducedA = zip(aPad, full).map { $0 == 1 ? $1 : 1 }.reduce(1, *)
        let reducedB = zip(bPad, full).map { $0 == 1 ? $1 : 1 }.reduce(1, *)
        switch direction {
        case .fwd: return k
        case .bwdData: return n * reducedA
        default: return m * reducedB
        }
    }

    public var description: String {
        "matmul a=\(Shape.format(aShape)) b=\(Shape.format(bShape)) ta=\(transposeA ? 1 : 0) tb=\(transposeB ? 1 : 0)\(precision.fieldsDescription)"
    }

    public init(fields: ProblemFields) throws(ProblemError) {
        var f = fields
        self.init(
            aShape: try f.dims("a"), bShape: try f.dims("b"),
            transposeA: try f.bool("ta", default: false), transposeB: try f.bool("tb", default: false))
        precision = try f.precision()
        try f.finish()
    }
}

/// A fully connected layer `y = x·Wᵀ + b` (PyTorch's `nn.Linear`).
///
/// `x = lead… × in`, `W = out × in`, `b = out`, `y = lead… × out`;
/// `dx = dy·W`, `dW = Σ_lead dyᵀ·x`, `db = Σ_lead dy`.
///
/// Canonical text: `linear x=4x5 out=3 bias=1`.
public struct LinearProblem: WeightedLayerProblem {
    public var xShape: [Int]
    public var outFeatures: Int
    public var hasBias: Bool
    public var precision: Precision = .float32

    public init(xShape: [Int], outFeatures: Int, hasBias: Bool = true) {
        self.xShape = xShape
        self.outFeatures = outFeatures
        self.hasBias = hasBias
    }

    public static let family = OpFamily.linear
    public static let opNames = ["linear"]
    public var opName: String { "linear" }
    public var inFeatures: Int { xShape.last ?? 0 }
    public var rows: Int { xShape.dropLast().reduce(1, *) }
    public var wShape: [Int] { [outFeatures, inFeatures] }
    public var bShape: [Int] { [outFeatures] }
    public var yShape: [Int] { xShape.dropLast() + [outFeatures] }
    public var parameterCount: Int { outFeatures * inFeatures + (hasBias ? outFeatures : 0) }

    public func validate() throws(ProblemError) {
        try precision.validate(op: opName)
        try check(xShape.count >= 1, opName, "x", "needs rank ≥ 1")
        try check(xShape.allSatisfy { $0 >= 0 }, opName, "x", "dimensions must be ≥ 0, got \(Shape.format(xShape))")
        try check(outFeatures >= 0, opName, "out", "must be ≥ 0, got \(outFeatures)")
        try checkMemoryBudget()
    }

    public func flops(for direction: Direction) -> Double {
        direction == .bwdBias ? Double(rows * outFeatures) : 2 * Double(rows) * Double(inFeatures) * Double(outFeatures)
    }
    public func accumulationLength(for direction: Direction) -> Int {
        switch direction {
        case .fwd: return inFeatures + (hasBias ? 1 : 0)
        case .bwdData: return outFeatures
        default: return rows
        }
    }

    public var description: String {
        "linear x=\(Shape.format(xShape)) out=\(outFeatures) bias=\(hasBias ? 1 : 0)\(precision.fieldsDescription)"
    }

    public init(fields: ProblemFields) throws(ProblemError) {
        var f = fields
        self.init(xShape: try f.dims("x"), outFeatures: try f.int("out"), hasBias: try f.bool("bias", default: false))
        precision = try f.precision(outputAlias: false)
        try f.finish()
    }
}

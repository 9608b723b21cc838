import KernelCheckCore
import KernelCheckProblems

/// Batched matrix product `C = op(A)·op(B)` with `torch.matmul` batch broadcasting and its two
/// gradients. Formulas: `MatmulProblem`.
extension Reference {
    /// `C[β, i, j] = Σ_k op(A)[β, i, k] · op(B)[β, k, j]` for every broadcast batch index `β`.
    public static func matmulForward<T>(_ p: MatmulProblem, a: Tensor<T>, b: Tensor<T>) -> Tensor<Double> {
        requireShape(a, p.aShape, role: "a", of: p)
        requireShape(b, p.bShape, role: "b", of: p)
        let layout = MatmulLayout(p)
        var c = Tensor<Double>(zeros: p.yShape)
        for batch in 0..<p.batchCount {
            let (aBase, bBase) = layout.operandBases(batch)
            for i in 0..<p.m {
                for j in 0..<p.n {
                    var sum = 0.0
                    for k in 0..<p.k {
                        sum +=
                            Double(a.storage[aBase + layout.aOffset(i, k)])
                            * Double(b.storage[bBase + layout.bOffset(k, j)])
                    }
                    c.storage[(batch * p.m + i) * p.n + j] = sum
                }
            }
        }
        return c
    }

    /// `∂L/∂op(A)[β, i, k] = Σ_j dC[β, i, j] · op(B)[β, k, j]`, stored back in `A`'s layout
    /// (transposed when `ta`) and summed over the batch dims along which `A` was broadcast.
    public static func matmulBackwardA<T>(_ p: MatmulProblem, dy: Tensor<T>, b: Tensor<T>) -> Tensor<Double> {
        requireShape(dy, p.yShape, role: "dy", of: p)
        requireShape(b, p.bShape, role: "b", of: p)
        let layout = MatmulLayout(p)
        var da = Tensor<Double>(zeros: p.aShape)
        for batch in 0..<p.batchCount {
            let (aBase, bBase) = layout.operandBases(batch)
            for i in 0..<p.m {
                for k in 0..<p.k {
                    var sum = 0.0
                    for j in 0..<p.n {
                        sum +=
                            Double(dy.storage[(batch * p.m + i) * p.n + j])
                            * Double(b.storage[bBase + layout.bOffset(k, j)])
                    }
                    da.storage[aBase + layout.aOffset(i, k)] += sum
                }
            }
        }
        return da
    }

    /// `∂L/∂op(B)[β, k, j] = Σ_i op(A)[β, i, k] · dC[β, i, j]`, stored back in `B`'s layout
    /// (transposed when `tb`) and summed over the batch dims along which `B` was broadcast.
    public static func matmulBackwardB<T>(_ p: MatmulProblem, a: Tensor<T>, dy: Tensor<T>) -> Tensor<Double> {
        requireShape(a, p.aShape, role: "a", of: p)
        requireShape(dy, p.yShape, role: "dy", of: p)
        let layout = MatmulLayout(p)
        var db = Tensor<Double>(zeros: p.bShape)
        for batch in 0..<p.batchCount {
            let (aBase, bBase) = layout.operandBases(batch)
            for k in 0..<p.k {
                for j in 0..<p.n {
                    var sum = 0.0
                    for i in 0..<p.m {
                        sum +=
                            Double(a.storage[aBase + layout.aOffset(i, k)])
                            * Double(dy.storage[(batch * p.m + i) * p.n + j])
                    }
                    db.storage[bBase + layout.bOffset(k, j)] += sum
                }
            }
        }
        return db
    }
}

/// Where the operands of one batch of a broadcast matmul live, and where `op(A)[i, k]` and
/// `op(B)[k, j]` sit inside one matrix.
private struct MatmulLayout {
    let m, n, k: Int
    let transposeA, transposeB: Bool
    /// The broadcast batch shape and, per batch dim, the element stride of `A` and `B`
    /// (0 where that operand has extent 1 or lacks the dim: it is broadcast there).
    let batchShape: [Int]
    let aBatchStrides, bBatchStrides: [Int]

    init(_ p: MatmulProblem) {
        m = p.m; n = p.n; k = p.k
        transposeA = p.transposeA; transposeB = p.transposeB
        let shape = p.batchShape ?? []
        batchShape = shape
        func strides(_ batch: [Int], matrix: Int) -> [Int] {
            let padded = Array(repeating: 1, count: shape.count - batch.count) + batch
            let dense = Shape.strides(padded).map { $0 * matrix }
            return zip(padded, dense).map { $0 == 1 ? 0 : $1 }
        }
        aBatchStrides = strides(p.batchA, matrix: p.m * p.k)
        bBatchStrides = strides(p.batchB, matrix: p.k * p.n)
    }

    /// Offsets of `A`'s and `B`'s matrices for the row-major batch number `batch` of `C`.
    func operandBases(_ batch: Int) -> (Int, Int) {
        var rest = batch, aBase = 0, bBase = 0
        for d in stride(from: batchShape.count - 1, through: 0, by: -1) {
            let index = rest % batchShape[d]
            rest /= batchShape[d]
            aBase += index * aBatchStrides[d]
            bBase += index * bBatchStrides[d]
        }
        return (aBase, bBase)
    }

    /// `op(A)[i, k]`: `A` is `M×K`, or `K×M` when transposed.
    func aOffset(_ i: Int, _ kk: Int) -> Int { transposeA ? kk * m + i : i * k + kk }
    /// `op(B)[k, j]`: `B` is `K×N`, or `N×K` when transposed.
    func bOffset(_ kk: Int, _ j: Int) -> Int { transposeB ? j * k + kk : kk * n + j }
}

import KernelCheckCore
import KernelCheckProblems

/// Batched matrix product `C = op(A)·op(B)` with `torch.matmul` batch broadcasting and its two
/// gradients. Formulas: `MatmulProblem`.
///
/// A 1-D operand needs no case of its own: `MatmulProblem` describes a 1-D `a` as the `1×K`
/// matrix and a 1-D `b` as the `K×1` one, whose row-major memory is the vector's, and `C`
/// without that unit dimension has the row-major memory of `C` with it.
extension Reference {
    /// `C[β, i, j] = Σ_k op(A)[β, i, k] · op(B)[β, k, j]` for every broadcast batch index `β`.
    public static func matmulForward<T>(_ p: MatmulProblem, a: Tensor<T>, b: Tensor<T>) -> Tensor<Double> {
        requireShape(a, p.aShape, role: "a", of: p)
        requireShape(b, p.bShape, role: "b", of: p)
        return batchedSums(p, p.yShape, rows: p.m, cols: p.n, inner: p.k, at: { m, i, j in m.c(i, j) }) { m, i, j, k in
            Double(a.storage[m.a(i, k)]) * Double(b.storage[m.b(k, j)])
        }
    }

    /// `∂L/∂op(A)[β, i, k] = Σ_j dC[β, i, j] · op(B)[β, k, j]`, stored back in `A`'s layout
    /// (transposed when `ta`) and summed over the batch dims along which `A` was broadcast.
    public static func matmulBackwardA<T>(_ p: MatmulProblem, dy: Tensor<T>, b: Tensor<T>) -> Tensor<Double> {
        requireShape(dy, p.yShape, role: "dy", of: p)
        requireShape(b, p.bShape, role: "b", of: p)
        return batchedSums(p, p.aShape, rows: p.m, cols: p.k, inner: p.n, at: { m, i, k in m.a(i, k) }) { m, i, k, j in
            Double(dy.storage[m.c(i, j)]) * Double(b.storage[m.b(k, j)])
        }
    }

    /// `∂L/∂op(B)[β, k, j] = Σ_i op(A)[β, i, k] · dC[β, i, j]`, stored back in `B`'s layout
    /// (transposed when `tb`) and summed over the batch dims along which `B` was broadcast.
    public static func matmulBackwardB<T>(_ p: MatmulProblem, a: Tensor<T>, dy: Tensor<T>) -> Tensor<Double> {
        requireShape(a, p.aShape, role: "a", of: p)
        requireShape(dy, p.yShape, role: "dy", of: p)
        return batchedSums(p, p.bShape, rows: p.k, cols: p.n, inner: p.m, at: { m, k, j in m.b(k, j) }) { m, k, j, i in
            Double(a.storage[m.a(i, k)]) * Double(dy.storage[m.c(i, j)])
        }
    }

    /// For every batch `β` of `C` in row-major order, `addSums` over one `rows × cols` matrix
    /// of the result: `index` and `term` address the operands through `β`'s `MatmulBatch`.
    private static func batchedSums(
        _ p: MatmulProblem, _ shape: [Int], rows: Int, cols: Int, inner: Int,
        at index: (MatmulBatch, Int, Int) -> Int, of term: (MatmulBatch, Int, Int, Int) -> Double
    ) -> Tensor<Double> {
        let layout = MatmulLayout(p)
        var out = Tensor<Double>(zeros: shape)
        for batch in 0..<p.batchCount {
            let m = layout.matrices(batch)
            addSums(to: &out, rows: rows, cols: cols, inner: inner, at: { index(m, $0, $1) }) { term(m, $0, $1, $2) }
        }
        return out
    }
}

/// Flat offsets of `op(A)[β, i, k]`, `op(B)[β, k, j]` and `C[β, i, j]` for one batch `β`.
private struct MatmulBatch {
    let layout: MatmulLayout
    let aBase, bBase, cBase: Int

    func a(_ i: Int, _ k: Int) -> Int { aBase + layout.aOffset(i, k) }
    func b(_ k: Int, _ j: Int) -> Int { bBase + layout.bOffset(k, j) }
    func c(_ i: Int, _ j: Int) -> Int { cBase + i * layout.n + j }
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

    /// The matrices of `A`, `B` and `C` for the row-major batch number `batch` of `C`.
    func matrices(_ batch: Int) -> MatmulBatch {
        var rest = batch, aBase = 0, bBase = 0
        for d in stride(from: batchShape.count - 1, through: 0, by: -1) {
            let index = rest % batchShape[d]
            rest /= batchShape[d]
            aBase += index * aBatchStrides[d]
            bBase += index * bBatchStrides[d]
        }
        return MatmulBatch(layout: self, aBase: aBase, bBase: bBase, cBase: batch * m * n)
    }

    /// `op(A)[i, k]`: `A` is `M×K`, or `K×M` when transposed.
    func aOffset(_ i: Int, _ kk: Int) -> Int { transposeA ? kk * m + i : i * k + kk }
    /// `op(B)[k, j]`: `B` is `K×N`, or `N×K` when transposed.
    func bOffset(_ kk: Int, _ j: Int) -> Int { transposeB ? j * k + kk : kk * n + j }
}

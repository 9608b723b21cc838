import KernelCheckCore
import KernelCheckProblems

/// A fully connected layer `y = x·Wᵀ + b` and its gradients. Formulas: `LinearProblem`.
/// Every leading dim of `x` is a row: `x` is viewed as `rows × in`, `y` as `rows × out`.
extension Reference {
    /// `y[r, o] = Σ_i x[r, i] · W[o, i] + b[o]`; `b` is given exactly when the problem has a bias.
    public static func linearForward<T>(
        _ p: LinearProblem, x: Tensor<T>, w: Tensor<T>, b: Tensor<T>? = nil
    ) -> Tensor<Double> {
        requireShape(x, p.xShape, role: "x", of: p)
        requireShape(w, p.wShape, role: "w", of: p)
        precondition(
            (b != nil) == p.hasBias, "\(p): bias tensor \(b == nil ? "missing" : "given to a layer without bias")")
        if let b { requireShape(b, p.bShape, role: "b", of: p) }
        let inF = p.inFeatures, outF = p.outFeatures
        return sums(
            p.yShape, rows: p.rows, cols: outF, inner: inF, start: { _, o in b.map { Double($0.storage[o]) } ?? 0 }
        ) {
            r, o, i in Double(x.storage[r * inF + i]) * Double(w.storage[o * inF + i])
        }
    }

    /// `dx[r, i] = Σ_o dy[r, o] · W[o, i]` (`dx = dy·W`).
    public static func linearBackwardData<T>(_ p: LinearProblem, dy: Tensor<T>, w: Tensor<T>) -> Tensor<Double> {
        requireShape(dy, p.yShape, role: "dy", of: p)
        requireShape(w, p.wShape, role: "w", of: p)
        let inF = p.inFeatures, outF = p.outFeatures
        return sums(p.xShape, rows: p.rows, cols: inF, inner: outF) { r, i, o in
            Double(dy.storage[r * outF + o]) * Double(w.storage[o * inF + i])
        }
    }

    /// `dW[o, i] = Σ_r dy[r, o] · x[r, i]` (`dW = dyᵀ·x`, summed over every leading dim).
    public static func linearBackwardWeights<T>(_ p: LinearProblem, x: Tensor<T>, dy: Tensor<T>) -> Tensor<Double> {
        requireShape(x, p.xShape, role: "x", of: p)
        requireShape(dy, p.yShape, role: "dy", of: p)
        let inF = p.inFeatures, outF = p.outFeatures
        return sums(p.wShape, rows: outF, cols: inF, inner: p.rows) { o, i, r in
            Double(dy.storage[r * outF + o]) * Double(x.storage[r * inF + i])
        }
    }

    /// `db[o] = Σ_r dy[r, o]`.
    public static func linearBackwardBias<T>(_ p: LinearProblem, dy: Tensor<T>) -> Tensor<Double> {
        requireShape(dy, p.yShape, role: "dy", of: p)
        let outF = p.outFeatures
        var db = Tensor<Double>(zeros: p.bShape)
        for o in 0..<outF {
            var sum = 0.0
            for r in 0..<p.rows { sum += Double(dy.storage[r * outF + o]) }
            db.storage[o] = sum
        }
        return db
    }
}

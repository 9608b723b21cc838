import KernelCheckCore
import KernelCheckProblems

/// Losses between a prediction `x` and a `target`, reduced to a scalar (a tensor of shape
/// `[]`). Formulas: `LossKind`.
extension Reference {
    /// `L = Σ (x − t)²` (sum of squares) or `L = (1/n)·Σ (x − t)²` (MSE, mean over all n
    /// elements), as a tensor of shape `[]`.
    public static func lossForward<T>(_ p: LossProblem, x: Tensor<T>, target: Tensor<T>) -> Tensor<Double> {
        requireShape(x, p.shape, role: "x", of: p)
        requireShape(target, p.shape, role: "target", of: p)
        var sum = 0.0
        for i in 0..<x.count {
            let d = Double(x.storage[i]) - Double(target.storage[i])
            sum += d * d
        }
        var y = Tensor<Double>(zeros: [])
        y.storage[0] = p.kind == .mse ? sum / Double(x.count) : sum
        return y
    }

    /// `dx = dy · dL/dx`: `dy · 2(x − t)` (sum of squares) or `dy · (2/n)(x − t)` (MSE);
    /// `dy` is the upstream scalar (shape `[]`), 1 for the plain gradient.
    public static func lossBackward<T>(
        _ p: LossProblem, x: Tensor<T>, target: Tensor<T>, dy: Tensor<T>
    ) -> Tensor<Double> {
        requireShape(x, p.shape, role: "x", of: p)
        requireShape(target, p.shape, role: "target", of: p)
        requireShape(dy, [], role: "dy", of: p)
        let factor = Double(dy.storage[0]) * (p.kind == .mse ? 2 / Double(x.count) : 2)
        var dx = Tensor<Double>(zeros: p.shape)
        for i in 0..<x.count { dx.storage[i] = factor * (Double(x.storage[i]) - Double(target.storage[i])) }
        return dx
    }
}

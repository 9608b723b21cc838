import Foundation
import KernelCheckCore
import KernelCheckProblems

/// Elementwise activations and their derivatives, PyTorch conventions at the kinks.
/// Formulas: `ActivationKind`.
extension Reference {
    /// `y = f(x)` elementwise.
    public static func activationForward<T>(_ p: ActivationProblem, x: Tensor<T>) -> Tensor<Double> {
        requireShape(x, p.shape, role: "x", of: p)
        var y = Tensor<Double>(zeros: p.shape)
        for i in 0..<x.count { y.storage[i] = activationValue(p.kind, Double(x.storage[i])) }
        return y
    }

    /// `dx = f′(x) · dy` elementwise.
    public static func activationBackward<T>(_ p: ActivationProblem, x: Tensor<T>, dy: Tensor<T>) -> Tensor<Double> {
        requireShape(x, p.shape, role: "x", of: p)
        requireShape(dy, p.shape, role: "dy", of: p)
        var dx = Tensor<Double>(zeros: p.shape)
        for i in 0..<x.count {
            dx.storage[i] = activationDerivative(p.kind, Double(x.storage[i])) * Double(dy.storage[i])
        }
        return dx
    }

    /// `f(x)` for one value.
    static func activationValue(_ kind: ActivationKind, _ x: Double) -> Double {
        switch kind {
        case .relu: return x > 0 ? x : 0
        case .leakyRelu(let slope): return x > 0 ? x : slope * x
        // e^{−x} overflows to +∞ for x < −709 and 1/(1+∞) = 0, the correctly rounded result.
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        }
    }

    /// `f′(x)` for one value; at the kink x = 0, relu gives 0 and leaky relu gives `slope`
    /// (PyTorch's `x > 0` test picks the left branch there).
    static func activationDerivative(_ kind: ActivationKind, _ x: Double) -> Double {
        switch kind {
        case .relu: return x > 0 ? 1 : 0
        case .leakyRelu(let slope): return x > 0 ? 1 : slope
        case .sigmoid:
            let s = activationValue(.sigmoid, x)
            return s * (1 - s)
        case .tanh:
            let t = Foundation.tanh(x)
            return 1 - t * t
        }
    }
}

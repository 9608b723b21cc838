import Foundation
import KernelCheckProblems

// Elementwise activations. relu is a SIMD select; leaky relu, sigmoid and tanh compute
// each element in Double and round once to Float, so they are within one rounding of the
// exact value (as the float64 reference and PyTorch's float64 fixtures are). Threads take
// disjoint ranges of elements, so the result does not depend on the thread count.

extension Tiled {
    /// `y = f(x)` elementwise over `p.shape` (see `ActivationKind`).
    public static func activationForward(
        _ p: ActivationProblem, x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let count = p.shape.reduce(1, *)
        let kind = p.kind
        parallelChunks(count, threads: threads, grain: grain(for: kind)) { range in
            let x = x + range.lowerBound, y = y + range.lowerBound, n = range.count
            switch kind {
            case .relu:
                var i = 0
                while i + 16 <= n {
                    let v = load(x + i, as: SIMD16<Float>.self)
                    // `v < 0` is false for NaN, which passes through (as in PyTorch).
                    store(v.replacing(with: 0, where: v .< 0), y + i)
                    i += 16
                }
                while i < n { y[i] = x[i] < 0 ? 0 : x[i]; i += 1 }
            case .leakyRelu(let slope):
                for i in 0..<n {
                    let v = x[i]
                    y[i] = v > 0 ? v : Float(Double(v) * slope)
                }
            case .sigmoid:
                for i in 0..<n { y[i] = Float(sigmoid(Double(x[i]))) }
            case .tanh:
                for i in 0..<n { y[i] = Float(Foundation.tanh(Double(x[i]))) }
            }
        }
    }

    /// `dx = f′(x)·dy` elementwise: relu′ = 1 for x > 0 else 0 (0 at the kink), leaky
    /// relu′ = 1 for x > 0 else `slope` (slope at 0), σ′ = σ(1 − σ), tanh′ = 1 − tanh².
    public static func activationBackward(
        _ p: ActivationProblem, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let count = p.shape.reduce(1, *)
        let kind = p.kind
        parallelChunks(count, threads: threads, grain: grain(for: kind)) { range in
            let x = x + range.lowerBound, dy = dy + range.lowerBound, dx = dx + range.lowerBound
            let n = range.count
            switch kind {
            case .relu:
                var i = 0
                while i + 16 <= n {
                    let v = load(x + i, as: SIMD16<Float>.self)
                    store(load(dy + i, as: SIMD16<Float>.self).replacing(with: 0, where: .!(v .> 0)), dx + i)
                    i += 16
                }
                while i < n { dx[i] = x[i] > 0 ? dy[i] : 0; i += 1 }
            case .leakyRelu(let slope):
                for i in 0..<n {
                    dx[i] = x[i] > 0 ? dy[i] : Float(Double(dy[i]) * slope)
                }
            case .sigmoid:
                for i in 0..<n {
                    let s = sigmoid(Double(x[i]))
                    dx[i] = Float(Double(dy[i]) * (s * (1 - s)))
                }
            case .tanh:
                for i in 0..<n {
                    let t = Foundation.tanh(Double(x[i]))
                    dx[i] = Float(Double(dy[i]) * (1 - t * t))
                }
            }
        }
    }

    /// `1/(1 + e^{−x})`, which saturates to 0 or 1 without overflow trouble
    /// (`e^{−x} = ∞` gives exactly 0).
    @inline(__always)
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    /// Elements per thread chunk: transcendental kinds are ~50× costlier per element.
    static func grain(for kind: ActivationKind) -> Int {
        switch kind {
        case .relu, .leakyRelu: return 1 << 16
        case .sigmoid, .tanh: return 1 << 12
        }
    }
}

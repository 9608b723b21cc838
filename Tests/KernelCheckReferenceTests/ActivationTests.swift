import Foundation
import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

/// Hand-picked points for each activation, including the kink at 0.
/// sigmoid(ln 3) = 1/(1 + 1/3) = 3/4, σ′ = σ(1 − σ) = 3/16;
/// tanh(ln 2) = (2 − 1/2)/(2 + 1/2) = 3/5, tanh′ = 1 − 9/25 = 16/25.
@Suite struct ActivationForwardTests {
    func forward(_ kind: ActivationKind, _ xs: [Double]) throws -> [Double] {
        Reference.activationForward(ActivationProblem(kind, shape: [xs.count]), x: try tensor([xs.count], xs)).storage
    }

    @Test func relu() throws {
        #expect(try forward(.relu, [-2, 0, 3]) == [0, 0, 3])
    }

    @Test func leakyRelu() throws {
        #expect(try forward(.leakyRelu(slope: 0.25), [-2, 0, 3]) == [-0.5, 0, 3])
    }

    @Test func sigmoid() throws {
        let y = try forward(.sigmoid, [0, log(3)])
        #expect(y[0] == 0.5)
        #expect(abs(y[1] - 0.75) < 1e-15)
    }

    /// e^{800} overflows: σ(−800) must be 0 and σ(800) 1, never NaN.
    @Test func sigmoidSaturatesWithoutNaN() throws {
        #expect(try forward(.sigmoid, [-800, 800]) == [0, 1])
    }

    @Test func tanh() throws {
        let y = try forward(.tanh, [0, log(2), -log(2)])
        #expect(y[0] == 0)
        #expect(abs(y[1] - 0.6) < 1e-15 && abs(y[2] + 0.6) < 1e-15)
    }
}

@Suite struct ActivationBackwardDataTests {
    /// dx = f′(x)·dy with dy = 1 everywhere except where noted.
    func derivative(_ kind: ActivationKind, _ xs: [Double], dy: Double = 1) throws -> [Double] {
        let p = ActivationProblem(kind, shape: [xs.count])
        return Reference.activationBackward(
            p, x: try tensor([xs.count], xs),
            dy: try tensor([xs.count], Array(repeating: dy, count: xs.count))
        ).storage
    }

    /// relu′ = 0 for x ≤ 0 (0 at the kink, as PyTorch), 1 above; dy = 3 scales it.
    @Test func reluIsZeroAtTheKink() throws {
        #expect(try derivative(.relu, [-2, 0, 3], dy: 3) == [0, 0, 3])
    }

    /// leaky relu′ = slope for x ≤ 0 (slope at the kink, as PyTorch), 1 above.
    @Test func leakyReluIsSlopeAtTheKink() throws {
        #expect(try derivative(.leakyRelu(slope: 0.25), [-2, 0, 3]) == [0.25, 0.25, 1])
    }

    @Test func sigmoid() throws {
        let d = try derivative(.sigmoid, [0, log(3), -800])
        #expect(d[0] == 0.25)
        #expect(abs(d[1] - 3.0 / 16) < 1e-15)
        #expect(d[2] == 0)
    }

    @Test func tanh() throws {
        let d = try derivative(.tanh, [0, log(2)])
        #expect(d[0] == 1)
        #expect(abs(d[1] - 16.0 / 25) < 1e-15)
    }

    static let kinds: [ActivationKind] = [.relu, .leakyRelu(slope: 0.01), .leakyRelu(slope: 0.3), .sigmoid, .tanh]

    /// Central differences of L = ⟨f(x), g⟩, staying off the relu / leaky relu kink
    /// (|x| < 1e-3), where the derivative is one-sided.
    @Test(arguments: kinds) func finiteDifferences(_ kind: ActivationKind) {
        let p = ActivationProblem(kind, shape: [4, 5])
        let x = randomTensor(p.shape, seed: 61, role: "x", fill: .uniform(low: -3, high: 3))
        let g = randomTensor(p.shape, seed: 61, role: "dy")
        let hasKink: Bool
        switch kind {
        case .relu, .leakyRelu: hasKink = true
        case .sigmoid, .tanh: hasKink = false
        }
        checkGradient(
            "\(p) dx", analytic: Reference.activationBackward(p, x: x, dy: g), at: x, seed: 61,
            eligible: { !hasKink || abs(x.storage[$0]) >= 1e-3 }
        ) {
            Reference.activationForward(p, x: $0).dot(g)
        }
    }
}

import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

/// x = [1, 2, 3, 4], t = [0, 2, 5, 3]: x − t = [1, 0, −2, 1], Σ(x − t)² = 1 + 0 + 4 + 1 = 6,
/// mean = 6/4 = 1.5.
enum LossHandCase {
    static func x() throws -> Tensor<Double> { try tensor([2, 2], [1, 2, 3, 4]) }
    static func target() throws -> Tensor<Double> { try tensor([2, 2], [0, 2, 5, 3]) }
}

@Suite struct LossForwardTests {
    @Test func sumOfSquares() throws {
        let y = Reference.lossForward(
            LossProblem(.sumOfSquares, shape: [2, 2]), x: try LossHandCase.x(), target: try LossHandCase.target())
        #expect(y.shape == [])
        #expect(y.storage == [6])
    }

    @Test func meanSquaredError() throws {
        let y = Reference.lossForward(
            LossProblem(.mse, shape: [2, 2]), x: try LossHandCase.x(), target: try LossHandCase.target())
        #expect(y.shape == [])
        #expect(y.storage == [1.5])
    }
}

@Suite struct LossBackwardDataTests {
    /// Sum of squares: dx = dy·2(x − t) = 3·[2, 0, −4, 2] = [6, 0, −12, 6] with dy = 3.
    @Test func sumOfSquares() throws {
        let dx = Reference.lossBackward(
            LossProblem(.sumOfSquares, shape: [2, 2]), x: try LossHandCase.x(),
            target: try LossHandCase.target(), dy: try tensor([], [3]))
        #expect(dx.shape == [2, 2])
        #expect(dx.storage == [6, 0, -12, 6])
    }

    /// MSE: dx = dy·(2/4)(x − t) = [0.5, 0, −1, 0.5] with dy = 1.
    @Test func meanSquaredError() throws {
        let dx = Reference.lossBackward(
            LossProblem(.mse, shape: [2, 2]), x: try LossHandCase.x(),
            target: try LossHandCase.target(), dy: try tensor([], [1]))
        #expect(dx.storage == [0.5, 0, -1, 0.5])
    }

    /// Central differences of dy·L(x) for both kinds (upstream dy = 0.7).
    @Test(arguments: [LossKind.mse, .sumOfSquares]) func finiteDifferences(_ kind: LossKind) throws {
        let p = LossProblem(kind, shape: [3, 4])
        let x = randomTensor(p.shape, seed: 71, role: "x"), t = randomTensor(p.shape, seed: 71, role: "target")
        let dy = try tensor([], [0.7])
        checkGradient("\(p) dx", analytic: Reference.lossBackward(p, x: x, target: t, dy: dy), at: x, seed: 71) {
            0.7 * Reference.lossForward(p, x: $0, target: t).storage[0]
        }
    }
}

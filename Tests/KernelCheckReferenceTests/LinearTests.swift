import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

/// x = [[1, 2, 3]], W = [[1, 0, −1], [2, 1, 0]], b = [10, 20]:
/// y = x·Wᵀ + b = [1 − 3 + 10, 2 + 2 + 20] = [8, 24].
enum LinearHandCase {
    static let problem = LinearProblem(xShape: [1, 3], outFeatures: 2, hasBias: true)
    static func x() throws -> Tensor<Double> { try tensor([1, 3], [1, 2, 3]) }
    static func w() throws -> Tensor<Double> { try tensor([2, 3], [1, 0, -1, 2, 1, 0]) }
    static func b() throws -> Tensor<Double> { try tensor([2], [10, 20]) }
    static func dy() throws -> Tensor<Double> { try tensor([1, 2], [1, 2]) }
}

@Suite struct LinearForwardTests {
    @Test func handCase() throws {
        typealias H = LinearHandCase
        let y = Reference.linearForward(H.problem, x: try H.x(), w: try H.w(), b: try H.b())
        #expect(y.shape == [1, 2])
        #expect(y.storage == [8, 24])
    }

    /// Without bias: [1 − 3, 2 + 2] = [−2, 4].
    @Test func withoutBias() throws {
        let p = LinearProblem(xShape: [1, 3], outFeatures: 2, hasBias: false)
        #expect(Reference.linearForward(p, x: try LinearHandCase.x(), w: try LinearHandCase.w()).storage == [-2, 4])
    }
}

@Suite struct LinearBackwardDataTests {
    /// dy = [[1, 2]]: dx = dy·W = [1·1 + 2·2, 1·0 + 2·1, 1·(−1) + 2·0] = [5, 2, −1].
    @Test func handCase() throws {
        let dx = Reference.linearBackwardData(
            LinearHandCase.problem, dy: try LinearHandCase.dy(), w: try LinearHandCase.w())
        #expect(dx.storage == [5, 2, -1])
    }
}

@Suite struct LinearBackwardWeightsTests {
    /// dW = dyᵀ·x = [[1], [2]]·[[1, 2, 3]] = [[1, 2, 3], [2, 4, 6]].
    @Test func handCase() throws {
        let dw = Reference.linearBackwardWeights(
            LinearHandCase.problem, x: try LinearHandCase.x(), dy: try LinearHandCase.dy())
        #expect(dw.shape == [2, 3])
        #expect(dw.storage == [1, 2, 3, 2, 4, 6])
    }
}

@Suite struct LinearBackwardBiasTests {
    @Test func handCase() throws {
        #expect(Reference.linearBackwardBias(LinearHandCase.problem, dy: try LinearHandCase.dy()).storage == [1, 2])
    }

    /// db[o] = Σ over every leading dim of g[…, o], summed here by a subscript loop.
    @Test func biasGradientSumsOverRows() {
        let p = LinearProblem(xShape: [2, 3, 4], outFeatures: 5)
        let g = integerTensor(p.yShape, seed: 51, role: "dy")
        let db = Reference.linearBackwardBias(p, dy: g)
        for o in 0..<5 {
            var expected = 0.0
            for i in 0..<2 { for j in 0..<3 { expected += g[i, j, o] } }
            #expect(db[o] == expected)
        }
    }
}

@Suite struct LinearGradientTests {
    static let problems = [
        LinearProblem(xShape: [4, 5], outFeatures: 3),
        LinearProblem(xShape: [2, 3, 4], outFeatures: 5),
        LinearProblem(xShape: [6], outFeatures: 2, hasBias: false),
    ]

    /// ⟨x·Wᵀ, G⟩ = ⟨x, bwd_data(G)⟩ = ⟨W, bwd_weights(G)⟩ (no bias: the map is bilinear),
    /// and the bias enters as ⟨y(b) − y(0), G⟩ = ⟨b, bwd_bias(G)⟩; exact with integer fills.
    @Test(arguments: problems) func adjointIdentities(_ p: LinearProblem) {
        let x = integerTensor(p.xShape, seed: 52, role: "x"), w = integerTensor(p.wShape, seed: 52, role: "w")
        let g = integerTensor(p.yShape, seed: 52, role: "dy")
        let unbiased = LinearProblem(xShape: p.xShape, outFeatures: p.outFeatures, hasBias: false)
        let yNoBias = Reference.linearForward(unbiased, x: x, w: w)
        let forward = yNoBias.dot(g)
        #expect(forward == x.dot(Reference.linearBackwardData(p, dy: g, w: w)))
        #expect(forward == w.dot(Reference.linearBackwardWeights(p, x: x, dy: g)))
        #expect(forward != 0, "a zero inner product would make the identity vacuous")
        if p.hasBias {
            let b = integerTensor(p.bShape, seed: 52, role: "b")
            let y = Reference.linearForward(p, x: x, w: w, b: b)
            let shift = try! Tensor(shape: y.shape, storage: zip(y.storage, yNoBias.storage).map { $0 - $1 })
            #expect(shift.dot(g) == b.dot(Reference.linearBackwardBias(p, dy: g)))
        }
    }

    @Test(arguments: problems) func finiteDifferences(_ p: LinearProblem) {
        let x = randomTensor(p.xShape, seed: 53, role: "x"), w = randomTensor(p.wShape, seed: 53, role: "w")
        let b: Tensor<Double>? = p.hasBias ? randomTensor(p.bShape, seed: 53, role: "b") : nil
        let g = randomTensor(p.yShape, seed: 53, role: "dy")
        checkGradient("\(p) dx", analytic: Reference.linearBackwardData(p, dy: g, w: w), at: x, seed: 53) {
            Reference.linearForward(p, x: $0, w: w, b: b).dot(g)
        }
        checkGradient("\(p) dw", analytic: Reference.linearBackwardWeights(p, x: x, dy: g), at: w, seed: 54) {
            Reference.linearForward(p, x: x, w: $0, b: b).dot(g)
        }
        if let b {
            checkGradient("\(p) db", analytic: Reference.linearBackwardBias(p, dy: g), at: b, seed: 55) {
                Reference.linearForward(p, x: x, w: w, b: $0).dot(g)
            }
        }
    }
}

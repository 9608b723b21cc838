import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

/// The gradient questions of docs/user-questions.md, answered by chaining the reference backward
/// functions (reverse-mode by hand) and checked against central finite differences of the
/// chained forward functions.
@Suite struct ChainedBackwardTests {
    /// Question 1: y = relu(W·x), m = Z·y, L = Σ m². Shapes: x 3, W 4×3, Z 2×4.
    /// Reverse pass: dL/dm = 2m (sumsq against target 0), dL/dy = Zᵀ·dm, dL/dh = relu′(h) ⊙ dL/dy
    /// with h = W·x, dL/dW = dL/dh · xᵀ (an outer product, 4×3 like W).
    /// The question's own one-layer result dL/dZ = 2m·yᵀ (outer product) is right and is
    /// checked too. The quoted answer `2m * np.dot(Z, x) * sigmoid(x)` is not: Z·x does not
    /// even conform (Z is 2×4, x has 3 entries), and the activation is relu, not sigmoid.
    @Test func reluTwoLayerSumOfSquares() throws {
        let seed: UInt64 = 81
        let x = randomTensor([3, 1], seed: seed, role: "x")
        let w = randomTensor([4, 3], seed: seed, role: "W")
        let z = randomTensor([2, 4], seed: seed, role: "Z")
        let hidden = MatmulProblem(aShape: [4, 3], bShape: [3, 1])  // h = W·x, 4×1
        let relu = ActivationProblem(.relu, shape: [4, 1])
        let output = MatmulProblem(aShape: [2, 4], bShape: [4, 1])  // m = Z·y, 2×1
        let loss = LossProblem(.sumOfSquares, shape: [2, 1])
        let zeroTarget = Tensor<Double>(zeros: [2, 1])

        func forwardLoss(w: Tensor<Double>) -> Double {
            let h = Reference.matmulForward(hidden, a: w, b: x)
            let y = Reference.activationForward(relu, x: h)
            let m = Reference.matmulForward(output, a: z, b: y)
            return Reference.lossForward(loss, x: m, target: zeroTarget).storage[0]
        }

        let h = Reference.matmulForward(hidden, a: w, b: x)
        // Finite differences are only valid away from relu's kink, and the test means
        // something only if relu zeroes some units and passes others.
        try #require(h.storage.allSatisfy { abs($0) >= 1e-3 }, "pre-activation too close to the kink: \(h)")
        try #require(
            h.storage.contains { $0 < 0 } && h.storage.contains { $0 > 0 }, "relu inactive or all-active: \(h)")
        let y = Reference.activationForward(relu, x: h)
        let m = Reference.matmulForward(output, a: z, b: y)

        let dm = Reference.lossBackward(loss, x: m, target: zeroTarget, dy: try tensor([], [1]))
        let dy = Reference.matmulBackwardB(output, a: z, dy: dm)  // Zᵀ·dm
        let dh = Reference.activationBackward(relu, x: h, dy: dy)
        let dw = Reference.matmulBackwardA(hidden, dy: dh, b: x)  // dh·xᵀ
        #expect(dw.shape == [4, 3])
        for i in 0..<4 where h.storage[i] < 0 {
            for j in 0..<3 { #expect(dw[i, j] == 0, "a unit relu switched off must get no gradient") }
        }
        checkGradient("relu chain dL/dW", analytic: dw, at: w, seed: seed) { forwardLoss(w: $0) }

        // dL/dZ = 2m·yᵀ, written out as the outer product.
        let dz = Reference.matmulBackwardA(output, dy: dm, b: y)
        for i in 0..<2 { for j in 0..<4 { #expect(dz[i, j] == 2 * m[i, 0] * y[j, 0]) } }

        // The same chain through `linear` (row vector x, y = x·Wᵀ) gives the same dL/dW.
        let layer = LinearProblem(xShape: [1, 3], outFeatures: 4, hasBias: false)
        let projection = LinearProblem(xShape: [1, 4], outFeatures: 2, hasBias: false)
        let xRow = try x.reshaped([1, 3])
        let hRow = Reference.linearForward(layer, x: xRow, w: w)
        let reluRow = ActivationProblem(.relu, shape: [1, 4])
        let yRow = Reference.activationForward(reluRow, x: hRow)
        let mRow = Reference.linearForward(projection, x: yRow, w: z)
        let dmRow = Reference.lossBackward(
            LossProblem(.sumOfSquares, shape: [1, 2]), x: mRow,
            target: Tensor<Double>(zeros: [1, 2]), dy: try tensor([], [1]))
        let dhRow = Reference.activationBackward(
            reluRow, x: hRow, dy: Reference.linearBackwardData(projection, dy: dmRow, w: z))
        let dwLinear = Reference.linearBackwardWeights(layer, x: xRow, dy: dhRow)
        for i in 0..<dw.count {
            #expect(abs(dwLinear.storage[i] - dw.storage[i]) <= 1e-14 * max(1, abs(dw.storage[i])))
        }
    }

    /// Question 2: the MLP X(b×2) → Z1 = X·W1 (W1 2×7) → A1 = σ(Z1) → Z2 = A1·W2 (W2 7×2)
    /// → A2 = σ(Z2) → L = ½ Σ (A2 − label)². Reverse pass, every product named:
    ///   dA2 = A2 − label                       (½·sumsq: dy = ½ times 2(A2 − label))
    ///   dZ2 = σ′(Z2) ⊙ dA2                     (elementwise; σ′(Z2) = A2(1 − A2))
    ///   dW2 = A1ᵀ·dZ2                          (7×2, like W2)
    ///   dA1 = dZ2·W2ᵀ                          (b×7, like A1)
    ///   dZ1 = σ′(Z1) ⊙ dA1,  dW1 = Xᵀ·dZ1      (2×7, like W1)
    /// The answer quoted in the question writes `dA1 = dZ2 * A1(2, 7)`: the (2, 7) factor must be
    /// W2ᵀ; dZ2·A1 with A1 = 1×7 does not even conform (1×2 · 1×7), which is asserted below.
    @Test(arguments: [1, 3]) func sigmoidMultilayerPerceptron(batch: Int) throws {
        let seed: UInt64 = 90 + UInt64(batch)
        let x = randomTensor([batch, 2], seed: seed, role: "X")
        let w1 = randomTensor([2, 7], seed: seed, role: "W1")
        let w2 = randomTensor([7, 2], seed: seed, role: "W2")
        var label = Tensor<Double>(zeros: [batch, 2])
        for r in 0..<batch { label[r, r % 2] = 1 }
        let layer1 = MatmulProblem(aShape: [batch, 2], bShape: [2, 7])
        let layer2 = MatmulProblem(aShape: [batch, 7], bShape: [7, 2])
        let sigmoid1 = ActivationProblem(.sigmoid, shape: [batch, 7])
        let sigmoid2 = ActivationProblem(.sigmoid, shape: [batch, 2])
        let loss = LossProblem(.sumOfSquares, shape: [batch, 2])

        func forwardLoss(w1: Tensor<Double>, w2: Tensor<Double>) -> Double {
            let a1 = Reference.activationForward(sigmoid1, x: Reference.matmulForward(layer1, a: x, b: w1))
            let a2 = Reference.activationForward(sigmoid2, x: Reference.matmulForward(layer2, a: a1, b: w2))
            return 0.5 * Reference.lossForward(loss, x: a2, target: label).storage[0]
        }

        let z1 = Reference.matmulForward(layer1, a: x, b: w1)
        let a1 = Reference.activationForward(sigmoid1, x: z1)
        let z2 = Reference.matmulForward(layer2, a: a1, b: w2)
        let a2 = Reference.activationForward(sigmoid2, x: z2)

        let dA2 = Reference.lossBackward(loss, x: a2, target: label, dy: try tensor([], [0.5]))
        for i in 0..<dA2.count { #expect(abs(dA2.storage[i] - (a2.storage[i] - label.storage[i])) <= 1e-15) }
        let dZ2 = Reference.activationBackward(sigmoid2, x: z2, dy: dA2)
        let dW2 = Reference.matmulBackwardB(layer2, a: a1, dy: dZ2)
        let dA1 = Reference.matmulBackwardA(layer2, dy: dZ2, b: w2)
        let dZ1 = Reference.activationBackward(sigmoid1, x: z1, dy: dA1)
        let dW1 = Reference.matmulBackwardB(layer1, a: x, dy: dZ1)

        #expect(dW2.shape == [7, 2] && dW1.shape == [2, 7])
        // dA1 = dZ2·W2ᵀ, summed here over the 2 output units by hand.
        #expect(dA1.shape == [batch, 7])
        for r in 0..<batch {
            for i in 0..<7 {
                let expected = dZ2[r, 0] * w2[i, 0] + dZ2[r, 1] * w2[i, 1]
                #expect(abs(dA1[r, i] - expected) <= 1e-15 * max(1, abs(expected)))
            }
        }
        // The question's dZ2·A1 is not a valid product.
        #expect(throws: ProblemError.self) { try MatmulProblem(aShape: [batch, 2], bShape: [batch, 7]).validate() }

        checkGradient("MLP batch \(batch) dL/dW2", analytic: dW2, at: w2, seed: seed) { forwardLoss(w1: w1, w2: $0) }
        checkGradient("MLP batch \(batch) dL/dW1", analytic: dW1, at: w1, seed: seed + 100) {
            forwardLoss(w1: $0, w2: w2)
        }
    }
}

import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import Testing

@Suite struct ConvBackwardWeightsTests {
    typealias S = ConvTestSupport

    /// The 3×3 image 1…9, 2×2 kernel, stride 2, padding 1, dy ≡ 1 on the 2×2 output. Then
    /// dw(a, b) = Σ_{r,c} xpad(2r + a, 2c + b), xpad being the zero-padded 5×5 grid
    ///
    ///     0 0 0 0 0
    ///     0 1 2 3 0
    ///     0 4 5 6 0
    ///     0 7 8 9 0
    ///     0 0 0 0 0
    ///
    ///   dw(0,0) = xpad(0,0) + xpad(0,2) + xpad(2,0) + xpad(2,2) = 0 + 0 + 0 + 5 = 5
    ///   dw(0,1) = xpad(0,1) + xpad(0,3) + xpad(2,1) + xpad(2,3) = 0 + 0 + 4 + 6 = 10
    ///   dw(1,0) = xpad(1,0) + xpad(1,2) + xpad(3,0) + xpad(3,2) = 0 + 2 + 0 + 8 = 10
    ///   dw(1,1) = xpad(1,1) + xpad(1,3) + xpad(3,1) + xpad(3,3) = 1 + 3 + 7 + 9 = 20
    @Test func knownAnswer3x3Stride2Padding1() throws {
        let p = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [3, 3], kernel: [2, 2],
                            stride: [2, 2], padding: .explicit(begin: [1, 1], end: [1, 1]), hasBias: false)
        let x = try S.tensor([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let dy = try S.tensor([1, 1, 2, 2], [1, 1, 1, 1])
        #expect(Reference.convBackwardWeights(p, x: x, dy: dy) == (try S.tensor([1, 1, 2, 2], [5, 10, 10, 20])))
    }

    /// 1-D, dilation 2, two batch items: dw[k] = Σ_n Σ_o x[n, o + 2k]·dy[n, o].
    /// x₀ = [1, 2, 3, 4, 5], x₁ = [1, 1, 1, 1, 1], k = 2 → taps at 0 and 2, out = 3;
    /// dy₀ = [1, 0, 2], dy₁ = [0, 3, 0]:
    ///   dw[0] = (1·1 + 2·0 + 3·2) + (1·0 + 1·3 + 1·0) = 7 + 3 = 10
    ///   dw[1] = (3·1 + 4·0 + 5·2) + (1·0 + 1·3 + 1·0) = 13 + 3 = 16
    @Test func dilatedBatchedHandCase() throws {
        let p = ConvProblem(batch: 2, inChannels: 1, outChannels: 1, inputSize: [5], kernel: [2], dilation: [2], hasBias: false)
        let x = try S.tensor([2, 1, 5], [1, 2, 3, 4, 5, 1, 1, 1, 1, 1])
        let dy = try S.tensor([2, 1, 3], [1, 0, 2, 0, 3, 0])
        #expect(Reference.convBackwardWeights(p, x: x, dy: dy) == (try S.tensor([1, 1, 2], [10, 16])))
    }

    /// ⟨conv(x; w), g⟩ = ⟨w, convBackwardWeights(x, g)⟩ exactly, with integer fills, over 20
    /// seeded random problems of ranks 1–3.
    @Test func adjointIdentity() {
        var rng = SeededRNG(seed: 0xC0_3E16)
        var nonZero = 0
        for _ in 0..<20 {
            let p = S.randomConv(&rng)
            let x: Tensor<Float> = S.integerFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Float> = S.integerFill.tensor(p.wShape, rng: &rng)
            let g: Tensor<Float> = S.integerFill.tensor(p.yShape, rng: &rng)
            let lhs = Reference.convForward(p, x: x, w: w).dot(g)
            let rhs = w.dot(Reference.convBackwardWeights(p, x: x, dy: g))
            #expect(lhs == rhs, "\(p)")
            if lhs != 0 { nonZero += 1 }
        }
        #expect(nonZero >= 15, "only \(nonZero) of 20 problems had a non-zero inner product")
    }

    /// Central differences of L(w) = ⟨conv(x; w), g⟩ match dw = convBackwardWeights(x, g).
    @Test func finiteDifferences() {
        var rng = SeededRNG(seed: 0xF1D_3E16)
        var worst = 0.0
        for _ in 0..<6 {
            let p = S.randomConv(&rng)
            let x: Tensor<Double> = S.realFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Double> = S.realFill.tensor(p.wShape, rng: &rng)
            let g: Tensor<Double> = S.realFill.tensor(p.yShape, rng: &rng)
            let dw = Reference.convBackwardWeights(p, x: x, dy: g)
            let error = S.finiteDifferenceError(at: w, gradient: dw, rng: &rng) { Reference.convForward(p, x: x, w: $0).dot(g) }
            #expect(error < 1e-6, "\(p): relative error \(error)")
            worst = max(worst, error)
        }
        print("ConvBackwardWeightsTests.finiteDifferences: worst relative error \(worst)")
    }

    /// Batch 0 gives dw = 0 of the weights' shape (nothing to sum over); no input channels
    /// gives an empty dw.
    @Test func zeroSizeDimensions() throws {
        let noBatch = ConvProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [4, 4], kernel: [3, 3], hasBias: false)
        let dw0 = Reference.convBackwardWeights(noBatch, x: Tensor<Double>(zeros: [0, 2, 4, 4]), dy: Tensor<Double>(zeros: [0, 3, 2, 2]))
        #expect(dw0 == Tensor<Double>(zeros: [3, 2, 3, 3]))
        let noInput = ConvProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [4], kernel: [3], hasBias: false)
        let dw1 = Reference.convBackwardWeights(noInput, x: Tensor<Double>(zeros: [2, 0, 4]), dy: try Tensor<Double>(shape: [2, 3, 2], repeating: 1))
        #expect(dw1.shape == [3, 0, 3] && dw1.count == 0)
    }
}

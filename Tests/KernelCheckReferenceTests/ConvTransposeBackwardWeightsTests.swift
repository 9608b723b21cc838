import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import Testing

@Suite struct ConvTransposeBackwardWeightsTests {
    typealias S = ConvTestSupport

    /// 1-D, stride 2, x = [1, 2], k = 3: w[k] scaled x[i] into y[2i + k], so
    /// dw[k] = Σ_i x[i]·dy[2i + k]. With dy = [1, 2, 3, 4, 5]:
    ///   dw[0] = 1·1 + 2·3 = 7,  dw[1] = 1·2 + 2·4 = 10,  dw[2] = 1·3 + 2·5 = 13
    @Test func oneDimensionalHandCase() throws {
        let p = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2], hasBias: false)
        let x = try S.tensor([1, 1, 2], [1, 2])
        let dy = try S.tensor([1, 1, 5], [1, 2, 3, 4, 5])
        #expect(Reference.convTransposeBackwardWeights(p, x: x, dy: dy) == (try S.tensor([1, 1, 3], [7, 10, 13])))
    }

    /// Weight layout C_in × C_out/g × k: one input channel (x = [1, 2]) into two output channels
    /// with 1-tap kernels: dw[0, co] = Σ_i x[i]·dy[co, i]. dy = [[1, 1], [3, -1]]:
    /// dw = [1·1 + 2·1, 1·3 + 2·(−1)] = [3, 1].
    @Test func weightLayoutHandCase() throws {
        let p = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 2, inputSize: [2], kernel: [1], hasBias: false)
        let x = try S.tensor([1, 1, 2], [1, 2])
        let dy = try S.tensor([1, 2, 2], [1, 1, 3, -1])
        #expect(Reference.convTransposeBackwardWeights(p, x: x, dy: dy) == (try S.tensor([1, 2, 1], [3, 1])))
    }

    /// ⟨convᵀ(x; w), g⟩ = ⟨w, convTransposeBackwardWeights(x, g)⟩ exactly, with integer fills,
    /// over 20 seeded random problems.
    @Test func adjointIdentity() {
        var rng = SeededRNG(seed: 0x7C_3E16)
        var nonZero = 0
        for _ in 0..<20 {
            let p = S.randomConvTranspose(&rng)
            let x: Tensor<Double> = S.integerFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Double> = S.integerFill.tensor(p.wShape, rng: &rng)
            let g: Tensor<Double> = S.integerFill.tensor(p.yShape, rng: &rng)
            let lhs = Reference.convTransposeForward(p, x: x, w: w).dot(g)
            let rhs = w.dot(Reference.convTransposeBackwardWeights(p, x: x, dy: g))
            #expect(lhs == rhs, "\(p)")
            if lhs != 0 { nonZero += 1 }
        }
        #expect(nonZero >= 15, "only \(nonZero) of 20 problems had a non-zero inner product")
    }

    /// The weight gradient of convᵀ is the weight gradient of its adjoint convolution with the
    /// roles of input and upstream gradient swapped (both are Σ x·dy over the same taps):
    /// convTransposeBackwardWeights(x, g) = convBackwardWeights(adjointConvolution; x: g, dy: x).
    @Test func equalsConvBackwardWeightsOfAdjointConvolution() {
        var rng = SeededRNG(seed: 0x7C_3E17)
        for _ in 0..<20 {
            let p = S.randomConvTranspose(&rng, outputPaddingBelowStride: true)
            let q = p.adjointConvolution
            #expect(q.yShape == p.xShape && q.xShape == p.yShape && q.wShape == p.wShape, "\(p) vs \(q)")
            guard q.yShape == p.xShape && q.xShape == p.yShape else { continue }
            let x: Tensor<Double> = S.integerFill.tensor(p.xShape, rng: &rng)
            let g: Tensor<Double> = S.integerFill.tensor(p.yShape, rng: &rng)
            #expect(Reference.convTransposeBackwardWeights(p, x: x, dy: g) == Reference.convBackwardWeights(q, x: g, dy: x), "\(p)")
        }
    }

    /// Central differences of L(w) = ⟨convᵀ(x; w), g⟩ match dw = convTransposeBackwardWeights(x, g).
    @Test func finiteDifferences() {
        var rng = SeededRNG(seed: 0xF1D_7C3E)
        var worst = 0.0
        for _ in 0..<6 {
            let p = S.randomConvTranspose(&rng)
            let x: Tensor<Double> = S.realFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Double> = S.realFill.tensor(p.wShape, rng: &rng)
            let g: Tensor<Double> = S.realFill.tensor(p.yShape, rng: &rng)
            let dw = Reference.convTransposeBackwardWeights(p, x: x, dy: g)
            let error = S.finiteDifferenceError(at: w, gradient: dw, rng: &rng) { Reference.convTransposeForward(p, x: x, w: $0).dot(g) }
            #expect(error < 1e-6, "\(p): relative error \(error)")
            worst = max(worst, error)
        }
        print("ConvTransposeBackwardWeightsTests.finiteDifferences: worst relative error \(worst)")
    }

    /// Batch 0 gives dw = 0 of the weights' shape; no output channels gives an empty dw.
    @Test func zeroSizeDimensions() {
        let noBatch = ConvTransposeProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [2, 2], kernel: [3, 3], stride: [2, 2], hasBias: false)
        let dw0 = Reference.convTransposeBackwardWeights(noBatch, x: Tensor<Double>(zeros: [0, 2, 2, 2]), dy: Tensor<Double>(zeros: [0, 3, 5, 5]))
        #expect(dw0 == Tensor<Double>(zeros: [2, 3, 3, 3]))
        let noOutput = ConvTransposeProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [2], kernel: [2], hasBias: false)
        let dw1 = Reference.convTransposeBackwardWeights(noOutput, x: Tensor<Double>(zeros: [2, 2, 2]), dy: Tensor<Double>(zeros: [2, 0, 3]))
        #expect(dw1.shape == [2, 0, 2] && dw1.count == 0)
    }
}

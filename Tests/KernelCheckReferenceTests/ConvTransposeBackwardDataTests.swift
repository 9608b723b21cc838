import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import Testing

@Suite struct ConvTransposeBackwardDataTests {
    typealias S = ConvTestSupport

    /// 1-D, stride 2, x = [x₀, x₁], w = [1, 10, 100]: x[i] scattered onto y[2i…2i+2], so
    /// dx[i] = Σ_k w[k]·dy[2i + k]. With dy = [1, 2, 3, 4, 5]:
    ///   dx[0] = 1·1 + 10·2 + 100·3 = 321
    ///   dx[1] = 1·3 + 10·4 + 100·5 = 543
    @Test func oneDimensionalHandCase() throws {
        let p = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2], hasBias: false)
        let w = try S.tensor([1, 1, 3], [1, 10, 100])
        let dy = try S.tensor([1, 1, 5], [1, 2, 3, 4, 5])
        #expect(Reference.convTransposeBackwardData(p, dy: dy, w: w) == (try S.tensor([1, 1, 2], [321, 543])))
    }

    /// Cropping removes products from the loss, so their dy never reaches dx: the same problem
    /// with p = 1:1 has y = full[1…3], dy = [2, 3, 4] standing at full positions 1…3:
    ///   dx[0] = 10·2 + 100·3 = 320 (full position 0 is cropped)
    ///   dx[1] = 1·3 + 10·4 = 43   (full position 4 is cropped)
    @Test func croppedHandCase() throws {
        let p = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2],
                                     padding: .explicit(begin: [1], end: [1]), hasBias: false)
        let w = try S.tensor([1, 1, 3], [1, 10, 100])
        let dy = try S.tensor([1, 1, 3], [2, 3, 4])
        #expect(Reference.convTransposeBackwardData(p, dy: dy, w: w) == (try S.tensor([1, 1, 2], [320, 43])))
    }

    /// ⟨convᵀ(x; w), g⟩ = ⟨x, convTransposeBackwardData(g; w)⟩ exactly, with integer fills,
    /// over 20 seeded random problems (output_padding anywhere in [0, max(s, d))).
    @Test func adjointIdentity() {
        var rng = SeededRNG(seed: 0x7C_DA7A)
        var nonZero = 0
        for _ in 0..<20 {
            let p = S.randomConvTranspose(&rng)
            let x: Tensor<Float> = S.integerFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Float> = S.integerFill.tensor(p.wShape, rng: &rng)
            let g: Tensor<Float> = S.integerFill.tensor(p.yShape, rng: &rng)
            let lhs = Reference.convTransposeForward(p, x: x, w: w).dot(g)
            let rhs = x.dot(Reference.convTransposeBackwardData(p, dy: g, w: w))
            #expect(lhs == rhs, "\(p)")
            if lhs != 0 { nonZero += 1 }
        }
        #expect(nonZero >= 15, "only \(nonZero) of 20 problems had a non-zero inner product")
    }

    /// The gradient of a transposed convolution w.r.t. its input is the ordinary convolution
    /// it is the adjoint of: convTransposeBackwardData(g; w) = convForward(adjointConvolution; g, w),
    /// elementwise, over 20 seeded random problems with output_padding < s.
    @Test func equalsConvForwardOfAdjointConvolution() {
        var rng = SeededRNG(seed: 0x7C_F0D0)
        for _ in 0..<20 {
            let p = S.randomConvTranspose(&rng, outputPaddingBelowStride: true)
            let q = p.adjointConvolution
            #expect(q.yShape == p.xShape && q.xShape == p.yShape && q.wShape == p.wShape, "\(p) vs \(q)")
            guard q.xShape == p.yShape && q.wShape == p.wShape else { continue }
            let g: Tensor<Double> = S.integerFill.tensor(p.yShape, rng: &rng)
            let w: Tensor<Double> = S.integerFill.tensor(p.wShape, rng: &rng)
            #expect(Reference.convTransposeBackwardData(p, dy: g, w: w) == Reference.convForward(q, x: g, w: w), "\(p)")
        }
    }

    /// Central differences of L(x) = ⟨convᵀ(x; w), g⟩ match dx = convTransposeBackwardData(g; w).
    @Test func finiteDifferences() {
        var rng = SeededRNG(seed: 0xF1D_7CDA)
        var worst = 0.0
        for _ in 0..<6 {
            let p = S.randomConvTranspose(&rng)
            let x: Tensor<Double> = S.realFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Double> = S.realFill.tensor(p.wShape, rng: &rng)
            let g: Tensor<Double> = S.realFill.tensor(p.yShape, rng: &rng)
            let dx = Reference.convTransposeBackwardData(p, dy: g, w: w)
            let error = S.finiteDifferenceError(at: x, gradient: dx, rng: &rng) { Reference.convTransposeForward(p, x: $0, w: w).dot(g) }
            #expect(error < 1e-6, "\(p): relative error \(error)")
            worst = max(worst, error)
        }
        print("ConvTransposeBackwardDataTests.finiteDifferences: worst relative error \(worst)")
    }

    /// Batch 0 gives an empty dx; no output channels gives dx = 0 of the input's shape.
    @Test func zeroSizeDimensions() {
        let noBatch = ConvTransposeProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [2, 2], kernel: [3, 3], stride: [2, 2], hasBias: false)
        let dx0 = Reference.convTransposeBackwardData(noBatch, dy: Tensor<Double>(zeros: [0, 3, 5, 5]), w: Tensor<Double>(zeros: [2, 3, 3, 3]))
        #expect(dx0.shape == [0, 2, 2, 2] && dx0.count == 0)
        let noOutput = ConvTransposeProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [2], kernel: [2], hasBias: false)
        let dx1 = Reference.convTransposeBackwardData(noOutput, dy: Tensor<Double>(zeros: [2, 0, 3]), w: Tensor<Double>(zeros: [2, 0, 2]))
        #expect(dx1 == Tensor<Double>(zeros: [2, 2, 2]))
    }
}

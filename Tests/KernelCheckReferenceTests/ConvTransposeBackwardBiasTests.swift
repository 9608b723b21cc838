import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import Testing

@Suite struct ConvTransposeBackwardBiasTests {
    typealias S = ConvTestSupport

    /// db[c] = Σ_n Σ_o dy[n, c, o]. One batch item, two channels of a 2×2 output:
    /// dy = [[[1, 2], [3, 4]], [[−1, 0], [5, 7]]] → db = [1+2+3+4, −1+0+5+7] = [10, 11].
    @Test func sumsOverBatchAndSpace() throws {
        let p = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 2, inputSize: [1, 1], kernel: [2, 2], hasBias: true)
        let dy = try S.tensor([1, 2, 2, 2], [1, 2, 3, 4, -1, 0, 5, 7])
        #expect(Reference.convTransposeBackwardBias(p, dy: dy) == (try S.tensor([2], [10, 11])))
    }

    /// The bias enters linearly: ⟨convᵀ(x; w, b) − convᵀ(x; w), g⟩ = ⟨b, convTransposeBackwardBias(g)⟩,
    /// exactly with integer fills, over 20 seeded random problems.
    @Test func adjointIdentity() {
        var rng = SeededRNG(seed: 0x7C_B1A5)
        var nonZero = 0
        for _ in 0..<20 {
            var p = S.randomConvTranspose(&rng)
            p.hasBias = true
            let x: Tensor<Double> = S.integerFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Double> = S.integerFill.tensor(p.wShape, rng: &rng)
            let b: Tensor<Double> = S.integerFill.tensor(p.bShape, rng: &rng)
            let g: Tensor<Double> = S.integerFill.tensor(p.yShape, rng: &rng)
            let lhs = Reference.convTransposeForward(p, x: x, w: w, b: b).dot(g) - Reference.convTransposeForward(p, x: x, w: w).dot(g)
            let rhs = b.dot(Reference.convTransposeBackwardBias(p, dy: g))
            #expect(lhs == rhs, "\(p)")
            if lhs != 0 { nonZero += 1 }
        }
        #expect(nonZero >= 15, "only \(nonZero) of 20 problems had a non-zero inner product")
    }

    /// Central differences of L(b) = ⟨convᵀ(x; w, b), g⟩ match db = convTransposeBackwardBias(g).
    @Test func finiteDifferences() {
        var rng = SeededRNG(seed: 0xF1D_7CB1)
        var worst = 0.0
        for _ in 0..<6 {
            var p = S.randomConvTranspose(&rng)
            p.hasBias = true
            let x: Tensor<Double> = S.realFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Double> = S.realFill.tensor(p.wShape, rng: &rng)
            let b: Tensor<Double> = S.realFill.tensor(p.bShape, rng: &rng)
            let g: Tensor<Double> = S.realFill.tensor(p.yShape, rng: &rng)
            let db = Reference.convTransposeBackwardBias(p, dy: g)
            let error = S.finiteDifferenceError(at: b, gradient: db, rng: &rng) { Reference.convTransposeForward(p, x: x, w: w, b: $0).dot(g) }
            #expect(error < 1e-6, "\(p): relative error \(error)")
            worst = max(worst, error)
        }
        print("ConvTransposeBackwardBiasTests.finiteDifferences: worst relative error \(worst)")
    }

    /// Batch 0 gives db = 0 per channel; no output channels gives an empty db.
    @Test func zeroSizeDimensions() {
        let noBatch = ConvTransposeProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [2, 2], kernel: [3, 3], stride: [2, 2], hasBias: true)
        #expect(Reference.convTransposeBackwardBias(noBatch, dy: Tensor<Double>(zeros: [0, 3, 5, 5])) == Tensor<Double>(zeros: [3]))
        let noOutput = ConvTransposeProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [2], kernel: [2], hasBias: true)
        #expect(Reference.convTransposeBackwardBias(noOutput, dy: Tensor<Double>(zeros: [2, 0, 3])).shape == [0])
    }
}

import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import Testing

@Suite struct ConvBackwardBiasTests {
    typealias S = ConvTestSupport

    /// db[c] = Σ_n Σ_o dy[n, c, o]. Two batch items, two channels, two outputs each:
    /// dy = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] → db = [1+2+5+6, 3+4+7+8] = [14, 22].
    @Test func sumsOverBatchAndSpace() throws {
        let p = ConvProblem(batch: 2, inChannels: 1, outChannels: 2, inputSize: [2], kernel: [1], hasBias: true)
        let dy = try S.tensor([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(Reference.convBackwardBias(p, dy: dy) == (try S.tensor([2], [14, 22])))
    }

    /// The bias enters linearly: ⟨conv(x; w, b) − conv(x; w), g⟩ = ⟨b, convBackwardBias(g)⟩,
    /// exactly with integer fills, over 20 seeded random problems.
    @Test func adjointIdentity() {
        var rng = SeededRNG(seed: 0xC0_B1A5)
        var nonZero = 0
        for _ in 0..<20 {
            var p = S.randomConv(&rng)
            p.hasBias = true
            let x: Tensor<Double> = S.integerFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Double> = S.integerFill.tensor(p.wShape, rng: &rng)
            let b: Tensor<Double> = S.integerFill.tensor(p.bShape, rng: &rng)
            let g: Tensor<Double> = S.integerFill.tensor(p.yShape, rng: &rng)
            let lhs = Reference.convForward(p, x: x, w: w, b: b).dot(g) - Reference.convForward(p, x: x, w: w).dot(g)
            let rhs = b.dot(Reference.convBackwardBias(p, dy: g))
            #expect(lhs == rhs, "\(p)")
            if lhs != 0 { nonZero += 1 }
        }
        #expect(nonZero >= 15, "only \(nonZero) of 20 problems had a non-zero inner product")
    }

    /// Central differences of L(b) = ⟨conv(x; w, b), g⟩ match db = convBackwardBias(g).
    @Test func finiteDifferences() {
        var rng = SeededRNG(seed: 0xF1D_B1A5)
        var worst = 0.0
        for _ in 0..<6 {
            var p = S.randomConv(&rng)
            p.hasBias = true
            let x: Tensor<Double> = S.realFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Double> = S.realFill.tensor(p.wShape, rng: &rng)
            let b: Tensor<Double> = S.realFill.tensor(p.bShape, rng: &rng)
            let g: Tensor<Double> = S.realFill.tensor(p.yShape, rng: &rng)
            let db = Reference.convBackwardBias(p, dy: g)
            let error = S.finiteDifferenceError(at: b, gradient: db, rng: &rng) { Reference.convForward(p, x: x, w: w, b: $0).dot(g) }
            #expect(error < 1e-6, "\(p): relative error \(error)")
            worst = max(worst, error)
        }
        print("ConvBackwardBiasTests.finiteDifferences: worst relative error \(worst)")
    }

    /// Batch 0 gives db = 0 per channel; no output channels gives an empty db.
    @Test func zeroSizeDimensions() {
        let noBatch = ConvProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [4, 4], kernel: [3, 3], hasBias: true)
        #expect(Reference.convBackwardBias(noBatch, dy: Tensor<Double>(zeros: [0, 3, 2, 2])) == Tensor<Double>(zeros: [3]))
        let noOutput = ConvProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [4], kernel: [3], hasBias: true)
        let db = Reference.convBackwardBias(noOutput, dy: Tensor<Double>(zeros: [2, 0, 2]))
        #expect(db.shape == [0])
    }
}

import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import Testing

@Suite struct ConvBackwardDataTests {
    typealias S = ConvTestSupport

    /// The 3×3 problem of `ConvForwardTests.knownAnswer3x3Stride2Padding1` (kernel
    /// [[1, 2], [3, 4]], stride 2, padding 1). With stride = kernel = 2 the windows tile the
    /// padded 4×4 grid without overlap, so each input pixel is read exactly once, by one kernel
    /// entry, and dx with dy ≡ 1 is that entry:
    ///   window (0,0) covers x(0,0) through w(1,1) = 4
    ///   window (0,1) covers x(0,1), x(0,2) through w(1,0) = 3, w(1,1) = 4
    ///   window (1,0) covers x(1,0), x(2,0) through w(0,1) = 2, w(1,1) = 4
    ///   window (1,1) covers x(1,1), x(1,2), x(2,1), x(2,2) through 1, 2, 3, 4
    /// dx = [[4, 3, 4], [2, 1, 2], [4, 3, 4]]. With dy = one-hot at (1,1), only the last window
    /// contributes: dx = [[0, 0, 0], [0, 1, 2], [0, 3, 4]].
    @Test func knownAnswer3x3Stride2Padding1() throws {
        let p = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [3, 3], kernel: [2, 2],
                            stride: [2, 2], padding: .explicit(begin: [1, 1], end: [1, 1]), hasBias: false)
        let w = try S.tensor([1, 1, 2, 2], [1, 2, 3, 4])
        let ones = try S.tensor([1, 1, 2, 2], [1, 1, 1, 1])
        #expect(Reference.convBackwardData(p, dy: ones, w: w) == (try S.tensor([1, 1, 3, 3], [4, 3, 4, 2, 1, 2, 4, 3, 4])))
        let oneHot = try S.tensor([1, 1, 2, 2], [0, 0, 0, 1])
        #expect(Reference.convBackwardData(p, dy: oneHot, w: w) == (try S.tensor([1, 1, 3, 3], [0, 0, 0, 0, 1, 2, 0, 3, 4])))
    }

    /// 1-D, valid: output o reads x[o…o+2] through w = [1, 2, 3], so dy = [1, 0, 0] sends w
    /// back to x[0…2]: dx = [1, 2, 3, 0, 0]; dy = [1, 10, 0] adds 10·w at x[1…3]:
    /// dx = [1, 2+10, 3+20, 30, 0] = [1, 12, 23, 30, 0].
    @Test func oneDimensionalHandCase() throws {
        let p = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [5], kernel: [3], hasBias: false)
        let w = try S.tensor([1, 1, 3], [1, 2, 3])
        #expect(Reference.convBackwardData(p, dy: try S.tensor([1, 1, 3], [1, 0, 0]), w: w) == (try S.tensor([1, 1, 5], [1, 2, 3, 0, 0])))
        #expect(Reference.convBackwardData(p, dy: try S.tensor([1, 1, 3], [1, 10, 0]), w: w) == (try S.tensor([1, 1, 5], [1, 12, 23, 30, 0])))
    }

    /// ⟨conv(x; w), g⟩ = ⟨x, convBackwardData(g; w)⟩ exactly, with integer fills, over 20
    /// seeded random problems of ranks 1–3 (Float inputs on odd iterations).
    @Test func adjointIdentity() {
        var rng = SeededRNG(seed: 0xC0_DA7A)
        var nonZero = 0
        for iteration in 0..<20 {
            let p = S.randomConv(&rng)
            let (lhs, rhs): (Double, Double)
            if iteration % 2 == 1 {
                let x: Tensor<Float> = S.integerFill.tensor(p.xShape, rng: &rng)
                let w: Tensor<Float> = S.integerFill.tensor(p.wShape, rng: &rng)
                let g: Tensor<Float> = S.integerFill.tensor(p.yShape, rng: &rng)
                lhs = Reference.convForward(p, x: x, w: w).dot(g)
                rhs = x.dot(Reference.convBackwardData(p, dy: g, w: w))
            } else {
                let x: Tensor<Double> = S.integerFill.tensor(p.xShape, rng: &rng)
                let w: Tensor<Double> = S.integerFill.tensor(p.wShape, rng: &rng)
                let g: Tensor<Double> = S.integerFill.tensor(p.yShape, rng: &rng)
                lhs = Reference.convForward(p, x: x, w: w).dot(g)
                rhs = x.dot(Reference.convBackwardData(p, dy: g, w: w))
            }
            #expect(lhs == rhs, "\(p)")
            if lhs != 0 { nonZero += 1 }
        }
        // The identity holds trivially when both sides are 0; most problems must not be so.
        #expect(nonZero >= 15, "only \(nonZero) of 20 problems had a non-zero inner product")
    }

    /// Central differences of L(x) = ⟨conv(x; w), g⟩ match dx = convBackwardData(g; w).
    @Test func finiteDifferences() {
        var rng = SeededRNG(seed: 0xF1D_DA7A)
        var worst = 0.0
        for _ in 0..<6 {
            let p = S.randomConv(&rng)
            let x: Tensor<Double> = S.realFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Double> = S.realFill.tensor(p.wShape, rng: &rng)
            let g: Tensor<Double> = S.realFill.tensor(p.yShape, rng: &rng)
            let dx = Reference.convBackwardData(p, dy: g, w: w)
            let error = S.finiteDifferenceError(at: x, gradient: dx, rng: &rng) { Reference.convForward(p, x: $0, w: w).dot(g) }
            #expect(error < 1e-6, "\(p): relative error \(error)")
            worst = max(worst, error)
        }
        print("ConvBackwardDataTests.finiteDifferences: worst relative error \(worst)")
    }

    /// Batch 0 gives an empty dx; no output channels gives dx = 0 of the input's shape.
    @Test func zeroSizeDimensions() throws {
        let noBatch = ConvProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [4, 4], kernel: [3, 3], hasBias: false)
        let dx0 = Reference.convBackwardData(noBatch, dy: Tensor<Double>(zeros: [0, 3, 2, 2]), w: Tensor<Double>(zeros: [3, 2, 3, 3]))
        #expect(dx0.shape == [0, 2, 4, 4] && dx0.count == 0)
        let noOutput = ConvProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [4], kernel: [3], hasBias: false)
        let dx1 = Reference.convBackwardData(noOutput, dy: Tensor<Double>(zeros: [2, 0, 2]), w: Tensor<Double>(zeros: [0, 2, 3]))
        #expect(dx1 == Tensor<Double>(zeros: [2, 2, 4]))
        let noInput = ConvProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [4], kernel: [3], hasBias: false)
        let dx2 = Reference.convBackwardData(noInput, dy: try Tensor<Double>(shape: [2, 3, 2], repeating: 1), w: Tensor<Double>(zeros: [3, 0, 3]))
        #expect(dx2.shape == [2, 0, 4] && dx2.count == 0)
    }
}

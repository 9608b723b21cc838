import KernelCheckCore
import KernelCheckProblems
import Testing

@testable import KernelCheckReference

/// Claims from the answers in docs/user-questions.md checked against the reference — including the
/// ones the answers there get wrong.
@Suite struct UserQuestionTests {
    /// "Imagine a 5x5 1-channel input and a single 3x3 filter": the output is 3×3
    /// (⌊(5 − 3)/1⌋ + 1 = 3). The answer then says a (1, 5, 5) input "with the same convolution
    /// settings" gives (4, 4); it does not — a 4×4 output needs a 6×6 input.
    @Test func fiveByFiveInputWithThreeByThreeFilter() throws {
        let p = ConvProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [5, 5], kernel: [3, 3], hasBias: false)
        try p.validate()
        #expect(p.yShape == [1, 1, 3, 3])
        let six = ConvProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [6, 6], kernel: [3, 3], hasBias: false)
        #expect(six.outputSize == [4, 4])
        // With all-ones input and filter, each output is the 9 products of its window: 9.
        let x = try Tensor<Double>(shape: p.xShape, repeating: 1), w = try Tensor<Double>(shape: p.wShape, repeating: 1)
        #expect(Reference.convForward(p, x: x, w: w).storage == [Double](repeating: 9, count: 9))
    }

    /// "Each channel of the input would convolve with each channel of the filter and the
    /// results would be averaged": they are summed. With c all-ones channels and an all-ones
    /// 3×3×c filter every output is 9·c (an average would give 9).
    @Test(arguments: [1, 3, 32])
    func channelsAreSummedNotAveraged(_ c: Int) throws {
        let p = ConvProblem(
            batch: 1, inChannels: c, outChannels: 1, inputSize: [3, 3], kernel: [3, 3], hasBias: false)
        let x = try Tensor<Double>(shape: p.xShape, repeating: 1), w = try Tensor<Double>(shape: p.wShape, repeating: 1)
        #expect(Reference.convForward(p, x: x, w: w).storage == [Double(9 * c)])
    }

    /// "for just one layer (m = Zy, take gradient wrt Z): dLoss/dZ = 2m * y" with `*` the
    /// outer product: ∂(Σ m²)/∂Z[i, j] = 2·m[i]·y[j]. Written as linear (m = y·Zᵀ) with a
    /// single row: dZ = linearBackwardWeights(y, dm) with dm = 2m.
    @Test func singleLayerGradientIsTheOuterProduct() throws {
        let lin = LinearProblem(xShape: [1, 3], outFeatures: 2, hasBias: false)
        let y = try Tensor<Double>(shape: [1, 3], storage: [1, -2, 0.5])
        let z = try Tensor<Double>(shape: [2, 3], storage: [0.5, 1, -1, 2, 0, 3])
        let m = Reference.linearForward(lin, x: y, w: z)  // m = [0.5 − 2 − 0.5, 2 + 0 + 1.5] = [−2, 3.5]
        #expect(m.storage == [-2, 3.5])
        let dm = m.map { 2 * $0 }
        let dZ = Reference.linearBackwardWeights(lin, x: y, dy: dm)
        // 2·m ⊗ y = [[−4·1, −4·(−2), −4·0.5], [7·1, 7·(−2), 7·0.5]].
        #expect(dZ.storage == [-4, 8, -2, 7, -14, 3.5])
    }
}

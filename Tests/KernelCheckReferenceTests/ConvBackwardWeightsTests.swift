import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

/// Weight gradient of convolution and transposed convolution, `dw = ∂⟨y, dy⟩/∂w`.
@Suite struct ConvBackwardWeightsTests {
    /// 1-D, dilation 2, two batch items: dw[k] = Σ_n Σ_o x[n, o + 2k]·dy[n, o].
    /// x₀ = [1, 2, 3, 4, 5], x₁ = [1, 1, 1, 1, 1], k = 2 → taps at 0 and 2, out = 3;
    /// dy₀ = [1, 0, 2], dy₁ = [0, 3, 0]:
    ///   dw[0] = (1·1 + 2·0 + 3·2) + (1·0 + 1·3 + 1·0) = 7 + 3 = 10
    ///   dw[1] = (3·1 + 4·0 + 5·2) + (1·0 + 1·3 + 1·0) = 13 + 3 = 16
    @Test func convDilatedBatchedHandCase() throws {
        let p = ConvProblem(
            batch: 2, inChannels: 1, outChannels: 1, inputSize: [5], kernel: [2], dilation: [2], hasBias: false)
        let x = try tensor([2, 1, 5], [1, 2, 3, 4, 5, 1, 1, 1, 1, 1])
        let dy = try tensor([2, 1, 3], [1, 0, 2, 0, 3, 0])
        #expect(Reference.convBackwardWeights(p, x: x, dy: dy) == (try tensor([1, 1, 2], [10, 16])))
    }

    /// Transposed, 1-D, stride 2, x = [1, 2], k = 3: w[k] scaled x[i] into y[2i + k], so
    /// dw[k] = Σ_i x[i]·dy[2i + k]. With dy = [1, 2, 3, 4, 5]:
    ///   dw[0] = 1·1 + 2·3 = 7,  dw[1] = 1·2 + 2·4 = 10,  dw[2] = 1·3 + 2·5 = 13
    @Test func convTransposeOneDimensionalHandCase() throws {
        let p = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2], hasBias: false)
        let x = try tensor([1, 1, 2], [1, 2])
        let dy = try tensor([1, 1, 5], [1, 2, 3, 4, 5])
        #expect(Reference.convTransposeBackwardWeights(p, x: x, dy: dy) == (try tensor([1, 1, 3], [7, 10, 13])))
    }

    /// Transposed weight layout C_in × C_out/g × k: one input channel (x = [1, 2]) into two
    /// output channels with 1-tap kernels: dw[0, co] = Σ_i x[i]·dy[co, i]. dy = [[1, 1], [3, -1]]:
    /// dw = [1·1 + 2·1, 1·3 + 2·(−1)] = [3, 1].
    @Test func convTransposeWeightLayoutHandCase() throws {
        let p = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 2, inputSize: [2], kernel: [1], hasBias: false)
        let x = try tensor([1, 1, 2], [1, 2])
        let dy = try tensor([1, 2, 2], [1, 1, 3, -1])
        #expect(Reference.convTransposeBackwardWeights(p, x: x, dy: dy) == (try tensor([1, 2, 1], [3, 1])))
    }
}

import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

/// Bias gradient of convolution and transposed convolution: `db[c] = Σ_n Σ_o dy[n, c, o]`.
@Suite struct ConvBackwardBiasTests {
    /// Two batch items, two channels, two outputs each:
    /// dy = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] → db = [1+2+5+6, 3+4+7+8] = [14, 22].
    @Test func convSumsOverBatchAndSpace() throws {
        let p = ConvProblem(batch: 2, inChannels: 1, outChannels: 2, inputSize: [2], kernel: [1], hasBias: true)
        let dy = try tensor([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(Reference.convBackwardBias(p, dy: dy) == (try tensor([2], [14, 22])))
    }

    /// One batch item, two channels of a 2×2 output:
    /// dy = [[[1, 2], [3, 4]], [[−1, 0], [5, 7]]] → db = [1+2+3+4, −1+0+5+7] = [10, 11].
    @Test func convTransposeSumsOverBatchAndSpace() throws {
        let p = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 2, inputSize: [1, 1], kernel: [2, 2], hasBias: true)
        let dy = try tensor([1, 2, 2, 2], [1, 2, 3, 4, -1, 0, 5, 7])
        #expect(Reference.convTransposeBackwardBias(p, dy: dy) == (try tensor([2], [10, 11])))
    }
}

import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

/// Data gradient of convolution and transposed convolution, `dx = ∂⟨y, dy⟩/∂x`.
@Suite struct ConvBackwardDataTests {
    /// 1-D, valid: output o reads x[o…o+2] through w = [1, 2, 3], so dy = [1, 0, 0] sends w
    /// back to x[0…2]: dx = [1, 2, 3, 0, 0]; dy = [1, 10, 0] adds 10·w at x[1…3]:
    /// dx = [1, 2+10, 3+20, 30, 0] = [1, 12, 23, 30, 0].
    @Test func convOneDimensionalHandCase() throws {
        let p = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [5], kernel: [3], hasBias: false)
        let w = try tensor([1, 1, 3], [1, 2, 3])
        #expect(
            Reference.convBackwardData(p, dy: try tensor([1, 1, 3], [1, 0, 0]), w: w)
                == (try tensor([1, 1, 5], [1, 2, 3, 0, 0])))
        #expect(
            Reference.convBackwardData(p, dy: try tensor([1, 1, 3], [1, 10, 0]), w: w)
                == (try tensor([1, 1, 5], [1, 12, 23, 30, 0])))
    }

    /// Transposed, 1-D, stride 2, x = [x₀, x₁], w = [1, 10, 100]: x[i] scattered onto
    /// y[2i…2i+2], so dx[i] = Σ_k w[k]·dy[2i + k]. With dy = [1, 2, 3, 4, 5]:
    ///   dx[0] = 1·1 + 10·2 + 100·3 = 321
    ///   dx[1] = 1·3 + 10·4 + 100·5 = 543
    @Test func convTransposeOneDimensionalHandCase() throws {
        let p = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2], hasBias: false)
        let w = try tensor([1, 1, 3], [1, 10, 100])
        let dy = try tensor([1, 1, 5], [1, 2, 3, 4, 5])
        #expect(Reference.convTransposeBackwardData(p, dy: dy, w: w) == (try tensor([1, 1, 2], [321, 543])))
    }

    /// Transposed: cropping removes products from the loss, so their dy never reaches dx: the
    /// same problem with p = 1:1 has y = full[1…3], dy = [2, 3, 4] standing at full positions 1…3:
    ///   dx[0] = 10·2 + 100·3 = 320 (full position 0 is cropped)
    ///   dx[1] = 1·3 + 10·4 = 43   (full position 4 is cropped)
    @Test func convTransposeCroppedHandCase() throws {
        let p = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2],
            padding: .explicit(begin: [1], end: [1]), hasBias: false)
        let w = try tensor([1, 1, 3], [1, 10, 100])
        let dy = try tensor([1, 1, 3], [2, 3, 4])
        #expect(Reference.convTransposeBackwardData(p, dy: dy, w: w) == (try tensor([1, 1, 2], [320, 43])))
    }
}

import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import Testing

@Suite struct ConvTransposeForwardTests {
    typealias S = ConvTestSupport

    /// A single input pixel of value v scatters v·kernel: with in = 1 the output size is
    /// (1−1)·s + d·(k−1) + 1 = k whatever the stride, and y[co, k…] = v·w[0, co, k…].
    /// Checked in 1-D, 2-D and 3-D with two output channels and kernel entries 1, 2, 3, ….
    @Test(arguments: [[3], [3, 2], [2, 3, 2]])
    func singlePixelReproducesScaledKernel(kernel: [Int]) throws {
        let rank = kernel.count
        let p = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 2, inputSize: Array(repeating: 1, count: rank),
                                     kernel: kernel, stride: Array(repeating: 2, count: rank), hasBias: false)
        let v = 3.0
        let x = try S.tensor([1, 1] + Array(repeating: 1, count: rank), [v])
        let w = try S.tensor(p.wShape, (1...Shape.elementCount(p.wShape)!).map(Double.init))
        let y = Reference.convTransposeForward(p, x: x, w: w)
        // w is 1 × 2 × k… and y is 1 × 2 × k…: the same row-major layout.
        #expect(y.shape == [1, 2] + kernel)
        #expect(y.storage == w.storage.map { v * $0 })
    }

    /// 1-D, stride 2: x = [1, 2], w = [1, 10, 100]. x[0] scatters [1, 10, 100] onto y[0…2] and
    /// x[1] scatters [2, 20, 200] onto y[2…4]; out = (2−1)·2 + 3 = 5:
    /// y = [1, 10, 100+2, 20, 200] = [1, 10, 102, 20, 200].
    /// Cropping 1 at each end (p = 1:1) leaves [10, 102, 20]; output_padding 1 appends a
    /// position no product reaches: [1, 10, 102, 20, 200, 0], which a bias of 5 turns into
    /// [6, 15, 107, 25, 205, 5].
    @Test func oneDimensionalHandCase() throws {
        let x = try S.tensor([1, 1, 2], [1, 2])
        let w = try S.tensor([1, 1, 3], [1, 10, 100])
        let full = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2], hasBias: false)
        #expect(Reference.convTransposeForward(full, x: x, w: w) == (try S.tensor([1, 1, 5], [1, 10, 102, 20, 200])))
        let cropped = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2],
                                           padding: .explicit(begin: [1], end: [1]), hasBias: false)
        #expect(Reference.convTransposeForward(cropped, x: x, w: w) == (try S.tensor([1, 1, 3], [10, 102, 20])))
        let extended = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2],
                                            outputPadding: [1], hasBias: true)
        #expect(Reference.convTransposeForward(extended, x: x, w: w) == (try S.tensor([1, 1, 6], [1, 10, 102, 20, 200, 0])))
        let b = try S.tensor([1], [5])
        #expect(Reference.convTransposeForward(extended, x: x, w: w, b: b) == (try S.tensor([1, 1, 6], [6, 15, 107, 25, 205, 5])))
    }

    /// Dilation 3, stride 1: x = [1, 2], w = [1, 10]; x[i] lands on y[i] and y[i+3];
    /// out = (2−1)·1 + 3·(2−1) + 1 = 5: y = [1, 2, 0, 10, 20].
    @Test func dilationHandCase() throws {
        let p = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [2], dilation: [3], hasBias: false)
        let x = try S.tensor([1, 1, 2], [1, 2])
        let w = try S.tensor([1, 1, 2], [1, 10])
        #expect(Reference.convTransposeForward(p, x: x, w: w) == (try S.tensor([1, 1, 5], [1, 2, 0, 10, 20])))
    }

    /// `same` gives out = in·s. The GAN generator's 16×16 → 32×32 (k = 4, s = 2: crop 1 and 1).
    /// Values, 1-D: x = [1, 2], w = [1, 1, 1, 1], s = 2: full output (length 6) is
    /// [1, 1, 1+2, 1+2, 2, 2] = [1, 1, 3, 3, 2, 2], cropped 1:1 → [1, 3, 3, 2].
    /// Odd crop, k = 3, s = 2: total = 3 − 2 = 1; full output [1, 1, 1+2, 2, 2] = [1, 1, 3, 2, 2];
    /// `same` crops (0, 1) → [1, 1, 3, 2], `same_lower` crops (1, 0) → [1, 3, 2, 2].
    @Test func samePadding() throws {
        let gan = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [16, 16], kernel: [4, 4],
                                       stride: [2, 2], padding: .same, hasBias: false)
        let y = Reference.convTransposeForward(gan, x: Tensor<Double>(zeros: [1, 1, 16, 16]), w: Tensor<Double>(zeros: [1, 1, 4, 4]))
        #expect(y.shape == [1, 1, 32, 32])

        let x = try S.tensor([1, 1, 2], [1, 2])
        let k4 = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [4], stride: [2], padding: .same, hasBias: false)
        #expect(Reference.convTransposeForward(k4, x: x, w: try S.tensor([1, 1, 4], [1, 1, 1, 1])) == (try S.tensor([1, 1, 4], [1, 3, 3, 2])))
        let w3 = try S.tensor([1, 1, 3], [1, 1, 1])
        let upper = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2], padding: .same, hasBias: false)
        let lower = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2], padding: .sameLower, hasBias: false)
        #expect(Reference.convTransposeForward(upper, x: x, w: w3) == (try S.tensor([1, 1, 4], [1, 1, 3, 2])))
        #expect(Reference.convTransposeForward(lower, x: x, w: w3) == (try S.tensor([1, 1, 4], [1, 3, 2, 2])))
    }

    /// Bias per channel: x = [1, 2], 1-tap kernels 2 and 3 into two output channels,
    /// b = [10, 100]: channel 0 = [12, 14], channel 1 = [103, 106].
    @Test func biasAddedPerChannel() throws {
        let p = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 2, inputSize: [2], kernel: [1], hasBias: true)
        let x = try S.tensor([1, 1, 2], [1, 2])
        let w = try S.tensor([1, 2, 1], [2, 3])
        let b = try S.tensor([2], [10, 100])
        #expect(Reference.convTransposeForward(p, x: x, w: w, b: b) == (try S.tensor([1, 2, 2], [12, 14, 103, 106])))
    }

    /// The checkerboard fact, s = 2 divides k = 4: all-ones 4×4 input, all-ones 4×4 kernel.
    /// out = (4−1)·2 + 4 = 10. Along one axis, output p receives one product per input index
    /// i ∈ [0, 3] with 0 ≤ p − 2i ≤ 3, i.e. i ∈ {⌈(p−3)/2⌉, …, ⌊p/2⌋}: always 2 indices for
    /// 2 ≤ p ≤ 7 (p = 2m: i ∈ {m−1, m}; p = 2m+1: i ∈ {m−1, m}), 1 at p ∈ {0, 1, 8, 9}.
    /// Profile [1, 1, 2, 2, 2, 2, 2, 2, 1, 1]; y(r, c) = profile[r]·profile[c], so the interior
    /// (rows and columns 2…7) is uniformly 4.
    @Test func checkerboardFreeWhenStrideDividesKernel() throws {
        let y = try allOnesTransposedConvolution(kernel: 4)
        let profile: [Double] = [1, 1, 2, 2, 2, 2, 2, 2, 1, 1]
        #expect(y.storage == profile.flatMap { r in profile.map { r * $0 } })
        let interior = (2...7).flatMap { r in (2...7).map { c in y[0, 0, r, c] } }
        #expect(interior.allSatisfy { $0 == 4 })
    }

    /// The checkerboard fact, s = 2 does not divide k = 3: out = (4−1)·2 + 3 = 9. Output p gets
    /// one product per i with 0 ≤ p − 2i ≤ 2: p = 2m reaches i ∈ {m−1, m} (2 products in the
    /// interior), p = 2m+1 only i = m (1 product). Profile [1, 1, 2, 1, 2, 1, 2, 1, 1]; in the
    /// interior (rows and columns 2…6) y alternates 4 (even, even), 2 (mixed), 1 (odd, odd):
    /// the checkerboard.
    @Test func checkerboardWhenStrideDoesNotDivideKernel() throws {
        let y = try allOnesTransposedConvolution(kernel: 3)
        let profile: [Double] = [1, 1, 2, 1, 2, 1, 2, 1, 1]
        #expect(y.storage == profile.flatMap { r in profile.map { r * $0 } })
        #expect(y[0, 0, 2, 2] == 4 && y[0, 0, 2, 3] == 2 && y[0, 0, 3, 2] == 2 && y[0, 0, 3, 3] == 1)
        let interior = Set((2...6).flatMap { r in (2...6).map { c in y[0, 0, r, c] } })
        #expect(interior == [1, 2, 4])
    }

    private func allOnesTransposedConvolution(kernel k: Int) throws -> Tensor<Double> {
        let p = ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [4, 4], kernel: [k, k],
                                     stride: [2, 2], hasBias: false)
        return Reference.convTransposeForward(p, x: try Tensor<Double>(shape: p.xShape, repeating: 1),
                                              w: try Tensor<Double>(shape: p.wShape, repeating: 1))
    }

    /// convᵀ is the adjoint of conv w.r.t. its input, so its forward pass equals conv's
    /// backward-data on `p.adjointConvolution` (benchdnn's deconv reference), elementwise and
    /// exactly with integer fills, over 20 seeded random problems (output_padding < s, where
    /// the adjoint convolution's output is exactly the transposed convolution's input).
    @Test func equalsConvBackwardDataOfAdjointConvolution() {
        var rng = SeededRNG(seed: 0x7_F0D0)
        for _ in 0..<20 {
            let p = S.randomConvTranspose(&rng, outputPaddingBelowStride: true)
            let q = p.adjointConvolution
            #expect(q.yShape == p.xShape && q.xShape == p.yShape && q.wShape == p.wShape, "\(p) vs \(q)")
            guard q.yShape == p.xShape && q.wShape == p.wShape else { continue }
            let x: Tensor<Float> = S.integerFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Float> = S.integerFill.tensor(p.wShape, rng: &rng)
            let y = Reference.convTransposeForward(p, x: x, w: w)
            #expect(y == Reference.convBackwardData(q, dy: x, w: w), "\(p)")
            #expect(y.storage.contains { $0 != 0 } || x.storage.allSatisfy { $0 == 0 }, "\(p): all-zero output")
        }
    }

    /// A grouped transposed convolution is `g` independent ones: group `j` maps input channels
    /// `j·C_in/g ..< (j+1)·C_in/g` through weight rows of the same range (w is C_in × C_out/g × k…)
    /// into output channels `j·C_out/g ..< (j+1)·C_out/g`.
    @Test(arguments: [(4, 6, 2, [3, 2]), (3, 6, 3, [4])])
    func groupedEqualsSeparateTransposedConvolutions(inChannels: Int, outChannels: Int, groups: Int, inputSize: [Int]) {
        let kernel = inputSize.map { _ in 3 }, stride = inputSize.map { _ in 2 }
        let p = ConvTransposeProblem(batch: 2, inChannels: inChannels, outChannels: outChannels, groups: groups,
                                     inputSize: inputSize, kernel: kernel, stride: stride, padding: .same, hasBias: false)
        let x: Tensor<Double> = S.integerFill.tensor(p.xShape, seed: 9, role: "x")
        let w: Tensor<Double> = S.integerFill.tensor(p.wShape, seed: 9, role: "w")
        let cin = inChannels / groups, cout = outChannels / groups
        let single = ConvTransposeProblem(batch: 2, inChannels: cin, outChannels: cout, inputSize: inputSize, kernel: kernel,
                                          stride: stride, padding: .explicit(begin: p.padBegin, end: p.padEnd), hasBias: false)
        let perGroup = (0..<groups).map { j in
            Reference.convTransposeForward(single, x: S.slice(x, axis: 1, (j * cin)..<((j + 1) * cin)),
                                           w: S.slice(w, axis: 0, (j * cin)..<((j + 1) * cin)))
        }
        let y = Reference.convTransposeForward(p, x: x, w: w)
        #expect(y == S.concatenate(perGroup, axis: 1))
        #expect(y.storage.contains { $0 != 0 }, "degenerate all-zero output")
    }

    /// Batch 0 gives an empty output; no input channels gives zeros (or just the bias); no
    /// output channels gives an empty output.
    @Test func zeroSizeDimensions() throws {
        let noBatch = ConvTransposeProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [2, 2], kernel: [3, 3], stride: [2, 2], hasBias: false)
        let y0 = Reference.convTransposeForward(noBatch, x: Tensor<Double>(zeros: [0, 2, 2, 2]), w: Tensor<Double>(zeros: [2, 3, 3, 3]))
        #expect(y0.shape == [0, 3, 5, 5] && y0.count == 0)

        let noInput = ConvTransposeProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [2], kernel: [2], hasBias: true)
        let b = try S.tensor([3], [1, 2, 3])
        let y1 = Reference.convTransposeForward(noInput, x: Tensor<Double>(zeros: [2, 0, 2]), w: Tensor<Double>(zeros: [0, 3, 2]), b: b)
        // out = (2−1)·1 + 1 + 1 = 3; each of the 2·3 planes holds its channel's bias only.
        #expect(y1.shape == [2, 3, 3])
        #expect(y1.storage == (0..<2).flatMap { _ in [1.0, 2, 3].flatMap { Array(repeating: $0, count: 3) } })
        #expect(Reference.convTransposeForward(noInput, x: Tensor<Double>(zeros: [2, 0, 2]), w: Tensor<Double>(zeros: [0, 3, 2]))
            == Tensor<Double>(zeros: [2, 3, 3]))

        let noOutput = ConvTransposeProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [2], kernel: [2], hasBias: false)
        let y2 = Reference.convTransposeForward(noOutput, x: Tensor<Double>(zeros: [2, 2, 2]), w: Tensor<Double>(zeros: [2, 0, 2]))
        #expect(y2.shape == [2, 0, 3] && y2.count == 0)
    }
}

import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import KernelCheckTestSupport
import Testing

/// Forward convolution and transposed convolution: hand-derived answers of each op (the first
/// one in every direction), then the properties both share.
@Suite struct ConvForwardTests {
    /// The 3×3 image 1…9, a 2×2 kernel [[1, 2], [3, 4]], stride 2, padding 1 on every side,
    /// in every direction.
    ///
    /// out = ⌊(3 + 1 + 1 − 1·(2−1) − 1) / 2⌋ + 1 = ⌊3/2⌋ + 1 = 2. The zero-padded input is
    ///
    ///     0 0 0 0 0
    ///     0 1 2 3 0
    ///     0 4 5 6 0
    ///     0 7 8 9 0
    ///     0 0 0 0 0
    ///
    /// Forward: output (r, c) is the 2×2 window at padded rows 2r…2r+1, columns 2c…2c+1:
    ///   y(0,0) = [0 0; 0 1]·w = 1·4                 = 4
    ///   y(0,1) = [0 0; 2 3]·w = 2·3 + 3·4           = 18
    ///   y(1,0) = [0 4; 0 7]·w = 4·2 + 7·4           = 36
    ///   y(1,1) = [5 6; 8 9]·w = 5·1 + 6·2 + 8·3 + 9·4 = 77
    ///
    /// Backward-data: with stride = kernel = 2 the windows tile the padded 4×4 grid without
    /// overlap, so each input pixel is read exactly once, by one kernel entry, and dx with
    /// dy ≡ 1 is that entry:
    ///   window (0,0) covers x(0,0) through w(1,1) = 4
    ///   window (0,1) covers x(0,1), x(0,2) through w(1,0) = 3, w(1,1) = 4
    ///   window (1,0) covers x(1,0), x(2,0) through w(0,1) = 2, w(1,1) = 4
    ///   window (1,1) covers x(1,1), x(1,2), x(2,1), x(2,2) through 1, 2, 3, 4
    /// dx = [[4, 3, 4], [2, 1, 2], [4, 3, 4]]. With dy = one-hot at (1,1), only the last window
    /// contributes: dx = [[0, 0, 0], [0, 1, 2], [0, 3, 4]].
    ///
    /// Backward-weights with dy ≡ 1: dw(a, b) = Σ_{r,c} xpad(2r + a, 2c + b):
    ///   dw(0,0) = xpad(0,0) + xpad(0,2) + xpad(2,0) + xpad(2,2) = 0 + 0 + 0 + 5 = 5
    ///   dw(0,1) = xpad(0,1) + xpad(0,3) + xpad(2,1) + xpad(2,3) = 0 + 0 + 4 + 6 = 10
    ///   dw(1,0) = xpad(1,0) + xpad(1,2) + xpad(3,0) + xpad(3,2) = 0 + 2 + 0 + 8 = 10
    ///   dw(1,1) = xpad(1,1) + xpad(1,3) + xpad(3,1) + xpad(3,3) = 1 + 3 + 7 + 9 = 20
    @Test func convKnownAnswer3x3Stride2Padding1() throws {
        let p = ConvProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [3, 3], kernel: [2, 2],
            stride: [2, 2], padding: .explicit(begin: [1, 1], end: [1, 1]), hasBias: false)
        let x = try tensor([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let w = try tensor([1, 1, 2, 2], [1, 2, 3, 4])
        let y = Reference.convForward(p, x: x, w: w)
        #expect(y == (try tensor([1, 1, 2, 2], [4, 18, 36, 77])))

        let ones = try tensor([1, 1, 2, 2], [1, 1, 1, 1])
        #expect(
            Reference.convBackwardData(p, dy: ones, w: w) == (try tensor([1, 1, 3, 3], [4, 3, 4, 2, 1, 2, 4, 3, 4])))
        let oneHot = try tensor([1, 1, 2, 2], [0, 0, 0, 1])
        #expect(
            Reference.convBackwardData(p, dy: oneHot, w: w) == (try tensor([1, 1, 3, 3], [0, 0, 0, 0, 1, 2, 0, 3, 4])))

        #expect(Reference.convBackwardWeights(p, x: x, dy: ones) == (try tensor([1, 1, 2, 2], [5, 10, 10, 20])))
    }

    /// 1-D, valid, stride 1: x = [1, 2, 3, 4, 5], w = [1, 2, 3], so y[o] = x[o] + 2x[o+1] + 3x[o+2]:
    /// y = [1+4+9, 2+6+12, 3+8+15] = [14, 20, 26]. Stride 2 keeps outputs 0 and 2: [14, 26].
    @Test func convOneDimensionalHandCase() throws {
        let x = try tensor([1, 1, 5], [1, 2, 3, 4, 5])
        let w = try tensor([1, 1, 3], [1, 2, 3])
        let p1 = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [5], kernel: [3], hasBias: false)
        #expect(Reference.convForward(p1, x: x, w: w) == (try tensor([1, 1, 3], [14, 20, 26])))
        let p2 = ConvProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [5], kernel: [3], stride: [2], hasBias: false)
        #expect(Reference.convForward(p2, x: x, w: w) == (try tensor([1, 1, 2], [14, 26])))
    }

    /// 3-D: a 2×2×2 volume holding 1…8 and a 2×2×2 kernel holding 1…8, valid: the single output
    /// is Σ i·i for i = 1…8 = 1+4+9+16+25+36+49+64 = 204. With padding 1 at the end of the depth
    /// axis only, a second output (depth index 1) reads depth 1 of the volume (values 5…8)
    /// through depth 0 of the kernel (values 1…4), the kernel's depth 1 falling on the padding:
    /// 5·1 + 6·2 + 7·3 + 8·4 = 70.
    @Test func convThreeDimensionalHandCase() throws {
        let x = try tensor([1, 1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])
        let w = try tensor([1, 1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])
        let valid = ConvProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [2, 2, 2], kernel: [2, 2, 2], hasBias: false)
        #expect(Reference.convForward(valid, x: x, w: w) == (try tensor([1, 1, 1, 1, 1], [204])))
        let padded = ConvProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [2, 2, 2], kernel: [2, 2, 2],
            padding: .explicit(begin: [0, 0, 0], end: [1, 0, 0]), hasBias: false)
        #expect(Reference.convForward(padded, x: x, w: w) == (try tensor([1, 1, 2, 1, 1], [204, 70])))
    }

    /// Dilation 2: x = [1, …, 7], w = [1, 10, 100] reads x[o], x[o+2], x[o+4];
    /// out = ⌊(7 − 2·2 − 1)/1⌋ + 1 = 3: y = [1+30+500, 2+40+600, 3+50+700] = [531, 642, 753].
    @Test func convDilationHandCase() throws {
        let p = ConvProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [7], kernel: [3], dilation: [2], hasBias: false)
        let x = try tensor([1, 1, 7], [1, 2, 3, 4, 5, 6, 7])
        let w = try tensor([1, 1, 3], [1, 10, 100])
        #expect(Reference.convForward(p, x: x, w: w) == (try tensor([1, 1, 3], [531, 642, 753])))
    }

    /// Padding 2 at the beginning, 1 at the end: x = [1, 2, 3] becomes [0, 0, 1, 2, 3, 0];
    /// w = [1, 2]: out = 3 + 2 + 1 − 1 − 1 + 1 = 5, y[o] = xp[o] + 2·xp[o+1]:
    /// [0+0, 0+2, 1+4, 2+6, 3+0] = [0, 2, 5, 8, 3].
    @Test func convAsymmetricPadding() throws {
        let p = ConvProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [3], kernel: [2],
            padding: .explicit(begin: [2], end: [1]), hasBias: false)
        let x = try tensor([1, 1, 3], [1, 2, 3])
        let w = try tensor([1, 1, 2], [1, 2])
        #expect(Reference.convForward(p, x: x, w: w) == (try tensor([1, 1, 5], [0, 2, 5, 8, 3])))
    }

    /// `same` with stride 1 keeps the size (Conv1D(64, 3, 'same') on length 5 gives 5; a 4×4
    /// image with a 3×3 kernel stays 4×4); with stride 2 it gives ⌈in/s⌉.
    ///
    /// in = 5, k = 4, s = 2: out = ⌈5/2⌉ = 3, total = (3−1)·2 + 4 − 5 = 3, so `same` pads (1, 2)
    /// and `same_lower` pads (2, 1). With x = [1, …, 5] and w = [1, 1, 1, 1] (window sums of 4):
    ///   same:       [0 1 2 3 4 5 0 0] → [0+1+2+3, 2+3+4+5, 4+5+0+0] = [6, 14, 9]
    ///   same_lower: [0 0 1 2 3 4 5 0] → [0+0+1+2, 1+2+3+4, 3+4+5+0] = [3, 10, 12]
    @Test func convSameAndSameLower() throws {
        let conv1D = ConvProblem(
            batch: 1, inChannels: 1, outChannels: 64, inputSize: [5], kernel: [3], padding: .same, hasBias: false)
        let y1 = Reference.convForward(
            conv1D, x: Tensor<Double>(zeros: [1, 1, 5]), w: Tensor<Double>(zeros: [64, 1, 3]))
        #expect(y1.shape == [1, 64, 5])
        let conv2D = ConvProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [4, 4], kernel: [3, 3], padding: .sameLower,
            hasBias: false)
        let y2 = Reference.convForward(
            conv2D, x: Tensor<Double>(zeros: [1, 1, 4, 4]), w: Tensor<Double>(zeros: [1, 1, 3, 3]))
        #expect(y2.shape == [1, 1, 4, 4])

        let x = try tensor([1, 1, 5], [1, 2, 3, 4, 5])
        let w = try tensor([1, 1, 4], [1, 1, 1, 1])
        ConvOp.conv.expectSameAndSameLower(
            inputSize: [5], kernel: [4], stride: [2], x: x, w: w, same: try tensor([1, 1, 3], [6, 14, 9]),
            sameLower: try tensor([1, 1, 3], [3, 10, 12]))
    }

    /// Depthwise with channel multiplier 2 (C_in = 3, g = 3, C_out = 6): output channel `co`
    /// reads input channel ⌊co/2⌋ only. x = [1, 2, 3] (one pixel per channel), 1-tap kernels
    /// w = [10, 20, 30, 40, 50, 60]: y = [10·1, 20·1, 30·2, 40·2, 50·3, 60·3]
    /// = [10, 20, 60, 80, 150, 180].
    @Test func convDepthwiseMultiplierTwoHandCase() throws {
        let p = ConvProblem(
            batch: 1, inChannels: 3, outChannels: 6, groups: 3, inputSize: [1], kernel: [1], hasBias: false)
        let x = try tensor([1, 3, 1], [1, 2, 3])
        let w = try tensor([6, 1, 1], [10, 20, 30, 40, 50, 60])
        #expect(Reference.convForward(p, x: x, w: w) == (try tensor([1, 6, 1], [10, 20, 60, 80, 150, 180])))
    }

    /// Transposed: a single input pixel of value v scatters v·kernel: with in = 1 the output size is
    /// (1−1)·s + d·(k−1) + 1 = k whatever the stride, and y[co, k…] = v·w[0, co, k…].
    /// Checked in 1-D, 2-D and 3-D with two output channels and kernel entries 1, 2, 3, ….
    @Test(arguments: [[3], [3, 2], [2, 3, 2]])
    func convTransposeSinglePixelReproducesScaledKernel(kernel: [Int]) throws {
        let rank = kernel.count
        let p = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 2, inputSize: Array(repeating: 1, count: rank),
            kernel: kernel, stride: Array(repeating: 2, count: rank), hasBias: false)
        let v = 3.0
        let x = try tensor([1, 1] + Array(repeating: 1, count: rank), [v])
        let w = try tensor(p.wShape, (1...Shape.elementCount(p.wShape)!).map(Double.init))
        let y = Reference.convTransposeForward(p, x: x, w: w)
        // w is 1 × 2 × k… and y is 1 × 2 × k…: the same row-major layout.
        #expect(y.shape == [1, 2] + kernel)
        #expect(y.storage == w.storage.map { v * $0 })
    }

    /// Transposed, 1-D, stride 2: x = [1, 2], w = [1, 10, 100]. x[0] scatters [1, 10, 100] onto y[0…2] and
    /// x[1] scatters [2, 20, 200] onto y[2…4]; out = (2−1)·2 + 3 = 5:
    /// y = [1, 10, 100+2, 20, 200] = [1, 10, 102, 20, 200].
    /// Cropping 1 at each end (p = 1:1) leaves [10, 102, 20]; output_padding 1 appends a
    /// position no product reaches: [1, 10, 102, 20, 200, 0], which a bias of 5 turns into
    /// [6, 15, 107, 25, 205, 5].
    @Test func convTransposeOneDimensionalHandCase() throws {
        let x = try tensor([1, 1, 2], [1, 2])
        let w = try tensor([1, 1, 3], [1, 10, 100])
        let full = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2], hasBias: false)
        #expect(Reference.convTransposeForward(full, x: x, w: w) == (try tensor([1, 1, 5], [1, 10, 102, 20, 200])))
        let cropped = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2],
            padding: .explicit(begin: [1], end: [1]), hasBias: false)
        #expect(Reference.convTransposeForward(cropped, x: x, w: w) == (try tensor([1, 1, 3], [10, 102, 20])))
        let extended = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [3], stride: [2],
            outputPadding: [1], hasBias: true)
        #expect(
            Reference.convTransposeForward(extended, x: x, w: w) == (try tensor([1, 1, 6], [1, 10, 102, 20, 200, 0])))
        let b = try tensor([1], [5])
        #expect(
            Reference.convTransposeForward(extended, x: x, w: w, b: b)
                == (try tensor([1, 1, 6], [6, 15, 107, 25, 205, 5])))
    }

    /// Transposed, dilation 3, stride 1: x = [1, 2], w = [1, 10]; x[i] lands on y[i] and y[i+3];
    /// out = (2−1)·1 + 3·(2−1) + 1 = 5: y = [1, 2, 0, 10, 20].
    @Test func convTransposeDilationHandCase() throws {
        let p = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [2], dilation: [3], hasBias: false)
        let x = try tensor([1, 1, 2], [1, 2])
        let w = try tensor([1, 1, 2], [1, 10])
        #expect(Reference.convTransposeForward(p, x: x, w: w) == (try tensor([1, 1, 5], [1, 2, 0, 10, 20])))
    }

    /// Transposed `same` gives out = in·s. The GAN generator's 16×16 → 32×32 (k = 4, s = 2: crop 1 and 1).
    /// Values, 1-D: x = [1, 2], w = [1, 1, 1, 1], s = 2: full output (length 6) is
    /// [1, 1, 1+2, 1+2, 2, 2] = [1, 1, 3, 3, 2, 2], cropped 1:1 → [1, 3, 3, 2].
    /// Odd crop, k = 3, s = 2: total = 3 − 2 = 1; full output [1, 1, 1+2, 2, 2] = [1, 1, 3, 2, 2];
    /// `same` crops (0, 1) → [1, 1, 3, 2], `same_lower` crops (1, 0) → [1, 3, 2, 2].
    @Test func convTransposeSamePadding() throws {
        let gan = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [16, 16], kernel: [4, 4],
            stride: [2, 2], padding: .same, hasBias: false)
        let y = Reference.convTransposeForward(
            gan, x: Tensor<Double>(zeros: [1, 1, 16, 16]), w: Tensor<Double>(zeros: [1, 1, 4, 4]))
        #expect(y.shape == [1, 1, 32, 32])

        let x = try tensor([1, 1, 2], [1, 2])
        let k4 = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [2], kernel: [4], stride: [2], padding: .same,
            hasBias: false)
        #expect(
            Reference.convTransposeForward(k4, x: x, w: try tensor([1, 1, 4], [1, 1, 1, 1]))
                == (try tensor([1, 1, 4], [1, 3, 3, 2])))
        let w3 = try tensor([1, 1, 3], [1, 1, 1])
        ConvOp.convTranspose.expectSameAndSameLower(
            inputSize: [2], kernel: [3], stride: [2], x: x, w: w3, same: try tensor([1, 1, 4], [1, 1, 3, 2]),
            sameLower: try tensor([1, 1, 4], [1, 3, 2, 2]))
    }

    /// The checkerboard fact, s = 2 divides k = 4: all-ones 4×4 input, all-ones 4×4 kernel.
    /// out = (4−1)·2 + 4 = 10. Along one axis, output p receives one product per input index
    /// i ∈ [0, 3] with 0 ≤ p − 2i ≤ 3, i.e. i ∈ {⌈(p−3)/2⌉, …, ⌊p/2⌋}: always 2 indices for
    /// 2 ≤ p ≤ 7 (p = 2m: i ∈ {m−1, m}; p = 2m+1: i ∈ {m−1, m}), 1 at p ∈ {0, 1, 8, 9}.
    /// Profile [1, 1, 2, 2, 2, 2, 2, 2, 1, 1]; y(r, c) = profile[r]·profile[c], so the interior
    /// (rows and columns 2…7) is uniformly 4.
    @Test func convTransposeCheckerboardFreeWhenStrideDividesKernel() throws {
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
    @Test func convTransposeCheckerboardWhenStrideDoesNotDivideKernel() throws {
        let y = try allOnesTransposedConvolution(kernel: 3)
        let profile: [Double] = [1, 1, 2, 1, 2, 1, 2, 1, 1]
        #expect(y.storage == profile.flatMap { r in profile.map { r * $0 } })
        #expect(y[0, 0, 2, 2] == 4 && y[0, 0, 2, 3] == 2 && y[0, 0, 3, 2] == 2 && y[0, 0, 3, 3] == 1)
        let interior = Set((2...6).flatMap { r in (2...6).map { c in y[0, 0, r, c] } })
        #expect(interior == [1, 2, 4])
    }

    private func allOnesTransposedConvolution(kernel k: Int) throws -> Tensor<Double> {
        let p = ConvTransposeProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [4, 4], kernel: [k, k],
            stride: [2, 2], hasBias: false)
        return Reference.convTransposeForward(
            p, x: try Tensor<Double>(shape: p.xShape, repeating: 1),
            w: try Tensor<Double>(shape: p.wShape, repeating: 1))
    }

    /// Bias is added once to every output of its channel: x = [1, 2] (one channel), 1-tap
    /// kernels 2 and 3 for two output channels, b = [10, 100]:
    /// channel 0 = [2+10, 4+10] = [12, 14], channel 1 = [3+100, 6+100] = [103, 106].
    /// (w is C_out × C_in × 1 for the convolution, C_in × C_out × 1 for the transposed one.)
    @Test(arguments: [
        (
            ConvProblem(batch: 1, inChannels: 1, outChannels: 2, inputSize: [2], kernel: [1], hasBias: true)
                as any ReferenceConvolution, [2, 1, 1]
        ),
        (
            ConvTransposeProblem(batch: 1, inChannels: 1, outChannels: 2, inputSize: [2], kernel: [1], hasBias: true),
            [1, 2, 1]
        ),
    ])
    func biasAddedPerChannel(problem: any ReferenceConvolution, wShape: [Int]) throws {
        let x = try tensor([1, 1, 2], [1, 2])
        let w = try tensor(wShape, [2, 3])
        let b = try tensor([2], [10, 100])
        #expect(problem.forward(x: x, w: w, b: b) == (try tensor([1, 2, 2], [12, 14, 103, 106])))
    }

    /// A grouped (transposed) convolution is `g` independent ones: group `j` maps input
    /// channels `j·C_in/g ..< (j+1)·C_in/g` through weight rows `j·R/g ..< (j+1)·R/g` (R = C_out
    /// for a convolution, whose w is C_out × C_in/g × k…; R = C_in for a transposed one, whose w
    /// is C_in × C_out/g × k…), and the outputs are concatenated along channels. Covers g = 2
    /// and depthwise ×2 (g = C_in = 3).
    @Test(arguments: [
        (ConvOp.conv, 4, 6, 2, [5, 4], 7 as UInt64), (.conv, 3, 6, 3, [4, 5], 7), (.conv, 6, 4, 2, [6], 7),
        (.convTranspose, 4, 6, 2, [3, 2], 9), (.convTranspose, 3, 6, 3, [4], 9),
    ])
    func groupedEqualsSeparateOps(
        op: ConvOp, inChannels: Int, outChannels: Int, groups: Int, inputSize: [Int], seed: UInt64
    ) {
        let kernel = inputSize.map { _ in 3 }, stride = inputSize.map { _ in 2 }
        let p = op.problem(
            batch: 2, inChannels: inChannels, outChannels: outChannels, groups: groups, inputSize: inputSize,
            kernel: kernel, stride: stride, padding: .same)
        let x: Tensor<Double> = exactFill.tensor(p.xShape, seed: seed, role: "x")
        let w: Tensor<Double> = exactFill.tensor(p.wShape, seed: seed, role: "w")
        let cin = inChannels / groups, rows = p.wShape[0] / groups
        let single = op.problem(
            batch: 2, inChannels: cin, outChannels: outChannels / groups, inputSize: inputSize, kernel: kernel,
            stride: stride, padding: .explicit(begin: p.padBegin, end: p.padEnd))
        let perGroup = (0..<groups).map { j in
            single.forward(
                x: slice(x, axis: 1, (j * cin)..<((j + 1) * cin)), w: slice(w, axis: 0, (j * rows)..<((j + 1) * rows)))
        }
        let y = p.forward(x: x, w: w)
        #expect(y == concatenate(perGroup, axis: 1))
        #expect(y.storage.contains { $0 != 0 }, "degenerate all-zero output")
    }

    /// Float and Double inputs holding the same integers give the same Double result.
    @Test(arguments: ConvOp.allCases)
    func floatAndDoubleInputsAgree(op: ConvOp) {
        var rng = SeededRNG(seed: 11)
        for _ in 0..<5 {
            let p = op.random(&rng)
            let x: Tensor<Float> = exactFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Float> = exactFill.tensor(p.wShape, rng: &rng)
            let b: Tensor<Float> = exactFill.tensor(p.bShape, rng: &rng)
            #expect(
                p.forward(x: x, w: w, b: b)
                    == p.forward(
                        x: x.converted(to: Double.self), w: w.converted(to: Double.self),
                        b: b.converted(to: Double.self)), "\(p)")
        }
    }
}

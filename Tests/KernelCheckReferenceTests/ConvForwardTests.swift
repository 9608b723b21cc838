import KernelCheckCore
import KernelCheckProblems
import KernelCheckReference
import Testing

@Suite struct ConvForwardTests {
    typealias S = ConvTestSupport

    /// The 3×3 image 1…9, a 2×2 kernel [[1, 2], [3, 4]], stride 2, padding 1 on every side.
    ///
    /// out = ⌊(3 + 1 + 1 − 1·(2−1) − 1) / 2⌋ + 1 = ⌊3/2⌋ + 1 = 2. The zero-padded input is
    ///
    ///     0 0 0 0 0
    ///     0 1 2 3 0
    ///     0 4 5 6 0
    ///     0 7 8 9 0
    ///     0 0 0 0 0
    ///
    /// and output (r, c) is the 2×2 window at padded rows 2r…2r+1, columns 2c…2c+1:
    ///   y(0,0) = [0 0; 0 1]·w = 1·4                 = 4
    ///   y(0,1) = [0 0; 2 3]·w = 2·3 + 3·4           = 18
    ///   y(1,0) = [0 4; 0 7]·w = 4·2 + 7·4           = 36
    ///   y(1,1) = [5 6; 8 9]·w = 5·1 + 6·2 + 8·3 + 9·4 = 77
    @Test func knownAnswer3x3Stride2Padding1() throws {
        let p = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [3, 3], kernel: [2, 2],
                            stride: [2, 2], padding: .explicit(begin: [1, 1], end: [1, 1]), hasBias: false)
        let x = try S.tensor([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let w = try S.tensor([1, 1, 2, 2], [1, 2, 3, 4])
        let y = Reference.convForward(p, x: x, w: w)
        #expect(y == (try S.tensor([1, 1, 2, 2], [4, 18, 36, 77])))
    }

    /// 1-D, valid, stride 1: x = [1, 2, 3, 4, 5], w = [1, 2, 3], so y[o] = x[o] + 2x[o+1] + 3x[o+2]:
    /// y = [1+4+9, 2+6+12, 3+8+15] = [14, 20, 26]. Stride 2 keeps outputs 0 and 2: [14, 26].
    @Test func oneDimensionalHandCase() throws {
        let x = try S.tensor([1, 1, 5], [1, 2, 3, 4, 5])
        let w = try S.tensor([1, 1, 3], [1, 2, 3])
        let p1 = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [5], kernel: [3], hasBias: false)
        #expect(Reference.convForward(p1, x: x, w: w) == (try S.tensor([1, 1, 3], [14, 20, 26])))
        let p2 = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [5], kernel: [3], stride: [2], hasBias: false)
        #expect(Reference.convForward(p2, x: x, w: w) == (try S.tensor([1, 1, 2], [14, 26])))
    }

    /// 3-D: a 2×2×2 volume holding 1…8 and a 2×2×2 kernel holding 1…8, valid: the single output
    /// is Σ i·i for i = 1…8 = 1+4+9+16+25+36+49+64 = 204. With padding 1 at the end of the depth
    /// axis only, a second output (depth index 1) reads depth 1 of the volume (values 5…8)
    /// through depth 0 of the kernel (values 1…4), the kernel's depth 1 falling on the padding:
    /// 5·1 + 6·2 + 7·3 + 8·4 = 70.
    @Test func threeDimensionalHandCase() throws {
        let x = try S.tensor([1, 1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])
        let w = try S.tensor([1, 1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])
        let valid = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2, 2, 2], kernel: [2, 2, 2], hasBias: false)
        #expect(Reference.convForward(valid, x: x, w: w) == (try S.tensor([1, 1, 1, 1, 1], [204])))
        let padded = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [2, 2, 2], kernel: [2, 2, 2],
                                 padding: .explicit(begin: [0, 0, 0], end: [1, 0, 0]), hasBias: false)
        #expect(Reference.convForward(padded, x: x, w: w) == (try S.tensor([1, 1, 2, 1, 1], [204, 70])))
    }

    /// Dilation 2: x = [1, …, 7], w = [1, 10, 100] reads x[o], x[o+2], x[o+4];
    /// out = ⌊(7 − 2·2 − 1)/1⌋ + 1 = 3: y = [1+30+500, 2+40+600, 3+50+700] = [531, 642, 753].
    @Test func dilationHandCase() throws {
        let p = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [7], kernel: [3], dilation: [2], hasBias: false)
        let x = try S.tensor([1, 1, 7], [1, 2, 3, 4, 5, 6, 7])
        let w = try S.tensor([1, 1, 3], [1, 10, 100])
        #expect(Reference.convForward(p, x: x, w: w) == (try S.tensor([1, 1, 3], [531, 642, 753])))
    }

    /// Padding 2 at the beginning, 1 at the end: x = [1, 2, 3] becomes [0, 0, 1, 2, 3, 0];
    /// w = [1, 2]: out = 3 + 2 + 1 − 1 − 1 + 1 = 5, y[o] = xp[o] + 2·xp[o+1]:
    /// [0+0, 0+2, 1+4, 2+6, 3+0] = [0, 2, 5, 8, 3].
    @Test func asymmetricPadding() throws {
        let p = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [3], kernel: [2],
                            padding: .explicit(begin: [2], end: [1]), hasBias: false)
        let x = try S.tensor([1, 1, 3], [1, 2, 3])
        let w = try S.tensor([1, 1, 2], [1, 2])
        #expect(Reference.convForward(p, x: x, w: w) == (try S.tensor([1, 1, 5], [0, 2, 5, 8, 3])))
    }

    /// `same` with stride 1 keeps the size (Conv1D(64, 3, 'same') on length 5 gives 5; a 4×4
    /// image with a 3×3 kernel stays 4×4); with stride 2 it gives ⌈in/s⌉.
    ///
    /// in = 5, k = 4, s = 2: out = ⌈5/2⌉ = 3, total = (3−1)·2 + 4 − 5 = 3, so `same` pads (1, 2)
    /// and `same_lower` pads (2, 1). With x = [1, …, 5] and w = [1, 1, 1, 1] (window sums of 4):
    ///   same:       [0 1 2 3 4 5 0 0] → [0+1+2+3, 2+3+4+5, 4+5+0+0] = [6, 14, 9]
    ///   same_lower: [0 0 1 2 3 4 5 0] → [0+0+1+2, 1+2+3+4, 3+4+5+0] = [3, 10, 12]
    @Test func sameAndSameLower() throws {
        let conv1D = ConvProblem(batch: 1, inChannels: 1, outChannels: 64, inputSize: [5], kernel: [3], padding: .same, hasBias: false)
        let y1 = Reference.convForward(conv1D, x: Tensor<Double>(zeros: [1, 1, 5]), w: Tensor<Double>(zeros: [64, 1, 3]))
        #expect(y1.shape == [1, 64, 5])
        let conv2D = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [4, 4], kernel: [3, 3], padding: .sameLower, hasBias: false)
        let y2 = Reference.convForward(conv2D, x: Tensor<Double>(zeros: [1, 1, 4, 4]), w: Tensor<Double>(zeros: [1, 1, 3, 3]))
        #expect(y2.shape == [1, 1, 4, 4])

        let x = try S.tensor([1, 1, 5], [1, 2, 3, 4, 5])
        let w = try S.tensor([1, 1, 4], [1, 1, 1, 1])
        let upper = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [5], kernel: [4], stride: [2], padding: .same, hasBias: false)
        let lower = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [5], kernel: [4], stride: [2], padding: .sameLower, hasBias: false)
        #expect(Reference.convForward(upper, x: x, w: w) == (try S.tensor([1, 1, 3], [6, 14, 9])))
        #expect(Reference.convForward(lower, x: x, w: w) == (try S.tensor([1, 1, 3], [3, 10, 12])))
    }

    /// Bias is added once to every output of its channel: x = [1, 2] (one channel), 1-tap
    /// kernels 2 and 3 for two output channels, b = [10, 100]:
    /// channel 0 = [2+10, 4+10] = [12, 14], channel 1 = [3+100, 6+100] = [103, 106].
    @Test func biasAddedPerChannel() throws {
        let p = ConvProblem(batch: 1, inChannels: 1, outChannels: 2, inputSize: [2], kernel: [1], hasBias: true)
        let x = try S.tensor([1, 1, 2], [1, 2])
        let w = try S.tensor([2, 1, 1], [2, 3])
        let b = try S.tensor([2], [10, 100])
        #expect(Reference.convForward(p, x: x, w: w, b: b) == (try S.tensor([1, 2, 2], [12, 14, 103, 106])))
    }

    /// Depthwise with channel multiplier 2 (C_in = 3, g = 3, C_out = 6): output channel `co`
    /// reads input channel ⌊co/2⌋ only. x = [1, 2, 3] (one pixel per channel), 1-tap kernels
    /// w = [10, 20, 30, 40, 50, 60]: y = [10·1, 20·1, 30·2, 40·2, 50·3, 60·3]
    /// = [10, 20, 60, 80, 150, 180].
    @Test func depthwiseMultiplierTwoHandCase() throws {
        let p = ConvProblem(batch: 1, inChannels: 3, outChannels: 6, groups: 3, inputSize: [1], kernel: [1], hasBias: false)
        let x = try S.tensor([1, 3, 1], [1, 2, 3])
        let w = try S.tensor([6, 1, 1], [10, 20, 30, 40, 50, 60])
        #expect(Reference.convForward(p, x: x, w: w) == (try S.tensor([1, 6, 1], [10, 20, 60, 80, 150, 180])))
    }

    /// A grouped convolution is `g` independent convolutions: group `j` maps input channels
    /// `j·C_in/g ..< (j+1)·C_in/g` through weight rows `j·C_out/g ..< (j+1)·C_out/g`, and the
    /// outputs are concatenated along channels. Covers g = 2 and depthwise ×2 (g = C_in = 3).
    @Test(arguments: [(4, 6, 2, [5, 4]), (3, 6, 3, [4, 5]), (6, 4, 2, [6])])
    func groupedEqualsSeparateConvolutions(inChannels: Int, outChannels: Int, groups: Int, inputSize: [Int]) {
        let kernel = inputSize.map { _ in 3 }
        let p = ConvProblem(batch: 2, inChannels: inChannels, outChannels: outChannels, groups: groups, inputSize: inputSize,
                            kernel: kernel, stride: inputSize.map { _ in 2 }, padding: .same, hasBias: false)
        let x: Tensor<Double> = S.integerFill.tensor(p.xShape, seed: 7, role: "x")
        let w: Tensor<Double> = S.integerFill.tensor(p.wShape, seed: 7, role: "w")
        let cin = inChannels / groups, cout = outChannels / groups
        let single = ConvProblem(batch: 2, inChannels: cin, outChannels: cout, inputSize: inputSize, kernel: kernel,
                                 stride: p.stride, padding: .explicit(begin: p.padBegin, end: p.padEnd), hasBias: false)
        let perGroup = (0..<groups).map { j in
            Reference.convForward(single, x: S.slice(x, axis: 1, (j * cin)..<((j + 1) * cin)),
                                  w: S.slice(w, axis: 0, (j * cout)..<((j + 1) * cout)))
        }
        let y = Reference.convForward(p, x: x, w: w)
        #expect(y == S.concatenate(perGroup, axis: 1))
        #expect(y.storage.contains { $0 != 0 }, "degenerate all-zero output")
    }

    /// Float and Double inputs holding the same integers give the same Double result.
    @Test func floatAndDoubleInputsAgree() {
        var rng = SeededRNG(seed: 11)
        for _ in 0..<5 {
            let p = S.randomConv(&rng)
            let x: Tensor<Float> = S.integerFill.tensor(p.xShape, rng: &rng)
            let w: Tensor<Float> = S.integerFill.tensor(p.wShape, rng: &rng)
            let b: Tensor<Float> = S.integerFill.tensor(p.bShape, rng: &rng)
            #expect(Reference.convForward(p, x: x, w: w, b: b)
                == Reference.convForward(p, x: x.converted(to: Double.self), w: w.converted(to: Double.self),
                                         b: b.converted(to: Double.self)), "\(p)")
        }
    }

    /// Batch 0 gives an empty output; no input channels gives zeros (or just the bias); no
    /// output channels gives an empty output.
    @Test func zeroSizeDimensions() throws {
        let noBatch = ConvProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [4, 4], kernel: [3, 3], hasBias: false)
        let y0 = Reference.convForward(noBatch, x: Tensor<Double>(zeros: [0, 2, 4, 4]), w: Tensor<Double>(zeros: [3, 2, 3, 3]))
        #expect(y0.shape == [0, 3, 2, 2] && y0.count == 0)

        let noInput = ConvProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [4, 4], kernel: [3, 3], hasBias: true)
        let b = try S.tensor([3], [1, 2, 3])
        let y1 = Reference.convForward(noInput, x: Tensor<Double>(zeros: [2, 0, 4, 4]), w: Tensor<Double>(zeros: [3, 0, 3, 3]), b: b)
        #expect(y1.shape == [2, 3, 2, 2])
        // Each of the 2·3 planes of 2×2 outputs holds its channel's bias and nothing else.
        #expect(y1.storage == (0..<2).flatMap { _ in [1.0, 2, 3].flatMap { Array(repeating: $0, count: 4) } })
        let y1NoBias = Reference.convForward(noInput, x: Tensor<Double>(zeros: [2, 0, 4, 4]), w: Tensor<Double>(zeros: [3, 0, 3, 3]))
        #expect(y1NoBias == Tensor<Double>(zeros: [2, 3, 2, 2]))

        let noOutput = ConvProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [4], kernel: [3], hasBias: false)
        let y2 = Reference.convForward(noOutput, x: Tensor<Double>(zeros: [2, 2, 4]), w: Tensor<Double>(zeros: [0, 2, 3]))
        #expect(y2.shape == [2, 0, 2] && y2.count == 0)
    }
}

import KernelCheckCore
import Testing

@testable import KernelCheckProblems

/// Known answers to the user questions of docs/user-questions.md, as shapes and parameter counts.
@Suite struct KnownShapeTests {
    /// `nn.Conv2d(3, 32, kernel_size=5, stride=1, padding=2)` on `16×3×256×256`: each
    /// spatial dim is ⌊(256 + 2 + 2 − 1·(5−1) − 1)/1⌋ + 1 = 256, channels become 32.
    @Test func pytorchConv3to32KeepsResolution() throws {
        let p = ConvProblem(
            batch: 16, inChannels: 3, outChannels: 32, inputSize: [256, 256], kernel: [5, 5],
            padding: .explicit(begin: [2, 2], end: [2, 2]))
        try p.validate()
        #expect(p.yShape == [16, 32, 256, 256])
        // "256x256x32" is this output in channels-last order: the third number is the 32 filters.
        #expect(Array(p.yShape[2...]) + [p.yShape[1]] == [256, 256, 32])
    }

    /// VGG's first layer: 64 filters of 3×3×3 plus one bias each: 64·27 + 64 = 1,792.
    @Test func vggFirstLayerHas1792Parameters() throws {
        let p = ConvProblem(
            batch: 1, inChannels: 3, outChannels: 64, inputSize: [224, 224], kernel: [3, 3],
            padding: .same, hasBias: true)
        try p.validate()
        #expect(p.parameterCount == 1_792)
        #expect(p.yShape == [1, 64, 224, 224])
    }

    /// Keras `Convolution1D(64, 3, border_mode='same', input_shape=(10, 32))`: channels-last
    /// `(None, 10, 32)` → `(None, 10, 64)`: 'same' keeps the 10 steps, the 64 filters replace
    /// the 32 channels (each filter is 3×32).
    @Test func kerasConv1DSameGives10x64() throws {
        let p = ConvProblem(batch: 1, inChannels: 32, outChannels: 64, inputSize: [10], kernel: [3], padding: .same)
        try p.validate()
        #expect(p.padBegin == [1] && p.padEnd == [1])
        #expect(p.yShape == [1, 64, 10])
        #expect(p.wShape == [64, 32, 3])
        let y = try Tensor<Float>(shape: p.yShape).channelsLast()
        #expect(y.shape == [1, 10, 64])
    }

    /// Chollet's GAN generator: Dense → reshape 16×16×128 → Conv2D(256, 5, same) →
    /// Conv2DTranspose(256, 4, strides=2, same) → 32×32×256 → Conv2D(256, 5, same) ×2 →
    /// Conv2D(3, 7, same) → 32×32×3. The transposed conv's `same` crops d·(k−1)+1+op−s = 2,
    /// one pixel each side: (16−1)·2 − 2 + 3 + 1 = 32 = 16·2.
    @Test func ganGeneratorChainEndsAt32x32x3() throws {
        let dense = LinearProblem(xShape: [1, 32], outFeatures: 128 * 16 * 16)
        try dense.validate()
        let reshaped = try Tensor<Float>(shape: dense.yShape).reshaped([-1, 16, 16, 128])
        #expect(reshaped.shape == [1, 16, 16, 128])
        var shape = [1, 128, 16, 16]  // NCHW from here on
        let c1 = ConvProblem(
            batch: 1, inChannels: shape[1], outChannels: 256, inputSize: Array(shape[2...]), kernel: [5, 5],
            padding: .same)
        try c1.validate()
        shape = c1.yShape
        #expect(shape == [1, 256, 16, 16])
        let up = ConvTransposeProblem(
            batch: 1, inChannels: 256, outChannels: 256, inputSize: Array(shape[2...]),
            kernel: [4, 4], stride: [2, 2], padding: .same)
        try up.validate()
        #expect(up.padBegin == [1, 1] && up.padEnd == [1, 1])
        shape = up.yShape
        #expect(shape == [1, 256, 32, 32])
        for (oc, k) in [(256, 5), (256, 5), (3, 7)] {
            let c = ConvProblem(
                batch: 1, inChannels: shape[1], outChannels: oc, inputSize: Array(shape[2...]), kernel: [k, k],
                padding: .same)
            try c.validate()
            shape = c.yShape
        }
        #expect([shape[2], shape[3], shape[1]] == [32, 32, 3])
    }

    /// The answer's alternative: an 8×8×128 map with a stride-4 transposed conv also reaches
    /// 32×32; kernel 8 keeps "kernel size divisible by the stride" (no checkerboard).
    @Test func stride4TransposedConvFrom8To32() throws {
        let p = ConvTransposeProblem(
            batch: 1, inChannels: 128, outChannels: 64, inputSize: [8, 8], kernel: [8, 8],
            stride: [4, 4], padding: .same)
        try p.validate()
        #expect(p.outputSize == [32, 32])
    }

    /// The ResNet shortcut example: x of shape (64, 32, 32, 3) must match F(x) of
    /// (64, 32, 32, 16): pad 3 channels with 7 zeros before and 6 after (13 in all).
    @Test func resnetOptionAPadsThreeChannelsToSixteen() throws {
        let p = PadProjectionAProblem(batch: 64, channels: 3, inputSize: [32, 32], before: 7, after: 6)
        try p.validate()
        #expect(p.yShape == [64, 16, 32, 32])
        let cifar = try PadProjectionAProblem(batch: 64, channels: 3, inputSize: [32, 32], outChannels: 16)
        #expect(cifar.before == 6 && cifar.after == 7)  // CIFAR code: smaller half first
        #expect(throws: ProblemError.self) {
            try PadProjectionAProblem(batch: 1, channels: 16, inputSize: [4, 4], outChannels: 8)
        }
    }

    /// ResNet-50's option-B projection at the conv3 stage: 1×1, stride 2, 256 → 512 on 56×56 → 28×28.
    @Test func resnetOptionBHalvesResolution() throws {
        let p = PadProjectionBProblem(
            batch: 8, inChannels: 256, outChannels: 512, inputSize: [56, 56], stride: [2, 2])
        try p.validate()
        #expect(p.yShape == [8, 512, 28, 28])
        #expect(p.wShape == [512, 256, 1, 1])
    }

    /// The 2 → 7 → 2 MLP: W1 is 7×2 (PyTorch's out × in), W2 is 2×7.
    @Test func mlpShapes() throws {
        let l1 = LinearProblem(xShape: [1, 2], outFeatures: 7), l2 = LinearProblem(xShape: [1, 7], outFeatures: 2)
        try l1.validate(); try l2.validate()
        #expect(l1.wShape == [7, 2] && l1.yShape == [1, 7])
        #expect(l2.wShape == [2, 7] && l2.yShape == [1, 2])
        #expect(l1.parameterCount == 21)
    }

    /// torch.matmul broadcast: (2, 1, 3, 4) @ (5, 4, 6) → (2, 5, 3, 6).
    @Test func matmulBroadcastShape() throws {
        let p = MatmulProblem(aShape: [2, 1, 3, 4], bShape: [5, 4, 6])
        try p.validate()
        #expect(p.yShape == [2, 5, 3, 6])
        let t = MatmulProblem(aShape: [4, 3], bShape: [6, 4], transposeA: true, transposeB: true)
        try t.validate()
        #expect(t.yShape == [3, 6])
    }

    /// Padding modes: conv SAME_UPPER on in=5, k=4, s=2: out = ⌈5/2⌉ = 3,
    /// total = (3−1)·2 + 4 − 5 = 3 → begin 1, end 2; same_lower → begin 2, end 1.
    @Test func samePaddingSplitsTheOddPixel() throws {
        var p = ConvProblem(
            batch: 1, inChannels: 1, outChannels: 1, inputSize: [5], kernel: [4], stride: [2], padding: .same)
        #expect(p.padBegin == [1] && p.padEnd == [2] && p.outputSize == [3])
        p.padding = .sameLower
        #expect(p.padBegin == [2] && p.padEnd == [1] && p.outputSize == [3])
        p.padding = .valid
        #expect(p.outputSize == [1])
    }

    /// The share of the counted products that meet real input, derived by hand per dimension.
    @Test func realProductShares() throws {
        // 16 × 16 output, 5 taps, padding 2: per dimension 80 (o, k) pairs, of which o = 0
        // misses 2, o = 1 misses 1, and o = 14, 15 likewise: 74. (74/80)² = 0.925² = 0.855625.
        let gan = try #require(ConvProblem("conv2d n=16 ic=128 oc=256 in=16x16 k=5x5 p=2x2:2x2"))
        #expect(gan.realProducts == (74.0 / 80) * (74.0 / 80))
        #expect(gan.realProductFraction(for: .bwdData) == gan.realProducts)
        #expect(gan.realProductFraction(for: .bwdBias) == 1)
        // The same output from a 20 × 20 input without padding: every product is real.
        #expect(try #require(ConvProblem("conv2d n=16 ic=128 oc=256 in=20x20 k=5x5")).realProducts == 1)
        // Transposed, 16 → 32, 4 taps, stride 2, crop 1: input 0 with tap 0 and input 15 with
        // tap 3 land in the crop, 62 of 64 pairs per dimension.
        let convT = try #require(ConvTransposeProblem("convt2d n=16 ic=256 oc=256 in=16x16 k=4x4 s=2x2 p=1x1:1x1"))
        #expect(convT.realProducts == (62.0 / 64) * (62.0 / 64))
        // 1-D, input 1, one tap, padding 1 on each side: 3 outputs, only the middle one reads x.
        #expect(try #require(ConvProblem("conv1d n=1 ic=1 oc=1 in=1 k=1 p=1:1")).realProducts == 1.0 / 3)
        // Other ops count only real work.
        #expect(try #require(MatmulProblem("matmul a=4x5 b=5x6")).realProductFraction(for: .fwd) == 1)
    }
}

import KernelCheckProblems
import Testing

@testable import KernelCheckTiled

/// The path table of the tiled convolution: which `ConvPath` each direction of a named
/// problem takes. Expected paths are derived by hand from the rules in `ConvPlan` (the
/// reason for each is in the comment); the numerics of every path are checked against naive
/// loops in `ConvTests` and `ConvTransposeTests`.
@Suite struct ConvPlanTests {
    struct Expectation: Sendable, CustomStringConvertible {
        var problem: String
        var fwd: ConvPath, bwdData: ConvPath, bwdWeights: ConvPath
        var description: String { problem }

        init(_ problem: String, _ fwd: ConvPath, _ bwdData: ConvPath, _ bwdWeights: ConvPath) {
            self.problem = problem
            self.fwd = fwd
            self.bwdData = bwdData
            self.bwdWeights = bwdWeights
        }
    }

    /// The channel-lane path where this variant takes it (16 lanes), else `other`.
    static func lanesOr(_ other: ConvPath) -> ConvPath { channelLanesRun ? .channelLanes : other }

    static let expectations: [Expectation] = [
        // GAN 128 → 256 k5 on 16²: 256 channels, output rows of one whole vector (direct); its
        // backward-data is a stride-1 adjoint (one phase); 256 × 3200 lane accumulators far
        // exceed the budget and Co, K ≥ 128 (panels).
        // On 16-lane variants the forward and the adjoint's take the channel lanes (≥ 32 channels,
        // 128 · 5 and 256 · 5 K step pairs, 5 taps a row of stride 1).
        Expectation(
            "conv2d n=2 ic=128 oc=256 in=16x16 k=5x5 p=2x2:2x2", lanesOr(.direct), lanesOr(.directPhases), .panelWeights
        ),
        // ResNet 64 → 64 k3 on 56²: rows of 56 are not whole vectors, so the flattened grid
        // (rows of 57) is the denser one; its weights take the lane tiles (64 channels fill
        // two blocks of 32, 576 taps).
        // On 16-lane variants both take the channel lanes (64 channels, 64 · 3 K step pairs).
        Expectation(
            "conv2d n=1 ic=64 oc=64 in=56x56 k=3x3 p=1x1:1x1", lanesOr(.direct), lanesOr(.directPhases),
            .laneWeights),
        // 16 → 40 k3 on 20²: 40 channels fill 40 of their 64 lanes, too few for the lane
        // tiles (or for the channel lanes), so the weights run on the flattened grid (rows of 22).
        Expectation("conv2d n=1 ic=16 oc=40 in=20x20 k=3x3 p=1x1:1x1", .direct, .directPhases, .virtualGridWeights),
        // 3 → 32 k5 on 64²: rows of 4 whole vectors (3 · 5 K step pairs are too few for channel
        // lanes); 32 × 78 lane accumulators fit. Its
        // backward-data is a 32 → 3 conv whose dual buffer (3·25·4096 floats) is under the
        // dual budget and 4 times smaller than col (32·25·4096), so its one phase is not
        // direct and the packed col2im path takes it (Co = 32 ≤ 512).
        Expectation("conv2d n=1 ic=3 oc=32 in=64x64 k=5x5 p=2x2:2x2", .direct, .packedCol2im, .directWeights),
        // The same layer on 256² (the benchmark's): the dual buffer, 3·25·65536 floats, is over
        // the dual budget (2²¹), so backward-data runs as one direct phase.
        Expectation("conv2d n=1 ic=3 oc=32 in=256x256 k=5x5 p=2x2:2x2", .direct, .directPhases, .directWeights),
        // 256 → 3 k7 RGB head: Co·∏k·∏in = 3·49·1024 is over 4 times smaller than
        // Ci·∏k·∏out = 256·49·1024, so every direction is dual.
        Expectation("conv2d n=1 ic=256 oc=3 in=32x32 k=7x7 p=3x3:3x3", .dual, .dual, .dual),
        // 8 → 3 k3 on 128²: ≤ 4 output channels, 8 vectors per row = a whole number of 3-row
        // wide tiles (8 vectors each); not dual (3·9 rows are not 4 times fewer than 8·9).
        Expectation("conv2d n=1 ic=8 oc=3 in=128x128 k=3x3 p=1x1:1x1", .directWide, .directPhases, .directWeights),
        // ResNet 1×1 stride 2: the kernel reads one width phase of two (not direct), every
        // backward-data phase has one tap, Co = 64 fits one K block.
        Expectation("conv2d n=1 ic=32 oc=64 in=14x14 k=1x1 s=2x2", .packedIm2col, .packedCol2im, .im2colWeights),
        // 1×1 stride 1 unpadded: the image is its own column matrix.
        Expectation("conv2d n=2 ic=16 oc=24 in=9x9 k=1x1", .pointwise, .pointwise, .pointwise),
        // 3-D: no direct kernels; Co = 600 exceeds one K block of 512 for backward-data.
        Expectation("conv3d n=1 ic=2 oc=600 in=3x3x3 k=2x2x2", .packedIm2col, .im2colCol2im, .im2colWeights),
    ]

    @Test(arguments: expectations)
    func convolutionPaths(_ e: Expectation) throws {
        guard case .conv(let p) = try Problem.parse(e.problem) else { Issue.record("not a conv: \(e)"); return }
        #expect(Tiled.convPath(p, .fwd).path == e.fwd, "\(e) fwd: \(Tiled.convPath(p, .fwd).reason)")
        #expect(Tiled.convPath(p, .bwdData).path == e.bwdData, "\(e) bwd_data: \(Tiled.convPath(p, .bwdData).reason)")
        #expect(
            Tiled.convPath(p, .bwdWeights).path == e.bwdWeights,
            "\(e) bwd_weights: \(Tiled.convPath(p, .bwdWeights).reason)")
        #expect(Tiled.convPath(p, .bwdBias).path == .channelSums)
    }

    /// A 1×1 kernel's packed backward-data writes dX once (`col2imOnce`) in blocks of whole
    /// output lines; a kernel with more taps, leading padding, or output lines longer than a
    /// column block zeroes dX and adds col into it.
    @Test func oneByOneBackwardDataWritesInputOnce() throws {
        let resnet = TiledConv(
            conv("conv2d n=8 ic=256 oc=512 g=1 in=56x56 k=1x1 s=2x2 d=1x1 p=valid bias=0"), tuning: .standard)
        let tiles = resnet.col2imTiles
        #expect(tiles.once && tiles.block % 28 == 0 && tiles.block <= 28 * 28, "\(tiles)")
        let padded = TiledConv(
            conv("conv2d n=1 ic=8 oc=8 g=1 in=9x9 k=1x1 s=2x2 d=1x1 p=1x1:1x1 bias=0"), tuning: .standard)
        #expect(!padded.col2imTiles.once)
        let taps = TiledConv(
            conv("conv2d n=1 ic=8 oc=8 g=1 in=9x9 k=2x2 s=2x2 d=1x1 p=valid bias=0"), tuning: .standard)
        #expect(!taps.col2imTiles.once)
        let longLines = TiledConv(
            conv("conv2d n=1 ic=2 oc=3 g=1 in=4x70 k=1x1 s=1x2 d=1x1 p=valid bias=1"), tuning: tinyTuning)
        #expect(!longLines.col2imTiles.once)
    }

    /// The GAN generator's transposed conv (k4 s2, 16 → 32) runs on its adjoint, a stride-2
    /// k4 conv: its forward is that conv's backward-data, 4 output phases of 2 × 2 taps (each a
    /// direct forward, or with 16 lanes a channel-lane one); its backward-data is that conv's
    /// forward: direct on width-phase rows, or (16 lanes) channel lanes on rows of 4 taps of
    /// stride 2.
    @Test func transposedConvolutionRunsOnItsAdjoint() throws {
        guard case .convTranspose(let p) = try Problem.parse("convt2d n=1 ic=256 oc=256 in=16x16 k=4x4 s=2x2 p=same")
        else { Issue.record("not a convT"); return }
        let forward = Tiled.convTransposePath(p, .fwd)
        #expect(forward.path == Self.lanesOr(.directPhases))
        #expect(forward.reason.hasPrefix("4 output phases of 2×2, 2×2, 2×2, 2×2 taps"), "\(forward.reason)")
        #expect(Tiled.convTransposePath(p, .bwdData).path == Self.lanesOr(.direct))
        #expect(Tiled.convTransposePath(p, .bwdWeights).path == .panelWeights)
    }

    /// Every path a valid problem can take appears in the table above (`empty` guards
    /// degenerate shapes that validation refuses; no problem takes the channel lanes on a
    /// variant narrower than 16 lanes).
    @Test func tableCoversEveryPath() {
        var seen: Set<ConvPath> = [.channelSums, .empty]
        if !channelLanesRun { seen.insert(.channelLanes) }
        for e in Self.expectations { seen.formUnion([e.fwd, e.bwdData, e.bwdWeights]) }
        #expect(Set(ConvPath.allCases).subtracting(seen).isEmpty, "\(Set(ConvPath.allCases).subtracting(seen))")
    }

    /// A reason names the rule that decided: turning the direct paths off sends the GAN conv
    /// to im2col and says so.
    @Test func reasonsNameTheDecidingRule() throws {
        guard case .conv(let p) = try Problem.parse("conv2d n=2 ic=128 oc=256 in=16x16 k=5x5 p=2x2:2x2") else { return }
        var tuning = ConvTuning.standard
        tuning.direct = false
        let plan = TiledConv(p, tuning: tuning).forwardPlan
        #expect(plan.path == .packedIm2col)
        #expect(plan.reason == "not direct: direct paths are off in the tuning")
        let narrow = try Problem.parse("conv2d n=1 ic=8 oc=6 in=32x32 k=3x3 p=1x1:1x1")
        guard case .conv(let q) = narrow else { return }
        #expect(Tiled.convPath(q, .fwd).reason == "not direct: 6 output channels per group: between 4 and 8")
    }
}

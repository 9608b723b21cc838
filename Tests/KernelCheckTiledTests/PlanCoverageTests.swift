import KernelCheckProblems
import Testing

@testable import KernelCheckTiled

/// `Tiled.coverage` and `sgemmCoverage`: the path and the boundaries crossed, on shapes whose
/// answer is derived by hand from the blocking rules (the derivation is in each comment).
/// The blocking is this machine's (`GEMMBlocking`: kc is 128–512, mc ≤ 96, nc ≤ 2048 on any
/// cache sizes), so every expectation below holds for the whole range.
@Suite struct PlanCoverageTests {
    func coverage(_ text: String, _ direction: Direction, threads: Int = 1) throws -> PlanCoverage {
        try #require(Tiled.coverage(of: try Problem.parse(text), direction, threads: threads))
    }

    @Test func everyPathIsATarget() {
        let targets = Tiled.coverageTargets
        for path in ConvPath.allCases {
            #expect(targets.contains { $0.path == path.rawValue && $0.kernel.hasPrefix("conv_") }, "\(path)")
        }
        for path in GEMMPath.allCases {
            #expect(targets.contains { $0.path == path.rawValue && $0.kernel == "gemm" }, "\(path)")
        }
    }

    /// The coverage path is the plan's path (`Tiled.convPath`), in every direction, for a
    /// convolution and for a transposed one (which runs its adjoint's plans).
    @Test func pathIsThePlansPath() throws {
        let conv = "conv2d n=2 ic=16 oc=32 in=16x16 k=3x3 p=1x1:1x1 bias=1"
        let convt = "convt2d n=1 ic=256 oc=256 in=16x16 k=4x4 s=2x2 p=same"
        for text in [conv, convt] {
            let problem = try Problem.parse(text)
            for d in problem.directions {
                let c = try coverage(text, d)
                let plan: ConvPath
                switch problem {
                case .conv(let p): plan = Tiled.convPath(p, d).path
                case .convTranspose(let p): plan = Tiled.convTransposePath(p, d).path
                default: Issue.record("not a convolution"); return
                }
                #expect(c.path == plan.rawValue, "\(text) \(d)")
            }
        }
        // Transposed forward = the adjoint's backward-data plan.
        #expect(try coverage(convt, .fwd).kernel == "conv_backward_data")
        #expect(try coverage(convt, .bwdData).kernel == "conv_forward")
    }

    /// One input channel, 520 × 497, kernel 2 with dilation 16 and padding 8: the padded
    /// buffer has 520 + 16 = 536 rows of 497 + 8 = 505 floats = 270,680 > 2¹⁸ = 262,144 floats
    /// (the band budget), so it is cut into bands; at 64² (80 rows of 72 floats) it is one
    /// band. Eight output channels: the 12 × 32 direct tiles.
    @Test func bandSplitFollowsTheBandBudget() throws {
        let big = try coverage("conv2d n=1 ic=1 oc=8 in=520x497 k=2x2 d=16x16 p=8x8:8x8", .fwd)
        #expect(big.path == ConvPath.direct.rawValue)
        #expect(big.boundaries.contains(.bandSplit))
        let small = try coverage("conv2d n=1 ic=1 oc=8 in=64x64 k=2x2 d=16x16 p=8x8:8x8", .fwd)
        #expect(small.path == ConvPath.direct.rawValue)
        #expect(!small.boundaries.contains(.bandSplit))
    }

    /// The rule is the tuning's: a band budget of 4,096 floats cuts the 64² image into bands.
    @Test func bandSplitFollowsTheTuning() throws {
        guard case .conv(let p) = try Problem.parse("conv2d n=1 ic=1 oc=8 in=64x64 k=2x2 d=16x16 p=8x8:8x8") else {
            Issue.record("not a conv")
            return
        }
        var tuning = ConvTuning.standard
        tuning.directBandFloats = 4096
        let c = try #require(TiledConv(p, tuning: tuning).coverage(.fwd, adjoint: false, threads: 1))
        #expect(c.boundaries.contains(.bandSplit))
    }

    /// 64 → 128 channels, 3 × 3: K = 576, 128 × 576 × 16 lane accumulators = 1.18 Mi floats
    /// > 2²⁰, Co and K ≥ 128: panelWeights. 24² = 576 pixels exceed one block (≤ kc ≤ 512),
    /// so several blocks; 16² = 256 pixels are one (kc ≥ 256 wherever L1d ≥ 32 KiB).
    /// K = 576 = 18 × 32 taps and 128 channels = 10 × 12 + 8 rows (`directPanels`): no
    /// partial panel.
    @Test func panelBlocksPastOneBlockOfPixels() throws {
        let big = try coverage("conv2d n=1 ic=64 oc=128 in=24x24 k=3x3 p=1x1:1x1", .bwdWeights)
        #expect(big.path == ConvPath.panelWeights.rawValue)
        #expect(big.boundaries.contains(.panelBlocks))
        #expect(!big.boundaries.contains(.edgeTiles))
        let small = try coverage("conv2d n=1 ic=64 oc=128 in=16x16 k=3x3 p=1x1:1x1", .bwdWeights)
        #expect(small.path == ConvPath.panelWeights.rawValue)
        if GEMMBlocking.kc >= 256 { #expect(!small.boundaries.contains(.panelBlocks)) }
    }

    /// Four images of 16 channels on 16², 1 thread: no split; 2 threads: 4 (image, group)
    /// items ≥ 2 threads × 2 items per thread, so they run in parallel.
    @Test func threadSplitNeedsThreads() throws {
        let text = "conv2d n=4 ic=16 oc=16 in=16x16 k=3x3 p=1x1:1x1"
        let one = try coverage(text, .fwd, threads: 1)
        #expect(one.path == ConvPath.direct.rawValue)
        #expect(!one.boundaries.contains(.threadSplit))
        #expect(try coverage(text, .fwd, threads: 2).boundaries.contains(.threadSplit))
        // 16 channels = panels of 8 + 8 (`directPanels`: 12 + 4 → two 8-row panels), 16
        // columns = one whole vector per row: no edge tile.
        #expect(!one.boundaries.contains(.edgeTiles))
        // 9 channels: one 12-row panel with 3 rows of padding.
        #expect(
            try coverage("conv2d n=4 ic=16 oc=9 in=16x16 k=3x3 p=1x1:1x1", .fwd, threads: 1).boundaries.contains(
                .edgeTiles))
    }

    /// m = 100 > mc (≤ 96), k = 600 > kc (≤ 512), n = 64 ≤ nc; 100 is not a multiple of 12;
    /// B untransposed with m ≤ 132 rows: read in place.
    @Test func gemmBlockBoundaries() {
        let a = Tiled.sgemmCoverage(transA: false, transB: false, m: 100, n: 64, k: 600, threads: 1)
        #expect(a.path == .inPlaceB)
        #expect(a.boundaries == [.mPastMc, .kPastKc, .edgeTiles])
        // n = 4096 > nc (≤ 2048); 12 × 4096 is whole tiles.
        let b = Tiled.sgemmCoverage(transA: false, transB: true, m: 12, n: 4096, k: 8, threads: 1)
        #expect(b.path == .packedB)
        #expect(b.boundaries == [.nPastNc])
        // n = 3 < 32: 64 × 32 padded (2048) against 12 × 64 transposed (768): 4 · 768 < 3 · 2048.
        #expect(Tiled.sgemmCoverage(transA: false, transB: false, m: 64, n: 3, k: 8, threads: 1).path == .transposedC)
        // 480 × 512 × 8 = 1.97M ≥ 2¹⁸ multiply-adds, 480 ≥ 4 · mc rows, 512 ≥ 16 · 32 columns.
        let shared = Tiled.sgemmCoverage(transA: false, transB: false, m: 480, n: 512, k: 8, threads: 2)
        #expect(shared.path == .sharedB)
        #expect(shared.boundaries.contains(.threadSplit))
        #expect(Tiled.sgemmCoverage(transA: false, transB: false, m: 480, n: 512, k: 8, threads: 1).path != .sharedB)
        #expect(Tiled.sgemmCoverage(transA: false, transB: false, m: 4, n: 4, k: 0, threads: 1).path == .empty)
    }

    /// Matmul's backward-weights of `a=5x7 b=7x9` is `dB = Aᵀ·dY`: 7 × 9 over K = 5.
    @Test func matmulGradientShape() throws {
        let c = try coverage("matmul a=5x7 b=7x9 ta=0 tb=0", .bwdWeights)
        #expect(c.kernel == "gemm")
        #expect(c.path == GEMMPath.inPlaceB.rawValue)
        #expect(c.boundaries == [.edgeTiles])
        #expect(try coverage("linear x=4x5 out=3 bias=1", .bwdBias).kernel == "linear_bias")
        #expect(Tiled.coverage(of: try Problem.parse("relu shape=2x3"), .fwd, threads: 1) == nil)
    }
}

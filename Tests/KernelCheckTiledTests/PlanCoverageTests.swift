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

    /// One input channel, H × 497, kernel 2 with dilation 16 and padding 8: the padded
    /// buffer has H + 16 rows of 497 + 8 = 505 floats, H chosen so that it holds more than
    /// this machine's band budget (2¹⁸ floats on a 1 MiB L2: H = 527, 274,215 floats), so it
    /// is cut into bands; at 64² (80 rows of 72 floats) it is one band. Eight output
    /// channels: the 12 × 32 direct tiles.
    @Test func bandSplitFollowsTheBandBudget() throws {
        let rows = Tiled.directBandFloats / 505 + 8
        let big = try coverage("conv2d n=1 ic=1 oc=8 in=\(rows)x497 k=2x2 d=16x16 p=8x8:8x8", .fwd)
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

    /// 11 output channels × 7 × 7 taps = 539 dual rows, 48 input channels on 8 × 8, same
    /// padding: the dual buffer (539 × 64 = 34,496 floats) is ≥ 4 times smaller than col
    /// (48 · 49 · 64 = 150,528), so every direction is dual. The forward's GEMM is 539 × 64
    /// over K = 48: M = 539 > mc (≤ 96); on 2 threads its 45 row tiles × 2 column tiles split
    /// by columns (45 tiles per part, against 23 × 2 = 46 for a row split), so a part still
    /// has all 539 rows. Backward-data's GEMM is 48 × 64 over K = 539 > kc (≤ 512).
    @Test func dualRowsPastTheBlocks() throws {
        let text = "conv2d n=1 ic=48 oc=11 in=8x8 k=7x7 p=3x3:3x3"
        for threads in [1, 2] {
            let forward = try coverage(text, .fwd, threads: threads)
            #expect(forward.path == ConvPath.dual.rawValue)
            #expect(forward.boundaries.contains(.mPastMc), "\(threads) threads")
            let data = try coverage(text, .bwdData, threads: threads)
            #expect(data.path == ConvPath.dual.rawValue)
            #expect(data.boundaries.contains(.kPastKc), "\(threads) threads")
        }
        // 1 output channel: 49 rows, within kc (≥ 128), and within mc where mc ≥ 49.
        let one = "conv2d n=1 ic=48 oc=1 in=8x8 k=7x7 p=3x3:3x3"
        #expect(try coverage(one, .fwd).path == ConvPath.dual.rawValue)
        #expect(try !coverage(one, .bwdData).boundaries.contains(.kPastKc))
        if GEMMBlocking.mc >= 49 { #expect(try !coverage(one, .fwd).boundaries.contains(.mPastMc)) }
    }

    /// Four output channels, 15 input channels (< 4 · 4: not dual) on S × S, 3 × 3, padding
    /// 1: the flattened grid (rows of S + 1 floats, 99 % useful lanes) with 4 × 6 wide tiles.
    /// S is chosen so that the padded image, (S + 2) · (S + 1) · 15 floats, exceeds this
    /// machine's band budget (on a 1 MiB L2, 2¹⁸: S = 140, 300,330 floats, bands of
    /// ¾ · 2¹⁸ / (15 · 141) = 92 rows: 89 output rows = 784 → 780 vectors (whole 6-vector
    /// tiles) of the 1,234, two bands). On 100 × 100 it is 102 · 101 · 15 = 154,530 floats:
    /// one band.
    @Test func wideTilesInBands() throws {
        let side = Int((Double(Tiled.directBandFloats) / 15).squareRoot()) + 8
        let big = try coverage("conv2d n=1 ic=15 oc=4 in=\(side)x\(side) k=3x3 p=1x1:1x1", .fwd)
        #expect(big.path == ConvPath.directWide.rawValue)
        #expect(big.boundaries.contains(.bandSplit))
        let small = try coverage("conv2d n=1 ic=15 oc=4 in=100x100 k=3x3 p=1x1:1x1", .fwd)
        #expect(small.path == ConvPath.directWide.rawValue)
        #expect(!small.boundaries.contains(.bandSplit))
    }

    /// 513 output channels (> kc ≤ 512: im2colCol2im, not packedCol2im), a 1 × 1 kernel of
    /// width stride 2 (skips width phases: not direct), K = 24 input channels: a column block
    /// may hold 2¹⁷ / 24 = 5,461 ≥ 2,049 positions, so one block of 2,049 columns > nc
    /// (≤ 2048). On 2 threads the GEMM is 24 × 2,049: 2 row tiles × 65 column tiles, split
    /// 2 × 1 (65 tiles per part) rather than 1 × 2 (2 · 33 = 66), so each part keeps all the
    /// columns. With 2,081 positions (66 column tiles) the two splits tie at 66 and the first,
    /// by columns, stays: 1,056 columns per part, within nc where nc ≥ 1,056.
    @Test func columnBlockPastNc() throws {
        let odd = "conv2d n=1 ic=24 oc=513 in=1x4098 k=1x1 s=1x2"
        for threads in [1, 2] {
            let c = try coverage(odd, .bwdData, threads: threads)
            #expect(c.path == ConvPath.im2colCol2im.rawValue)
            #expect(c.boundaries.contains(.nPastNc), "\(threads) threads")
        }
        let even = "conv2d n=1 ic=24 oc=513 in=1x4162 k=1x1 s=1x2"
        #expect(try coverage(even, .bwdData, threads: 1).boundaries.contains(.nPastNc))
        if GEMMBlocking.nc >= 1056 {
            #expect(try !coverage(even, .bwdData, threads: 2).boundaries.contains(.nPastNc))
        }
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

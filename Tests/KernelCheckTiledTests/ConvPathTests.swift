import CKernelSupport
import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import Testing

@testable import KernelCheckTiled

// Which lowering path the named problems take (direct plans, image pairs, channel shares,
// flattened rows, output phases), and that the path computes exactly what the naive sums do.

@Suite("Tiled convolution: direct-path plans")
struct ConvPathTests {
    @Test(
        "the image-pair problems pair images forward (and backward, as one unit-stride phase), not without the flag",
        arguments: namedPairConvProblems.indices)
    func pairedPaths(index: Int) throws {
        let problem = namedPairConvProblems[index]
        for tuning in [directTuning, .standard] {
            let lowering = TiledConv(problem, tuning: tuning)
            #expect(lowering.pairsImages(try #require(lowering.directPlan)))
            if problem.stride.allSatisfy({ $0 == 1 }) {
                let phases = try #require(lowering.directAdjoint).phases
                #expect(phases.count == 1 && phases[0].output == phases[0].lowering.contiguousOutput)
                #expect(phases[0].lowering.pairsImages(phases[0].plan))
            }
        }
        let unpaired = TiledConv(problem, tuning: panelTuning)
        #expect(!unpaired.pairsImages(try #require(unpaired.directPlan)))
    }

    @Test(
        "panel backward-weights workers share each kernel position's channels, exactly",
        arguments: namedChannelShareConvProblems.indices)
    func channelShares(index: Int) throws {
        let (p, threads, channels) = namedChannelShareConvProblems[index]
        let lowering = TiledConv(p, tuning: panelTuning)
        let plan = try #require(lowering.directPlan)
        #expect(lowering.usesPanelWeights(plan) && lowering.panelTapOrder() != nil)
        let panels = (lowering.columnRows + 31) / 32
        let shares = lowering.panelShares(panels: panels, ordered: true, pieces: threads)
        #expect(shares.channels == channels)
        #expect(shares.items.flatMap { $0 }.sorted() == Array(0..<panels))
        let seed = 3000 + UInt64(index)
        let x = TestData.filled(p.xShape.reduce(1, *), exactFill, seed: seed, role: "x")
        let dy = TestData.filled(p.yShape.reduce(1, *), exactFill, seed: seed, role: "dy")
        let run = LayerRun(p: p, tuning: panelTuning, threads: threads)
        expectEqual(
            run.backwardWeights(x: x, dy: dy), Naive.backwardWeights(p, x: x, dy: dy),
            "bwd_weights \(run.context)")
    }

    /// Blocks of whole rows of 21 pixels (16 + 5: two gathers of up to 16 pixels per row run),
    /// 6 · 9 = 54 taps (a full 32-tap panel and one of 22: its second 16 taps 6 valid, 10
    /// zero), with padding (rectangles of 20 and 21 columns), stride 1 and width stride 2.
    @Test(
        "panel backward-weights gathers rows longer than 16 pixels and partial tap panels exactly",
        arguments: [
            "conv2d n=2 ic=6 oc=14 g=1 in=6x21 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=0",
            "conv2d n=2 ic=6 oc=13 g=1 in=5x42 k=3x3 s=1x2 d=1x1 p=1x1:1x1 bias=0",
        ])
    func panelRowsPastOneGather(text: String) throws {
        let p = conv(text)
        var tuning = panelTuning
        tuning.panelWeightsBlock = 64
        let lowering = TiledConv(p, tuning: tuning)
        #expect(lowering.usesPanelWeights(try #require(lowering.directPlan)) && lowering.outSize[2] == 21)
        checkExactly(p, seed: 3100, lowerings: [(tuning, 1), (tuning, 2)])
    }

    /// Both gathers of a panel's row run (the 16 × 16 transposes of AVX-512 builds and the 4 × 4
    /// ones of the others, whichever this build uses in the kernels) against the definition
    /// `out[q·32 + j] = base[taps[j] + q]` for `j < valid`, else 0.
    @Test("the B-panel gathers write each tap's run of pixels, zeros past the valid taps")
    func panelGathers() {
        let data = (0..<600).map { Float($0) + 0.5 }
        let taps = (0..<32).map { 17 * $0 % 29 + 13 * ($0 / 4) }
        data.withUnsafeBufferPointer { data in
            taps.withUnsafeBufferPointer { taps in
                for (valid, run) in [(32, 21), (22, 21), (13, 5), (16, 16), (4, 1)] {
                    let expected = (0..<(run * 32)).map { i in
                        i % 32 < valid ? data[taps[i % 32] + i / 32] : 0
                    }
                    var by4 = [Float](repeating: .nan, count: run * 32)
                    var by16 = by4
                    by4.withUnsafeMutableBufferPointer {
                        TiledConv.gatherBy4(
                            data.baseAddress!, taps: taps.baseAddress!, valid: valid, run: run, into: $0.baseAddress!)
                    }
                    by16.withUnsafeMutableBufferPointer { out in
                        for j in stride(from: 0, to: 32, by: 16) {
                            for q in stride(from: 0, to: run, by: 16) {
                                kc_gather_transpose16(
                                    data.baseAddress! + q, taps.baseAddress! + j, valid - j, min(16, run - q),
                                    out.baseAddress! + q * 32 + j, 32)
                            }
                        }
                    }
                    #expect(by4 == expected, "by 4: valid \(valid), run \(run)")
                    #expect(by16 == expected, "by 16: valid \(valid), run \(run)")
                }
            }
        }
    }

    /// One pixel block per image, taps in (kh, kw, ci) order and 64 or 96 channels: the padded
    /// input is filled one 32-channel block at a time, into the start of the buffer, before
    /// the panels of that block (a wrong channel offset reads another block's planes).
    @Test(
        "panel backward-weights filling the padded input one channel block at a time is exact",
        arguments: [
            "conv2d n=2 ic=64 oc=24 g=1 in=6x32 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=0",
            "conv2d n=3 ic=96 oc=40 g=1 in=5x32 k=2x3 s=1x2 d=1x1 p=1x1:0x1 bias=0",
            "conv2d n=2 ic=64 oc=26 g=2 in=4x16 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=0",
        ])
    func panelFillByChannelBlock(text: String) throws {
        let p = conv(text)
        var tuning = ConvTuning.standard
        (tuning.directAccumulatorBudget, tuning.panelWeightsMinimum) = (0, 1)
        let lowering = TiledConv(p, tuning: tuning)
        #expect(lowering.usesPanelWeights(try #require(lowering.directPlan)))
        #expect(lowering.panelFillsByChannelBlock)
        // Not with pixel blocks of 10: each block would refill the channel blocks.
        #expect(!TiledConv(p, tuning: panelTuning).panelFillsByChannelBlock)
        checkExactly(p, seed: 3200, lowerings: [(tuning, 1), (tuning, 2), (tuning, 3)])
    }

    /// The standard weight-gradient band depends on the machine's L1d: on real fills
    /// (rounding in every add) the bands must not show in the bits.
    @Test(
        "direct backward-weights gives the same bits with any band of pixels, on 1 or 2 threads",
        arguments: [
            ("conv2d n=2 ic=3 oc=8 g=1 in=12x32 k=5x5 s=1x1 d=1x1 p=2x2:2x2 bias=0", ConvPath.directWeights),
            ("conv2d n=2 ic=5 oc=6 g=1 in=14x14 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=0", .virtualGridWeights),
        ])
    func weightBandsKeepBits(text: String, path: ConvPath) throws {
        // One band per image (any standard band holds these small images whole) against bands
        // of a few rows, of two rows and of one (16 pixels: a vector of the flattened grid).
        Self.expectWeightsKeepBits(conv(text), seed: 3300, path: path, whole: 16384, cuts: [64, 32, 16]) {
            var tuning = directTuning  // every useful-lane share goes direct
            tuning.directBandPixels = $0
            return tuning
        }
    }

    /// dW of `p` on real fills (rounding in every add) through `path` under `tuning(cut)`, for
    /// every cut of the pixels and on 1 and 2 threads: the bits of `tuning(whole)` on 1 thread.
    static func expectWeightsKeepBits(
        _ p: ConvProblem, seed: UInt64, path: ConvPath, whole: Int, cuts: [Int], tuning: (Int) -> ConvTuning
    ) {
        let x = TestData.filled(count(p.xShape), realFill, seed: seed, role: "x")
        let dy = TestData.filled(count(p.yShape), realFill, seed: seed, role: "dy")
        func run(_ cut: Int, threads: Int) -> [Float] {
            #expect(TiledConv(p, tuning: tuning(cut)).path(.bwdWeights, adjoint: false).path == path)
            return LayerRun(p: p, tuning: tuning(cut), threads: threads).backwardWeights(x: x, dy: dy)
        }
        let expected = run(whole, threads: 1)
        for cut in cuts {
            for threads in [1, 2] {
                expectIdentical(run(cut, threads: threads), expected, "\(p) \(path) cut at \(cut) px, \(threads)T")
            }
        }
    }

    @Test("the weight-gradient band: 16 384 pixels, or 2/3 of an L1d of 48 KiB or more in 4 dY rows")
    func weightBandRule() {
        #expect(ConvTuning(caches: .zen4).directBandPixels == 16384)
        // 48 KiB · 2/3 = 32 KiB = 4 rows × 2 048 pixels × 4 bytes.
        #expect(ConvTuning(caches: CacheSizes(l1d: 48 << 10, l2: 2 << 20, l3: 300 << 20)).directBandPixels == 2048)
        #expect(ConvTuning(caches: CacheSizes(l1d: 64 << 10, l2: 2 << 20, l3: 32 << 20)).directBandPixels == 2730)
    }

    /// The lane backward-weights' block size comes from L1d: a tile continues each chain from
    /// the previous block's partial sum, so on real fills (rounding in every add) blocks of
    /// any number of rows give the bits of one block per image.
    @Test(
        "lane backward-weights gives the same bits with any block of rows, on 1 or 2 threads",
        arguments: [
            "conv2d n=2 ic=16 oc=64 g=1 in=14x14 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=0",
            "conv2d n=2 ic=6 oc=40 g=2 in=11x9 k=3x5 s=2x1 d=1x1 p=1x2:1x2 bias=0",
        ])
    func laneBlocksKeepBits(text: String) throws {
        Self.expectWeightsKeepBits(conv(text), seed: 3400, path: .laneWeights, whole: 1 << 20, cuts: [64, 28, 1]) {
            var tuning = laneTuning
            tuning.laneWeightsBlock = $0
            return tuning
        }
    }

    @Test("the lane backward-weights rule: channels that fill their lanes, 128 taps, blocks from L1d")
    func laneWeightsRule() {
        func path(_ text: String) -> ConvPath { Tiled.convPath(conv(text), .bwdWeights).path }
        // ResNet 64 → 64 k3: 576 taps, two full blocks.
        #expect(path("conv2d n=1 ic=64 oc=64 in=56x56 k=3x3 p=1x1:1x1") == .laneWeights)
        // 60 of 64 lanes (≥ 7/8) and 14 · 9 = 126 taps (< 128) against 15 · 9 = 135.
        #expect(path("conv2d n=1 ic=15 oc=60 in=20x20 k=3x3 p=1x1:1x1") == .laneWeights)
        #expect(path("conv2d n=1 ic=14 oc=60 in=20x20 k=3x3 p=1x1:1x1") != .laneWeights)
        // 40 of 64 lanes, and 3 · 25 = 75 taps (the benchmark's 3 → 32 layer).
        #expect(path("conv2d n=1 ic=16 oc=40 in=20x20 k=3x3 p=1x1:1x1") != .laneWeights)
        #expect(path("conv2d n=1 ic=3 oc=32 in=64x64 k=5x5 p=2x2:2x2") == .directWeights)
        // 2/3 of L1d in rows of 32 floats: 48 KiB → 256 pixels, 32 KiB → 170.
        #expect(ConvTuning(caches: CacheSizes(l1d: 48 << 10, l2: 2 << 20, l3: 300 << 20)).laneWeightsBlock == 256)
        #expect(ConvTuning(caches: .zen4).laneWeightsBlock == 170)
    }

    @Test("the flattened rows-of-40 problem has tiles in place and tiles dealt out")
    func flattenedInPlace() throws {
        let problem = try #require(namedConvProblems.first { $0.inputSize == [6, 40] && $0.outChannels == 13 })
        let lowering = TiledConv(problem, tuning: .standard)
        let plan = try #require(lowering.directPlan)
        #expect(plan.flattened)
        let inPlace = (0..<plan.tiles).map { t in
            lowering.flatOutput(plan, vector: 2 * t) != nil && lowering.flatOutput(plan, vector: 2 * t + 1) != nil
        }
        #expect(inPlace.contains(true) && inPlace.contains(false))
        #expect(lowering.flatOutput(plan, vector: 1) == 16 && lowering.flatOutput(plan, vector: 2) == nil)
    }

    /// `(input width, kernel width, padding begin / end) → padded row width`: with width
    /// stride 1 the left padding of a row doubles as the right padding of the one before.
    static let sharedPaddingWidths: [(Int, Int, Int, Int, Int)] = [
        (56, 3, 1, 1, 57),  // ResNet 3 × 3: 57, not 58
        (40, 4, 1, 2, 42),  // reads 2 past the data, 1 of them into the next row's zero
        (40, 4, 2, 1, 42),  // that problem's backward-data phase: the data ends the row
        (40, 3, 0, 2, 42),  // no left zeros to share
    ]

    @Test(
        "flattened rows share their padding columns with the next row",
        arguments: sharedPaddingWidths.indices)
    func sharedPaddingWidth(index: Int) throws {
        let (w, k, begin, end, width) = Self.sharedPaddingWidths[index]
        let problem = ConvProblem(
            batch: 1, inChannels: 2, outChannels: 13, inputSize: [6, w], kernel: [3, k],
            padding: .explicit(begin: [1, begin], end: [1, end]))
        let plan = try #require(TiledConv(problem, tuning: .standard).directPlan)
        #expect(plan.width == width && plan.flattened)
        checkExactly(problem, seed: 4000 + UInt64(index))
    }
}

@Suite("Tiled convolution and transposed convolution: by output phases")
struct ConvPhaseTests {
    /// Phases (with outputs and taps) that `directAdjoint` plans for `namedPhaseConvProblems[index]`
    /// under `directTuning`, or nil when it falls back.
    static func phases(_ index: Int) -> (count: Int, zeroFill: Bool)? {
        plan(namedPhaseConvProblems[index])
    }

    static func plan(_ p: ConvProblem) -> (count: Int, zeroFill: Bool)? {
        TiledConv(p, tuning: directTuning).directAdjoint.map { ($0.phases.count, $0.zeroFill) }
    }

    @Test("the named stride > 1 problems take the phase path, or fall back, as their comments say")
    func pathsTaken() throws {
        // 1×1 stride 2: one tap per phase, left to the packed path.
        #expect(Self.plan(namedConvProblems[1]) == nil)
        #expect(try #require(Self.phases(0)) == (4, false))
        #expect(try #require(Self.phases(1)) == (9, false))
        #expect(try #require(Self.phases(2)) == (9, false))
        // Only phase (0, 0) has taps; the other three are zero-filled.
        #expect(try #require(Self.phases(3)) == (1, true))
        #expect(Self.phases(4) == nil)
        #expect(try #require(Self.phases(5)) == (4, false))
        #expect(try #require(Self.phases(6)) == (2, false))
        #expect(try #require(Self.phases(7)) == (2, false))
    }

    /// The GAN layer (convT 256 → 256 k4 s2 p1, 16 → 32): 4 phases of 2 × 2 taps, K = 256·4,
    /// 16 × 16 outputs each. Per dimension phase 0 (j = i + 1 even) takes taps {2, 0} and
    /// writes the odd i from 1 (q0 = 1, padding m_max − q0 = 1 − 1 = 0); phase 1 takes {3, 1}
    /// and writes the even i from 0 (q0 = 0, padding 1). Origins in the 32-wide dX:
    /// (r_h, r_w) = (0,0) → 33, (0,1) → 32, (1,0) → 1, (1,1) → 0.
    @Test("the GAN transposed convolution runs as four direct phases under the standard tuning")
    func ganLayer() throws {
        let p = ConvTransposeProblem(
            batch: 16, inChannels: 256, outChannels: 256, inputSize: [16, 16], kernel: [4, 4],
            stride: [2, 2], padding: .explicit(begin: [1, 1], end: [1, 1]))
        let adjoint = try #require(TiledConv(adjointOf: p, tuning: .standard).directAdjoint)
        #expect(!adjoint.zeroFill)
        #expect(adjoint.phases.map(\.output.origin) == [33, 32, 1, 0])
        #expect(adjoint.phases.map(\.heightTaps) == [[2, 0], [2, 0], [3, 1], [3, 1]])
        #expect(adjoint.phases.map(\.widthTaps) == [[2, 0], [3, 1], [2, 0], [3, 1]])
        for phase in adjoint.phases {
            #expect(phase.lowering.columnRows == 1024)
            #expect(phase.lowering.outSize == [1, 16, 16])
            #expect(
                phase.lowering.padBegin[1...] == [
                    phase.heightTaps == [2, 0] ? 0 : 1,
                    phase.widthTaps == [2, 0] ? 0 : 1,
                ])
            #expect(phase.output.rowStride == 64 && phase.output.columnStride == 2)
        }
    }

    /// Identity: per dimension the phases' positions `first + s·u` (u < count) cover every
    /// dX index exactly once, and each phase's taps are exactly those with k·d ≡ r (mod s).
    @Test("phase positions partition dX and phase taps partition the kernel", arguments: namedConvProblems.indices)
    func phasesPartition(index: Int) {
        let lowering = TiledConv(namedConvProblems[index], tuning: directTuning)
        for dim in 1..<3 {
            var hits = [Int](repeating: 0, count: lowering.inSize[dim])
            var taps: [Int] = []
            for r in 0..<lowering.stride[dim] {
                let axis = lowering.phaseAxis(dim, phase: r)
                #expect((0..<lowering.stride[dim]).contains(axis.first))
                for u in 0..<axis.count { hits[axis.first + lowering.stride[dim] * u] += 1 }
                #expect(axis.taps.allSatisfy { ($0 * lowering.dilation[dim]) % lowering.stride[dim] == r })
                taps += axis.taps
            }
            #expect(hits.allSatisfy { $0 == 1 }, "problem \(index) dim \(dim): \(hits)")
            #expect(taps.sorted() == Array(0..<lowering.kernel[dim]))
        }
    }

    /// The phase problems run their forward as direct output phases under `directTuning`
    /// (phase (1, 1) of the second is 1 × 1: taps {1} per dimension, padding 0).
    @Test("the strided named transposed convolutions take the phase path in their forward")
    func transposedPhasePaths() throws {
        let expected: [(index: Int, phases: Int, zeroFill: Bool)] = [
            (0, 4, false), (1, 4, false), (2, 3, false), (3, 1, true),
        ]
        for e in expected {
            let lowering = TiledConv(adjointOf: namedPhaseConvTransposeProblems[e.index], tuning: directTuning)
            let adjoint = try #require(lowering.directAdjoint, "problem \(e.index)")
            #expect(adjoint.phases.count == e.phases && adjoint.zeroFill == e.zeroFill, "problem \(e.index)")
        }
    }
}

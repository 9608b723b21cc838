import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import Testing

@testable import KernelCheckTiled

// The channel-lane forward (`TiledConv+ChannelLanes.swift`): 8 pixels × 32 output channels per
// tile, read from the unpadded input with the padding's products left out. Named problems at
// its edges run exactly against the naive sums; on real fills it must give the bits of the
// 12 × 32 direct kernel it replaces (the same chains: the left-out products are ±0).

/// Whether this process's kernel variant takes the channel-lane path (16-lane vectors).
let channelLanesRun = KernelVariant.current.lanes == 16

/// Problems whose forward (`fwd`) or backward-data (`bwd_data`) takes the channel lanes under
/// the standard tuning, with the direction(s) that do.
let namedChannelLaneProblems: [(problem: any TiledConvolution, lanes: [Direction], seed: UInt64)] = [
    // 60 output channels (a block of 32 and one of 28), rows of 23 (tiles of 8, 8, 7),
    // 5 taps a row with begin padding 2 and end padding 2, a bias; 11 · 3 = 33 K step pairs.
    (conv("conv2d n=2 ic=11 oc=60 g=1 in=6x23 k=3x5 s=1x1 d=1x1 p=1x2:1x2 bias=1"), [.fwd], 401),
    // 1-D, 7 taps, padding 3 each side: the first and last tiles skip 3 columns (rows of 29:
    // tiles of 8, 8, 8, 5).
    (conv("conv1d n=3 ic=40 oc=32 g=1 in=29 k=7 s=1 d=1 p=3:3 bias=1"), [.fwd], 402),
    // Two groups of 17 → 32, height stride 2 and dilation 2 (kernel rows skipped per output
    // row), asymmetric width padding 2:0 (the right edge reads no padding), rows of 14, a
    // bias per group.
    (conv("conv2d n=2 ic=34 oc=64 g=2 in=9x14 k=3x3 s=2x1 d=2x1 p=2x2:1x0 bias=1"), [.fwd], 403),
    // 40 output channels fill 5/8 of two blocks (not lanes), but backward-data is a 40 → 64
    // stride-1 conv of dY with 5 × 3 taps: lanes, its output written through the phase layout.
    (conv("conv2d n=2 ic=64 oc=40 g=1 in=7x12 k=5x3 s=1x1 d=1x1 p=2x1:2x1 bias=1"), [.bwdData], 404),
    // A stride-1 transposed conv: its forward (36 output channels: 8 · 36 < 7 · 64, not
    // lanes) is the adjoint's backward-data; its backward-data (32 output channels) is the
    // adjoint's forward: lanes.
    (convT("convt2d n=2 ic=32 oc=36 g=1 in=5x11 k=3x3 s=1x1 d=1x1 p=1x1:1x1 op=0x0 bias=1"), [.bwdData], 405),
    // Rows of 64 (8 tiles): bands of 4 rows (4, 4, 1); 96 (ci, kh) pairs.
    (conv("conv2d n=2 ic=32 oc=32 g=1 in=9x64 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=1"), [.fwd, .bwdData], 407),
    // Width stride 2: the GAN transposed conv's adjoint in small (k4 s2 p1), whose backward-
    // data is 4 phases of 2 × 2 taps, each in lanes; and 1-D, 6 taps of stride 2, padding 2:3
    // (rows of 29).
    (conv("conv2d n=2 ic=32 oc=32 g=1 in=8x32 k=4x4 s=2x2 d=1x1 p=1x1:1x1 bias=1"), [.fwd, .bwdData], 408),
    (conv("conv1d n=2 ic=40 oc=64 g=1 in=61 k=6 s=2 d=1 p=2:3 bias=1"), [.fwd], 409),
    // 2 taps a row (height 2, no begin padding in width, one end column), stride 1.
    (conv("conv2d n=2 ic=16 oc=32 g=1 in=6x19 k=2x2 s=1x1 d=1x1 p=1x0:0x1 bias=1"), [.fwd], 410),
    // A row of 300 pixels: 38 tiles, in bands of 32 and 6 tiles.
    (conv("conv1d n=1 ic=32 oc=32 g=1 in=300 k=3 s=1 d=1 p=1:1 bias=1"), [.fwd, .bwdData], 411),
    // A k4 s2 transposed conv to odd sizes (output_padding 1): 4 phases in lanes whose rows
    // differ (10 and 9 rows, 17 and 16 columns), written through stride-2 layouts; its
    // backward-data is the adjoint's stride-2 forward.
    (convT("convt2d n=2 ic=32 oc=32 g=1 in=9x16 k=4x4 s=2x2 d=1x1 p=1x1:1x1 op=1x1 bias=1"), [.fwd, .bwdData], 412),
    // k3 s2: backward-data has phases of 2 taps and of 1 tap a row; the 1-tap phases cannot
    // take the lanes, so no phase does (they share one weight layout).
    (conv("conv2d n=2 ic=32 oc=32 g=1 in=9x32 k=3x3 s=2x2 d=1x1 p=1x1:1x1 bias=1"), [.fwd], 413),
    // 7 taps a row in 2-D, 96 channels (3 blocks), rows of 41 (a 1-pixel last tile).
    (conv("conv2d n=1 ic=12 oc=96 g=1 in=5x41 k=3x7 s=1x1 d=1x1 p=1x3:1x3 bias=1"), [.fwd], 406),
]

@Suite("Channel-lane forward: exact, thread-independent, and the direct kernel's bits")
struct ChannelLanesTests {
    /// `tuning` with the channel lanes turned off: the same problems on the 12 × 32 direct tiles.
    static func withoutLanes(_ tuning: ConvTuning = .standard) -> ConvTuning {
        var t = tuning
        t.channelLanes = false
        return t
    }

    @Test(
        "named problems take the channel lanes where the rules say",
        .enabled(if: channelLanesRun, "channel lanes need 16-lane vectors (avx512)"),
        arguments: namedChannelLaneProblems.indices)
    func pathTaken(index: Int) {
        let (problem, lanes, _) = namedChannelLaneProblems[index]
        for direction in [Direction.fwd, .bwdData] {
            let path = Self.path(problem, direction, tuning: .standard)
            #expect((path == .channelLanes) == lanes.contains(direction), "\(problem) \(direction.rawValue): \(path)")
            #expect(Self.path(problem, direction, tuning: Self.withoutLanes()) != .channelLanes)
        }
    }

    @Test(
        "named problems equal the naive sums exactly on 1, 2 and 3 threads", arguments: namedChannelLaneProblems.indices
    )
    func exact(index: Int) {
        let (problem, _, seed) = namedChannelLaneProblems[index]
        // `directTuning`'s weight budget of one float cuts the input channels into blocks of
        // one: every tile's chain continues from its stored partial sum at each channel.
        checkExactly(
            problem, seed: seed, lowerings: [(.standard, 1), (.standard, 2), (.standard, 3), (directTuning, 2)])
    }

    /// (Where the lanes do not run, both sides would take the direct tiles: nothing to compare.)
    @Test(
        "real fills: the bits of the 12 × 32 direct tiles, for any thread count",
        .enabled(if: channelLanesRun, "channel lanes need 16-lane vectors (avx512)"),
        arguments: namedChannelLaneProblems.indices)
    func sameBitsAsDirect(index: Int) {
        let (problem, _, seed) = namedChannelLaneProblems[index]
        Self.checkSameBits(problem, seed: seed)
    }

    @Test("the rules name what rules a shape out")
    func reasons() throws {
        guard case .conv(let gan) = try Problem.parse("conv2d n=1 ic=128 oc=256 in=16x16 k=5x5 p=2x2:2x2") else {
            Issue.record("not a conv")
            return
        }
        // 128 input channels × 5 kernel rows, 256 = 8 blocks of 32: lanes wherever 16-lane
        // vectors run; never on narrower variants.
        #expect(
            TiledConv(gan, tuning: .standard).channelLanesUnavailable
                == (channelLanesRun ? nil : "channel lanes need 16-lane vectors"))
        KernelVariant.with(.neon) {
            #expect(TiledConv(gan, tuning: .standard).channelLanesUnavailable == "channel lanes need 16-lane vectors")
            #expect(Tiled.convPath(gan, .fwd).path == .direct)
        }
        let widthRule = "channel lanes take width stride 1 or 2 and 2 to 7 undilated taps a row"
        let cases: [(String, String)] = [
            ("conv2d n=1 ic=128 oc=256 in=16x48 k=5x5 s=1x3 p=2x2:2x2", widthRule),
            ("conv2d n=1 ic=128 oc=256 in=16x16 k=5x5 d=1x2 p=2x2:2x2", widthRule),
            ("conv2d n=1 ic=128 oc=256 in=16x16 k=1x1 p=valid", widthRule),
            ("conv2d n=1 ic=128 oc=256 in=16x16 k=8x8 p=3x3:4x4", widthRule),
            ("conv2d n=1 ic=128 oc=256 in=16x20 k=3x3 p=0x3:0x3", widthRule),
            // The benchmark's RGB stem: 3 input channels × 5 rows.
            (
                "conv2d n=1 ic=3 oc=32 in=256x256 k=5x5 p=2x2:2x2",
                "15 (input channel, kernel row) steps per tile: fewer than 32"
            ),
            (
                "conv2d n=1 ic=64 oc=40 in=16x16 k=3x3 p=1x1:1x1",
                "40 output channels fill too few of the 64 channel lanes"
            ),
            (
                "conv2d n=1 ic=64 oc=24 in=16x16 k=3x3 p=1x1:1x1",
                "24 output channels fill too few of the 32 channel lanes"
            ),
        ]
        #expect(
            TiledConv(gan, tuning: Self.withoutLanes()).channelLanesUnavailable == "channel lanes are off in the tuning"
        )
        for (text, reason) in cases {
            guard case .conv(let p) = try Problem.parse(text) else { continue }
            let unavailable = KernelVariant.with(.avx512) { TiledConv(p, tuning: .standard).channelLanesUnavailable }
            #expect(unavailable == reason, "\(text)")
        }
    }

    /// The plan's path for one direction of a convolution or a transposed one.
    static func path(_ problem: any TiledConvolution, _ direction: Direction, tuning: ConvTuning) -> ConvPath {
        if let p = problem as? ConvProblem { return TiledConv(p, tuning: tuning).path(direction, adjoint: false).path }
        let t = problem as! ConvTransposeProblem
        return TiledConv(adjointOf: t, tuning: tuning).path(direction, adjoint: true).path
    }

    static func checkSameBits<Layer: TiledConvolution>(_ p: Layer, seed: UInt64) {
        let x = TestData.filled(count(p.xShape), realFill, seed: seed, role: "x")
        let w = TestData.filled(count(p.wShape), realFill, seed: seed, role: "w")
        let b = p.hasBias ? TestData.filled(p.outChannels, realFill, seed: seed, role: "b") : nil
        let dy = TestData.filled(count(p.yShape), realFill, seed: seed, role: "dy")
        // Each tuning against itself with the lanes off (other tunings may take other paths
        // for the directions that are not lanes); `directTuning` cuts the input channels into
        // blocks of one.
        for tuning in [ConvTuning.standard, directTuning] {
            let direct = LayerRun(p: p, tuning: withoutLanes(tuning), threads: 1)
            let y = direct.forward(x: x, w: w, b: b), dx = direct.backwardData(dy: dy, w: w)
            for threads in [1, 3] {
                let run = LayerRun(p: p, tuning: tuning, threads: threads)
                expectIdentical(run.forward(x: x, w: w, b: b), y, "fwd \(run.context) seed \(seed)")
                expectIdentical(run.backwardData(dy: dy, w: w), dx, "bwd_data \(run.context) seed \(seed)")
            }
        }
    }
}

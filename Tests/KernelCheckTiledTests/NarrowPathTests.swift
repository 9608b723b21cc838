import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import Testing

@testable import KernelCheckTiled

// Each convolution path that widens a narrow operand while copying or packing it (the padded
// buffers, weight panels, dY panels and grids of the direct paths,
// `Conv/TiledConv+Narrow.swift`), forced by a tuning and checked to be the path taken, in
// every narrow type with odt = dt and odt = f32: the output must be, bit for bit, the float32
// kernel's output on the same (exactly representable) values under the same tuning, rounded
// once to odt by `ScalarType.rounded` (exact RNE). Widening is exact and the sums are the
// float32 path's own, in the same order, so any difference is a widening or indexing error.

/// (problem, direction, tuning, the path that tuning must give).
let narrowPathCases: [(String, Direction, ConvTuning, ConvPath)] = [
    // 12 × 32 tiles: x into the padded bands, W into the weight panels (width stride 1, 2, 3).
    ("conv2d n=2 ic=4 oc=16 in=9x10 k=3x3 p=1 bias=1", .fwd, directTuning, .direct),
    ("conv2d n=1 ic=3 oc=8 in=9x11 k=3x3 s=2 p=1 bias=1", .fwd, directTuning, .direct),
    ("conv2d n=1 ic=2 oc=8 in=10x13 k=3x3 s=3 p=1", .fwd, directTuning, .direct),
    ("conv1d n=2 ic=3 oc=9 in=37 k=5 p=2 bias=1", .fwd, directTuning, .direct),
    // Wide tiles: x into the padded bands (W widened up front).
    ("conv2d n=2 ic=3 oc=3 in=9x10 k=3x3 p=1 bias=1", .fwd, directTuning, .directWide),
    // The dual lowering: x packed by its SGEMMs.
    ("conv2d n=2 ic=6 oc=2 in=6x7 k=3x3 s=2 p=1 bias=1", .fwd, dualTuning, .dual),
    ("conv2d n=3 ic=6 oc=2 in=6x7 k=3x3 s=2 p=1", .bwdWeights, dualTuning, .dual),
    // Plain SGEMMs: x, W and dY packed by the GEMM (groups, a bias, K split into slabs).
    ("conv2d n=2 ic=4 oc=6 g=2 in=5x7 k=1x1 bias=1", .fwd, tinyTuning, .pointwise),
    ("conv2d n=2 ic=4 oc=6 g=2 in=5x7 k=1x1", .bwdData, tinyTuning, .pointwise),
    ("conv2d n=3 ic=4 oc=6 g=2 in=5x7 k=1x1", .bwdWeights, tinyTuning, .pointwise),
    ("conv2d n=1 ic=2 oc=520 in=4x5 k=2x2 p=1", .bwdData, tinyTuning, .im2colCol2im),
    ("conv2d n=3 ic=3 oc=5 in=7x6 k=3x3 s=2 p=1", .bwdWeights, tinyTuning, .im2colWeights),
    ("conv2d n=3 ic=3 oc=5 in=7x6 k=3x3 s=2 p=1", .bwdWeights, transposedTuning, .im2colWeights),
    // W into the SGEMM's A panels (x widened up front for im2col).
    ("conv2d n=2 ic=3 oc=7 in=9x8 k=3x3 s=2 p=1 bias=1", .fwd, im2colTuning, .packedIm2col),
    ("conv3d n=1 ic=2 oc=5 in=4x5x3 k=2x2x2 p=1 bias=1", .fwd, tinyTuning, .packedIm2col),
    // Phases: dY into each phase's padded buffer, W into the phases' panels (12 × 32), or
    // widened up front (wide phases).
    ("conv2d n=2 ic=16 oc=8 in=8x8 k=3x3 s=2 p=1", .bwdData, directTuning, .directPhases),
    ("conv2d n=2 ic=12 oc=5 in=7x9 k=3x3 p=1", .bwdData, directTuning, .directPhases),
    ("conv2d n=1 ic=3 oc=8 in=8x8 k=4x4 s=2 p=1", .bwdData, directTuning, .directPhases),
    // W into the A panels and dY into the B panels of the SGEMM before col2im.
    ("conv2d n=2 ic=5 oc=7 in=9x8 k=3x3 s=2 p=1", .bwdData, im2colTuning, .packedCol2im),
    ("conv2d n=1 ic=6 oc=13 in=12x12 k=1x1 s=2", .bwdData, tinyTuning, .packedCol2im),
    // Backward-weights: x into the padded band, dY into staging rows per channel block.
    ("conv2d n=2 ic=3 oc=5 in=16x16 k=3x3 p=1", .bwdWeights, directTuning, .directWeights),
    ("conv2d n=1 ic=2 oc=9 in=8x32 k=3x3 s=2 p=1", .bwdWeights, directTuning, .directWeights),
    // x into the padded buffer, dY onto the virtual grid.
    ("conv2d n=2 ic=3 oc=5 in=9x10 k=3x3 p=1", .bwdWeights, directTuning, .virtualGridWeights),
    ("conv2d n=1 ic=2 oc=6 in=9x11 k=3x3 s=2 p=1", .bwdWeights, directTuning, .virtualGridWeights),
    // x into the padded buffer, dY into the 32-channel pixel rows (Co past one block).
    ("conv2d n=2 ic=3 oc=37 in=7x9 k=3x3 p=1", .bwdWeights, laneTuning, .laneWeights),
    ("conv2d n=1 ic=2 oc=6 in=9x11 k=3x3 s=2 p=1", .bwdWeights, laneTuning, .laneWeights),
    // x into the padded buffer, dY into the A panels.
    ("conv2d n=2 ic=4 oc=14 in=7x9 k=3x3 p=1", .bwdWeights, panelTuning, .panelWeights),
    ("conv2d n=1 ic=3 oc=13 in=6x13 k=3x3 s=2 p=1", .bwdWeights, panelTuning, .panelWeights),
    // The transposed convolution on its adjoint's paths (bias added after the phases).
    ("convt2d n=2 ic=8 oc=12 in=5x6 k=4x4 s=2 p=1 bias=1", .fwd, directTuning, .directPhases),
    ("convt2d n=2 ic=8 oc=12 in=5x6 k=4x4 s=2 p=1 bias=1", .bwdData, directTuning, .direct),
    ("convt2d n=2 ic=13 oc=14 in=5x6 k=3x3 s=1 p=1", .bwdWeights, panelTuning, .panelWeights),
]

/// Cases of the channel-lane path (16-lane variants only): x widened up front, W into the
/// 32-channel panels (forward), dY widened up front and W into the adjoint's panels.
let narrowChannelLaneCases: [(String, Direction, ConvTuning, ConvPath)] = [
    ("conv2d n=2 ic=11 oc=32 in=5x13 k=3x5 p=1x2 bias=1", .fwd, directTuning, .channelLanes),
    ("conv2d n=2 ic=32 oc=12 in=5x13 k=3x3 p=1", .bwdData, directTuning, .channelLanes),
    ("convt2d n=2 ic=12 oc=32 in=5x13 k=3x3 p=1 bias=1", .fwd, directTuning, .channelLanes),
    // 4 phases of 2 × 2 taps, each in lanes (dY widened once, shared by the phases).
    ("convt2d n=2 ic=32 oc=32 in=5x7 k=4x4 s=2 p=1 bias=1", .fwd, directTuning, .channelLanes),
]

@Suite("Narrow inputs widened inside the convolution paths")
struct NarrowPathTests {
    static let seed: UInt64 = 90_210

    @Test("the forced path, = the float32 kernel rounded to odt, bit for bit", arguments: narrowPathCases.indices)
    func againstFloat32Kernel(index: Int) throws {
        try check(narrowPathCases[index])
    }

    @Test(
        "channel lanes: the forced path, = the float32 kernel rounded to odt, bit for bit",
        .enabled(if: channelLanesRun, "channel lanes need 16-lane vectors (avx512)"),
        arguments: narrowChannelLaneCases.indices)
    func channelLanesAgainstFloat32Kernel(index: Int) throws {
        try check(narrowChannelLaneCases[index])
    }

    func check(_ c: (String, Direction, ConvTuning, ConvPath)) throws {
        let (text, direction, tuning, path) = c
        let float32 = try Problem.parse(text)
        #expect(takenPath(float32, direction, tuning) == path, "'\(text)' \(direction.rawValue) takes another path")
        for precision in narrowPrecisions {
            let problem = try narrowProblem(text, precision)
            let context =
                "'\(problem)' \(direction.rawValue) (\(path)) seed \(Self.seed) (replay: swift test --filter NarrowPathTests)"
            _ = narrowAgainstFloat32(
                problem, float32: float32, direction, precision, seed: Self.seed, context: context
            ) { problem, inputs, out, threads in
                runTuned(problem, direction, inputs, out, tuning: tuning, threads: threads)
            }
        }
    }

    /// The path `tuning` gives `problem`'s `direction`.
    func takenPath(_ problem: Problem, _ direction: Direction, _ tuning: ConvTuning) -> ConvPath? {
        switch problem {
        case .conv(let p): return TiledConv(p, tuning: tuning).path(direction, adjoint: false).path
        case .convTranspose(let p): return TiledConv(adjointOf: p, tuning: tuning).path(direction, adjoint: true).path
        default: return nil
        }
    }

    /// The entry points with a tuning, on stored inputs in `inputs(for:)` order (float32
    /// inputs pass through them uncopied, so they run the float32 paths).
    func runTuned(
        _ problem: Problem, _ direction: Direction, _ i: [Tiled.Input], _ out: UnsafeMutablePointer<Float>,
        tuning: ConvTuning, threads t: Int
    ) {
        let b = i.count > 2 ? i[2] : nil
        switch (problem, direction) {
        case (.conv(let p), .fwd): Tiled.convForward(p, x: i[0], w: i[1], b: b, y: out, threads: t, tuning: tuning)
        case (.conv(let p), .bwdData): Tiled.convBackwardData(p, dy: i[0], w: i[1], dx: out, threads: t, tuning: tuning)
        case (.conv(let p), .bwdWeights):
            Tiled.convBackwardWeights(p, x: i[0], dy: i[1], dw: out, threads: t, tuning: tuning)
        case (.convTranspose(let p), .fwd):
            Tiled.convTransposeForward(p, x: i[0], w: i[1], b: b, y: out, threads: t, tuning: tuning)
        case (.convTranspose(let p), .bwdData):
            Tiled.convTransposeBackwardData(p, dy: i[0], w: i[1], dx: out, threads: t, tuning: tuning)
        case (.convTranspose(let p), .bwdWeights):
            Tiled.convTransposeBackwardWeights(p, x: i[0], dy: i[1], dw: out, threads: t, tuning: tuning)
        default: Issue.record("no tuned entry point for '\(problem)' \(direction.rawValue)")
        }
    }
}

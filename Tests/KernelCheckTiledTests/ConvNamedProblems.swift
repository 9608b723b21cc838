import KernelCheckProblems

// Named convolution and transposed-convolution problems for the corners the random sweep may
// miss, and for the lowering paths the path tests check by index.
//
// Each is written in its canonical text (the one-line repro the CLI prints), one a line.

/// A named convolution from its canonical text.
func conv(_ text: String) -> ConvProblem {
    guard let p = ConvProblem(text) else { fatalError("not a valid convolution: \(text)") }
    return p
}

/// A named transposed convolution from its canonical text.
func convT(_ text: String) -> ConvTransposeProblem {
    guard let p = ConvTransposeProblem(text) else { fatalError("not a valid transposed convolution: \(text)") }
    return p
}

/// Named problems whose backward-data runs by output phases (`TiledConv+DirectPhases.swift`)
/// under `directTuning`, or falls back, as `ConvPhaseTests` checks by index here.
let namedPhaseConvProblems: [ConvProblem] = [
    // stride 2 with k3 (phases of 2 and 1 taps per dimension), 5 channels of dX.
    conv("conv2d n=2 ic=5 oc=3 g=1 in=7x9 k=3x3 s=2x2 d=1x1 p=1x1:1x1 bias=1"),
    // stride 3 with k4 and k6 (k a multiple of s), 9 phases, positive phase paddings.
    conv("conv2d n=1 ic=3 oc=2 g=1 in=8x10 k=4x4 s=3x3 d=1x1 p=valid bias=1"),
    conv("conv2d n=1 ic=2 oc=4 g=1 in=9x11 k=6x6 s=3x3 d=1x1 p=1x1:2x1 bias=1"),
    // dilation 2 with stride 2: the odd phases have no taps, their dX is zero.
    conv("conv2d n=2 ic=2 oc=3 g=1 in=9x8 k=3x2 s=2x2 d=2x2 p=2x1:0x1 bias=1"),
    // k4 s3 pb2: phase 1 has one tap (m = 0) but q0 = 1, padding −1: the whole problem
    // falls back to im2col.
    conv("conv2d n=1 ic=2 oc=3 g=1 in=8x8 k=4x4 s=3x3 d=1x1 p=2x2:2x2 bias=1"),
    // Groups, k4 s2 p1 (the GAN layer's adjoint, tiny).
    conv("conv2d n=1 ic=4 oc=6 g=2 in=6x6 k=4x4 s=2x2 d=1x1 p=1x1:1x1 bias=1"),
    // 1-D stride 2 k5, and height stride 2 with width stride 1.
    conv("conv1d n=2 ic=2 oc=3 g=1 in=13 k=5 s=2 d=1 p=2:2 bias=1"),
    conv("conv2d n=1 ic=3 oc=2 g=1 in=6x5 k=3x3 s=2x1 d=1x1 p=1x1:1x1 bias=1"),
]

/// Named problems for the corners the random sweep may miss.
let namedConvProblems: [ConvProblem] =
    [
        // 1×1 stride 1 unpadded: col(X) = X, no im2col.
        conv("conv2d n=2 ic=3 oc=4 g=1 in=3x5 k=1x1 s=1x1 d=1x1 p=valid bias=1"),
        // 1×1 stride 2 (ResNet projection): strided gather.
        conv("conv2d n=2 ic=3 oc=2 g=1 in=5x4 k=1x1 s=2x2 d=1x1 p=valid bias=1"),
        // stride > kernel: input positions skipped entirely.
        conv("conv1d n=1 ic=2 oc=2 g=1 in=9 k=2 s=4 d=1 p=valid bias=1"),
        // dilation with stride and asymmetric padding, 3-D.
        conv("conv3d n=1 ic=2 oc=3 g=1 in=4x5x3 k=2x3x1 s=2x1x2 d=2x2x1 p=1x0x2:0x2x1 bias=1"),
        // depthwise 2-D.
        conv("conv2d n=2 ic=4 oc=4 g=4 in=5x5 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=1"),
        // depthwise with channel multiplier 2.
        conv("conv1d n=1 ic=3 oc=6 g=3 in=6 k=3 s=1 d=2 p=same bias=1"),
        // Padding wider than the kernel reach: some outputs see only padding (= bias).
        conv("conv2d n=1 ic=2 oc=2 g=1 in=3x2 k=2x2 s=1x1 d=1x1 p=3x2:3x2 bias=1"),
        // Direct forward, tiles written into y (width 16, even vector count), 12 + 1 channels.
        conv("conv2d n=2 ic=3 oc=13 g=1 in=4x16 k=3x3 s=1x1 d=1x1 p=1x2:1x0 bias=1"),
        // Direct forward, flattened pixels (width 7 + 2 padding), 12 + 8 channels, dilation.
        conv("conv2d n=3 ic=2 oc=20 g=1 in=7x7 k=3x3 s=1x1 d=1x2 p=1x2:1x2 bias=1"),
        // Direct forward, flattened pixels on rows of 40 + 1 padding: tiles whose two vectors lie
        // in output rows go straight into y (tile 0: columns 0–15 and 16–31 of row 0), the
        // others through the scratch tile; 12 + 1 channels (a partial panel), bias.
        conv("conv2d n=2 ic=3 oc=13 g=1 in=6x40 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=1"),
        // Flattened rows of 40 + 1 shared padding column on the left, 2 on the right: a row's
        // last tap reads the first zero of the next row (backward-data: 2 left, 1 right).
        conv("conv2d n=2 ic=3 oc=13 g=1 in=6x40 k=3x4 s=1x1 d=1x1 p=1x1:1x2 bias=1"),
        // Direct forward, rows of 32 with an odd vector count and height stride 2, 12 + 4 channels.
        conv("conv2d n=1 ic=2 oc=16 g=1 in=5x32 k=2x3 s=2x1 d=1x1 p=0x1:0x1 bias=1"),
        // Direct backward-weights: 2 groups, 3 channels per group (a partial 4-channel block),
        // 2 × 3 × 2 = 12 taps, output rows in bands of 2 (a short last band), height dilation.
        conv("conv2d n=2 ic=4 oc=6 g=2 in=9x16 k=3x2 s=1x1 d=2x1 p=1x1:2x0 bias=1"),
        // Direct backward-weights: 5 taps (a partial 6-tap tile), 1-D.
        conv("conv1d n=3 ic=1 oc=5 g=1 in=49 k=5 s=1 d=1 p=1:2 bias=1"),
        // Direct forward with 4, 3 and 2 output channels: wide tiles of 6, 8 and 12 vectors
        // written in place (rows of 96, 128 and 192).
        conv("conv1d n=2 ic=2 oc=4 g=1 in=98 k=3 s=1 d=1 p=valid bias=1"),
        conv("conv2d n=1 ic=3 oc=3 g=1 in=2x128 k=2x3 s=1x1 d=1x2 p=1x2:0x2 bias=1"),
        conv("conv1d n=2 ic=2 oc=2 g=1 in=194 k=3 s=1 d=1 p=valid bias=1"),
        // Direct paths with width stride > 1 (input rows split into width phases): the GAN
        // transposed conv's stride-2 k4 p1 adjoint, 16 output columns written in place.
        conv("conv2d n=2 ic=3 oc=13 g=1 in=6x32 k=4x4 s=2x2 d=1x1 p=1x1:1x1 bias=1"),
        // Width stride 3 with dilation 2 (taps in all three phases), 4 channels: wide tiles on
        // rows of 96 columns, 1-D.
        conv("conv1d n=2 ic=2 oc=4 g=1 in=290 k=3 s=3 d=2 p=1:1 bias=1"),
        // Stride-2 rows of 29 and 35 outputs: im2col's stride-2 gather and col2im's scatter-add
        // take 16- and 8-wide vector steps, then a scalar tail (with padding, from an offset).
        conv("conv2d n=1 ic=2 oc=3 g=1 in=3x58 k=1x1 s=2x2 d=1x1 p=valid bias=1"),
        conv("conv2d n=1 ic=1 oc=2 g=1 in=2x70 k=1x3 s=1x2 d=1x1 p=0x1:0x0 bias=1"),
        // 1×1 kernels write dX once (`col2imOnce`): trailing padding (output lines and columns
        // that read only padding, rows no output reads), 3-D with groups, and rows long enough
        // for the 16-wide vector steps of stride 1 and 2 before a scalar tail.
        conv("conv2d n=2 ic=3 oc=4 g=1 in=7x9 k=1x1 s=3x2 d=1x1 p=0x0:2x1 bias=1"),
        conv("conv3d n=1 ic=4 oc=6 g=2 in=5x3x7 k=1x1x1 s=2x1x3 d=1x1x1 p=valid bias=1"),
        conv("conv2d n=1 ic=2 oc=3 g=1 in=4x70 k=1x1 s=1x2 d=1x1 p=valid bias=1"),
        conv("conv2d n=1 ic=2 oc=3 g=1 in=5x40 k=1x1 s=2x1 d=1x1 p=valid bias=1"),
        // Width stride 2, dilation 3, odd kernel and asymmetric padding: phase offsets 0, 1·seg + 1, 0·seg + 3.
        conv("conv2d n=1 ic=2 oc=9 g=1 in=5x20 k=2x3 s=1x2 d=1x3 p=0x2:1x0 bias=1"),
    ] + namedPairConvProblems + namedPhaseConvProblems

/// Named problems whose direct forward (and backward-data, as the adjoint's forward) pairs
/// images: one vector of each of two images per tile, kernel rows over padding left out.
let namedPairConvProblems: [ConvProblem] = [
    // Rows of 16, k5 p2 (the GAN 128 → 256 layer, tiny): 3 images (a pair, then one alone
    // on 2-vector tiles with an odd row count, through the scratch tile), 13 channels (two
    // 8-row panels, the second partial); backward-data pairs the 8 channels of dX.
    conv("conv2d n=3 ic=8 oc=13 g=1 in=5x16 k=5x5 s=1x1 d=1x1 p=2x2:2x2 bias=1"),
    // Rows of 48 (3 vectors), height stride 2 and dilation 2, padding past the kernel's
    // reach at the top (output rows with no kernel row inside the input), 12 channels.
    conv("conv2d n=2 ic=3 oc=12 g=1 in=6x48 k=3x3 s=2x1 d=2x1 p=5x1:1x1 bias=1"),
]

/// Named problems whose panel backward-weights (`panelTuning`) splits each kernel position's
/// panels evenly among the workers, so each pads only its input channels: 64 channels on two
/// threads, 96 on three (three panels per position), with padding and a width stride of 2.
/// `channels`: the input channels each worker pads.
let namedChannelShareConvProblems: [(problem: ConvProblem, threads: Int, channels: [Range<Int>])] = [
    (
        conv("conv2d n=2 ic=64 oc=17 g=1 in=5x6 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=1"), 2, [0..<32, 32..<64]
    ),
    (
        conv("conv2d n=2 ic=96 oc=20 g=1 in=6x9 k=2x3 s=1x2 d=1x1 p=1x2:0x1 bias=1"), 3, [0..<32, 32..<64, 64..<96]
    ),
]

/// Named problems whose forward runs by output phases (`TiledConv+DirectPhases.swift`)
/// under `directTuning` (`phasePaths` checks which).
let namedPhaseConvTransposeProblems: [ConvTransposeProblem] = [
    // The GAN layer tiny, 8 → 12 channels k4 s2 p1, 5 → 10 (a 12-row panel per phase).
    convT("convt2d n=2 ic=8 oc=12 g=1 in=5x5 k=4x4 s=2x2 d=1x1 p=1x1:1x1 op=0x0 bias=1"),
    // output_padding 1 with k3 s2 p1: the last row and column belong to the phases.
    convT("convt2d n=1 ic=2 oc=3 g=1 in=3x4 k=3x3 s=2x2 d=1x1 p=1x1:1x1 op=1x1 bias=1"),
    // stride 3, dilation 2 (gcd 1: every phase has taps, phase 0 two of them at dilation 2),
    // 1-D with groups.
    convT("convt1d n=2 ic=4 oc=2 g=2 in=6 k=4 s=3 d=2 p=1:0 op=0 bias=0"),
    // stride 2, dilation 2: three quarters of the output hold only the bias.
    convT("convt2d n=1 ic=3 oc=2 g=1 in=3x4 k=2x3 s=2x2 d=2x2 p=1x0:0x1 op=1x1 bias=1"),
]

/// Named transposed convolutions for the corners the random sweep may miss.
let namedConvTransposeProblems: [ConvTransposeProblem] =
    [
        // The GAN generator's upsampling (scaled down): k4 s2 p1, 4 → 8.
        convT("convt2d n=2 ic=3 oc=2 g=1 in=4x4 k=4x4 s=2x2 d=1x1 p=1x1:1x1 op=0x0 bias=1"),
        // `same`: out = in·s.
        convT("convt1d n=1 ic=2 oc=3 g=1 in=5 k=3 s=2 d=1 p=same op=1 bias=1"),
        // output_padding ≥ stride (allowed because d > s): trailing outputs receive no products.
        convT("convt2d n=1 ic=2 oc=2 g=1 in=3x2 k=2x2 s=1x1 d=3x2 p=valid op=2x1 bias=0"),
        // stride > kernel: gaps in the output that hold only the bias.
        convT("convt1d n=1 ic=2 oc=2 g=1 in=3 k=2 s=4 d=1 p=valid op=0 bias=1"),
        // 1×1 stride 1: a plain GEMM.
        convT("convt2d n=2 ic=4 oc=3 g=1 in=2x3 k=1x1 s=1x1 d=1x1 p=valid op=0x0 bias=1"),
        // Depthwise 3-D with cropping.
        convT("convt3d n=1 ic=3 oc=3 g=3 in=2x3x2 k=2x3x2 s=2x1x2 d=1x1x1 p=1x1x0:0x1x1 op=0x0x0 bias=1"),
    ] + namedPhaseConvTransposeProblems

/// Every named problem of both ops, with the seed of its fills.
let namedLayerProblems: [(problem: any TiledConvolution, seed: UInt64)] =
    namedConvProblems.enumerated().map { ($0.element, 1000 + UInt64($0.offset)) }
    + namedConvTransposeProblems.enumerated().map { ($0.element, 2000 + UInt64($0.offset)) }

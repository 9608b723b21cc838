import KernelCheckProblems

// Named convolution and transposed-convolution problems for the corners the random sweep may
// miss, and for the lowering paths the path tests check by index.

/// Named problems whose backward-data runs by output phases (`TiledConv+DirectPhases.swift`)
/// under `directTuning`, or falls back, as `ConvPhaseTests` checks by index here.
let namedPhaseConvProblems: [ConvProblem] = [
    // stride 2 with k3 (phases of 2 and 1 taps per dimension), 5 channels of dX.
    ConvProblem(
        batch: 2, inChannels: 5, outChannels: 3, inputSize: [7, 9], kernel: [3, 3], stride: [2, 2],
        padding: .explicit(begin: [1, 1], end: [1, 1]), hasBias: true),
    // stride 3 with k4 and k6 (k a multiple of s), 9 phases, positive phase paddings.
    ConvProblem(batch: 1, inChannels: 3, outChannels: 2, inputSize: [8, 10], kernel: [4, 4], stride: [3, 3]),
    ConvProblem(
        batch: 1, inChannels: 2, outChannels: 4, inputSize: [9, 11], kernel: [6, 6], stride: [3, 3],
        padding: .explicit(begin: [1, 1], end: [2, 1])),
    // dilation 2 with stride 2: the odd phases have no taps, their dX is zero.
    ConvProblem(
        batch: 2, inChannels: 2, outChannels: 3, inputSize: [9, 8], kernel: [3, 2], stride: [2, 2],
        dilation: [2, 2], padding: .explicit(begin: [2, 1], end: [0, 1])),
    // k4 s3 pb2: phase 1 has one tap (m = 0) but q0 = 1, padding −1: the whole problem
    // falls back to im2col.
    ConvProblem(
        batch: 1, inChannels: 2, outChannels: 3, inputSize: [8, 8], kernel: [4, 4], stride: [3, 3],
        padding: .explicit(begin: [2, 2], end: [2, 2])),
    // Groups, k4 s2 p1 (the GAN layer's adjoint, tiny).
    ConvProblem(
        batch: 1, inChannels: 4, outChannels: 6, groups: 2, inputSize: [6, 6], kernel: [4, 4],
        stride: [2, 2], padding: .explicit(begin: [1, 1], end: [1, 1])),
    // 1-D stride 2 k5, and height stride 2 with width stride 1.
    ConvProblem(
        batch: 2, inChannels: 2, outChannels: 3, inputSize: [13], kernel: [5], stride: [2],
        padding: .explicit(begin: [2], end: [2])),
    ConvProblem(
        batch: 1, inChannels: 3, outChannels: 2, inputSize: [6, 5], kernel: [3, 3], stride: [2, 1],
        padding: .explicit(begin: [1, 1], end: [1, 1])),
]

/// Named problems for the corners the random sweep may miss.
let namedConvProblems: [ConvProblem] =
    [
        // 1×1 stride 1 unpadded: col(X) = X, no im2col.
        ConvProblem(batch: 2, inChannels: 3, outChannels: 4, inputSize: [3, 5], kernel: [1, 1]),
        // 1×1 stride 2 (ResNet projection): strided gather.
        ConvProblem(batch: 2, inChannels: 3, outChannels: 2, inputSize: [5, 4], kernel: [1, 1], stride: [2, 2]),
        // stride > kernel: input positions skipped entirely.
        ConvProblem(batch: 1, inChannels: 2, outChannels: 2, inputSize: [9], kernel: [2], stride: [4]),
        // dilation with stride and asymmetric padding, 3-D.
        ConvProblem(
            batch: 1, inChannels: 2, outChannels: 3, inputSize: [4, 5, 3], kernel: [2, 3, 1], stride: [2, 1, 2],
            dilation: [2, 2, 1], padding: .explicit(begin: [1, 0, 2], end: [0, 2, 1])),
        // depthwise 2-D.
        ConvProblem(
            batch: 2, inChannels: 4, outChannels: 4, groups: 4, inputSize: [5, 5], kernel: [3, 3],
            padding: .explicit(begin: [1, 1], end: [1, 1])),
        // depthwise with channel multiplier 2.
        ConvProblem(
            batch: 1, inChannels: 3, outChannels: 6, groups: 3, inputSize: [6], kernel: [3], dilation: [2],
            padding: .same),
        // Padding wider than the kernel reach: some outputs see only padding (= bias).
        ConvProblem(
            batch: 1, inChannels: 2, outChannels: 2, inputSize: [3, 2], kernel: [2, 2],
            padding: .explicit(begin: [3, 2], end: [3, 2])),
        // Direct forward, tiles written into y (width 16, even vector count), 12 + 1 channels.
        ConvProblem(
            batch: 2, inChannels: 3, outChannels: 13, inputSize: [4, 16], kernel: [3, 3],
            padding: .explicit(begin: [1, 2], end: [1, 0]), hasBias: true),
        // Direct forward, flattened pixels (width 7 + 2 padding), 12 + 8 channels, dilation.
        ConvProblem(
            batch: 3, inChannels: 2, outChannels: 20, inputSize: [7, 7], kernel: [3, 3], dilation: [1, 2],
            padding: .explicit(begin: [1, 2], end: [1, 2]), hasBias: true),
        // Direct forward, flattened pixels on rows of 40 + 1 padding: tiles whose two vectors lie
        // in output rows go straight into y (tile 0: columns 0–15 and 16–31 of row 0), the
        // others through the scratch tile; 12 + 1 channels (a partial panel), bias.
        ConvProblem(
            batch: 2, inChannels: 3, outChannels: 13, inputSize: [6, 40], kernel: [3, 3],
            padding: .explicit(begin: [1, 1], end: [1, 1]), hasBias: true),
        // Flattened rows of 40 + 1 shared padding column on the left, 2 on the right: a row's
        // last tap reads the first zero of the next row (backward-data: 2 left, 1 right).
        ConvProblem(
            batch: 2, inChannels: 3, outChannels: 13, inputSize: [6, 40], kernel: [3, 4],
            padding: .explicit(begin: [1, 1], end: [1, 2]), hasBias: true),
        // Direct forward, rows of 32 with an odd vector count and height stride 2, 12 + 4 channels.
        ConvProblem(
            batch: 1, inChannels: 2, outChannels: 16, inputSize: [5, 32], kernel: [2, 3], stride: [2, 1],
            padding: .explicit(begin: [0, 1], end: [0, 1]), hasBias: true),
        // Direct backward-weights: 2 groups, 3 channels per group (a partial 4-channel block),
        // 2 × 3 × 2 = 12 taps, output rows in bands of 2 (a short last band), height dilation.
        ConvProblem(
            batch: 2, inChannels: 4, outChannels: 6, groups: 2, inputSize: [9, 16], kernel: [3, 2],
            dilation: [2, 1], padding: .explicit(begin: [1, 1], end: [2, 0])),
        // Direct backward-weights: 5 taps (a partial 6-tap tile), 1-D.
        ConvProblem(
            batch: 3, inChannels: 1, outChannels: 5, inputSize: [49], kernel: [5],
            padding: .explicit(begin: [1], end: [2])),
        // Direct forward with 4, 3 and 2 output channels: wide tiles of 6, 8 and 12 vectors
        // written in place (rows of 96, 128 and 192).
        ConvProblem(batch: 2, inChannels: 2, outChannels: 4, inputSize: [98], kernel: [3], hasBias: true),
        ConvProblem(
            batch: 1, inChannels: 3, outChannels: 3, inputSize: [2, 128], kernel: [2, 3], dilation: [1, 2],
            padding: .explicit(begin: [1, 2], end: [0, 2]), hasBias: true),
        ConvProblem(batch: 2, inChannels: 2, outChannels: 2, inputSize: [194], kernel: [3], hasBias: true),
        // Direct paths with width stride > 1 (input rows split into width phases): the GAN
        // transposed conv's stride-2 k4 p1 adjoint, 16 output columns written in place.
        ConvProblem(
            batch: 2, inChannels: 3, outChannels: 13, inputSize: [6, 32], kernel: [4, 4], stride: [2, 2],
            padding: .explicit(begin: [1, 1], end: [1, 1]), hasBias: true),
        // Width stride 3 with dilation 2 (taps in all three phases), 4 channels: wide tiles on
        // rows of 96 columns, 1-D.
        ConvProblem(
            batch: 2, inChannels: 2, outChannels: 4, inputSize: [290], kernel: [3], stride: [3], dilation: [2],
            padding: .explicit(begin: [1], end: [1]), hasBias: true),
        // Stride-2 rows of 29 and 35 outputs: im2col's stride-2 gather and col2im's scatter-add
        // take 16- and 8-wide vector steps, then a scalar tail (with padding, from an offset).
        ConvProblem(
            batch: 1, inChannels: 2, outChannels: 3, inputSize: [3, 58], kernel: [1, 1], stride: [2, 2], hasBias: true),
        ConvProblem(
            batch: 1, inChannels: 1, outChannels: 2, inputSize: [2, 70], kernel: [1, 3], stride: [1, 2],
            padding: .explicit(begin: [0, 1], end: [0, 0])),
        // Width stride 2, dilation 3, odd kernel and asymmetric padding: phase offsets 0, 1·seg + 1, 0·seg + 3.
        ConvProblem(
            batch: 1, inChannels: 2, outChannels: 9, inputSize: [5, 20], kernel: [2, 3], stride: [1, 2],
            dilation: [1, 3], padding: .explicit(begin: [0, 2], end: [1, 0]), hasBias: true),
    ] + namedPairConvProblems + namedPhaseConvProblems

/// Named problems whose direct forward (and backward-data, as the adjoint's forward) pairs
/// images: one vector of each of two images per tile, kernel rows over padding left out.
let namedPairConvProblems: [ConvProblem] = [
    // Rows of 16, k5 p2 (the GAN 128 → 256 layer, tiny): 3 images (a pair, then one alone
    // on 2-vector tiles with an odd row count, through the scratch tile), 13 channels (two
    // 8-row panels, the second partial); backward-data pairs the 8 channels of dX.
    ConvProblem(
        batch: 3, inChannels: 8, outChannels: 13, inputSize: [5, 16], kernel: [5, 5],
        padding: .explicit(begin: [2, 2], end: [2, 2]), hasBias: true),
    // Rows of 48 (3 vectors), height stride 2 and dilation 2, padding past the kernel's
    // reach at the top (output rows with no kernel row inside the input), 12 channels.
    ConvProblem(
        batch: 2, inChannels: 3, outChannels: 12, inputSize: [6, 48], kernel: [3, 3], stride: [2, 1],
        dilation: [2, 1], padding: .explicit(begin: [5, 1], end: [1, 1])),
]

/// Named problems whose panel backward-weights (`panelTuning`) splits each kernel position's
/// panels evenly among the workers, so each pads only its input channels: 64 channels on two
/// threads, 96 on three (three panels per position), with padding and a width stride of 2.
/// `channels`: the input channels each worker pads.
let namedChannelShareConvProblems: [(problem: ConvProblem, threads: Int, channels: [Range<Int>])] = [
    (
        ConvProblem(
            batch: 2, inChannels: 64, outChannels: 17, inputSize: [5, 6], kernel: [3, 3],
            padding: .explicit(begin: [1, 1], end: [1, 1]), hasBias: true), 2, [0..<32, 32..<64]
    ),
    (
        ConvProblem(
            batch: 2, inChannels: 96, outChannels: 20, inputSize: [6, 9], kernel: [2, 3], stride: [1, 2],
            padding: .explicit(begin: [1, 2], end: [0, 1])), 3, [0..<32, 32..<64, 64..<96]
    ),
]

/// Named problems whose forward runs by output phases (`TiledConv+DirectPhases.swift`)
/// under `directTuning` (`phasePaths` checks which).
let namedPhaseConvTransposeProblems: [ConvTransposeProblem] = [
    // The GAN layer tiny, 8 → 12 channels k4 s2 p1, 5 → 10 (a 12-row panel per phase).
    ConvTransposeProblem(
        batch: 2, inChannels: 8, outChannels: 12, inputSize: [5, 5], kernel: [4, 4], stride: [2, 2],
        padding: .explicit(begin: [1, 1], end: [1, 1])),
    // output_padding 1 with k3 s2 p1: the last row and column belong to the phases.
    ConvTransposeProblem(
        batch: 1, inChannels: 2, outChannels: 3, inputSize: [3, 4], kernel: [3, 3], stride: [2, 2],
        padding: .explicit(begin: [1, 1], end: [1, 1]), outputPadding: [1, 1]),
    // stride 3, dilation 2 (gcd 1: every phase has taps, phase 0 two of them at dilation 2),
    // 1-D with groups.
    ConvTransposeProblem(
        batch: 2, inChannels: 4, outChannels: 2, groups: 2, inputSize: [6], kernel: [4], stride: [3],
        dilation: [2], padding: .explicit(begin: [1], end: [0]), hasBias: false),
    // stride 2, dilation 2: three quarters of the output hold only the bias.
    ConvTransposeProblem(
        batch: 1, inChannels: 3, outChannels: 2, inputSize: [3, 4], kernel: [2, 3], stride: [2, 2],
        dilation: [2, 2], padding: .explicit(begin: [1, 0], end: [0, 1]), outputPadding: [1, 1]),
]

/// Named transposed convolutions for the corners the random sweep may miss.
let namedConvTransposeProblems: [ConvTransposeProblem] =
    [
        // The GAN generator's upsampling (scaled down): k4 s2 p1, 4 → 8.
        ConvTransposeProblem(
            batch: 2, inChannels: 3, outChannels: 2, inputSize: [4, 4], kernel: [4, 4], stride: [2, 2],
            padding: .explicit(begin: [1, 1], end: [1, 1])),
        // `same`: out = in·s.
        ConvTransposeProblem(
            batch: 1, inChannels: 2, outChannels: 3, inputSize: [5], kernel: [3], stride: [2],
            padding: .same, outputPadding: [1]),
        // output_padding ≥ stride (allowed because d > s): trailing outputs receive no products.
        ConvTransposeProblem(
            batch: 1, inChannels: 2, outChannels: 2, inputSize: [3, 2], kernel: [2, 2], stride: [1, 1],
            dilation: [3, 2], outputPadding: [2, 1], hasBias: false),
        // stride > kernel: gaps in the output that hold only the bias.
        ConvTransposeProblem(batch: 1, inChannels: 2, outChannels: 2, inputSize: [3], kernel: [2], stride: [4]),
        // 1×1 stride 1: a plain GEMM.
        ConvTransposeProblem(batch: 2, inChannels: 4, outChannels: 3, inputSize: [2, 3], kernel: [1, 1]),
        // Depthwise 3-D with cropping.
        ConvTransposeProblem(
            batch: 1, inChannels: 3, outChannels: 3, groups: 3, inputSize: [2, 3, 2], kernel: [2, 3, 2],
            stride: [2, 1, 2], padding: .explicit(begin: [1, 1, 0], end: [0, 1, 1])),
    ] + namedPhaseConvTransposeProblems

/// Every named problem of both ops, with the seed of its fills.
let namedLayerProblems: [(problem: any TiledConvolution, seed: UInt64)] =
    namedConvProblems.enumerated().map { ($0.element, 1000 + UInt64($0.offset)) }
    + namedConvTransposeProblems.enumerated().map { ($0.element, 2000 + UInt64($0.offset)) }

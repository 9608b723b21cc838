import KernelCheckCore
import KernelCheckProblems
import Testing
@testable import KernelCheckTiled
import KernelCheckTestSupport

// Tiled convolution vs. naive Float64 loops written here from ConvProblem's formula, with
// integer fills so fp32 accumulation is exact and results must be equal (==), not close.

/// Every product `w[wOff] · small[smallOff] · big[bigOff]` of a convolution-shaped op, by
/// direct nested loops over the formula `big index = o·s − pb + k·d` per dimension.
///
/// For a convolution the "small" side is `y` (positions `o`) and the "big" side is `x`; for a
/// transposed convolution the small side is `x` and the big side is `y`. In both, the
/// weight's first dimension is the small side's channel and its second the big side's
/// channel within the group: `w[smallChannel, bigLocal, k…]`.
struct NaiveConvGeometry {
    var batch: Int
    var groups: Int
    var smallChannels: Int     // all groups
    var bigChannels: Int       // all groups
    var smallSize: [Int]
    var bigSize: [Int]
    var kernel: [Int]
    var stride: [Int]
    var dilation: [Int]
    var padBegin: [Int]

    init(_ p: ConvProblem) {
        batch = p.batch; groups = p.groups; smallChannels = p.outChannels; bigChannels = p.inChannels
        smallSize = p.outputSize; bigSize = p.inputSize
        kernel = p.kernel; stride = p.stride; dilation = p.dilation; padBegin = p.padBegin
    }

    init(_ p: ConvTransposeProblem) {
        batch = p.batch; groups = p.groups; smallChannels = p.inChannels; bigChannels = p.outChannels
        smallSize = p.inputSize; bigSize = p.outputSize
        kernel = p.kernel; stride = p.stride; dilation = p.dilation; padBegin = p.padBegin
    }

    /// Calls `body(smallOffset, bigOffset, weightOffset)` once per product.
    func forEachProduct(_ body: (Int, Int, Int) -> Void) {
        let smallCount = smallSize.reduce(1, *), bigCount = bigSize.reduce(1, *), taps = kernel.reduce(1, *)
        let bigPerGroup = bigChannels / groups, smallPerGroup = smallChannels / groups
        for n in 0..<batch {
            for sc in 0..<smallChannels {
                let g = sc / smallPerGroup
                for bl in 0..<bigPerGroup {
                    let bc = g * bigPerGroup + bl
                    for o in 0..<smallCount {
                        for t in 0..<taps {
                            // Decompose o and t into multi-indices (last dimension fastest).
                            var oRest = o, tRest = t, bigFlat = 0, bigStride = 1, inside = true
                            for dim in stride.indices.reversed() {
                                let oi = oRest % smallSize[dim], ki = tRest % kernel[dim]
                                oRest /= smallSize[dim]; tRest /= kernel[dim]
                                let i = oi * stride[dim] - padBegin[dim] + ki * dilation[dim]
                                if i < 0 || i >= bigSize[dim] { inside = false }
                                bigFlat += i * bigStride
                                bigStride *= bigSize[dim]
                            }
                            if inside {
                                body((n * smallChannels + sc) * smallCount + o,
                                     (n * bigChannels + bc) * bigCount + bigFlat,
                                     (sc * bigPerGroup + bl) * taps + t)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Integer or real fills of one role, as Float.
func filled(_ count: Int, _ fill: Fill, seed: UInt64, role: String) -> [Float] {
    fill.tensor([count], seed: seed, role: role, as: Float.self).storage
}

let exactFill = Fill.integers(k: 3, density: 0.7)
let realFill = Fill.uniform(low: -1, high: 1)

/// Tuning that makes tiny problems take every path of the lowering: several column blocks
/// cutting output lines, K split into slabs (a split forward reduction, backward-data row
/// slabs, backward-weights column slabs), image chunks with partial dW.
let tinyTuning = ConvLoweringTuning(columnBudget: 12, minimumColumnBlock: 3, minimumSlabRows: 2,
                                    reductionItemsTarget: 8, itemsPerThread: 2, direct: false)

/// The direct paths (no im2col: forward, backward-data as the adjoint's forward,
/// backward-weights) on every shape they can take, however few of their lanes or channels are
/// useful, with one weight panel per pass over the pixels and bands of 2 rows of 16.
let directTuning: ConvLoweringTuning = {
    var t = ConvLoweringTuning.standard
    t.directMinimumEfficiency = 0
    t.directMinimumChannels = 1
    t.directWeightBudget = 1
    t.directBandPixels = 32
    t.directBandFloats = 1
    return t
}()

/// The dual lowering (buffer over input positions, for few output channels), forced.
let dualTuning: ConvLoweringTuning = {
    var t = tinyTuning
    t.lowering = .dual
    return t
}()

/// Backward-weights through dY and colᵀ panels packed from the padded input, on every shape
/// the direct geometry takes (the lane accumulators ruled out), in blocks of whole rows
/// (rectangles of pixels) where rows are at most 10 pixels, else in blocks of 10 pixels.
let panelTuning: ConvLoweringTuning = {
    var t = directTuning
    t.directAccumulatorBudget = 0
    t.panelWeightsMinimum = 1
    t.panelWeightsBlock = 10
    // Its forward keeps two vectors of one image per tile where `directTuning` pairs images.
    t.directImagePairs = false
    return t
}()

/// The im2col lowering, forced (the default picks the dual one for some shapes).
let im2colTuning: ConvLoweringTuning = {
    var t = ConvLoweringTuning.standard
    t.lowering = .im2col
    t.direct = false
    return t
}()

/// Backward-weights computing dWᵀ = col · dYᵀ, forced, on tiny tiles.
let transposedTuning: ConvLoweringTuning = {
    var t = tinyTuning
    t.weightGradientOrientation = .transposed
    return t
}()

/// The (tuning, threads) combinations every exact test runs.
let loweringVariants: [(ConvLoweringTuning, Int)] = [
    (.standard, 1), (im2colTuning, 2), (tinyTuning, 2), (tinyTuning, 3), (dualTuning, 1), (dualTuning, 3),
    (transposedTuning, 2), (directTuning, 1), (directTuning, 3),
    (panelTuning, 1), (panelTuning, 3),
]

/// Runs `body` on an output buffer pre-filled with a sentinel, with guard elements after it,
/// and checks the guard is intact (no out-of-bounds write). Returns the output.
func withGuardedOutput(_ count: Int, _ context: String,
                       _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    let guardCount = 17, sentinel: Float = -7777
    var buffer = [Float](repeating: sentinel, count: count + guardCount)
    buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    #expect(buffer[count...].allSatisfy { $0 == sentinel }, "out-of-bounds write: \(context)")
    return Array(buffer[..<count])
}

/// A valid pointer to the array's elements, also for an empty array (a kernel given an empty
/// tensor must not read it, but the API takes non-optional pointers).
func withPointer<R>(_ a: [Float], _ body: (UnsafePointer<Float>) -> R) -> R {
    let storage = a.isEmpty ? [Float.nan] : a
    return storage.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// `withPointer` for an optional array (a layer's bias): `nil` stays `nil`.
func withOptionalPointer<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let a else { return body(nil) }
    return withPointer(a) { body($0) }
}

/// Exact comparison with the first mismatch named.
func expectEqual(_ got: [Float], _ want: [Double], _ context: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.count == want.count, "\(context): \(got.count) elements, expected \(want.count)",
            sourceLocation: sourceLocation)
    let mismatches = zip(got, want).enumerated().filter { Double($0.element.0) != $0.element.1 }
    if let first = mismatches.first {
        let message = "\(context): \(mismatches.count)/\(got.count) mismatched, first at \(first.offset): "
            + "got \(first.element.0), expected \(first.element.1)"
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}

/// Bit-for-bit comparison of two runs.
func expectIdentical(_ a: [Float], _ b: [Float], _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(context): runs differ", sourceLocation: sourceLocation)
}

// MARK: - Random problems

/// A tiny random valid convolution of rank 1–3: groups (incl. depthwise), dilation, strides
/// larger than the kernel, asymmetric padding, batch 1–3, 1×1 kernels.
func randomConvProblem(seed: UInt64) -> ConvProblem {
    var rng = SeededRNG(seed: seed, stream: "conv-problem")
    while true {
        let rank = rng.nextInt(in: 1...3)
        let maxSize = [12, 7, 4][rank - 1]
        let groups = [1, 1, 2, 3][rng.nextInt(in: 0...3)]
        let depthwise = rng.nextInt(in: 0...4) == 0
        let cinPer = depthwise ? 1 : rng.nextInt(in: 1...3)
        let coutPer = rng.nextInt(in: 1...3)
        let g = depthwise ? rng.nextInt(in: 2...4) : groups
        let pointwise = rng.nextInt(in: 0...5) == 0
        var size: [Int] = [], k: [Int] = [], s: [Int] = [], d: [Int] = [], pb: [Int] = [], pe: [Int] = []
        for _ in 0..<rank {
            size.append(rng.nextInt(in: 1...maxSize))
            k.append(pointwise ? 1 : rng.nextInt(in: 1...3))
            s.append(pointwise ? 1 : rng.nextInt(in: 1...4))
            d.append(pointwise ? 1 : rng.nextInt(in: 1...2))
            pb.append(pointwise ? 0 : rng.nextInt(in: 0...2))
            pe.append(pointwise ? 0 : rng.nextInt(in: 0...2))
        }
        let p = ConvProblem(batch: rng.nextInt(in: 1...3), inChannels: g * cinPer, outChannels: g * coutPer,
                            groups: g, inputSize: size, kernel: k, stride: s, dilation: d,
                            padding: .explicit(begin: pb, end: pe), hasBias: rng.nextInt(in: 0...1) == 1)
        if (try? p.validate()) != nil { return p }
    }
}

/// Named problems whose backward-data runs by output phases (`ConvLowering+DirectPhases.swift`)
/// under `directTuning`, or falls back, as `ConvPhaseTests` checks by index here.
let namedPhaseConvProblems: [ConvProblem] = [
    // stride 2 with k3 (phases of 2 and 1 taps per dimension), 5 channels of dX.
    ConvProblem(batch: 2, inChannels: 5, outChannels: 3, inputSize: [7, 9], kernel: [3, 3], stride: [2, 2],
                padding: .explicit(begin: [1, 1], end: [1, 1]), hasBias: true),
    // stride 3 with k4 and k6 (k a multiple of s), 9 phases, positive phase paddings.
    ConvProblem(batch: 1, inChannels: 3, outChannels: 2, inputSize: [8, 10], kernel: [4, 4], stride: [3, 3]),
    ConvProblem(batch: 1, inChannels: 2, outChannels: 4, inputSize: [9, 11], kernel: [6, 6], stride: [3, 3],
                padding: .explicit(begin: [1, 1], end: [2, 1])),
    // dilation 2 with stride 2: the odd phases have no taps, their dX is zero.
    ConvProblem(batch: 2, inChannels: 2, outChannels: 3, inputSize: [9, 8], kernel: [3, 2], stride: [2, 2],
                dilation: [2, 2], padding: .explicit(begin: [2, 1], end: [0, 1])),
    // k4 s3 pb2: phase 1 has one tap (m = 0) but q0 = 1, padding −1: the whole problem
    // falls back to im2col.
    ConvProblem(batch: 1, inChannels: 2, outChannels: 3, inputSize: [8, 8], kernel: [4, 4], stride: [3, 3],
                padding: .explicit(begin: [2, 2], end: [2, 2])),
    // Groups, k4 s2 p1 (the GAN layer's adjoint, tiny).
    ConvProblem(batch: 1, inChannels: 4, outChannels: 6, groups: 2, inputSize: [6, 6], kernel: [4, 4],
                stride: [2, 2], padding: .explicit(begin: [1, 1], end: [1, 1])),
    // 1-D stride 2 k5, and height stride 2 with width stride 1.
    ConvProblem(batch: 2, inChannels: 2, outChannels: 3, inputSize: [13], kernel: [5], stride: [2],
                padding: .explicit(begin: [2], end: [2])),
    ConvProblem(batch: 1, inChannels: 3, outChannels: 2, inputSize: [6, 5], kernel: [3, 3], stride: [2, 1],
                padding: .explicit(begin: [1, 1], end: [1, 1])),
]

/// Named problems for the corners the random sweep may miss.
let namedConvProblems: [ConvProblem] = [
    // 1×1 stride 1 unpadded: col(X) = X, no im2col.
    ConvProblem(batch: 2, inChannels: 3, outChannels: 4, inputSize: [3, 5], kernel: [1, 1]),
    // 1×1 stride 2 (ResNet projection): strided gather.
    ConvProblem(batch: 2, inChannels: 3, outChannels: 2, inputSize: [5, 4], kernel: [1, 1], stride: [2, 2]),
    // stride > kernel: input positions skipped entirely.
    ConvProblem(batch: 1, inChannels: 2, outChannels: 2, inputSize: [9], kernel: [2], stride: [4]),
    // dilation with stride and asymmetric padding, 3-D.
    ConvProblem(batch: 1, inChannels: 2, outChannels: 3, inputSize: [4, 5, 3], kernel: [2, 3, 1], stride: [2, 1, 2],
                dilation: [2, 2, 1], padding: .explicit(begin: [1, 0, 2], end: [0, 2, 1])),
    // depthwise 2-D.
    ConvProblem(batch: 2, inChannels: 4, outChannels: 4, groups: 4, inputSize: [5, 5], kernel: [3, 3],
                padding: .explicit(begin: [1, 1], end: [1, 1])),
    // depthwise with channel multiplier 2.
    ConvProblem(batch: 1, inChannels: 3, outChannels: 6, groups: 3, inputSize: [6], kernel: [3], dilation: [2],
                padding: .same),
    // Padding wider than the kernel reach: some outputs see only padding (= bias).
    ConvProblem(batch: 1, inChannels: 2, outChannels: 2, inputSize: [3, 2], kernel: [2, 2],
                padding: .explicit(begin: [3, 2], end: [3, 2])),
    // Direct forward, tiles written into y (width 16, even vector count), 12 + 1 channels.
    ConvProblem(batch: 2, inChannels: 3, outChannels: 13, inputSize: [4, 16], kernel: [3, 3],
                padding: .explicit(begin: [1, 2], end: [1, 0]), hasBias: true),
    // Direct forward, flattened pixels (width 7 + 2 padding), 12 + 8 channels, dilation.
    ConvProblem(batch: 3, inChannels: 2, outChannels: 20, inputSize: [7, 7], kernel: [3, 3], dilation: [1, 2],
                padding: .explicit(begin: [1, 2], end: [1, 2]), hasBias: true),
    // Direct forward, flattened pixels on rows of 40 + 1 padding: tiles whose two vectors lie
    // in output rows go straight into y (tile 0: columns 0–15 and 16–31 of row 0), the
    // others through the scratch tile; 12 + 1 channels (a partial panel), bias.
    ConvProblem(batch: 2, inChannels: 3, outChannels: 13, inputSize: [6, 40], kernel: [3, 3],
                padding: .explicit(begin: [1, 1], end: [1, 1]), hasBias: true),
    // Flattened rows of 40 + 1 shared padding column on the left, 2 on the right: a row's
    // last tap reads the first zero of the next row (backward-data: 2 left, 1 right).
    ConvProblem(batch: 2, inChannels: 3, outChannels: 13, inputSize: [6, 40], kernel: [3, 4],
                padding: .explicit(begin: [1, 1], end: [1, 2]), hasBias: true),
    // Direct forward, rows of 32 with an odd vector count and height stride 2, 12 + 4 channels.
    ConvProblem(batch: 1, inChannels: 2, outChannels: 16, inputSize: [5, 32], kernel: [2, 3], stride: [2, 1],
                padding: .explicit(begin: [0, 1], end: [0, 1]), hasBias: true),
    // Direct backward-weights: 2 groups, 3 channels per group (a partial 4-channel block),
    // 2 × 3 × 2 = 12 taps, output rows in bands of 2 (a short last band), height dilation.
    ConvProblem(batch: 2, inChannels: 4, outChannels: 6, groups: 2, inputSize: [9, 16], kernel: [3, 2],
                dilation: [2, 1], padding: .explicit(begin: [1, 1], end: [2, 0])),
    // Direct backward-weights: 5 taps (a partial 6-tap tile), 1-D.
    ConvProblem(batch: 3, inChannels: 1, outChannels: 5, inputSize: [49], kernel: [5], padding: .explicit(begin: [1], end: [2])),
    // Direct forward with 4, 3 and 2 output channels: wide tiles of 6, 8 and 12 vectors
    // written in place (rows of 96, 128 and 192).
    ConvProblem(batch: 2, inChannels: 2, outChannels: 4, inputSize: [98], kernel: [3], hasBias: true),
    ConvProblem(batch: 1, inChannels: 3, outChannels: 3, inputSize: [2, 128], kernel: [2, 3], dilation: [1, 2],
                padding: .explicit(begin: [1, 2], end: [0, 2]), hasBias: true),
    ConvProblem(batch: 2, inChannels: 2, outChannels: 2, inputSize: [194], kernel: [3], hasBias: true),
    // Direct paths with width stride > 1 (input rows split into width phases): the GAN
    // transposed conv's stride-2 k4 p1 adjoint, 16 output columns written in place.
    ConvProblem(batch: 2, inChannels: 3, outChannels: 13, inputSize: [6, 32], kernel: [4, 4], stride: [2, 2],
                padding: .explicit(begin: [1, 1], end: [1, 1]), hasBias: true),
    // Width stride 3 with dilation 2 (taps in all three phases), 4 channels: wide tiles on
    // rows of 96 columns, 1-D.
    ConvProblem(batch: 2, inChannels: 2, outChannels: 4, inputSize: [290], kernel: [3], stride: [3], dilation: [2],
                padding: .explicit(begin: [1], end: [1]), hasBias: true),
    // Stride-2 rows of 29 and 35 outputs: im2col's stride-2 gather and col2im's scatter-add
    // take 16- and 8-wide vector steps, then a scalar tail (with padding, from an offset).
    ConvProblem(batch: 1, inChannels: 2, outChannels: 3, inputSize: [3, 58], kernel: [1, 1], stride: [2, 2], hasBias: true),
    ConvProblem(batch: 1, inChannels: 1, outChannels: 2, inputSize: [2, 70], kernel: [1, 3], stride: [1, 2],
                padding: .explicit(begin: [0, 1], end: [0, 0])),
    // Width stride 2, dilation 3, odd kernel and asymmetric padding: phase offsets 0, 1·seg + 1, 0·seg + 3.
    ConvProblem(batch: 1, inChannels: 2, outChannels: 9, inputSize: [5, 20], kernel: [2, 3], stride: [1, 2],
                dilation: [1, 3], padding: .explicit(begin: [0, 2], end: [1, 0]), hasBias: true),
] + namedPairConvProblems + namedPhaseConvProblems

/// Named problems whose direct forward (and backward-data, as the adjoint's forward) pairs
/// images: one vector of each of two images per tile, kernel rows over padding left out.
let namedPairConvProblems: [ConvProblem] = [
    // Rows of 16, k5 p2 (the GAN 128 → 256 layer, tiny): 3 images (a pair, then one alone
    // on 2-vector tiles with an odd row count, through the scratch tile), 13 channels (two
    // 8-row panels, the second partial); backward-data pairs the 8 channels of dX.
    ConvProblem(batch: 3, inChannels: 8, outChannels: 13, inputSize: [5, 16], kernel: [5, 5],
                padding: .explicit(begin: [2, 2], end: [2, 2]), hasBias: true),
    // Rows of 48 (3 vectors), height stride 2 and dilation 2, padding past the kernel's
    // reach at the top (output rows with no kernel row inside the input), 12 channels.
    ConvProblem(batch: 2, inChannels: 3, outChannels: 12, inputSize: [6, 48], kernel: [3, 3], stride: [2, 1],
                dilation: [2, 1], padding: .explicit(begin: [5, 1], end: [1, 1])),
]

/// Named problems whose panel backward-weights (`panelTuning`) splits each kernel position's
/// panels evenly among the workers, so each pads only its input channels: 64 channels on two
/// threads, 96 on three (three panels per position), with padding and a width stride of 2.
/// `channels`: the input channels each worker pads.
let namedChannelShareConvProblems: [(problem: ConvProblem, threads: Int, channels: [Range<Int>])] = [
    (ConvProblem(batch: 2, inChannels: 64, outChannels: 17, inputSize: [5, 6], kernel: [3, 3],
                 padding: .explicit(begin: [1, 1], end: [1, 1]), hasBias: true), 2, [0..<32, 32..<64]),
    (ConvProblem(batch: 2, inChannels: 96, outChannels: 20, inputSize: [6, 9], kernel: [2, 3], stride: [1, 2],
                 padding: .explicit(begin: [1, 2], end: [0, 1])), 3, [0..<32, 32..<64, 64..<96]),
]

// MARK: - Naive expectations

func naiveConvForward(_ p: ConvProblem, x: [Float], w: [Float], b: [Float]?) -> [Double] {
    let spatial = p.outputSize.reduce(1, *)
    var y = [Double](repeating: 0, count: p.batch * p.outChannels * spatial)
    if let b { for i in y.indices { y[i] = Double(b[(i / spatial) % p.outChannels]) } }
    NaiveConvGeometry(p).forEachProduct { yi, xi, wi in y[yi] += Double(w[wi]) * Double(x[xi]) }
    return y
}

func naiveConvBackwardData(_ p: ConvProblem, dy: [Float], w: [Float]) -> [Double] {
    var dx = [Double](repeating: 0, count: p.xShape.reduce(1, *))
    NaiveConvGeometry(p).forEachProduct { yi, xi, wi in dx[xi] += Double(w[wi]) * Double(dy[yi]) }
    return dx
}

func naiveConvBackwardWeights(_ p: ConvProblem, x: [Float], dy: [Float]) -> [Double] {
    var dw = [Double](repeating: 0, count: p.wShape.reduce(1, *))
    NaiveConvGeometry(p).forEachProduct { yi, xi, wi in dw[wi] += Double(dy[yi]) * Double(x[xi]) }
    return dw
}

func naiveChannelSums(_ t: [Float], batch: Int, channels: Int, spatial: Int) -> [Double] {
    var s = [Double](repeating: 0, count: channels)
    for (i, v) in t.enumerated() { s[(i / spatial) % channels] += Double(v) }
    return s
}

// MARK: - Running the tiled kernels on arrays

struct ConvRun: TiledLayerRun {
    let p: ConvProblem
    var tuning = ConvLoweringTuning.standard
    var threads = 1

    func forward(x: [Float], w: [Float], b: [Float]?) -> [Float] {
        withGuardedOutput(p.yShape.reduce(1, *), context) { y in
            withPointer(x) { x in withPointer(w) { w in
                if let b {
                    withPointer(b) { b in
                        Tiled.convForward(p, x: x, w: w, b: b, y: y,
                                          threads: threads, tuning: tuning)
                    }
                } else {
                    Tiled.convForward(p, x: x, w: w, b: nil, y: y, threads: threads, tuning: tuning)
                }
            } }
        }
    }

    func backwardData(dy: [Float], w: [Float]) -> [Float] {
        withGuardedOutput(p.xShape.reduce(1, *), context) { dx in
            withPointer(dy) { dy in withPointer(w) { w in
                Tiled.convBackwardData(p, dy: dy, w: w, dx: dx, threads: threads, tuning: tuning)
            } }
        }
    }

    func backwardWeights(x: [Float], dy: [Float]) -> [Float] {
        withGuardedOutput(p.wShape.reduce(1, *), context) { dw in
            withPointer(x) { x in withPointer(dy) { dy in
                Tiled.convBackwardWeights(p, x: x, dy: dy, dw: dw, threads: threads, tuning: tuning)
            } }
        }
    }

    func backwardBias(dy: [Float]) -> [Float] {
        withGuardedOutput(p.outChannels, context) { db in
            withPointer(dy) { dy in Tiled.convBackwardBias(p, dy: dy, db: db, threads: threads) }
        }
    }
}

/// Every direction of `p` with integer fills, against the naive loops, for every lowering variant.
func checkConvExactly(_ p: ConvProblem, seed: UInt64) {
    checkLayerExactly(p, seed: seed, ConvRun.self, forward: naiveConvForward(_:x:w:b:),
                      backwardData: naiveConvBackwardData(_:dy:w:), backwardWeights: naiveConvBackwardWeights(_:x:dy:))
}

/// A tiled weighted layer (convolution or transposed convolution) under one lowering tuning
/// and thread count, run on plain arrays with guarded outputs.
protocol TiledLayerRun {
    associatedtype Layer: ConvolutionGeometry
    var p: Layer { get }
    var tuning: ConvLoweringTuning { get }
    var threads: Int { get }
    init(p: Layer, tuning: ConvLoweringTuning, threads: Int)
    func forward(x: [Float], w: [Float], b: [Float]?) -> [Float]
    func backwardData(dy: [Float], w: [Float]) -> [Float]
    func backwardWeights(x: [Float], dy: [Float]) -> [Float]
    func backwardBias(dy: [Float]) -> [Float]
}

extension TiledLayerRun {
    var context: String {
        "\(p) threads=\(threads) columnBudget=\(tuning.columnBudget) lowering=\(tuning.lowering) direct=\(tuning.direct ? tuning.directMinimumEfficiency : -1) dW=\(tuning.weightGradientOrientation)"
    }
}

/// The exact check both layers share: integer fills, every direction against its naive loop,
/// every (tuning, threads) variant; the bias gradient against plain channel sums.
func checkLayerExactly<R: TiledLayerRun>(
    _ p: R.Layer, seed: UInt64, _ run: R.Type,
    forward: (R.Layer, [Float], [Float], [Float]?) -> [Double],
    backwardData: (R.Layer, [Float], [Float]) -> [Double],
    backwardWeights: (R.Layer, [Float], [Float]) -> [Double]
) {
    let x = filled(p.xShape.reduce(1, *), exactFill, seed: seed, role: "x")
    let w = filled(p.wShape.reduce(1, *), exactFill, seed: seed, role: "w")
    let b = p.hasBias ? filled(p.outChannels, exactFill, seed: seed, role: "b") : nil
    let dy = filled(p.yShape.reduce(1, *), exactFill, seed: seed, role: "dy")
    let y = forward(p, x, w, b)
    let dx = backwardData(p, dy, w)
    let dw = backwardWeights(p, x, dy)
    for (tuning, threads) in loweringVariants {
        let run = R(p: p, tuning: tuning, threads: threads)
        expectEqual(run.forward(x: x, w: w, b: b), y, "fwd \(run.context)")
        expectEqual(run.backwardData(dy: dy, w: w), dx, "bwd_data \(run.context)")
        expectEqual(run.backwardWeights(x: x, dy: dy), dw, "bwd_weights \(run.context)")
    }
    if p.hasBias {
        let db = naiveChannelSums(dy, batch: p.batch, channels: p.outChannels, spatial: p.outputSize.reduce(1, *))
        expectEqual(R(p: p, tuning: .standard, threads: 2).backwardBias(dy: dy), db, "bwd_bias \(p)")
    }
}

// MARK: - Tests

@Suite("Tiled convolution: every direction equals naive loops exactly (integer fills)")
struct ConvExactTests {
    @Test("random tiny problems (1-D/2-D/3-D, groups, depthwise, dilation, stride, asymmetric padding)",
          arguments: 0..<32)
    func randomProblem(seed: Int) {
        checkConvExactly(randomConvProblem(seed: UInt64(seed)), seed: UInt64(seed))
    }

    @Test("the image-pair problems pair images forward (and backward, as one unit-stride phase), not without the flag",
          arguments: namedPairConvProblems.indices)
    func pairedPaths(index: Int) throws {
        let problem = namedPairConvProblems[index]
        for tuning in [directTuning, .standard] {
            let lowering = ConvLowering(problem, tuning: tuning)
            #expect(lowering.pairsImages(try #require(lowering.directPlan)))
            if problem.stride.allSatisfy({ $0 == 1 }) {
                let phases = try #require(lowering.directAdjoint).phases
                #expect(phases.count == 1 && phases[0].output == phases[0].lowering.contiguousOutput)
                #expect(phases[0].lowering.pairsImages(phases[0].plan))
            }
        }
        let unpaired = ConvLowering(problem, tuning: panelTuning)
        #expect(!unpaired.pairsImages(try #require(unpaired.directPlan)))
    }

    @Test("panel backward-weights workers share each kernel position's channels, exactly",
          arguments: namedChannelShareConvProblems.indices)
    func channelShares(index: Int) throws {
        let (p, threads, channels) = namedChannelShareConvProblems[index]
        let lowering = ConvLowering(p, tuning: panelTuning)
        let plan = try #require(lowering.directPlan)
        #expect(lowering.usesPanelWeights(plan) && lowering.panelTapOrder() != nil)
        let panels = (lowering.columnRows + 31) / 32
        let shares = lowering.panelShares(panels: panels, ordered: true, pieces: threads)
        #expect(shares.channels == channels)
        #expect(shares.items.flatMap { $0 }.sorted() == Array(0..<panels))
        let seed = 3000 + UInt64(index)
        let x = filled(p.xShape.reduce(1, *), exactFill, seed: seed, role: "x")
        let dy = filled(p.yShape.reduce(1, *), exactFill, seed: seed, role: "dy")
        let run = ConvRun(p: p, tuning: panelTuning, threads: threads)
        expectEqual(run.backwardWeights(x: x, dy: dy), naiveConvBackwardWeights(p, x: x, dy: dy),
                    "bwd_weights \(run.context)")
    }

    @Test("the flattened rows-of-40 problem has tiles in place and tiles dealt out")
    func flattenedInPlace() throws {
        let problem = try #require(namedConvProblems.first { $0.inputSize == [6, 40] && $0.outChannels == 13 })
        let lowering = ConvLowering(problem, tuning: .standard)
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

    @Test("flattened rows share their padding columns with the next row",
          arguments: sharedPaddingWidths.indices)
    func sharedPaddingWidth(index: Int) throws {
        let (w, k, begin, end, width) = Self.sharedPaddingWidths[index]
        let problem = ConvProblem(batch: 1, inChannels: 2, outChannels: 13, inputSize: [6, w], kernel: [3, k],
                                  padding: .explicit(begin: [1, begin], end: [1, end]))
        let plan = try #require(ConvLowering(problem, tuning: .standard).directPlan)
        #expect(plan.width == width && plan.flattened)
        checkConvExactly(problem, seed: 4000 + UInt64(index))
    }

    @Test("named corner problems", arguments: namedConvProblems.indices)
    func namedProblem(index: Int) {
        checkConvExactly(namedConvProblems[index], seed: 1000 + UInt64(index))
    }

    @Test("the sweep covers the corners it claims")
    func sweepCoverage() {
        let problems = (0..<32).map { randomConvProblem(seed: UInt64($0)) }
        #expect(Set(problems.map(\.spatialRank)) == [1, 2, 3])
        #expect(problems.contains { $0.groups > 1 && $0.groups == $0.inChannels })  // depthwise
        #expect(problems.contains { $0.groups > 1 && $0.groups < $0.inChannels })
        #expect(problems.contains { $0.dilation.contains { $0 > 1 } && $0.stride.contains { $0 > 1 } })
        #expect(problems.contains { zip($0.stride, $0.kernel).contains { $0 > $1 } })
        #expect(problems.contains { $0.padBegin != $0.padEnd })
        #expect(problems.contains { $0.batch == 1 })
        #expect(problems.contains { $0.kernel.allSatisfy { $0 == 1 } })
    }

    /// Hand-derived: x = [1 2 3 4], w = [1 −1], b = 10, stride 1, no padding:
    /// y[o] = 10 + x[o] − x[o+1] = [9, 9, 9]; dy = [1 2 3] → dx = [1, 1, 1, −3]
    /// (dx[i] = dy[i]·1 + dy[i−1]·(−1)); dw = [Σ dy·x[o], Σ dy·x[o+1]] = [14, 20]; db = 6.
    @Test("hand-derived 1-D example")
    func handDerived() {
        let p = ConvProblem(batch: 1, inChannels: 1, outChannels: 1, inputSize: [4], kernel: [2])
        let run = ConvRun(p: p, threads: 2)
        #expect(run.forward(x: [1, 2, 3, 4], w: [1, -1], b: [10]) == [9, 9, 9])
        #expect(run.backwardData(dy: [1, 2, 3], w: [1, -1]) == [1, 1, 1, -3])
        #expect(run.backwardWeights(x: [1, 2, 3, 4], dy: [1, 2, 3]) == [14, 20])
        #expect(run.backwardBias(dy: [1, 2, 3]) == [6])
    }
}

@Suite("Tiled convolution: backward-data by output phases")
struct ConvPhaseTests {
    /// Phases (with outputs and taps) that `directAdjoint` plans for `namedPhaseConvProblems[index]`
    /// under `directTuning`, or nil when it falls back.
    static func phases(_ index: Int) -> (count: Int, zeroFill: Bool)? {
        plan(namedPhaseConvProblems[index])
    }

    static func plan(_ p: ConvProblem) -> (count: Int, zeroFill: Bool)? {
        ConvLowering(p, tuning: directTuning).directAdjoint.map { ($0.phases.count, $0.zeroFill) }
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
        let p = ConvTransposeProblem(batch: 16, inChannels: 256, outChannels: 256, inputSize: [16, 16], kernel: [4, 4],
                                     stride: [2, 2], padding: .explicit(begin: [1, 1], end: [1, 1]))
        let adjoint = try #require(ConvLowering(adjointOf: p, tuning: .standard).directAdjoint)
        #expect(!adjoint.zeroFill)
        #expect(adjoint.phases.map(\.output.origin) == [33, 32, 1, 0])
        #expect(adjoint.phases.map(\.heightTaps) == [[2, 0], [2, 0], [3, 1], [3, 1]])
        #expect(adjoint.phases.map(\.widthTaps) == [[2, 0], [3, 1], [2, 0], [3, 1]])
        for phase in adjoint.phases {
            #expect(phase.lowering.columnRows == 1024)
            #expect(phase.lowering.outSize == [1, 16, 16])
            #expect(phase.lowering.padBegin[1...] == [phase.heightTaps == [2, 0] ? 0 : 1,
                                                      phase.widthTaps == [2, 0] ? 0 : 1])
            #expect(phase.output.rowStride == 64 && phase.output.columnStride == 2)
        }
    }

    /// Identity: per dimension the phases' positions `first + s·u` (u < count) cover every
    /// dX index exactly once, and each phase's taps are exactly those with k·d ≡ r (mod s).
    @Test("phase positions partition dX and phase taps partition the kernel", arguments: namedConvProblems.indices)
    func phasesPartition(index: Int) {
        let lowering = ConvLowering(namedConvProblems[index], tuning: directTuning)
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
}

@Suite("Tiled convolution: bit-identical for any thread count (real fills)")
struct ConvDeterminismTests {
    static let problems: [ConvProblem] = [
        // Several images → items run in parallel at 2 threads, one after another at 3.
        ConvProblem(batch: 4, inChannels: 3, outChannels: 5, inputSize: [7, 6], kernel: [3, 3],
                    padding: .explicit(begin: [1, 0], end: [2, 1]), hasBias: true),
        ConvProblem(batch: 5, inChannels: 4, outChannels: 6, groups: 2, inputSize: [9], kernel: [3], stride: [2],
                    dilation: [2], padding: .same, hasBias: true),
        ConvProblem(batch: 1, inChannels: 2, outChannels: 3, inputSize: [3, 4, 5], kernel: [2, 2, 2],
                    padding: .explicit(begin: [1, 1, 1], end: [0, 0, 0]), hasBias: true),
        ConvProblem(batch: 3, inChannels: 6, outChannels: 4, inputSize: [5, 5], kernel: [1, 1], hasBias: true),
        // Depthwise, many groups: direct backward-weights workers on different groups at once.
        ConvProblem(batch: 3, inChannels: 24, outChannels: 24, groups: 24, inputSize: [13, 11], kernel: [2, 2],
                    padding: .sameLower, hasBias: true),
    ]

    @Test("1, 2 and 3 threads give the same bits in every direction", arguments: problems.indices)
    func threadsAgree(index: Int) {
        let p = Self.problems[index]
        let seed = UInt64(77 + index)
        let x = filled(p.xShape.reduce(1, *), realFill, seed: seed, role: "x")
        let w = filled(p.wShape.reduce(1, *), realFill, seed: seed, role: "w")
        let b = filled(p.outChannels, realFill, seed: seed, role: "b")
        let dy = filled(p.yShape.reduce(1, *), realFill, seed: seed, role: "dy")
        for tuning in [ConvLoweringTuning.standard, tinyTuning, dualTuning, transposedTuning, directTuning, panelTuning] {
            let one = ConvRun(p: p, tuning: tuning, threads: 1)
            let y = one.forward(x: x, w: w, b: b), dx = one.backwardData(dy: dy, w: w)
            let dw = one.backwardWeights(x: x, dy: dy), db = one.backwardBias(dy: dy)
            for threads in [2, 3] {
                let run = ConvRun(p: p, tuning: tuning, threads: threads)
                expectIdentical(run.forward(x: x, w: w, b: b), y, "fwd \(run.context)")
                expectIdentical(run.backwardData(dy: dy, w: w), dx, "bwd_data \(run.context)")
                expectIdentical(run.backwardWeights(x: x, dy: dy), dw, "bwd_weights \(run.context)")
                expectIdentical(run.backwardBias(dy: dy), db, "bwd_bias \(run.context)")
            }
        }
    }
}

@Suite("Tiled convolution: zero-size problems")
struct ConvZeroSizeTests {
    @Test("empty batch, channels or output run without touching memory they do not own")
    func emptyShapes() throws {
        let problems = [
            ConvProblem(batch: 0, inChannels: 2, outChannels: 3, inputSize: [4, 4], kernel: [3, 3], hasBias: true),
            ConvProblem(batch: 2, inChannels: 2, outChannels: 0, inputSize: [4], kernel: [3], hasBias: true),
            ConvProblem(batch: 2, inChannels: 0, outChannels: 3, inputSize: [4], kernel: [3], hasBias: true),
            // Input of size 0: every output sees only padding.
            ConvProblem(batch: 2, inChannels: 2, outChannels: 3, inputSize: [0, 2], kernel: [1, 1],
                        padding: .explicit(begin: [1, 0], end: [1, 0]), hasBias: true),
        ]
        for p in problems {
            try p.validate()
            checkConvExactly(p, seed: 5)
        }
        // With no input channels the output is the bias, and dW/dX are empty.
        let p = problems[2]
        let y = ConvRun(p: p, threads: 2).forward(x: [], w: [], b: [1, 2, 3])
        #expect(y == [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
    }
}

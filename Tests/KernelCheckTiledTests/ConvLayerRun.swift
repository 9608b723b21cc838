import KernelCheckCore
import KernelCheckProblems
import KernelCheckTestSupport
import Testing

@testable import KernelCheckTiled

// The tiled convolution and transposed convolution run on plain arrays under every lowering
// tuning, against naive Float64 sums over the ops' products (`forEachProduct`), with integer
// fills so that fp32 accumulation is exact and results must be equal (==), not close.

/// Tuning that makes tiny problems take every path of the lowering: several column blocks
/// cutting output lines, K split into slabs (a split forward reduction, backward-data row
/// slabs, backward-weights column slabs), image chunks with partial dW.
let tinyTuning = ConvTuning(
    columnBudget: 12, minimumColumnBlock: 3, minimumSlabRows: 2,
    reductionItemsTarget: 8, itemsPerThread: 2, direct: false)

/// The direct paths (no im2col: forward, backward-data as the adjoint's forward,
/// backward-weights) on every shape they can take, however few of their lanes or channels are
/// useful, with one weight panel per pass over the pixels and bands of 2 rows of 16.
let directTuning: ConvTuning = {
    var t = ConvTuning.standard
    t.directMinimumEfficiency = 0
    t.directMinimumChannels = 1
    t.directWeightBudget = 1
    t.directBandPixels = 32
    t.directBandFloats = 1
    // Its backward-weights keeps the direct kernels (`laneTuning` takes the lanes).
    t.laneWeights = false
    return t
}()

/// `directTuning` with the lane backward-weights on every shape the direct geometry takes
/// (any channel and tap count, lanes past Co zero), in blocks of 16 pixels (whole rows; one
/// row per block where rows are longer).
let laneTuning: ConvTuning = {
    var t = directTuning
    t.laneWeights = true
    t.laneWeightsMinimumChannels = 1
    t.laneWeightsMinimumFill = 0
    t.laneWeightsMinimumTaps = 1
    t.laneWeightsBlock = 16
    return t
}()

/// The dual lowering (buffer over input positions, for few output channels), forced.
let dualTuning: ConvTuning = {
    var t = tinyTuning
    t.lowering = .dual
    return t
}()

/// Backward-weights through dY and colᵀ panels packed from the padded input, on every shape
/// the direct geometry takes (the lane accumulators ruled out), in blocks of whole rows
/// (rectangles of pixels) where rows are at most 10 pixels, else in blocks of 10 pixels.
let panelTuning: ConvTuning = {
    var t = directTuning
    t.directAccumulatorBudget = 0
    t.panelWeightsMinimum = 1
    t.panelWeightsBlock = 10
    // Its forward keeps two vectors of one image per tile where `directTuning` pairs images.
    t.directImagePairs = false
    return t
}()

/// The im2col lowering, forced (the default picks the dual one for some shapes).
let im2colTuning: ConvTuning = {
    var t = ConvTuning.standard
    t.lowering = .im2col
    t.direct = false
    return t
}()

/// Backward-weights computing dWᵀ = col · dYᵀ, forced, on tiny tiles.
let transposedTuning: ConvTuning = {
    var t = tinyTuning
    t.weightGradientOrientation = .transposed
    return t
}()

/// The (tuning, threads) combinations every exact test runs.
let loweringVariants: [(ConvTuning, Int)] = [
    (.standard, 1), (im2colTuning, 2), (tinyTuning, 2), (tinyTuning, 3), (dualTuning, 1), (dualTuning, 3),
    (transposedTuning, 2), (laneTuning, 1), (directTuning, 3),
    (panelTuning, 1), (panelTuning, 3),
]

/// The lowerings each other kernel variant reruns: the standard plan (im2col, packed and
/// dual paths on the SGEMM), and the direct, lane and panel paths with their own register tiles.
let variantLowerings: [(ConvTuning, Int)] = [(.standard, 1), (directTuning, 3), (laneTuning, 2), (panelTuning, 2)]

/// The tiled entry points of one op, with a lowering tuning.
struct TiledKernels<Layer>: Sendable {
    let forward:
        @Sendable (
            Layer, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>?, UnsafeMutablePointer<Float>,
            Int, ConvTuning
        ) -> Void
    let backwardData:
        @Sendable (
            Layer, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
            Int, ConvTuning
        ) -> Void
    let backwardWeights:
        @Sendable (
            Layer, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
            Int, ConvTuning
        ) -> Void
    let backwardBias: @Sendable (Layer, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
}

/// Convolution and transposed convolution with their tiled entry points, so that one run
/// type and one exact check serve both.
protocol TiledConvolution: ConvolutionGeometry {
    static var kernels: TiledKernels<Self> { get }
    var padBegin: [Int] { get }
    var padEnd: [Int] { get }
}

extension ConvProblem: TiledConvolution {
    static let kernels = TiledKernels<Self>(
        forward: Tiled.convForward, backwardData: Tiled.convBackwardData,
        backwardWeights: Tiled.convBackwardWeights, backwardBias: Tiled.convBackwardBias)
}

extension ConvTransposeProblem: TiledConvolution {
    static let kernels = TiledKernels<Self>(
        forward: Tiled.convTransposeForward, backwardData: Tiled.convTransposeBackwardData,
        backwardWeights: Tiled.convTransposeBackwardWeights,
        backwardBias: Tiled.convTransposeBackwardBias)
}

extension ConvOp {
    /// The random problem of sweep case `seed` (`TestProblems`, the product's generator).
    func tiledProblem(seed: UInt64) -> any TiledConvolution {
        self == .conv ? TestProblems.conv(seed: seed) : TestProblems.convTranspose(seed: seed)
    }
}

/// A tiled layer under one lowering tuning and thread count, run on plain arrays with
/// guarded outputs.
struct LayerRun<Layer: TiledConvolution> {
    let p: Layer
    var tuning = ConvTuning.standard
    var threads = 1

    var context: String {
        "\(p) threads=\(threads) columnBudget=\(tuning.columnBudget) lowering=\(tuning.lowering) direct=\(tuning.direct ? tuning.directMinimumEfficiency : -1) dW=\(tuning.weightGradientOrientation)"
    }

    func forward(x: [Float], w: [Float], b: [Float]?) -> [Float] {
        withGuardedOutput(count(p.yShape), context) { y in
            withPointer(x) { x in
                withPointer(w) { w in
                    withOptionalPointer(b) { b in
                        Layer.kernels.forward(p, x, w, b, y, threads, tuning)
                    }
                }
            }
        }
    }

    func backwardData(dy: [Float], w: [Float]) -> [Float] {
        withGuardedOutput(count(p.xShape), context) { dx in
            withPointer(dy) { dy in withPointer(w) { w in Layer.kernels.backwardData(p, dy, w, dx, threads, tuning) } }
        }
    }

    func backwardWeights(x: [Float], dy: [Float]) -> [Float] {
        withGuardedOutput(count(p.wShape), context) { dw in
            withPointer(x) { x in withPointer(dy) { dy in Layer.kernels.backwardWeights(p, x, dy, dw, threads, tuning) }
            }
        }
    }

    func backwardBias(dy: [Float]) -> [Float] {
        withGuardedOutput(p.outChannels, context) { db in
            withPointer(dy) { dy in Layer.kernels.backwardBias(p, dy, db, threads) }
        }
    }
}

// MARK: - Naive expectations

/// The ops' formulas as Float64 sums over their products (`forEachProduct`): for a
/// convolution `y[n, co, o] += x[n, ci, o·s − pb + k·d] · w[co, ci', k]`, for a transposed one
/// `y[n, co, i·s − pb + k·d] += x[n, ci, i] · w[ci, co', k]`.
enum Naive {
    static func forward(_ p: some ConvolutionGeometry, x: [Float], w: [Float], b: [Float]?) -> [Double] {
        let plane = p.outputSize.reduce(1, *)
        var y = [Double](repeating: 0, count: count(p.yShape))
        if let b { for i in y.indices { y[i] = Double(b[(i / plane) % p.outChannels]) } }
        p.forEachProduct { yi, xi, wi in y[yi] += Double(x[xi]) * Double(w[wi]) }
        return y
    }

    static func backwardData(_ p: some ConvolutionGeometry, dy: [Float], w: [Float]) -> [Double] {
        var dx = [Double](repeating: 0, count: count(p.xShape))
        p.forEachProduct { yi, xi, wi in dx[xi] += Double(w[wi]) * Double(dy[yi]) }
        return dx
    }

    static func backwardWeights(_ p: some ConvolutionGeometry, x: [Float], dy: [Float]) -> [Double] {
        var dw = [Double](repeating: 0, count: count(p.wShape))
        p.forEachProduct { yi, xi, wi in dw[wi] += Double(dy[yi]) * Double(x[xi]) }
        return dw
    }
}

/// Every direction of `p` with integer fills against the naive sums, for every (tuning,
/// threads) pair of `lowerings`; the bias gradient against plain channel sums.
func checkExactly<Layer: TiledConvolution>(
    _ p: Layer, seed: UInt64, lowerings: [(ConvTuning, Int)] = loweringVariants
) {
    let x = TestData.filled(count(p.xShape), exactFill, seed: seed, role: "x")
    let w = TestData.filled(count(p.wShape), exactFill, seed: seed, role: "w")
    let b = p.hasBias ? TestData.filled(p.outChannels, exactFill, seed: seed, role: "b") : nil
    let dy = TestData.filled(count(p.yShape), exactFill, seed: seed, role: "dy")
    let y = Naive.forward(p, x: x, w: w, b: b)
    let dx = Naive.backwardData(p, dy: dy, w: w)
    let dw = Naive.backwardWeights(p, x: x, dy: dy)
    for (tuning, threads) in lowerings {
        let run = LayerRun(p: p, tuning: tuning, threads: threads)
        expectEqual(run.forward(x: x, w: w, b: b), y, "fwd \(run.context)")
        expectEqual(run.backwardData(dy: dy, w: w), dx, "bwd_data \(run.context)")
        expectEqual(run.backwardWeights(x: x, dy: dy), dw, "bwd_weights \(run.context)")
    }
    if p.hasBias {
        let db = channelSums(dy, channels: p.outChannels, spatial: p.outputSize.reduce(1, *))
        expectEqual(LayerRun(p: p, threads: 2).backwardBias(dy: dy), db, "bwd_bias \(p)")
    }
}

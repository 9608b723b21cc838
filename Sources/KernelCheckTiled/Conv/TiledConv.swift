import Foundation
import KernelCheckProblems

/// One convolution problem as the tiled kernels see it: per-group channel counts and the
/// spatial geometry padded to three dimensions (leading unit dimensions, so 1-D, 2-D and 3-D
/// share one description), and the tuning. Every path of the tiled convolution runs on it;
/// `ConvPlan` (`forwardPlan`, `backwardDataPlan`, `backwardWeightsPlan`) picks the path.
///
/// In matrix terms, per image `n` and group `g`:
///
/// - forward: `Y[n,g] (Co × P) = W[g] (Co × K) · col(X[n,g]) (K × P)`,
/// - backward-data: `col(dX[n,g]) = W[g]ᵀ · dY[n,g]`, then col2im scatter-adds the columns,
/// - backward-weights: `dW[g] = Σ_n dY[n,g] · col(X[n,g])ᵀ`, images in increasing order,
///
/// where `K = Ci·∏k` rows indexed by (input channel, tap…) in weight order, `P = ∏out`
/// columns indexed by output position, and
/// `col[(ci, k…), o…] = X[ci, o·s − pb + k·d]` (zero when that index falls in the padding).
/// The im2col paths build col in column blocks of bounded size, one buffer per worker
/// thread; the direct paths never build it.
///
/// The transposed convolution is the adjoint of a convolution, so it reuses this type on the
/// swapped descriptor (`init(adjointOf:)`): its forward is `backwardData`, its backward-data
/// is `forward`, its backward-weights is `backwardWeights` with `x` and `dy` exchanged.
struct TiledConv {
    var batch: Int
    let groups: Int
    /// Channels per group on the convolution's input side (`C_in/g`) and output side.
    let inChannels: Int
    let outChannels: Int
    /// Spatial sizes and geometry, padded to three dimensions.
    let inSize: [Int]
    let outSize: [Int]
    let kernel: [Int]
    let stride: [Int]
    let dilation: [Int]
    let padBegin: [Int]
    let tuning: ConvTuning

    let taps: Int
    let inSpatial: Int
    let outSpatial: Int
    /// Per dimension and per kernel tap, the output indices `lo..<hi` whose input index
    /// `o·s − pb + k·d` lies inside the input: im2col copies that range and zero-fills the rest,
    /// so its loops never test an index per element.
    let validOutputs: [[(lo: Int, hi: Int)]]
    /// 1×1, stride 1, unpadded, same size: col(X) = X. A `var` so that a backward-data
    /// phase (`TiledConv+DirectPhases.swift`) of one tap can clear it and run direct.
    var isPointwise: Bool

    /// K: rows of the column matrix.
    var columnRows: Int { inChannels * taps }
    /// Rows of the dual lowering's buffer: (output channel, tap).
    var dualRows: Int { outChannels * taps }

    /// Whether the dual lowering is used; depends only on the shape and the tuning.
    var usesDual: Bool {
        if isPointwise { return false }
        switch tuning.lowering {
        case .im2col: return false
        case .dual: return true
        case .automatic:
            let dual = dualRows * inSpatial
            return dual <= tuning.dualBudget && dual * tuning.dualAdvantage <= columnRows * outSpatial
        }
    }

    init(
        batch: Int, groups: Int, inChannelsPerGroup: Int, outChannelsPerGroup: Int,
        inputSize: [Int], outputSize: [Int], kernel: [Int], stride: [Int], dilation: [Int], padBegin: [Int],
        tuning: ConvTuning
    ) {
        let lead = 3 - inputSize.count
        func pad(_ a: [Int], _ fill: Int) -> [Int] { Array(repeating: fill, count: lead) + a }
        self.batch = batch
        self.groups = groups
        self.inChannels = inChannelsPerGroup
        self.outChannels = outChannelsPerGroup
        self.inSize = pad(inputSize, 1)
        self.outSize = pad(outputSize, 1)
        self.kernel = pad(kernel, 1)
        self.stride = pad(stride, 1)
        self.dilation = pad(dilation, 1)
        self.padBegin = pad(padBegin, 0)
        self.tuning = tuning
        taps = self.kernel.reduce(1, *)
        inSpatial = self.inSize.reduce(1, *)
        outSpatial = self.outSize.reduce(1, *)
        var valid: [[(lo: Int, hi: Int)]] = []
        for dim in 0..<3 {
            let s = self.stride[dim], n = self.inSize[dim], out = self.outSize[dim]
            let d = self.dilation[dim], pb = self.padBegin[dim]
            valid.append(
                (0..<self.kernel[dim]).map { k in
                    // o·s + off ∈ [0, n)  ⇔  o ∈ [⌈−off/s⌉, ⌈(n − off)/s⌉)
                    let off = k * d - pb
                    let lo = min(off >= 0 ? 0 : (-off + s - 1) / s, out)
                    let hi = n - off <= 0 ? 0 : min((n - off + s - 1) / s, out)
                    return (lo, max(lo, hi))
                })
        }
        validOutputs = valid
        isPointwise =
            taps == 1 && self.stride.allSatisfy { $0 == 1 } && self.padBegin.allSatisfy { $0 == 0 }
            && self.inSize == self.outSize
    }

    init(_ p: ConvProblem, tuning: ConvTuning) {
        self.init(
            batch: p.batch, groups: p.groups, inChannelsPerGroup: p.inChannels / p.groups,
            outChannelsPerGroup: p.outChannels / p.groups, inputSize: p.inputSize, outputSize: p.outputSize,
            kernel: p.kernel, stride: p.stride, dilation: p.dilation, padBegin: p.padBegin, tuning: tuning)
    }

    /// The convolution whose backward-data is `p`'s forward: input = the transposed
    /// convolution's output (its crop is this convolution's padding), output = its input.
    /// Sizes are taken from `p`, not recomputed, so `output_padding ≥ s` (possible when
    /// `d > s`) is handled: those positions simply receive no products.
    init(adjointOf p: ConvTransposeProblem, tuning: ConvTuning) {
        self.init(
            batch: p.batch, groups: p.groups, inChannelsPerGroup: p.outChannels / p.groups,
            outChannelsPerGroup: p.inChannels / p.groups, inputSize: p.outputSize, outputSize: p.inputSize,
            kernel: p.kernel, stride: p.stride, dilation: p.dilation, padBegin: p.padBegin, tuning: tuning)
    }

    /// How col (K × P) is cut into tiles that fit the column budget: blocks of `block`
    /// columns (the whole P when all K rows fit, never fewer than `minimumColumnBlock`),
    /// each cut into slabs of `slabRows` rows; blocks and slabs are cut evenly so parallel
    /// items cost the same. Depends only on the shape and the tuning.
    var tiles: (slabRows: Int, block: Int) {
        let p = outSpatial, k = max(columnRows, 1)
        if isPointwise { return (k, max(p, 1)) }
        func even(_ total: Int, _ most: Int) -> Int {
            let pieces = (total + most - 1) / most
            return (total + pieces - 1) / pieces
        }
        let block = even(max(p, 1), max(1, min(p, max(tuning.columnBudget / k, tuning.minimumColumnBlock))))
        let slab = even(k, max(1, min(k, max(tuning.columnBudget / block, tuning.minimumSlabRows))))
        return (slab, block)
    }

    /// Splits the images into chunks for a reduction over them: one chunk when there are
    /// `reductionItemsTarget` independent items anyway, else enough chunks to reach it.
    /// Depends only on the shape and the tuning, never on the thread count.
    func reductionChunks(itemsPerChunk: Int) -> (chunks: Int, imagesPerChunk: Int) {
        let wanted =
            itemsPerChunk >= tuning.reductionItemsTarget
            ? 1 : min(batch, (tuning.reductionItemsTarget + itemsPerChunk - 1) / itemsPerChunk)
        let imagesPerChunk = (batch + wanted - 1) / wanted
        return ((batch + imagesPerChunk - 1) / imagesPerChunk, imagesPerChunk)
    }

    /// `out[i] = partials[0][i] + partials[1][i] + …` in chunk order (threads split `i`).
    /// `out` may be `partials` itself (the sum then lands in chunk 0).
    func sumPartials(
        _ partials: UnsafePointer<Float>, chunks: Int, count: Int,
        into out: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let span = 4096, inPlace = UnsafePointer(out) == partials
        Tiled.forEachItem((count + span - 1) / span, threads: threads) { piece, _ in
            let lo = piece * span, n = min(count, lo + span) - lo
            let dst = out + lo
            if !inPlace { dst.update(from: partials + lo, count: n) }
            for chunk in 1..<chunks {
                let src = partials + chunk * count + lo
                for i in 0..<n { dst[i] += src[i] }
            }
        }
    }

    /// Runs `count` independent items. With at least `itemsPerThread` items per thread they
    /// run in parallel, each single-threaded with its own workspace; otherwise one after
    /// another, each using every thread inside (im2col, col2im and GEMM). Both give the same
    /// bits, because GEMM's result does not depend on its thread count.
    func runItems(
        _ count: Int, threads: Int, workspace: Int,
        _ body: (_ item: Int, _ workspace: UnsafeMutablePointer<Float>, _ innerThreads: Int) -> Void
    ) {
        guard count > 0 else { return }
        let threads = Tiled.resolveThreads(threads)
        let parallel = threads > 1 && count >= threads * tuning.itemsPerThread
        let workers = parallel ? min(threads, count) : 1
        // Each worker's workspace starts on a cache line.
        let stride = Tiled.roundUp(workspace, 16)
        let buffer = Tiled.allocateFloats(max(workers * stride, 1))
        defer { buffer.deallocate() }
        if parallel {
            Tiled.forEachItem(count, threads: workers) { item, worker in
                body(item, buffer + worker * stride, 1)
            }
        } else {
            for item in 0..<count { body(item, buffer, threads) }
        }
    }
}

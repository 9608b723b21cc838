import Foundation
import KernelCheckProblems

/// Knobs of the GEMM lowering. They change speed and workspace size, never which products
/// are summed, and none depends on the thread count (so results are the same for any
/// `threads`). The defaults suit the benchmark shapes; tests shrink them so tiny problems
/// exercise column blocks, partial output lines, weight slabs and split reductions.
struct ConvLoweringTuning: Sendable {
    /// Floats in one thread's column buffer (slab rows × block columns): 128 Ki floats =
    /// 512 KiB, so im2col writes and GEMM reads stay in a Zen 5 core's 1 MiB L2.
    var columnBudget = 1 << 17
    /// Fewest columns per block, so GEMM's `n` (or `k` for backward-weights) stays wide
    /// even when K is huge.
    var minimumColumnBlock = 256
    /// Fewest rows per slab of col (GEMM's `k` in forward, `m` in backward-data, `n` in
    /// backward-weights).
    var minimumSlabRows = 64
    /// Backward-weights wants this many independent (group, slab) items; with fewer it
    /// splits the images into chunks whose partial dW are summed in chunk order.
    var reductionItemsTarget = 8
    /// Items run in parallel (single-threaded GEMM each) once there are this many per
    /// thread; with fewer they run one after another, each using every thread.
    var itemsPerThread = 2
    /// Which lowering to use (see `ConvLowering`): `automatic` takes the dual one when its
    /// buffer is at least `dualAdvantage` times smaller than col and at most `dualBudget` floats.
    var lowering = LoweringChoice.automatic
    var dualAdvantage = 4
    var dualBudget = 1 << 21
    /// Backward-weights can compute `dW[g]ᵀ = col · dYᵀ` (then transpose) instead of
    /// `dW[g] = dY · colᵀ`: `automatic` picks the orientation whose GEMM output fills
    /// SGEMM's 12 × 32 register tile better (32 output channels × 75 rows: 69 % vs 89 %).
    var weightGradientOrientation = Orientation.automatic
    /// The direct forward (`ConvLowering+Direct.swift`, no im2col) where it applies and at
    /// least `directMinimumEfficiency` of its register-tile lanes are real output pixels;
    /// `directWeightBudget` floats of packed weights are reused across a pass over the pixels.
    var direct = true
    var directMinimumEfficiency = 0.8
    /// Fewest output channels (per group) for the direct forward: with fewer, its 4-row
    /// tiles run at a third of the FMA rate (3 → 32 k5 backward-data as a direct forward of
    /// 3 channels: 116 GFLOP/s against 143 through im2col).
    var directMinimumChannels = 8
    /// Floats of padded input per band of the direct forward (1 MiB, the L2): a padded image
    /// within it is one band (ResNet 64 → 64 on 56 × 56, GAN 128 → 256 on 16 × 16), larger
    /// ones go in bands of ¾ of it (`directBands`). A 3 → 32 layer's backward-data pads
    /// 32 × 260 × 260 floats of dY per image, 8.6 MB, when whole (2 threads: 180–200 →
    /// 295–300 GFLOP/s in bands when memory is contended).
    var directBandFloats = 1 << 18
    var directWeightBudget = 1 << 16
    /// Where an output row is an odd number of whole vectors (16 columns: the GAN's
    /// 128 → 256 k5 layer), a direct tile is one vector of two images instead of two vectors
    /// of one, so both share their output row and the kernel rows that read only padding are
    /// left out exactly (5 → 7.5 % of that layer's products; 1 thread: forward 262 → 268,
    /// backward-data 251 → 259 GFLOP/s).
    var directImagePairs = true
    /// Output pixels per band of the direct backward-weights (`ConvLowering+DirectWeights.swift`).
    /// Every band reloads all the lane accumulators, so bands are long: a whole ResNet 56 × 56
    /// image (one thread 196 → 206 GFLOP/s against 1024-pixel bands), 64 rows of a 256 × 256
    /// one (3 → 32 k5: 166–168 → 203–212; whole images: 182–189).
    var directBandPixels = 16384
    /// Most floats of 16-lane accumulators (groups × Co × K × 16) for which backward-weights
    /// goes direct: they are reloaded for every band, so they must stay in cache (3 → 32 k5:
    /// 40 Ki floats, ResNet 64 → 64 k3: 576 Ki; a 128 → 256 k5 layer would need 13 Mi and
    /// runs 4× slower than im2col).
    var directAccumulatorBudget = 1 << 20
    /// Backward-weights through packed panels straight from dY and the padded input
    /// (`ConvLowering+PanelWeights.swift`) for 1-D and 2-D convs with at least
    /// `panelWeightsMinimum` output channels and taps, when the lane accumulators do not fit.
    var panelWeights = true
    var panelWeightsMinimum = 128
    /// Pixels per packed block of that path (one SGEMM K block, so at most `GEMMBlocking.kc`).
    var panelWeightsBlock = GEMMBlocking.kc

    enum Orientation: Sendable { case automatic, direct, transposed }

    enum LoweringChoice: Sendable { case automatic, im2col, dual }

    static let standard = ConvLoweringTuning()
}

/// A convolution lowered to matrix products, per image `n` and group `g`:
///
/// - forward: `Y[n,g] (Co × P) = W[g] (Co × K) · col(X[n,g]) (K × P)`,
/// - backward-data: `col(dX[n,g]) = W[g]ᵀ · dY[n,g]`, then col2im scatter-adds the columns,
/// - backward-weights: `dW[g] = Σ_n dY[n,g] · col(X[n,g])ᵀ`, images in increasing order,
///
/// where `K = Ci·∏k` rows indexed by (input channel, tap…) in weight order, `P = ∏out`
/// columns indexed by output position, and
/// `col[(ci, k…), o…] = X[ci, o·s − pb + k·d]` (zero when that index falls in the padding).
///
/// The transposed convolution is the adjoint of a convolution, so it reuses this type on the
/// swapped descriptor (`init(adjointOf:)`): its forward is `backwardData`, its backward-data
/// is `forward`, its backward-weights is `backwardWeights` with `x` and `dy` exchanged.
///
/// **Dual lowering** (few output channels, e.g. a 256 → 3 RGB head): col has `Ci·∏k` rows of
/// `P` columns, but the same products can go through a buffer with `Co·∏k` rows over the
/// *input* positions, with `Wd[g][(co, k…), ci] = W[g·Co + co, ci, k…]`:
///
/// - forward: `Z = Wd[g] · X[n,g]`, then `Y[co, o] = b + Σ_k Z[(co, k), o·s − pb + k·d]`
///   (`gatherAdd`, the taps summed in order);
/// - backward-data: `D[(co, k), i] = dY[co, o]` where `i = o·s − pb + k·d`, zero elsewhere
///   (`scatter`), then `dX[n,g] = Wd[g]ᵀ · D` (written directly, no col2im);
/// - backward-weights: `dWd[g] = Σ_n D_n · X[n,g]ᵀ`, reordered into `dW`.
///
/// It is chosen (`usesDual`) when `Co·∏k·∏in` is several times smaller than `Ci·∏k·P`.
///
/// Spatial geometry is padded to 3-D with leading unit dimensions, so 1-D, 2-D and 3-D share
/// one code path. `col` is built in column blocks of bounded size (never the whole batch),
/// one buffer per worker thread, allocated once per call. A 1×1 stride-1 unpadded
/// convolution skips im2col: `X[n,g]` (Ci × P) already is the column matrix.
struct ConvLowering {
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
    let tuning: ConvLoweringTuning

    let taps: Int
    let inSpatial: Int
    let outSpatial: Int
    /// Per dimension and per kernel tap, the output indices `lo..<hi` whose input index
    /// `o·s − pb + k·d` lies inside the input: im2col copies that range and zero-fills the rest,
    /// so its loops never test an index per element.
    let validOutputs: [[(lo: Int, hi: Int)]]
    /// 1×1, stride 1, unpadded, same size: col(X) = X. A `var` so that a backward-data
    /// phase (`ConvLowering+DirectPhases.swift`) of one tap can clear it and run direct.
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

    init(batch: Int, groups: Int, inChannelsPerGroup: Int, outChannelsPerGroup: Int,
         inputSize: [Int], outputSize: [Int], kernel: [Int], stride: [Int], dilation: [Int], padBegin: [Int],
         tuning: ConvLoweringTuning) {
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
            valid.append((0..<self.kernel[dim]).map { k in
                // o·s + off ∈ [0, n)  ⇔  o ∈ [⌈−off/s⌉, ⌈(n − off)/s⌉)
                let off = k * d - pb
                let lo = min(off >= 0 ? 0 : (-off + s - 1) / s, out)
                let hi = n - off <= 0 ? 0 : min((n - off + s - 1) / s, out)
                return (lo, max(lo, hi))
            })
        }
        validOutputs = valid
        isPointwise = taps == 1 && self.stride.allSatisfy { $0 == 1 } && self.padBegin.allSatisfy { $0 == 0 }
            && self.inSize == self.outSize
    }

    init(_ p: ConvProblem, tuning: ConvLoweringTuning) {
        self.init(batch: p.batch, groups: p.groups, inChannelsPerGroup: p.inChannels / p.groups,
                  outChannelsPerGroup: p.outChannels / p.groups, inputSize: p.inputSize, outputSize: p.outputSize,
                  kernel: p.kernel, stride: p.stride, dilation: p.dilation, padBegin: p.padBegin, tuning: tuning)
    }

    /// The convolution whose backward-data is `p`'s forward: input = the transposed
    /// convolution's output (its crop is this convolution's padding), output = its input.
    /// Sizes are taken from `p`, not recomputed, so `output_padding ≥ s` (possible when
    /// `d > s`) is handled: those positions simply receive no products.
    init(adjointOf p: ConvTransposeProblem, tuning: ConvLoweringTuning) {
        self.init(batch: p.batch, groups: p.groups, inChannelsPerGroup: p.outChannels / p.groups,
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

    // MARK: - The three lowered products

    /// `output[n, g·Co + co, p] = (bias[g·Co + co] or 0) + Σ_K W[g][co, K] · col(input[n, g])[K, p]`.
    func forward(input x: UnsafePointer<Float>, weights w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 output y: UnsafeMutablePointer<Float>, threads: Int) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let channelsOut = groups * co
        guard batch > 0, channelsOut > 0, p > 0 else { return }
        if usesDual && k > 0 {
            forwardDual(input: x, weights: w, bias: bias, output: y, threads: threads)
            return
        }
        if k > 0, let plan = directPlan {
            forwardDirect(plan, input: x, weights: w, bias: bias, output: y, threads: threads)
            return
        }
        if let bias {
            ConvParallel.forEach(batch * channelsOut, threads: threads) { row, _ in
                (y + row * p).update(repeating: bias[row % channelsOut], count: p)
            }
        }
        guard k > 0 else {
            if bias == nil { y.update(repeating: 0, count: batch * channelsOut * p) }
            return
        }
        if !isPointwise {
            forwardPacked(input: x, weights: w, hasBias: bias != nil, output: y, threads: threads)
            return
        }
        let (slabRows, block) = tiles
        let blocks = (p + block - 1) / block, slabs = (k + slabRows - 1) / slabRows
        let groups = groups, pointwise = isPointwise
        runItems(batch * groups * blocks, threads: threads, workspace: pointwise ? 0 : slabRows * block) { item, ws, inner in
            let imageGroup = item / blocks, g = imageGroup % groups  // imageGroup = n·G + g
            let p0 = (item % blocks) * block, p1 = min(p, p0 + block)
            let src = x + imageGroup * ci * inS, out = y + imageGroup * co * p + p0
            if pointwise {
                Tiled.sgemm(transA: false, transB: false, m: co, n: p1 - p0, k: k, a: w + g * co * k, lda: k,
                            b: src + p0, ldb: p, c: out, ldc: p, accumulate: bias != nil, threads: inner)
                return
            }
            // Slabs of K are summed into the output in slab order.
            for slab in 0..<slabs {
                let r0 = slab * slabRows, r1 = min(k, r0 + slabRows)
                im2col(src, rows: r0..<r1, columns: p0..<p1, into: ws, threads: inner)
                Tiled.sgemm(transA: false, transB: false, m: co, n: p1 - p0, k: r1 - r0, a: w + g * co * k + r0, lda: k,
                            b: ws, ldb: p1 - p0, c: out, ldc: p, accumulate: bias != nil || slab > 0, threads: inner)
            }
        }
    }

    /// `input = col2im(W[g]ᵀ · output[n, g])`: the gradient of `forward` w.r.t. its input.
    /// Column blocks of one (image, group) are scattered in order by one worker, so every
    /// input element receives its products in a fixed order.
    func backwardData(output dy: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                      input dx: UnsafeMutablePointer<Float>, threads: Int) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let inCount = batch * groups * ci * inS
        guard inCount > 0 else { return }
        guard co > 0, p > 0 else { dx.update(repeating: 0, count: inCount); return }
        if usesDual {
            backwardDataDual(output: dy, weights: w, input: dx, threads: threads)
            return
        }
        if let adjoint = directAdjoint {
            backwardDataDirect(adjoint, output: dy, weights: w, input: dx, threads: threads)
            return
        }
        if backwardDataUsesPacked {
            backwardDataPacked(output: dy, weights: w, input: dx, threads: threads)
            return
        }
        let (slabRows, block) = tiles
        let blocks = (p + block - 1) / block, slabs = (k + slabRows - 1) / slabRows
        let groups = groups, pointwise = isPointwise
        runItems(batch * groups, threads: threads, workspace: pointwise ? 0 : slabRows * block) { imageGroup, ws, inner in
            let g = imageGroup % groups
            let dst = dx + imageGroup * ci * inS, a = w + g * co * k, dOut = dy + imageGroup * co * p
            if pointwise {
                Tiled.sgemm(transA: true, transB: false, m: k, n: p, k: co, a: a, lda: k, b: dOut, ldb: p,
                            c: dst, ldc: p, accumulate: false, threads: inner)
                return
            }
            dst.update(repeating: 0, count: ci * inS)
            for blk in 0..<blocks {
                let p0 = blk * block, p1 = min(p, p0 + block)
                for slab in 0..<slabs {
                    let r0 = slab * slabRows, r1 = min(k, r0 + slabRows)
                    Tiled.sgemm(transA: true, transB: false, m: r1 - r0, n: p1 - p0, k: co, a: a + r0, lda: k,
                                b: dOut + p0, ldb: p, c: ws, ldc: p1 - p0, accumulate: false, threads: inner)
                    col2im(ws, rows: r0..<r1, columns: p0..<p1, into: dst, threads: inner)
                }
            }
        }
    }

    /// `dW[g] = Σ_n output[n, g] · col(input[n, g])ᵀ`: the gradient of `forward` w.r.t. W.
    ///
    /// Work items are (image chunk, group, slab of K rows); slabs write disjoint columns of
    /// dW. The number of image chunks depends only on the shape: with one chunk each item
    /// sums all images in order; with several, chunk partials are added in chunk order.
    func backwardWeights(input x: UnsafePointer<Float>, output dy: UnsafePointer<Float>,
                         weights dw: UnsafeMutablePointer<Float>, threads: Int) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let total = groups * co * k
        guard total > 0 else { return }
        guard batch > 0, p > 0, inS > 0 else { dw.update(repeating: 0, count: total); return }
        if usesDual {
            backwardWeightsDual(input: x, output: dy, weights: dw, threads: threads)
            return
        }
        if let plan = directPlan, usesDirectWeights(plan) {
            backwardWeightsDirect(plan, input: x, output: dy, weights: dw, threads: threads)
            return
        }
        if let plan = directPlan, usesPanelWeights(plan) {
            backwardWeightsPanels(plan, input: x, output: dy, weights: dw, threads: threads)
            return
        }
        let (slabRows, block) = tiles
        let slabs = (k + slabRows - 1) / slabRows, blocks = (p + block - 1) / block
        let perChunk = groups * slabs
        let (chunks, imagesPerChunk) = reductionChunks(itemsPerChunk: perChunk)
        let transposed: Bool
        switch tuning.weightGradientOrientation {
        case .direct: transposed = false
        case .transposed: transposed = true
        case .automatic:
            func fill(_ m: Int, _ n: Int) -> Double {
                Double(m * n) / Double(((m + 11) / 12 * 12) * ((n + 31) / 32 * 32))
            }
            transposed = fill(slabRows, co) > fill(co, slabRows)
        }
        // Per-chunk partial sums (layout [g][co][K], or [g][K][co] when transposed).
        let partials: UnsafeMutablePointer<Float>? = chunks > 1 || transposed ? .allocate(capacity: chunks * total) : nil
        defer { partials?.deallocate() }
        let groups = groups, batch = batch, pointwise = isPointwise
        runItems(chunks * perChunk, threads: threads, workspace: pointwise ? 0 : slabRows * block) { item, ws, inner in
            let slab = item % slabs, g = (item / slabs) % groups, chunk = item / perChunk
            let r0 = slab * slabRows, r1 = min(k, r0 + slabRows)
            let target = transposed
                ? partials! + chunk * total + g * k * co + r0 * co
                : (partials.map { $0 + chunk * total } ?? dw) + g * co * k + r0
            var first = true
            for n in (chunk * imagesPerChunk)..<min(batch, (chunk + 1) * imagesPerChunk) {
                let imageGroup = n * groups + g
                let src = x + imageGroup * ci * inS, dOut = dy + imageGroup * co * p
                for blk in 0..<blocks {
                    let p0 = blk * block, p1 = min(p, p0 + block)
                    var b = src + r0 * p + p0, ldb = p
                    if !pointwise {
                        im2col(src, rows: r0..<r1, columns: p0..<p1, into: ws, threads: inner)
                        b = UnsafePointer(ws); ldb = p1 - p0
                    }
                    if transposed {
                        Tiled.sgemm(transA: false, transB: true, m: r1 - r0, n: co, k: p1 - p0, a: b, lda: ldb,
                                    b: dOut + p0, ldb: p, c: target, ldc: co, accumulate: !first, threads: inner)
                    } else {
                        Tiled.sgemm(transA: false, transB: true, m: co, n: r1 - r0, k: p1 - p0, a: dOut + p0, lda: p,
                                    b: b, ldb: ldb, c: target, ldc: k, accumulate: !first, threads: inner)
                    }
                    first = false
                }
            }
        }
        guard let partials else { return }
        guard transposed else {
            sumPartials(partials, chunks: chunks, count: total, into: dw, threads: threads)
            return
        }
        if chunks > 1 { sumPartials(partials, chunks: chunks, count: total, into: partials, threads: threads) }
        // dw[g][c][r] = dWᵀ[g][r][c]
        ConvParallel.forEach(groups * co, threads: threads) { row, _ in
            let g = row / co, c = row % co
            let src = partials + g * k * co + c, dst = dw + row * k
            for r in 0..<k { dst[r] = src[r * co] }
        }
    }

    /// Splits the images into chunks for a reduction over them: one chunk when there are
    /// `reductionItemsTarget` independent items anyway, else enough chunks to reach it.
    /// Depends only on the shape and the tuning, never on the thread count.
    func reductionChunks(itemsPerChunk: Int) -> (chunks: Int, imagesPerChunk: Int) {
        let wanted = itemsPerChunk >= tuning.reductionItemsTarget
            ? 1 : min(batch, (tuning.reductionItemsTarget + itemsPerChunk - 1) / itemsPerChunk)
        let imagesPerChunk = (batch + wanted - 1) / wanted
        return ((batch + imagesPerChunk - 1) / imagesPerChunk, imagesPerChunk)
    }

    /// `out[i] = partials[0][i] + partials[1][i] + …` in chunk order (threads split `i`).
    /// `out` may be `partials` itself (the sum then lands in chunk 0).
    func sumPartials(_ partials: UnsafePointer<Float>, chunks: Int, count: Int,
                     into out: UnsafeMutablePointer<Float>, threads: Int) {
        let span = 4096, inPlace = UnsafePointer(out) == partials
        ConvParallel.forEach((count + span - 1) / span, threads: threads) { piece, _ in
            let lo = piece * span, n = min(count, lo + span) - lo
            let dst = out + lo
            if !inPlace { dst.update(from: partials + lo, count: n) }
            for chunk in 1..<chunks {
                let src = partials + chunk * count + lo
                for i in 0..<n { dst[i] += src[i] }
            }
        }
    }

    // MARK: - The dual lowering

    /// `out[g][(co, t), ci] = w[g·Co + co, ci, t]`, or the inverse permutation.
    func permuteWeights(_ w: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, toDual: Bool) {
        let co = outChannels, ci = inChannels, taps = taps
        for g in 0..<groups {
            for c in 0..<co {
                for i in 0..<ci {
                    for t in 0..<taps {
                        let standard = ((g * co + c) * ci + i) * taps + t
                        let dual = ((g * co + c) * taps + t) * ci + i
                        if toDual { out[dual] = w[standard] } else { out[standard] = w[dual] }
                    }
                }
            }
        }
    }

    /// Forward through `Z = Wd · X`, `Y = b + gatherAdd(Z)`.
    private func forwardDual(input x: UnsafePointer<Float>, weights w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                             output y: UnsafeMutablePointer<Float>, threads: Int) {
        let p = outSpatial, co = outChannels, ci = inChannels, inS = inSpatial, rows = dualRows
        let channelsOut = groups * co
        ConvParallel.forEach(batch * channelsOut, threads: threads) { row, _ in
            (y + row * p).update(repeating: bias?[row % channelsOut] ?? 0, count: p)
        }
        guard inS > 0 else { return }
        let wd = Tiled.allocateFloats(groups * rows * ci)
        defer { wd.deallocate() }
        permuteWeights(w, into: wd, toDual: true)
        let groups = groups
        runItems(batch * groups, threads: threads, workspace: rows * inS) { imageGroup, z, inner in
            let g = imageGroup % groups
            Tiled.sgemm(transA: false, transB: false, m: rows, n: inS, k: ci, a: wd + g * rows * ci, lda: ci,
                        b: x + imageGroup * ci * inS, ldb: inS, c: z, ldc: inS, accumulate: false, threads: inner)
            gatherAdd(z, into: y + imageGroup * co * p, threads: inner)
        }
    }

    /// Backward-data through `D = scatter(dY)`, `dX = Wdᵀ · D`.
    private func backwardDataDual(output dy: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                                  input dx: UnsafeMutablePointer<Float>, threads: Int) {
        let p = outSpatial, co = outChannels, ci = inChannels, inS = inSpatial, rows = dualRows
        let wd = Tiled.allocateFloats(groups * rows * ci)
        defer { wd.deallocate() }
        permuteWeights(w, into: wd, toDual: true)
        let groups = groups
        runItems(batch * groups, threads: threads, workspace: rows * inS) { imageGroup, d, inner in
            let g = imageGroup % groups
            scatter(dy + imageGroup * co * p, into: d, threads: inner)
            Tiled.sgemm(transA: true, transB: false, m: ci, n: inS, k: rows, a: wd + g * rows * ci, lda: ci,
                        b: d, ldb: inS, c: dx + imageGroup * ci * inS, ldc: inS, accumulate: false, threads: inner)
        }
    }

    /// Backward-weights through `dWd = Σ_n scatter(dY_n) · X_nᵀ`, then the permutation back.
    private func backwardWeightsDual(input x: UnsafePointer<Float>, output dy: UnsafePointer<Float>,
                                     weights dw: UnsafeMutablePointer<Float>, threads: Int) {
        let p = outSpatial, co = outChannels, ci = inChannels, inS = inSpatial, rows = dualRows
        let total = groups * rows * ci
        let (chunks, imagesPerChunk) = reductionChunks(itemsPerChunk: groups)
        let partials = Tiled.allocateFloats(chunks * total)
        defer { partials.deallocate() }
        let groups = groups, batch = batch
        runItems(chunks * groups, threads: threads, workspace: rows * inS) { item, d, inner in
            let g = item % groups, chunk = item / groups
            let target = partials + chunk * total + g * rows * ci
            var first = true
            for n in (chunk * imagesPerChunk)..<min(batch, (chunk + 1) * imagesPerChunk) {
                let imageGroup = n * groups + g
                scatter(dy + imageGroup * co * p, into: d, threads: inner)
                Tiled.sgemm(transA: false, transB: true, m: rows, n: ci, k: inS, a: d, lda: inS,
                            b: x + imageGroup * ci * inS, ldb: inS, c: target, ldc: ci, accumulate: !first, threads: inner)
                first = false
            }
        }
        if chunks > 1 {
            let summed = Tiled.allocateFloats(total)
            defer { summed.deallocate() }
            sumPartials(partials, chunks: chunks, count: total, into: summed, threads: threads)
            permuteWeights(summed, into: dw, toDual: false)
        } else {
            permuteWeights(partials, into: dw, toDual: false)
        }
    }

    /// Runs `count` independent items. With at least `itemsPerThread` items per thread they
    /// run in parallel, each single-threaded with its own workspace; otherwise one after
    /// another, each using every thread inside (im2col, col2im and GEMM). Both give the same
    /// bits, because GEMM's result does not depend on its thread count.
    func runItems(_ count: Int, threads: Int, workspace: Int,
                          _ body: (_ item: Int, _ workspace: UnsafeMutablePointer<Float>, _ innerThreads: Int) -> Void) {
        guard count > 0 else { return }
        let threads = ConvParallel.resolve(threads)
        let parallel = threads > 1 && count >= threads * tuning.itemsPerThread
        let workers = parallel ? min(threads, count) : 1
        // Each worker's workspace starts on a cache line.
        let stride = Tiled.roundUp(workspace, 16)
        let buffer = Tiled.allocateFloats(max(workers * stride, 1))
        defer { buffer.deallocate() }
        if parallel {
            ConvParallel.forEach(count, threads: workers) { item, worker in
                body(item, buffer + worker * stride, 1)
            }
        } else {
            for item in 0..<count { body(item, buffer, threads) }
        }
    }
}

/// Per-channel sums over images and positions, `out[c] = Σ_n Σ_p t[n, c, p]`: the bias
/// gradient. Channels are split across threads; each channel is summed by one thread in a
/// fixed order (16 SIMD lanes per image row, lanes folded, then images in order).
func convChannelSums(_ t: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
                     into out: UnsafeMutablePointer<Float>, threads: Int) {
    guard channels > 0 else { return }
    let pieces = min(channels, ConvParallel.resolve(threads) * 4)
    ConvParallel.forEach(pieces, threads: threads) { piece, _ in
        for c in (channels * piece / pieces)..<(channels * (piece + 1) / pieces) {
            var total: Float = 0
            for n in 0..<batch { total += convRowSum(t + (n * channels + c) * spatial, count: spatial) }
            out[c] = total
        }
    }
}

/// Sum of `count` contiguous floats in a fixed order: 16 lanes, then the tail.
@inline(__always)
func convRowSum(_ p: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD16<Float>()
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 16 <= count {
        lanes += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
    var sum = lanes.sum()
    while i < count { sum += p[i]; i += 1 }
    return sum
}

/// Parallel loops with dynamic item claiming, on `WorkerPool` (its workers start within
/// microseconds; Dispatch's `concurrentPerform` woke its second worker late enough that a
/// ResNet 64 → 64 layer's forward, 4 ms a call, ran ≈ 4 % slower on two threads).
enum ConvParallel {
    /// `threads: 0` means every core.
    static func resolve(_ threads: Int) -> Int { threads > 0 ? threads : Tiled.defaultThreads }

    /// Calls `body(item, worker)` for every item in `0..<count` on `min(threads, count)`
    /// workers, each taking the next unclaimed item (so uneven items balance). `worker` names
    /// the calling worker (for per-worker workspace). Items must be independent: which worker
    /// runs an item never changes what it computes. (When the pool is busy, e.g. a call from
    /// inside a job, worker 0 runs every item on the calling thread.)
    static func forEach(_ count: Int, threads: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        let workers = min(resolve(threads), count)
        if workers <= 1 {
            for item in 0..<count { body(item, 0) }
            return
        }
        let counter = ItemCounter()
        WorkerPool.shared.run(count: workers, threads: workers) { worker in
            while true {
                let item = counter.next()
                if item >= count { break }
                body(item, worker)
            }
        }
    }

    /// Hands out 0, 1, 2, … to concurrent callers.
    private final class ItemCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value - 1
        }
    }
}

extension Tiled {
    /// Traps on a descriptor that fails validation (other than the memory budget, which
    /// guards allocation by callers, not these loops): the pointer-based kernels index
    /// memory from the descriptor's shapes and must never run on a malformed one.
    /// Callers validate first (`Problem.parse`, the runner) and get a typed `ProblemError`.
    static func requireValid<P: ProblemDescriptor>(_ p: P) {
        do {
            try p.validate()
        } catch {
            if case .exceedsMemoryBudget = error { return }
            preconditionFailure("Tiled kernel called with an invalid problem '\(p)': \(error)")
        }
    }
}

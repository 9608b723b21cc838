import Foundation
import KernelCheckProblems

/// Knobs of the tiled convolution's paths (`ConvPlan` reads them). They change speed and workspace size, never which products
/// are summed, and none depends on the thread count (so results are the same for any
/// `threads`). The defaults suit the benchmark shapes, and the three cache budgets
/// (`columnBudget`, `directBandFloats`, `directWeightBudget`) are fractions of this machine's
/// L2 (`init(caches:)`); tests shrink them so tiny problems exercise column blocks, partial
/// output lines, weight slabs and split reductions.
struct ConvTuning: Sendable {
    /// Floats in one thread's column buffer (slab rows × block columns): half of L2 (128 Ki
    /// floats on a 1 MiB L2), so that im2col's writes are still in L2 when GEMM reads them.
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
    /// Which lowering to use (see `TiledConv`): `automatic` takes the dual one when its
    /// buffer is at least `dualAdvantage` times smaller than col and at most `dualBudget` floats.
    var lowering = LoweringChoice.automatic
    var dualAdvantage = 4
    var dualBudget = 1 << 21
    /// Backward-weights can compute `dW[g]ᵀ = col · dYᵀ` (then transpose) instead of
    /// `dW[g] = dY · colᵀ`: `automatic` picks the orientation whose GEMM output fills
    /// SGEMM's 12 × 32 register tile better (32 output channels × 75 rows fill it better as
    /// 75 × 32 than as 32 × 75).
    var weightGradientOrientation = Orientation.automatic
    /// The direct forward (`TiledConv+Direct.swift`, no im2col) where it applies and at
    /// least `directMinimumEfficiency` of its register-tile lanes are real output pixels;
    /// `directWeightBudget` floats of packed weights are reused across a pass over the pixels.
    var direct = true
    var directMinimumEfficiency = 0.8
    /// Fewest output channels (per group) for the direct forward with 12 × 32 tiles: with
    /// fewer, its 4-row tiles run at a third of the FMA rate, slower than im2col (at most 4
    /// channels take the wide tiles instead).
    var directMinimumChannels = 8
    /// Floats of padded input per band of the direct forward (an L2's worth: 256 Ki floats on a
    /// 1 MiB L2): a padded image within it is one band (ResNet 64 → 64 on 56 × 56, GAN
    /// 128 → 256 on 16 × 16), larger ones go in bands of ¾ of it (`directBands`), so that a
    /// band stays in L2 while the tiles sweep it (a 3 → 32 layer's backward-data pads 8.6 MB
    /// of dY per image). `directWeightBudget`: a quarter of L2.
    var directBandFloats = 1 << 18
    var directWeightBudget = 1 << 16
    /// Where an output row is an odd number of whole vectors (16 columns: the GAN's
    /// 128 → 256 k5 layer), a direct tile is one vector of two images instead of two vectors
    /// of one, so both share their output row and the kernel rows that read only padding are
    /// left out exactly instead of per vector.
    var directImagePairs = true
    /// The direct forward in channel lanes (`TiledConv+ChannelLanes.swift`) where it applies:
    /// tiles of 8 pixels × 32 output channels that leave out the padding's products.
    var channelLanes = true
    /// Output pixels per band of the direct backward-weights (`TiledConv+DirectWeights.swift`).
    /// Every band reloads all the lane accumulators, so bands are long: a whole ResNet 56 × 56
    /// image, 64 rows of a 256 × 256 one (whose whole image would no longer stay in L2). Where
    /// L1d holds 48 KiB or more (Xeons and Zen 5, whose two full-width FMA pipes read a tile's
    /// 4 dY rows twice as fast as Zen 4 and need them in L1), a band is what fills 2/3 of L1d
    /// with them (`init(caches:)`: 2 048 pixels on 48 KiB); on a smaller L1d that band would
    /// be so short that reloading the accumulators costs more. Bands never change the bits:
    /// each lane sums its pixels in order across them.
    var directBandPixels = 16384
    /// Most floats of 16-lane accumulators (groups × Co × K × 16) for which backward-weights
    /// goes direct: they are reloaded for every band, so they must stay in cache (3 → 32 k5:
    /// 40 Ki floats, ResNet 64 → 64 k3: 576 Ki; a 128 → 256 k5 layer would need 13 Mi and
    /// takes the panel path).
    var directAccumulatorBudget = 1 << 20
    /// Backward-weights through packed panels straight from dY and the padded input
    /// (`TiledConv+PanelWeights.swift`) for 1-D and 2-D convs with at least
    /// `panelWeightsMinimum` output channels and taps, when the lane accumulators do not fit.
    var panelWeights = true
    var panelWeightsMinimum = 128
    /// Pixels per packed block of that path (one SGEMM K block, so at most `GEMMBlocking.kc`).
    var panelWeightsBlock = GEMMBlocking.kc
    /// Backward-weights in 12-tap × 32-channel tiles (`TiledConv+LaneWeights.swift`) where
    /// the direct backward-weights would run, for output channels that fill their 32-lane
    /// blocks (at least `laneWeightsMinimumChannels`, at least `laneWeightsMinimumFill` of the
    /// lanes) and at least `laneWeightsMinimumTaps` taps: with fewer, each packed dY value
    /// feeds too few multiply-adds (3 → 32 channels with 5 × 5 taps, 75, ran slower than the
    /// direct kernel on 2 threads).
    var laneWeights = true
    var laneWeightsMinimumChannels = 32
    var laneWeightsMinimumFill = 0.875
    var laneWeightsMinimumTaps = 128
    /// Output pixels per block of that path: whole output rows, about this many, so that
    /// the block's packed dY (128 bytes a pixel) fills 2/3 of L1d (`init(caches:)`: 256 on
    /// 48 KiB). Blocks never change the bits: each chain continues across them.
    var laneWeightsBlock = 256

    enum Orientation: Sendable { case automatic, direct, transposed }

    enum LoweringChoice: Sendable { case automatic, im2col, dual }

    /// The tuning of this machine: the defaults with the cache budgets of its caches.
    static let standard = ConvTuning(caches: .current)
}

extension ConvTuning {
    /// The defaults, with the budgets that must fit in L2 taken from `caches.l2` (at least
    /// 256 KiB, at most 1 MiB): `columnBudget` half of it, `directBandFloats` all of it,
    /// `directWeightBudget` a quarter, in floats. On a 1 MiB L2 (Zen 4, Zen 5) they are the
    /// values the kernels were tuned with; a 512 KiB L2 (Zen 1) halves them. A larger L2
    /// keeps them: on a 2 MiB one (Xeon) the doubled budgets measured slower (the column
    /// blocks of the im2col paths, the bands of the direct backward-data), since the packed
    /// weights and the outputs of a pass share L2 with them. An L1d of 48 KiB or more sizes
    /// `directBandPixels`. They move bands, slabs and passes, never a path.
    init(caches: CacheSizes) {
        self.init()
        if caches.l1d >= 48 << 10 { directBandPixels = caches.l1d * 2 / 3 / 16 }
        laneWeightsBlock = max(16, caches.l1d * 2 / 3 / 128)
        let l2Floats = min(max(caches.l2, 256 << 10), 1 << 20) / MemoryLayout<Float>.size
        columnBudget = l2Floats / 2
        directBandFloats = l2Floats
        directWeightBudget = l2Floats / 4
    }

    /// The cache budgets for a benchmark header: `conv column 128Ki, band 256Ki, weights 64Ki,
    /// weight-gradient band 16384 px, lane block 170 px`.
    var budgetSummary: String {
        func ki(_ floats: Int) -> String { floats % 1024 == 0 ? "\(floats / 1024)Ki" : "\(floats)" }
        return "conv column \(ki(columnBudget)), band \(ki(directBandFloats)), weights \(ki(directWeightBudget)), "
            + "weight-gradient band \(directBandPixels) px, lane block \(laneWeightsBlock) px"
    }
}

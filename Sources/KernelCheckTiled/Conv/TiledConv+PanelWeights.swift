import CKernelSupport

// Backward-weights for wide layers (many output channels and taps, e.g. a GAN's 128 → 256
// k5 conv, or a transposed conv's stride-2 adjoint) without im2col:
// `dW[g] (Co × K) = Σ_n dY[n,g] (Co × P) · col(X[n,g])ᵀ (P × K)` as 12 × 32 register tiles
// on operands packed straight from their sources, per image and block of whole output rows
// (at most `kc` pixels): dY's rows as A panels (`directPanels`: 12 or 8 channels per step)
// and `colᵀ` as B panels of 32 taps, gathered from a zero-padded copy of the image (a tap's
// pixels along an output row are consecutive floats there, so 16 taps at a time go through
// 16 × 16 register transposes).
//
// With padding, the taps go in (kh, kw, ci) order, so that a 32-tap panel has one kernel
// position (or two) and its products with zero padding form whole rows and columns of
// pixels: the panel packs and sums only the rectangle of pixels whose taps meet the input
// (a 16 × 16 image with 5 × 5 taps and padding 2: 85.6 % of them), through the direct
// forward's kernels (`DirectSteps`: one run of columns per row, B rows read through a table
// of their offsets). Its columns land in a permuted dW, put back in (ci, kh, kw) order at
// the end.
//
// Every element of dW is one chain over a block's pixels in order, added to dW in (image,
// block) order, and threads own whole 32-tap column panels, so the result does not depend on
// the thread count.

extension TiledConv {
    /// Whether backward-weights takes this path: the direct geometry applies and there are
    /// enough channels and taps for the packing to pay (each packed value feeds `Co` or `K`
    /// multiply-adds).
    func usesPanelWeights(_ plan: DirectPlan) -> Bool {
        tuning.panelWeights && outChannels >= tuning.panelWeightsMinimum && columnRows >= tuning.panelWeightsMinimum
    }

    /// How `backwardWeightsPanels` cuts an image's pixels: blocks of whole output rows, cut
    /// evenly, at most `panelWeightsBlock` (≤ kc) pixels each (`rowBlocks`); rows longer than
    /// that are cut into blocks of pixels, with no rectangles. `block` pixels a block.
    var panelPixelBlocks: (rowBlocks: Bool, blocks: Int, block: Int) {
        let p = outSpatial, ho = outSize[1], wo = outSize[2]
        let most = max(1, min(GEMMBlocking.kc, tuning.panelWeightsBlock))
        let rowBlocks = wo <= most
        let blocks = rowBlocks ? (ho + most / wo - 1) / (most / wo) : (p + most - 1) / most
        return (rowBlocks, blocks, rowBlocks ? (ho + blocks - 1) / blocks * wo : (p + blocks - 1) / blocks)
    }

    /// Whether `backwardWeightsPanels` fills the padded input 32 channels at a time: each
    /// panel is one kernel position of one 32-channel block (taps in (kh, kw, ci) order,
    /// channels a multiple of 32) and an image is one block of pixels.
    var panelFillsByChannelBlock: Bool { panelFillsByChannelBlock(ordered: panelTapOrder() != nil) }

    /// `panelFillsByChannelBlock` for a caller that has `panelTapOrder()` at hand (`ordered`:
    /// it is not nil).
    func panelFillsByChannelBlock(ordered: Bool) -> Bool {
        ordered && inChannels > 0 && inChannels % GEMMBlocking.nr == 0 && panelPixelBlocks.blocks == 1
    }

    func backwardWeightsPanels(
        _ plan: DirectPlan, input x: Tiled.Input, output dy: Tiled.Input,
        weights dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let nr = GEMMBlocking.nr
        let ho = outSize[1], wo = outSize[2]
        let (rowBlocks, blocks, block) = panelPixelBlocks
        let order = panelTapOrder()
        let panels = (k + nr - 1) / nr
        let offsets: UnsafeMutablePointer<Int> = tapOffsets(
            count: panels * nr, plane: plan.plane, plan: plan,
            order: order)
        defer { offsets.deallocate() }
        let permuted: UnsafeMutablePointer<Float>? = order.map { _ in .allocate(capacity: self.groups * co * k) }
        defer { permuted?.deallocate() }
        let target = permuted ?? dw
        // The output rows and columns whose pixels each panel's taps read inside the input.
        let rectangles: [(rows: Range<Int>, columns: Range<Int>)] = (0..<panels).map { panel in
            let taps = (panel * nr)..<min(k, panel * nr + nr)
            guard let order, rowBlocks else { return (0..<ho, 0..<wo) }
            let rows = taps.map { (order[$0] / kernel[2]) % kernel[1] }, columns = taps.map { order[$0] % kernel[2] }
            return (
                outputs(along: 1, meeting: rows.min()!...rows.max()!),
                outputs(along: 2, meeting: columns.min()!...columns.max()!)
            )
        }
        // Byte offset of B row s (pixel s of the block): the kernels' tap table.
        let rowOffsets = UnsafeMutablePointer<Int32>.allocate(capacity: block)
        defer { rowOffsets.deallocate() }
        for s in 0..<block { rowOffsets[s] = Int32(4 * nr * s) }
        let aPanels = Self.directPanels(co), aRows = Self.panelRows(aPanels)
        let groups = groups, batch = batch
        let pieces = min(groups * panels, Tiled.resolveThreads(threads))
        let inputCount = Tiled.roundUp(plan.inputCount, 16), aCount = Tiled.roundUp(aRows * block, 16),
            bCount = block * nr
        let workspace = inputCount + aCount + bCount + 12 * nr
        let buffer = Tiled.allocateFloats(pieces * workspace)
        defer { buffer.deallocate() }
        let shares = panelShares(panels: panels, ordered: order != nil, pieces: pieces)
        // `panelFillsByChannelBlock`: the padded input is filled 32 channels at a time, just
        // before the panels that read them (taken in channel-block order), so that 32 padded
        // planes stay in L2 for the gathers, where a whole padded image may not (256 channels
        // of 34 × 34 are 1.2 MB). `xp` then holds channel c at `(c − c0)·plane`.
        let byChannelBlock = panelFillsByChannelBlock(ordered: order != nil), perPosition = ci / nr
        Tiled.forEachItem(pieces, threads: pieces) { piece, _ in
            let xp = buffer + piece * workspace, packedA = xp + inputCount, packedB = packedA + aCount
            let tile = packedB + bCount
            let channels = shares.channels[piece]
            let items =
                byChannelBlock
                ? shares.items[piece].sorted {
                    ($0 / panels, $0 % panels % perPosition, $0) < ($1 / panels, $1 % panels % perPosition, $1)
                }
                : shares.items[piece]
            guard !items.isEmpty else { return }
            let variant = KernelVariant.current
            for n in 0..<batch {
                var filled = -1, filledBlock = -1
                for b in 0..<blocks {
                    let p0 = b * block, p1 = min(p, p0 + block), blockPixels = p1 - p0
                    var packedGroup = -1
                    for item in items {
                        let g = item / panels, panel = item % panels
                        let imageGroup = n * groups + g
                        // The first channel whose plane is at the start of `xp`.
                        let c0 = byChannelBlock ? panel % perPosition * nr : 0
                        if byChannelBlock ? (g, c0) != (filled, filledBlock) : g != filled {
                            fillPadded(
                                x.advanced(by: imageGroup * ci * inS), plan,
                                channels: byChannelBlock ? c0..<(c0 + nr) : channels, zeroingSlack: !byChannelBlock,
                                into: xp - c0 * plan.plane)
                            (filled, filledBlock) = (g, c0)
                        }
                        if g != packedGroup {
                            for a in aPanels {
                                Self.packPanel(
                                    dy.advanced(by: (imageGroup * co + a.first) * p + p0), ld: p, a,
                                    length: blockPixels,
                                    into: packedA + a.first * blockPixels)
                            }
                            packedGroup = g
                        }
                        // The block's part of the panel's rectangle: `rows` runs of `columns`
                        // pixels, `wo` apart, from step `s0` (one run of all the block's
                        // pixels without rectangles).
                        let taps = offsets + panel * nr, valid = min(nr, k - panel * nr), accumulate = n > 0 || b > 0
                        let c = target + g * co * k + panel * nr
                        let rectangle = rectangles[panel]
                        let (runs, runLength, s0): (Int, Int, Int)
                        if rowBlocks {
                            let r0 = p0 / wo, first = max(r0, rectangle.rows.lowerBound)
                            (runs, runLength) = (
                                min(p1 / wo, rectangle.rows.upperBound) - first, rectangle.columns.count
                            )
                            s0 = (first - r0) * wo + rectangle.columns.lowerBound
                        } else {
                            (runs, runLength, s0) = (1, blockPixels, 0)
                        }
                        guard runs > 0 && runLength > 0 else {
                            if !accumulate { for r in 0..<co { (c + r * k).update(repeating: 0, count: valid) } }
                            continue
                        }
                        for run in 0..<runs {
                            let s = s0 + run * wo
                            gatherTaps(
                                xp - c0 * plan.plane, plan, taps: taps, valid: valid, pixels: p0 + s, count: runLength,
                                into: packedB + s * nr)
                        }
                        // Runs of whole output rows are one run.
                        let steps =
                            runLength == wo
                            ? DirectSteps.all(runs * wo)
                            : DirectSteps(segments: runs, count: runLength, stride: rowBlocks ? wo : blockPixels)
                        let b0 = UnsafeRawPointer(packedB), b1 = b0 + 64
                        for (index, a) in aPanels.enumerated() {
                            let aPanel = UnsafePointer(packedA + a.first * blockPixels + s0 * a.rows)
                            let inPlace = valid == nr && a.valid == a.rows
                            let out = inPlace ? c + a.first * k : tile
                            if inPlace { Tiled.prefetchTile(out, ldc: k, rows: a.rows) }
                            // The next tile's rows of dW, into L2 while this one computes: dW
                            // (3.2 MB for a 128 → 256 k5 layer) is read and written once per
                            // block, its rows k floats apart, where no hardware prefetcher
                            // follows.
                            if index + 1 < aPanels.count {
                                let next = aPanels[index + 1]
                                Tiled.prefetchTile(c + next.first * k, ldc: k, rows: next.valid, toL2: true)
                            }
                            let ld = inPlace ? k : nr, add = inPlace && accumulate
                            TiledConv.directKernel(
                                variant, rows: a.rows, steps: steps, a: aPanel, offsets: rowOffsets + s0, b0: b0,
                                b1: b1,
                                c: out, ldc: ld, second: 16, loadC: add)
                            if !inPlace {
                                Output(base: c, ld: k, transposed: false)
                                    .merge(
                                        tile: tile, stride: nr, row: a.first, column: 0, height: a.valid, width: valid,
                                        adding: accumulate)
                            }
                        }
                    }
                }
            }
        }
        guard let permuted else { return }
        // `panelTapOrder` lays each row of the permuted dW out as a (kh·kw) × ci matrix;
        // dW's row, in (ci, kh, kw) order, is its transpose.
        let positions = kernel[1] * kernel[2]
        Tiled.forEachItem(groups * co, threads: threads) { row, _ in
            let src = permuted + row * k, dst = dw + row * k
            for c in 0..<ci {
                let out = dst + c * positions
                for t in 0..<positions { out[t] = src[t * ci + c] }
            }
        }
    }

    /// The items (group · panels + panel) of each of `pieces` workers and the input channels
    /// each pads. Items go in contiguous runs; but with taps in (kh, kw, ci) order (`ordered`)
    /// and each kernel position's panels splitting evenly, a worker takes the same channels at
    /// every position, so it pads only those channels of each image instead of every worker
    /// padding whole images.
    func panelShares(panels: Int, ordered: Bool, pieces: Int) -> (items: [[Int]], channels: [Range<Int>]) {
        let nr = GEMMBlocking.nr, ci = inChannels, items = groups * panels
        let perPosition = ordered && ci % nr == 0 ? ci / nr : 0
        guard pieces > 1, perPosition > 0, perPosition % pieces == 0 else {
            return (
                (0..<pieces).map { Array((items * $0 / pieces)..<(items * ($0 + 1) / pieces)) },
                Array(repeating: 0..<ci, count: pieces)
            )
        }
        let share = perPosition / pieces, positions = panels / perPosition
        let shares = (0..<pieces).map { piece in
            (0..<groups).flatMap { g in
                (0..<positions).flatMap { position in
                    (0..<share).map { g * panels + position * perPosition + piece * share + $0 }
                }
            }
        }
        return (shares, (0..<pieces).map { (ci * $0 / pieces)..<(ci * ($0 + 1) / pieces) })
    }

    /// Packs B rows `0 ..< count` of 32 taps for the pixels `first ..< first + count`:
    /// `packed[s·32 + j] = Xp[offset(taps[j]) + address(pixel first + s)]`, zero for
    /// `j ≥ valid`, 16 taps and up to 16 pixels of an output row at a time through 16 × 16
    /// register transposes (`kc_gather_transpose16`; 4 × 4 ones without AVX-512).
    func gatherTaps(
        _ xp: UnsafePointer<Float>, _ plan: DirectPlan, taps: UnsafePointer<Int>, valid: Int,
        pixels first: Int, count: Int, into packed: UnsafeMutablePointer<Float>
    ) {
        let nr = GEMMBlocking.nr, wo = outSize[2], rowFloats = stride[1] * plan.width
        var s = 0
        while s < count {
            let pixel = first + s, oh = pixel / wo, ow = pixel - oh * wo
            let run = min(count - s, wo - ow)
            let base = xp + oh * rowFloats + ow
            let out = packed + s * nr
            if Self.gathersBy16 {
                for j in Swift.stride(from: 0, to: nr, by: 16) {
                    for q in Swift.stride(from: 0, to: run, by: 16) {
                        kc_gather_transpose16(base + q, taps + j, valid - j, min(16, run - q), out + q * nr + j, nr)
                    }
                }
            } else {
                Self.gatherBy4(base, taps: taps, valid: valid, run: run, into: out)
            }
            s += run
        }
    }

    /// Whether `gatherTaps` goes through `kc_gather_transpose16` (built with AVX-512), else
    /// through `gatherBy4`.
    static let gathersBy16 = kc_avx512_compiled() != 0

    /// `gatherTaps` for one row run of `run` pixels without AVX-512: four taps and four pixels
    /// at a time through 4 × 4 register transposes, then zeros for the taps `≥ valid`.
    static func gatherBy4(
        _ base: UnsafePointer<Float>, taps: UnsafePointer<Int>, valid: Int, run: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        let nr = GEMMBlocking.nr
        for j in Swift.stride(from: 0, to: nr, by: 4) {
            let s0 = base + taps[j], s1 = base + taps[j + 1], s2 = base + taps[j + 2], s3 = base + taps[j + 3]
            let dst = out + j
            var q = 0
            while q + 4 <= run {
                let v0 = Tiled.load(s0 + q, as: SIMD4<Float>.self), v1 = Tiled.load(s1 + q, as: SIMD4<Float>.self)
                let v2 = Tiled.load(s2 + q, as: SIMD4<Float>.self), v3 = Tiled.load(s3 + q, as: SIMD4<Float>.self)
                Tiled.store(SIMD4(v0[0], v1[0], v2[0], v3[0]), dst + q * nr)
                Tiled.store(SIMD4(v0[1], v1[1], v2[1], v3[1]), dst + (q + 1) * nr)
                Tiled.store(SIMD4(v0[2], v1[2], v2[2], v3[2]), dst + (q + 2) * nr)
                Tiled.store(SIMD4(v0[3], v1[3], v2[3], v3[3]), dst + (q + 3) * nr)
                q += 4
            }
            while q < run {
                Tiled.store(SIMD4(s0[q], s1[q], s2[q], s3[q]), dst + q * nr)
                q += 1
            }
        }
        if valid < nr {
            for q in 0..<run { (out + q * nr + valid).update(repeating: 0, count: nr - valid) }
        }
    }

    /// The taps in (kh, kw, ci) order (`order[q]` = the (ci, kh, kw) index of the q-th), or
    /// nil when every tap meets the input for every output pixel (nothing to leave out).
    func panelTapOrder() -> [Int]? {
        let kh = kernel[1], kw = kernel[2], ci = inChannels
        guard
            (0..<kh).contains(where: { outputs(along: 1, meeting: $0...$0) != 0..<outSize[1] })
                || (0..<kw).contains(where: { outputs(along: 2, meeting: $0...$0) != 0..<outSize[2] })
        else { return nil }
        var order: [Int] = []
        order.reserveCapacity(columnRows)
        for i in 0..<kh {
            for j in 0..<kw {
                for c in 0..<ci { order.append((c * kh + i) * kw + j) }
            }
        }
        return order
    }
}

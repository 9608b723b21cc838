import CKernelSupport

// The direct forward in channel lanes (`ConvPath.channelLanes`): a register tile of 8
// output pixels of one output row × 32 output channels, each pixel's channels in two
// 16-lane accumulators (16 zmm registers). Per K step pair (input channel ci, kernel row kh)
// the tile loads that kernel row's weights, `kw` vectors of 32 channels packed
// `[ci][kh][kw][32]` per block of 32 output channels (weight order: `packDirectPanels` with
// 32-row panels), then broadcasts each of the `7·s + kw` input columns j the tile reads
// (width stride s = 1 or 2), straight from the unpadded input row, and adds `x[j] · w[kw]` to
// pixel `(j − kw)/s` for every tap with `j − kw` a multiple of s and `0 ≤ (j − kw)/s < 8`.
// Columns outside the input row are skipped, and so are the kernel
// rows outside the input (`kernelRows(meeting:)`): only products of real input values are
// computed (85.6 % of the counted ones on a 16 × 16 image with 5 × 5 taps and padding 2),
// where `direct`'s 12 × 32 tiles also multiply the horizontal padding.
//
// Every output element is one chain over K in increasing k = (ci, kh, kw), with the products
// of padding zeros left out, then the bias: `direct`'s sums (a left-out product is ±0, which
// leaves a chain that starts at +0 unchanged), so the same bits for finite inputs and for any
// thread count. The tile needs 16 accumulators, up to 14 weight vectors and a broadcast: the
// 32 registers of AVX-512, so only the `avx512` variant takes this path.

/// Taps per kernel row (2 to 7) and width stride (1 or 2) that the channel-lane tile is
/// compiled for: a straight-line body per pair, with every pixel `(j − kw) / s` a constant.
protocol LaneTapCount { static var taps: Int { get } }
enum LaneTaps2: LaneTapCount { static var taps: Int { 2 } }
enum LaneTaps3: LaneTapCount { static var taps: Int { 3 } }
enum LaneTaps4: LaneTapCount { static var taps: Int { 4 } }
enum LaneTaps5: LaneTapCount { static var taps: Int { 5 } }
enum LaneTaps6: LaneTapCount { static var taps: Int { 6 } }
enum LaneTaps7: LaneTapCount { static var taps: Int { 7 } }
protocol LaneStride { static var stride: Int { get } }
enum LaneStride1: LaneStride { static var stride: Int { 1 } }
enum LaneStride2: LaneStride { static var stride: Int { 2 } }

/// The 8 × 32 accumulators of a channel-lane tile: pixel p's 32 channels in `pixel p`.
struct LaneTile {
    typealias Pair = (SIMD16<Float>, SIMD16<Float>)
    var p0: Pair = (.zero, .zero), p1: Pair = (.zero, .zero), p2: Pair = (.zero, .zero), p3: Pair = (.zero, .zero)
    var p4: Pair = (.zero, .zero), p5: Pair = (.zero, .zero), p6: Pair = (.zero, .zero), p7: Pair = (.zero, .zero)

    static let pixels = 8, channels = 32

    @inline(__always)
    static func add(_ a: inout Pair, _ x: SIMD16<Float>, _ w: Pair) {
        a.0 = a.0.addingProduct(x, w.0)
        a.1 = a.1.addingProduct(x, w.1)
    }

    /// `pixel[p] += x · w` (p is a constant once inlined).
    @inline(__always)
    mutating func add(pixel p: Int, _ x: SIMD16<Float>, _ w: Pair) {
        switch p {
        case 0: Self.add(&p0, x, w)
        case 1: Self.add(&p1, x, w)
        case 2: Self.add(&p2, x, w)
        case 3: Self.add(&p3, x, w)
        case 4: Self.add(&p4, x, w)
        case 5: Self.add(&p5, x, w)
        case 6: Self.add(&p6, x, w)
        default: Self.add(&p7, x, w)
        }
    }

    init() {}

    /// The tile `store` wrote at `sums`.
    @inline(__always)
    init(_ sums: UnsafePointer<Float>) {
        @inline(__always) func pair(_ p: Int) -> Pair { (Tiled.load(sums + 32 * p), Tiled.load(sums + 32 * p + 16)) }
        (p0, p1, p2, p3) = (pair(0), pair(1), pair(2), pair(3))
        (p4, p5, p6, p7) = (pair(4), pair(5), pair(6), pair(7))
    }

    /// Writes pixel p's 32 channels to `out[32·p ..< 32·p + 32]`.
    @inline(__always)
    func store(_ out: UnsafeMutablePointer<Float>) {
        @inline(__always) func put(_ p: Int, _ pair: Pair) {
            Tiled.store(pair.0, out + 32 * p)
            Tiled.store(pair.1, out + 32 * p + 16)
        }
        put(0, p0); put(1, p1); put(2, p2); put(3, p3); put(4, p4); put(5, p5); put(6, p6); put(7, p7)
    }
}

/// One kernel row's weights, `taps` vectors of 32 channels (zero past `taps`).
struct LaneWeights {
    var w0, w1, w2, w3, w4, w5, w6: LaneTile.Pair

    @inline(__always)
    init(_ p: UnsafePointer<Float>, taps: Int) {
        @inline(__always) func pair(_ kw: Int) -> LaneTile.Pair {
            kw < taps ? (Tiled.load(p + 32 * kw), Tiled.load(p + 32 * kw + 16)) : (.zero, .zero)
        }
        (w0, w1, w2, w3, w4, w5, w6) = (pair(0), pair(1), pair(2), pair(3), pair(4), pair(5), pair(6))
    }

    @inline(__always)
    subscript(_ kw: Int) -> LaneTile.Pair {
        switch kw {
        case 0: w0
        case 1: w1
        case 2: w2
        case 3: w3
        case 4: w4
        case 5: w5
        default: w6
        }
    }
}

extension TiledConv {
    /// Why the channel-lane forward does not apply to this shape, or nil when it does:
    /// 16-lane vectors, width stride 1 or 2 and width dilation 1 with 2 to 7 taps a row (begin
    /// padding under a row's taps), at least 32 (input channel, kernel row) steps, and output
    /// channels that fill the 32 lanes (at least 32, at least 7/8 of the lanes of the last block).
    var channelLanesUnavailable: String? {
        if !tuning.channelLanes { return "channel lanes are off in the tuning" }
        if KernelVariant.current.lanes != 16 { return "channel lanes need 16-lane vectors" }
        let kw = kernel[2]
        guard stride[2] <= 2, dilation[2] == 1, (2...7).contains(kw), padBegin[2] < kw else {
            return "channel lanes take width stride 1 or 2 and 2 to 7 undilated taps a row"
        }
        // Each tile ends in a transposing store and sets up its sums and rows: with few K
        // step pairs that costs a good part of the tile (3 → 32 channels with 5 × 5 taps:
        // 15 pairs, slower than the 12 × 32 tiles even with the vector store).
        guard inChannels * kernel[1] >= 32 else {
            return "\(inChannels * kernel[1]) (input channel, kernel row) steps per tile: fewer than 32"
        }
        let blocks = (outChannels + 31) / 32
        guard outChannels >= 32, 8 * outChannels >= 7 * 32 * blocks else {
            return "\(outChannels) output channels fill too few of the \(32 * blocks) channel lanes"
        }
        return nil
    }

    /// How `forwardChannelLanes` cuts the work: bands of `bandRows` output rows × `bandTiles`
    /// tiles of a row, about 32 tiles (whole rows while a row has fewer than 32 tiles), so
    /// that each block of packed weights is reused by 32 tiles while in cache and a band's
    /// partial sums stay small however wide the rows; and blocks of input channels whose
    /// weights (`channels · kh · kw · 32` floats) fit `directWeightBudget`. A tile's chain
    /// continues across the channel blocks from its stored partial sum (exact), so the
    /// blocking never changes a result.
    var channelLaneBlocking: (bandRows: Int, bandTiles: Int, channelBlock: Int) {
        let tiles = (outSize[2] + LaneTile.pixels - 1) / LaneTile.pixels
        let bandTiles = min(tiles, 32), bandRows = min(outSize[1], max(1, (32 + tiles - 1) / tiles))
        let most = max(1, tuning.directWeightBudget / (kernel[1] * kernel[2] * LaneTile.channels))
        let blocks = (inChannels + most - 1) / most
        return (bandRows, bandTiles, (inChannels + blocks - 1) / blocks)
    }

    /// Bands of `forwardChannelLanes` per image: (row bands, tile bands of a row).
    var channelLaneBands: (rows: Int, tiles: Int) {
        let (bandRows, bandTiles, _) = channelLaneBlocking
        let tiles = (outSize[2] + LaneTile.pixels - 1) / LaneTile.pixels
        return ((outSize[1] + bandRows - 1) / bandRows, (tiles + bandTiles - 1) / bandTiles)
    }

    /// Items of `forwardChannelLanes`: (group, 32-channel block, image, band).
    var channelLaneItems: Int {
        let bands = channelLaneBands
        return groups * ((outChannels + 31) / 32) * batch * bands.rows * bands.tiles
    }

    /// The boundaries `forwardChannelLanes` crosses: several bands of rows or blocks of input
    /// channels; items on several threads; partial tiles (channels past Co in the last block,
    /// pixels past a row's end in its last tile).
    func channelLanesBoundaries(threads t: Int) -> Set<CoverageBoundary> {
        var b: Set<CoverageBoundary> = []
        let bands = channelLaneBands
        if bands.rows * bands.tiles > 1 || channelLaneBlocking.channelBlock < inChannels { b.insert(.bandSplit) }
        if t > 1 && channelLaneItems > 1 { b.insert(.threadSplit) }
        if outChannels % 32 != 0 || outSize[2] % LaneTile.pixels != 0 { b.insert(.edgeTiles) }
        return b
    }

    /// The weight panels a direct forward through `plan` packs: 32-channel panels for the
    /// channel lanes, else `directPanels`.
    static func weightPanels(_ plan: DirectPlan, outputChannels: Int) -> [(first: Int, rows: Int, valid: Int)] {
        plan.channelLanes ? lanePanels(outputChannels) : directPanels(outputChannels)
    }

    /// Whether a tile whose pixels are consecutive in the output is stored by
    /// `kc_store_lane_tile` (built with AVX-512: register transposes), else by the scalar loop.
    static let storesLaneTilesBy16 = kc_avx512_compiled() != 0

    /// Panels of 32 output channels (the last one zero past `count`): the channel-lane tile's
    /// weights, packed by `packDirectPanels`.
    static func lanePanels(_ count: Int) -> [(first: Int, rows: Int, valid: Int)] {
        Swift.stride(from: 0, to: count, by: 32).map { ($0, 32, min(32, count - $0)) }
    }

    /// The channel-lane forward (see the top of this file) on weights packed in `lanePanels`,
    /// written through `layout`. Items are (group, channel block, image, band), each one
    /// thread's; within an item, each block of input channels runs over every tile of the
    /// band, the tiles' partial sums kept in a per-thread buffer (`channelLaneBlocking`).
    func forwardChannelLanes(
        input x: Tiled.Input, panels: [(first: Int, rows: Int, valid: Int)],
        packedWeights packedW: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
        output y: UnsafeMutablePointer<Float>, layout: DirectOutputLayout, threads: Int
    ) {
        let tileFloats = LaneTile.pixels * LaneTile.channels
        let ho = outSize[1], wo = outSize[2], tiles = (wo + LaneTile.pixels - 1) / LaneTile.pixels
        let (bandRows, bandTiles, channelBlock) = channelLaneBlocking
        let rowBands = channelLaneBands.rows, tileBands = channelLaneBands.tiles
        let bands = rowBands * tileBands, bandFloats = bandRows * bandTiles * tileFloats
        let workers = min(Tiled.resolveThreads(threads), channelLaneItems)
        let partials = Tiled.allocateFloats(workers * bandFloats)
        defer { partials.deallocate() }
        Tiled.withFloats(x, count: inputElements, threads: threads) { x in
            let x = x!
            let inW = inSize[2], kh = kernel[1], kw = kernel[2]
            let sh = stride[1], sw = stride[2], dh = dilation[1], pbh = padBegin[1], pbw = padBegin[2]
            let k = columnRows, ci = inChannels, inS = inSpatial, co = outChannels, batch = batch
            let blocks = panels.count, aStride = Self.panelRows(panels) * k
            let rowsMeeting = (0..<ho).map { kernelRows(meeting: $0...$0) }
            Tiled.forEachItem(channelLaneItems, threads: threads) { item, worker in
                let band = item % bands, n = item / bands % batch, b = item / (bands * batch) % blocks
                let g = item / (bands * batch * blocks), panel = panels[b]
                let rowBand = band / tileBands, tileBand = band % tileBands, imageGroup = n * groups + g
                let rows = (rowBand * bandRows)..<min(ho, (rowBand + 1) * bandRows)
                let bandTileRange = (tileBand * bandTiles)..<min(tiles, (tileBand + 1) * bandTiles)
                let partial = partials + worker * bandFloats
                // Tile t of output row oh: its partial sums in the worker's buffer.
                func sums(_ oh: Int, _ t: Int) -> UnsafeMutablePointer<Float> {
                    partial + ((oh - rows.lowerBound) * bandTiles + t - bandTileRange.lowerBound) * tileFloats
                }
                let image = x + imageGroup * ci * inS, weights = packedW + g * aStride + panel.first * k
                for c0 in Swift.stride(from: 0, to: ci, by: channelBlock) {
                    for oh in rows {
                        let taps = rowsMeeting[oh]
                        // The first kernel row's input row and weights for this channel block.
                        let xRow = image + c0 * inS + (oh * sh - pbh + taps.lowerBound * dh) * inW
                        let a = UnsafePointer(weights + (c0 * kh + taps.lowerBound) * kw * 32)
                        for t in bandTileRange {
                            var tile = c0 == 0 ? LaneTile() : LaneTile(sums(oh, t))
                            // Tile column j reads input column 8t·s − pbw + j, inside the row for j in `columns`.
                            let first = t * LaneTile.pixels * sw - pbw
                            let span = (LaneTile.pixels - 1) * sw + kw
                            let columns = max(0, -first)..<max(0, min(span, inW - first))
                            if !taps.isEmpty && !columns.isEmpty {
                                let tap = LaneTapArguments(
                                    row: xRow + (first + columns.lowerBound), weights: a,
                                    channels: min(channelBlock, ci - c0), rows: taps.count, channelStride: inS,
                                    rowStride: dh * inW, weightChannelStride: kh * kw * 32, columns: columns)
                                tile =
                                    sw == 1
                                    ? Self.channelLaneTile(LaneStride1.self, taps: kw, tap, from: tile)
                                    : Self.channelLaneTile(LaneStride2.self, taps: kw, tap, from: tile)
                            }
                            tile.store(sums(oh, t))
                        }
                    }
                }
                let channelBias = bias.map { $0 + g * co + panel.first }
                let vectorStore = layout.columnStride == 1 && Self.storesLaneTilesBy16
                for oh in rows {
                    let out = y + imageGroup * layout.imageGroupStride + layout.origin + oh * layout.rowStride
                    for t in bandTileRange {
                        let tile = sums(oh, t), ow0 = t * LaneTile.pixels, pixels = min(LaneTile.pixels, wo - ow0)
                        let cs = layout.columnStride
                        if vectorStore {
                            kc_store_lane_tile(
                                tile, pixels, panel.valid, channelBias, out + panel.first * layout.channelStride + ow0,
                                layout.channelStride)
                            continue
                        }
                        for c in 0..<panel.valid {
                            let dst = out + (panel.first + c) * layout.channelStride + ow0 * cs
                            if let channelBias {
                                let value = channelBias[c]
                                for p in 0..<pixels { dst[p * cs] = value + tile[32 * p + c] }
                            } else {
                                for p in 0..<pixels { dst[p * cs] = tile[32 * p + c] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Where one channel-lane tile reads: `row` is tile column `columns.lowerBound` of input
    /// channel 0's first kernel row (tile column j is `row[j − columns.lowerBound]`, read only
    /// for j in `columns`), then `rows` kernel rows
    /// `rowStride` floats apart and `channels` input channels `channelStride` apart; `weights`
    /// the first kernel row's, `taps · 32` floats a row and `weightChannelStride` a channel.
    struct LaneTapArguments {
        var row: UnsafePointer<Float>, weights: UnsafePointer<Float>
        var channels: Int, rows: Int, channelStride: Int, rowStride: Int, weightChannelStride: Int
        var columns: Range<Int>
    }

    /// `channelLaneTile` compiled for `taps` (2 to 7) taps a row.
    @inline(__always)
    static func channelLaneTile<Stride: LaneStride>(
        _: Stride.Type, taps: Int, _ args: LaneTapArguments, from start: LaneTile
    ) -> LaneTile {
        switch taps {
        case 2: channelLaneTile(LaneTaps2.self, Stride.self, args, from: start)
        case 3: channelLaneTile(LaneTaps3.self, Stride.self, args, from: start)
        case 4: channelLaneTile(LaneTaps4.self, Stride.self, args, from: start)
        case 5: channelLaneTile(LaneTaps5.self, Stride.self, args, from: start)
        case 6: channelLaneTile(LaneTaps6.self, Stride.self, args, from: start)
        default: channelLaneTile(LaneTaps7.self, Stride.self, args, from: start)
        }
    }

    /// One 8 × 32 tile, continuing the sums of `start`: for each input channel, each kernel
    /// row, each column j the tile reads (in increasing order), `pixel[(j − kw)/s] += x[j] · w[kw]`
    /// for the taps that reach one of its 8 pixels. So each pixel's chain runs over
    /// (ci, kh, kw) in increasing order.
    @inline(never)
    static func channelLaneTile<Taps: LaneTapCount, Stride: LaneStride>(
        _: Taps.Type, _: Stride.Type, _ args: LaneTapArguments, from start: LaneTile
    ) -> LaneTile {
        var tile = start
        let taps = Taps.taps, s = Stride.stride, span = (LaneTile.pixels - 1) * s + taps
        let lo = args.columns.lowerBound, hi = args.columns.upperBound
        var xc = args.row, wc = args.weights
        // The input rows of the channel two ahead, prefetched: channels are a whole image
        // plane apart, on another page, where the hardware prefetchers do not follow.
        let ahead = 2 * args.channelStride, last = span - lo - 1
        for _ in 0..<args.channels {
            var xr = xc, wr = wc
            for r in 0..<args.rows {
                kc_prefetch_read(xc + ahead + r * args.rowStride)
                kc_prefetch_read(xc + ahead + r * args.rowStride + last)
            }
            for _ in 0..<args.rows {
                let w = LaneWeights(wr, taps: taps)
                @inline(__always) func column(_ j: Int) {
                    guard j < span, lo <= j, j < hi else { return }
                    let x = SIMD16<Float>(repeating: xr[j - lo])
                    for kw in 0..<7 where kw < taps && j >= kw && (j - kw) % s == 0 && (j - kw) / s < LaneTile.pixels {
                        tile.add(pixel: (j - kw) / s, x, w[kw])
                    }
                }
                column(0); column(1); column(2); column(3); column(4); column(5); column(6)
                column(7); column(8); column(9); column(10); column(11); column(12); column(13)
                column(14); column(15); column(16); column(17); column(18); column(19); column(20)
                xr += args.rowStride
                wr += 32 * taps
            }
            xc += args.channelStride
            wc += args.weightChannelStride
        }
        return tile
    }
}

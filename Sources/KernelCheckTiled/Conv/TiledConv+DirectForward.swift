import CKernelSupport

// The direct forward's two drivers: 12 × 32 tiles on packed weight panels (any channel
// count ≥ 8), and wide tiles for at most 4 output channels. The geometry, the padded
// buffer and the tile helpers are in `TiledConv+Direct.swift`; bands in `+DirectBands`.

extension TiledConv {
    /// `forward` through the direct kernels (see the top of this file), written through
    /// `layout` (nil: the plain contiguous output; otherwise every tile is dealt out).
    func forwardDirect(
        _ plan: DirectPlan, input x: Tiled.Input, weights w: Tiled.Input,
        bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>,
        layout: DirectOutputLayout? = nil, threads: Int
    ) {
        let layout = layout ?? contiguousOutput
        if plan.wideRows > 0 {
            // The wide kernels read W in place: a narrow W is widened up front.
            Tiled.withFloats(w, count: groups * outChannels * columnRows, threads: threads) { w in
                forwardDirectWide(plan, input: x, weights: w!, bias: bias, output: y, layout: layout, threads: threads)
            }
            return
        }
        let panels = Self.weightPanels(plan, outputChannels: outChannels)
        let packedW = Tiled.allocateFloats(groups * Self.panelRows(panels) * columnRows)
        defer { packedW.deallocate() }
        packDirectPanels(w, panels, into: packedW, threads: threads)
        forwardDirect(
            plan, input: x, panels: panels, packedWeights: packedW, bias: bias, output: y, layout: layout,
            threads: threads)
    }

    /// Rows of all of `panels` (a multiple of 4 at least the channel count).
    static func panelRows(_ panels: [(first: Int, rows: Int, valid: Int)]) -> Int {
        panels.reduce(0) { $0 + $1.rows }
    }

    /// Packs `w` (`G·Co × K`) into `panels`: panel i of group g at `(g·panelRows + first_i)·K`,
    /// `rows` values per K step, zero past the valid rows. A narrow `w` is widened while
    /// packing: each panel's `valid` rows (one contiguous block of W) into a staging block,
    /// then transposed as for float32.
    func packDirectPanels(
        _ w: Tiled.Input, _ panels: [(first: Int, rows: Int, valid: Int)],
        into packedW: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let k = columnRows, co = outChannels, aStride = Self.panelRows(panels) * k
        Tiled.forEachItem(groups * panels.count, threads: threads) { item, _ in
            let g = item / panels.count, panel = panels[item % panels.count]
            Self.packPanel(
                w.advanced(by: (g * co + panel.first) * k), ld: k, panel, length: k,
                into: packedW + g * aStride + panel.first * k)
        }
    }

    /// `packPanel` on a matrix that may be narrow: float32 as it is; a narrow one has its
    /// `valid` rows of `length` values widened into a staging block (`valid × length`
    /// floats), which is then transposed as for float32.
    static func packPanel(
        _ src: Tiled.Input, ld: Int, _ panel: (first: Int, rows: Int, valid: Int), length: Int,
        into dst: UnsafeMutablePointer<Float>
    ) {
        if src.type == .f32 {
            packPanel(src.floats, ld: ld, panel, length: length, into: dst)
            return
        }
        Tiled.withScratchFloats(max(1, panel.valid * length)) { stage in
            for r in 0..<panel.valid { Tiled.widen(src.advanced(by: r * ld), count: length, into: stage + r * length) }
            packPanel(stage, ld: length, panel, length: length, into: dst)
        }
    }

    /// One panel of `directPanels`: rows `panel.first ..< + panel.valid` of a row-major
    /// matrix (`src` at the first, `ld` apart), `length` columns, as `panel.rows` values per
    /// column (zero past the valid rows).
    static func packPanel(
        _ src: UnsafePointer<Float>, ld: Int, _ panel: (first: Int, rows: Int, valid: Int), length: Int,
        into dst: UnsafeMutablePointer<Float>
    ) {
        Tiled.transposeRows(src, ld: ld, rows: panel.valid, length: length, into: dst, stride: panel.rows)
        if panel.valid < panel.rows {
            for step in 0..<length {
                (dst + step * panel.rows + panel.valid).update(repeating: 0, count: panel.rows - panel.valid)
            }
        }
    }

    /// The 12 × 32 direct forward on weights already packed into `panels` (`packDirectPanels`),
    /// or the channel-lane one when the plan says so (`lanePanels`).
    func forwardDirect(
        _ plan: DirectPlan, input x: Tiled.Input, panels: [(first: Int, rows: Int, valid: Int)],
        packedWeights packedW: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
        output y: UnsafeMutablePointer<Float>, layout: DirectOutputLayout, threads: Int
    ) {
        if plan.channelLanes {
            forwardChannelLanes(
                input: x, panels: panels, packedWeights: packedW, bias: bias, output: y, layout: layout,
                threads: threads)
            return
        }
        let strided = layout != contiguousOutput
        let writesOutput = plan.writesOutput && !strided
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let groups = groups, channelsOut = groups * co
        // Passes over the pixels: runs of panels holding at most `directWeightBudget` floats.
        var passes: [Range<Int>] = []
        var passStart = 0, passRows = 0
        for (i, panel) in panels.enumerated() {
            if i > passStart && (passRows + panel.rows) * k > tuning.directWeightBudget {
                passes.append(passStart..<i)
                passStart = i; passRows = 0
            }
            passRows += panel.rows
        }
        passes.append(passStart..<panels.count)
        let aStride = Self.panelRows(panels) * k
        let bands = directBands(plan, unit: 2)
        // Byte offsets of the taps in weight order k = (ci, kh, kw).
        let offsets: UnsafeMutablePointer<Int32> = tapOffsets(count: k, plane: bands.plane, plan: plan, scale: 4)
        defer { offsets.deallocate() }
        let sh = stride[1], vw = plan.virtualWidth
        // Image pairs: tile t of items with two images is vector t of each (see
        // `directImagePairs`); every such tile lands in place.
        let paired = !strided && pairsImages(plan)
        // Flattened tiles whose two vectors each lie in one output row go straight into y
        // (about half of a 56 × 56 image's: its grid rows are 57 wide).
        let flatInPlace = plan.flattened && !strided
        let loadC = (writesOutput || paired || flatInPlace) && bias != nil
        if loadC, let bias {
            Tiled.forEachItem(batch * channelsOut, threads: threads) { row, _ in
                (y + row * p).update(repeating: bias[row % channelsOut], count: p)
            }
        }
        let fullTiles = fullDirectTiles(plan, vectorsPerTile: 2)
        let fullVectors = paired ? fullDirectTiles(plan, vectorsPerTile: 1) : 0..<0
        let imageSteps = paired ? 2 : 1, nextImage = groups * layout.imageGroupStride
        runItems(
            (batch + imageSteps - 1) / imageSteps * groups, threads: threads,
            workspace: imageSteps * Tiled.roundUp(bands.count, 16)
        ) { item, padded, inner in
            let g = item % groups, n = item / groups * imageSteps
            let imageGroup = n * groups + g, pair = paired && n + 1 < batch
            let out = y + imageGroup * layout.imageGroupStride
            let aBase = UnsafePointer(packedW + g * aStride)
            // Where each tile's second vector comes from and where its outputs go.
            let padded1 = pair ? padded + Tiled.roundUp(bands.count, 16) : padded, second = pair ? nextImage : 16
            let perTile = pair ? 1 : 2, full = pair ? fullVectors : fullTiles
            for band in bands.ranges {
                fillBand(x.advanced(by: imageGroup * ci * inS), plan, bands, firstRow: band.r0, into: padded)
                if pair {
                    fillBand(
                        x.advanced(by: (imageGroup + groups) * ci * inS), plan, bands, firstRow: band.r0, into: padded1)
                }
                let bandFirst = band.v0 / perTile, bandTiles = (band.v1 + perTile - 1) / perTile - bandFirst
                let pieces = inner > 1 ? min(bandTiles, inner) : 1
                Tiled.forEachItem(pieces, threads: inner) { piece, _ in
                    let variant = KernelVariant.current
                    Tiled.withScratchFloats(12 * 32) { tile in
                        let firstTile = bandFirst + bandTiles * piece / pieces
                        let lastTile = bandFirst + bandTiles * (piece + 1) / pieces
                        for pass in passes {
                            for t in firstTile..<lastTile {
                                let v0 = perTile * t, v1 = v0 + perTile - 1
                                let b0 = UnsafeRawPointer(padded + bands.start(v0, band, plan, heightStride: sh))
                                let b1 = UnsafeRawPointer(padded1 + bands.start(v1, band, plan, heightStride: sh))
                                let (steps, firstStep) =
                                    full.contains(t) ? (.all(k), 0) : tileSteps(plan, vectors: v0...v1)
                                // Offset in y's channel plane of the tile's first half, and of the second from it.
                                var place: (first: Int, second: Int)?
                                if writesOutput || pair {
                                    place = (16 * v0, second)
                                } else if flatInPlace, let o0 = flatOutput(plan, vector: v0),
                                    let o1 = flatOutput(plan, vector: v1)
                                {
                                    place = (o0, o1 - o0)
                                }
                                let taps = UnsafePointer(offsets + firstStep)
                                for index in pass {
                                    // (By index: a slice of `panels` would retain it on every tile.)
                                    let panel = panels[index]
                                    let a = aBase + panel.first * k + panel.rows * firstStep
                                    let inPlace = place != nil && panel.valid == panel.rows
                                    let c = inPlace ? out + panel.first * p + place!.first : tile
                                    let ld = inPlace ? p : 32, add = inPlace && loadC,
                                        half = inPlace ? place!.second : 16
                                    if strided {
                                        prefetchDeal(
                                            tileWidth: 32, firstPixel: 32 * t, rows: panel.valid, virtualWidth: vw,
                                            into: out + panel.first * layout.channelStride, layout: layout)
                                    } else if inPlace {
                                        // The output lines are written once, after the K loop:
                                        // ask for them now so the misses overlap the FMAs.
                                        Tiled.prefetchTile(c, ldc: ld, rows: panel.rows, second: half)
                                    }
                                    TiledConv.directKernel(
                                        variant, rows: panel.rows, steps: steps, a: a, offsets: taps, b0: b0, b1: b1,
                                        c: c,
                                        ldc: ld,
                                        second: half, loadC: add)
                                    if inPlace { continue }
                                    if writesOutput || pair {
                                        // Whole vectors of output rows: the valid channels of each half.
                                        let c0 = out + panel.first * p + 16 * v0
                                        Output(base: c0, ld: p, transposed: false)
                                            .merge(
                                                tile: tile, stride: 32, row: 0, column: 0, height: panel.valid,
                                                width: pair ? 16 : 32, adding: loadC)
                                        if pair {
                                            Output(base: c0 + second, ld: p, transposed: false)
                                                .merge(
                                                    tile: tile + 16, stride: 32, row: 0, column: 0, height: panel.valid,
                                                    width: 16, adding: loadC)
                                        }
                                        continue
                                    }
                                    dealTile(
                                        tile, tileWidth: 32, firstPixel: 32 * t, rows: panel.valid, virtualWidth: vw,
                                        into: out + panel.first * layout.channelStride, layout: layout,
                                        bias: bias.map { $0 + g * co + panel.first })
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension TiledConv {
    /// The direct forward with at most 4 output channels: tiles of `wideRows` channels ×
    /// `wideVectors` consecutive vectors (`TiledConv.directWideKernel…`), same sums as the
    /// 12 × 32 tiles (one chain over K per element, then the bias).
    func forwardDirectWide(
        _ plan: DirectPlan, input x: Tiled.Input, weights w: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>,
        layout: DirectOutputLayout, threads: Int
    ) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let groups = groups, channelsOut = groups * co
        let rowsR = plan.wideRows, perTile = plan.wideVectors, tileWidth = 16 * perTile
        // Weights of group g at g·R·k: R values per K step, zero past the real channels.
        let packedW = Tiled.allocateFloats(groups * rowsR * k)
        defer { packedW.deallocate() }
        for g in 0..<groups {
            let dst = packedW + g * rowsR * k
            for step in 0..<k {
                for r in 0..<rowsR { dst[step * rowsR + r] = r < co ? w[(g * co + r) * k + step] : 0 }
            }
        }
        let bands = directBands(plan, unit: perTile)
        let offsets: UnsafeMutablePointer<Int32> = tapOffsets(count: k, plane: bands.plane, plan: plan, scale: 4)
        defer { offsets.deallocate() }
        let wo = outSize[2], sh = stride[1], vw = plan.virtualWidth
        // Row mode over whole output rows: every tile pixel is real and lands in place.
        let inPlace = !plan.flattened && vw == wo && co == rowsR && layout == contiguousOutput
        if inPlace, let bias {
            Tiled.forEachItem(batch * channelsOut, threads: threads) { row, _ in
                (y + row * p).update(repeating: bias[row % channelsOut], count: p)
            }
        }
        runItems(batch * groups, threads: threads, workspace: bands.count) { imageGroup, padded, inner in
            let g = imageGroup % groups
            let out = y + imageGroup * layout.imageGroupStride
            let a = UnsafePointer(packedW + g * rowsR * k)
            for (bandIndex, band) in bands.ranges.enumerated() {
                fillBand(x.advanced(by: imageGroup * ci * inS), plan, bands, firstRow: band.r0, into: padded)
                let firstTile = band.v0 / perTile, bandTiles = (band.v1 + perTile - 1) / perTile - firstTile
                let pieces = inner > 1 ? min(bandTiles, inner) : 1
                let next =
                    bandIndex + 1 < bands.ranges.count
                    ? BandPrefetch(
                        self, x.advanced(by: imageGroup * ci * inS), bands, firstRow: bands.ranges[bandIndex + 1].r0,
                        tiles: bandTiles)
                    : nil
                Tiled.forEachItem(pieces, threads: inner) { piece, _ in
                    Tiled.withScratchFloats(24 * 16) { tile in
                        for t
                            in (firstTile + bandTiles * piece / pieces)..<(firstTile + bandTiles * (piece + 1) / pieces)
                        {
                            let (pf, pfLines) = next?.lines(forTile: t - firstTile) ?? (UnsafeRawPointer(a), 0)
                            let v0 = t * perTile
                            let b = UnsafeRawPointer(padded + bands.start(v0, band, plan, heightStride: sh))
                            let c = inPlace ? out + 16 * v0 : tile
                            let ld = inPlace ? p : tileWidth, add = inPlace && bias != nil
                            TiledConv.directWideKernel(
                                channels: rowsR, k: k, a: a, offsets: offsets, b: b, c: c, ldc: ld, loadC: add,
                                prefetch: pf, prefetchLines: pfLines)
                            if inPlace { continue }
                            dealTile(
                                tile, tileWidth: tileWidth, firstPixel: 16 * v0, rows: co, virtualWidth: vw,
                                into: out, layout: layout, bias: bias.map { $0 + g * co })
                        }
                    }
                }
            }
        }
    }
}

// The forward convolution without im2col (any kernel, stride, dilation, padding; 1-D and
// 2-D): "direct" or implicit GEMM.
//
// Per image and group, the input is copied once into a zero-padded buffer `Xp[ci][r][c]`
// (`r = oh·s_h + kh·d_h`, `c = ow·s_w + kw·d_w` address the padded image; with width stride
// 1, columns past a row's end are the next row's left zeros), so that for a
// fixed tap `(ci, kh, kw)` sixteen output pixels of one output row read sixteen consecutive
// floats. With width stride 1 a buffer row is the padded row; with width stride `s_w > 1`
// it holds the padded row's `s_w` phases one after another (`phaseWidth` floats each, phase
// `ρ` = padded columns `ρ, ρ + s_w, ρ + 2·s_w, …`), so padded column `ow·s_w + kw·d_w` of
// output column `ow` sits at `ow + columnOffset(kw·d_w)`, consecutive in `ow` again. A
// stride-2 layer (a transposed conv's backward-data) reads its input like a stride-1 one.
// The register tile is `microKernel`'s 12 × 32 — 12 output channels (packed weight panels,
// shared by every image) × two vectors of 16 output pixels — with B loaded straight from
// `Xp` at `vector start + offsets[k]`, where `offsets` lists the tap offsets in weight order
// (`k = (ci, kh, kw)`). Every output element is one chain over all K steps in increasing k
// (no K blocks, no reloads of C), then the bias: the order depends only on the shape.
//
// Pixels are laid out on a virtual grid of `Ho` rows of `V` columns, the columns past `Wo`
// being junk lanes (finite reads from the padded buffer, results discarded):
// - row mode: `V = roundUp(Wo, 16)`, a vector never crosses an output row;
// - flattened mode (`s_h = 1` only): `V` = the buffer's row width, so the whole image is one
//   contiguous run and vector `t` starts at `16·t` (56 × 56 with 3 × 3 taps, padding 1: rows
//   of 57, the left zero doubling as the previous row's right one, so 98 % of the lanes are
//   useful instead of 87.5 %).
// When `V = Wo` the tiles are written straight into `y`; otherwise each tile goes to an
// L1 scratch tile whose valid columns are then dealt out to their output rows.

extension TiledConv {
    /// The geometry of the direct forward for this shape, or nil when it does not apply.
    struct DirectPlan {
        /// Padded buffer: `rows × width` per channel (`plane` floats), `inputCount` floats
        /// in all (the slack past the last plane covers the junk lanes' reads). A row is
        /// `widthStride` phase segments of `phaseWidth` floats (one segment when the width
        /// stride is 1); `rowReach` is the largest tap offset within a row.
        var width: Int, rows: Int, plane: Int, inputCount: Int
        var widthStride: Int, phaseWidth: Int, rowReach: Int
        var flattened: Bool
        /// Virtual columns per output row, vectors per output row (row mode), vectors, tiles.
        var virtualWidth: Int, vectorsPerRow: Int, vectors: Int, tiles: Int
        /// Whether tiles are written straight into the output (`V = Wo`, whole tiles).
        var writesOutput: Bool
        /// With at most 4 output channels: `wideRows` (2, 3 or 4) channels × `wideVectors`
        /// consecutive vectors per tile (`Tiled.directWideKernel…`), else 0.
        var wideRows = 0, wideVectors = 0
        /// Fraction of the tiles' lanes that are output pixels (the rest are junk lanes).
        var efficiency = 1.0

        /// Offset within a buffer row of padded column `ow·s_w + column` relative to output
        /// column `ow`: phase `column mod s_w`, `column div s_w` floats into it.
        @inline(__always)
        func columnOffset(_ column: Int) -> Int {
            Self.columnOffset(column, widthStride: widthStride, phaseWidth: phaseWidth)
        }

        @inline(__always)
        static func columnOffset(_ column: Int, widthStride: Int, phaseWidth: Int) -> Int {
            (column % widthStride) * phaseWidth + column / widthStride
        }

        /// Offset in `Xp` of the first pixel of vector `t` (`t = vectors` is the junk
        /// vector of an odd count: any in-bounds start).
        @inline(__always)
        func start(_ t: Int, heightStride: Int) -> Int {
            if t >= vectors { return 0 }
            if flattened { return 16 * t }
            let oh = t / vectorsPerRow
            return oh * heightStride * width + (t - oh * vectorsPerRow) * 16
        }
    }

    /// The direct forward's geometry for this shape, or nil when it does not apply.
    var directPlan: DirectPlan? { try? directAttempt.get() }

    /// The direct forward's geometry, or why it does not apply. Depends only on the shape
    /// and the tuning.
    var directAttempt: Result<DirectPlan, PathUnavailable> {
        func no(_ reason: String) -> Result<DirectPlan, PathUnavailable> { .failure(PathUnavailable(reason)) }
        if !tuning.direct { return no("direct paths are off in the tuning") }
        if isPointwise { return no("1×1 stride 1: X is already the column matrix") }
        if usesDual { return no("the dual lowering applies") }
        guard batch > 0, groups > 0, columnRows > 0, outChannels > 0, outSpatial > 0 else { return no("no products") }
        guard outChannels >= tuning.directMinimumChannels || outChannels <= 4 else {
            return no("\(outChannels) output channels per group: between 4 and \(tuning.directMinimumChannels)")
        }
        guard inSize[0] == 1, outSize[0] == 1, kernel[0] == 1, padBegin[0] == 0 else {
            return no("3-D: the direct kernels take 1-D and 2-D problems")
        }
        let ho = outSize[1], wo = outSize[2], sh = stride[1], sw = stride[2]
        let kh = kernel[1], kw = kernel[2], dh = dilation[1], dw = dilation[2]
        // Every width phase must be read: a 1×1 stride-2 projection would copy four times
        // the input it uses, where the strided im2col gather copies only what it reads.
        guard Set((0..<kw).map { $0 * dw % sw }).count == sw else {
            return no("the kernel skips width phases (stride \(sw), \(kw) taps of dilation \(dw))")
        }
        // Output column ow reads phase segment columns ow + (kw·d_w) div s_w. With width
        // stride 1 a row's right padding is the next row's left padding: a padded row is its
        // p_w zeros and the input columns read, and reads past its end land on the next
        // row's zeros (56 × 56 with 3 × 3 taps, padding 1: rows of 57 floats, not 58).
        let phaseWidth: Int
        if sw == 1 {
            let reach = wo + (kw - 1) * dw, leftZeros = max(0, padBegin[2])
            phaseWidth = max(wo, min(padBegin[2] + inSize[2], reach), reach - leftZeros, 1)
        } else {
            phaseWidth = wo + (kw - 1) * dw / sw
        }
        let width = sw * phaseWidth, rows = (ho - 1) * sh + (kh - 1) * dh + 1
        let plane = rows * width
        let rowReach = (0..<kw).map { DirectPlan.columnOffset($0 * dw, widthStride: sw, phaseWidth: phaseWidth) }.max() ?? 0
        let maxTap = (inChannels - 1) * plane + (kh - 1) * dh * width + rowReach
        func count(_ vectors: Int) -> Int { (vectors + 1) / 2 }
        let rowWidth = Tiled.roundUp(wo, 16)
        let rowVectors = ho * (rowWidth / 16)
        let useful = Double(ho * wo)
        let rowEfficiency = useful / Double(count(rowVectors) * 32)
        let flatVectors = (ho * width + 15) / 16
        let flatEfficiency = sh == 1 && sw == 1 ? useful / Double(count(flatVectors) * 32) : 0
        let flattened = flatEfficiency > rowEfficiency
        let efficiency = max(rowEfficiency, flatEfficiency)
        guard efficiency >= tuning.directMinimumEfficiency else {
            return no("\(Self.percent(efficiency)) of the tile lanes would be output pixels "
                + "(needs \(Self.percent(tuning.directMinimumEfficiency)))")
        }
        let vectors = flattened ? flatVectors : rowVectors
        // Few channels: wide tiles of whole runs of consecutive vectors (within a row in row
        // mode), or no direct path at all below `directMinimumChannels`.
        let wideRows = outChannels <= 4 ? max(2, outChannels) : 0
        let wideVectors = wideRows > 0 ? 24 / wideRows : 0
        let wide = wideRows > 0 && (flattened || (rowWidth / 16) % wideVectors == 0)
        guard wide || outChannels >= tuning.directMinimumChannels else {
            return no("\(outChannels) output channels: wide tiles need output rows of a multiple of \(wideVectors) vectors")
        }
        var lastStart = flattened ? 16 * (vectors - 1) : (ho - 1) * sh * width + (rowWidth - 16)
        if wide && flattened { lastStart = 16 * (Tiled.roundUp(vectors, wideVectors) - 1) }
        let inputCount = max(inChannels * plane, lastStart + 16 + maxTap)
        // Byte offsets are Int32.
        guard inputCount < (1 << 29) else { return no("the padded image is too large for 32-bit tap offsets") }
        return .success(
            DirectPlan(
                width: width, rows: rows, plane: plane, inputCount: inputCount, widthStride: sw,
                phaseWidth: phaseWidth, rowReach: rowReach, flattened: flattened,
                virtualWidth: flattened ? width : rowWidth, vectorsPerRow: rowWidth / 16, vectors: vectors,
                tiles: count(vectors), writesOutput: !flattened && rowWidth == wo && vectors % 2 == 0,
                wideRows: wide ? wideRows : 0, wideVectors: wide ? wideVectors : 0, efficiency: efficiency))
    }

    /// Weight panels of the direct kernels covering `count` output channels: 12-row panels,
    /// the remainder as one 8- or 12-row panel, or (remainder ≤ 4) the last 12 + remainder
    /// rows as two 8-row panels, so no 4-row tile (a third of the FMA rate per row) runs on a
    /// big layer: 64 = 4 × 12 + 2 × 8, 256 = 20 × 12 + 2 × 8. `rows` is the kernel's height,
    /// `valid` how many of them are real channels.
    static func directPanels(_ count: Int) -> [(first: Int, rows: Int, valid: Int)] {
        var heights = Array(repeating: 12, count: count / 12)
        let rest = count % 12
        if rest > 0 {
            if rest <= 4 && !heights.isEmpty {
                heights.removeLast()
                heights += [8, 8]
            } else {
                heights.append(rest <= 4 ? 4 : rest <= 8 ? 8 : 12)
            }
        }
        var panels: [(first: Int, rows: Int, valid: Int)] = []
        var first = 0
        for h in heights {
            panels.append((first, h, min(h, count - first)))
            first += h
        }
        return panels
    }

    /// `forward` through the direct kernels (see the top of this file), written through
    /// `layout` (nil: the plain contiguous output; otherwise every tile is dealt out).
    func forwardDirect(_ plan: DirectPlan, input x: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                       bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>,
                       layout: DirectOutputLayout? = nil, threads: Int) {
        let layout = layout ?? contiguousOutput
        if plan.wideRows > 0 {
            forwardDirectWide(plan, input: x, weights: w, bias: bias, output: y, layout: layout, threads: threads)
            return
        }
        let panels = Self.directPanels(outChannels)
        let packedW = Tiled.allocateFloats(groups * Self.panelRows(panels) * columnRows)
        defer { packedW.deallocate() }
        packDirectPanels(w, panels, into: packedW, threads: threads)
        forwardDirect(plan, input: x, panels: panels, packedWeights: packedW, bias: bias, output: y, layout: layout,
                      threads: threads)
    }

    /// Rows of all of `panels` (a multiple of 4 at least the channel count).
    static func panelRows(_ panels: [(first: Int, rows: Int, valid: Int)]) -> Int {
        panels.reduce(0) { $0 + $1.rows }
    }

    /// Packs `w` (`G·Co × K`) into `panels`: panel i of group g at `(g·panelRows + first_i)·K`,
    /// `rows` values per K step, zero past the valid rows.
    func packDirectPanels(_ w: UnsafePointer<Float>, _ panels: [(first: Int, rows: Int, valid: Int)],
                          into packedW: UnsafeMutablePointer<Float>, threads: Int) {
        let k = columnRows, co = outChannels, aStride = Self.panelRows(panels) * k
        Tiled.forEachItem(groups * panels.count, threads: threads) { item, _ in
            let g = item / panels.count, panel = panels[item % panels.count]
            Self.packPanel(w + (g * co + panel.first) * k, ld: k, panel, length: k,
                           into: packedW + g * aStride + panel.first * k)
        }
    }

    /// One panel of `directPanels`: rows `panel.first ..< + panel.valid` of a row-major
    /// matrix (`src` at the first, `ld` apart), `length` columns, as `panel.rows` values per
    /// column (zero past the valid rows).
    static func packPanel(_ src: UnsafePointer<Float>, ld: Int, _ panel: (first: Int, rows: Int, valid: Int), length: Int,
                          into dst: UnsafeMutablePointer<Float>) {
        Tiled.transposeRows(src, ld: ld, rows: panel.valid, length: length, into: dst, stride: panel.rows)
        if panel.valid < panel.rows {
            for step in 0..<length { (dst + step * panel.rows + panel.valid).update(repeating: 0, count: panel.rows - panel.valid) }
        }
    }

    /// The 12 × 32 direct forward on weights already packed into `panels` (`packDirectPanels`).
    func forwardDirect(_ plan: DirectPlan, input x: UnsafePointer<Float>, panels: [(first: Int, rows: Int, valid: Int)],
                       packedWeights packedW: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
                       output y: UnsafeMutablePointer<Float>, layout: DirectOutputLayout, threads: Int) {
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
        runItems((batch + imageSteps - 1) / imageSteps * groups, threads: threads,
                 workspace: imageSteps * Tiled.roundUp(bands.count, 16)) { item, padded, inner in
          let g = item % groups, n = item / groups * imageSteps
          let imageGroup = n * groups + g, pair = paired && n + 1 < batch
          let out = y + imageGroup * layout.imageGroupStride
          let aBase = UnsafePointer(packedW + g * aStride)
          // Where each tile's second vector comes from and where its outputs go.
          let padded1 = pair ? padded + Tiled.roundUp(bands.count, 16) : padded, second = pair ? nextImage : 16
          let perTile = pair ? 1 : 2, full = pair ? fullVectors : fullTiles
          for band in bands.ranges {
            fillBand(x + imageGroup * ci * inS, plan, bands, firstRow: band.r0, into: padded)
            if pair { fillBand(x + (imageGroup + groups) * ci * inS, plan, bands, firstRow: band.r0, into: padded1) }
            let bandFirst = band.v0 / perTile, bandTiles = (band.v1 + perTile - 1) / perTile - bandFirst
            let pieces = inner > 1 ? min(bandTiles, inner) : 1
            Tiled.forEachItem(pieces, threads: inner) { piece, _ in
                Tiled.withScratchFloats(12 * 32) { tile in
                    let firstTile = bandFirst + bandTiles * piece / pieces
                    let lastTile = bandFirst + bandTiles * (piece + 1) / pieces
                    for pass in passes {
                        for t in firstTile..<lastTile {
                            let v0 = perTile * t, v1 = v0 + perTile - 1
                            let b0 = UnsafeRawPointer(padded + bands.start(v0, band, plan, heightStride: sh))
                            let b1 = UnsafeRawPointer(padded1 + bands.start(v1, band, plan, heightStride: sh))
                            let (steps, firstStep) = full.contains(t) ? (.all(k), 0) : tileSteps(plan, vectors: v0...v1)
                            // Offset in y's channel plane of the tile's first half, and of the second from it.
                            var place: (first: Int, second: Int)?
                            if writesOutput || pair {
                                place = (16 * v0, second)
                            } else if flatInPlace, let o0 = flatOutput(plan, vector: v0), let o1 = flatOutput(plan, vector: v1) {
                                place = (o0, o1 - o0)
                            }
                            let taps = UnsafePointer(offsets + firstStep)
                            for index in pass {
                                // (By index: a slice of `panels` would retain it on every tile.)
                                let panel = panels[index]
                                let a = aBase + panel.first * k + panel.rows * firstStep
                                let inPlace = place != nil && panel.valid == panel.rows
                                let c = inPlace ? out + panel.first * p + place!.first : tile
                                let ld = inPlace ? p : 32, add = inPlace && loadC, half = inPlace ? place!.second : 16
                                if strided {
                                    prefetchDeal(tileWidth: 32, firstPixel: 32 * t, rows: panel.valid, virtualWidth: vw,
                                                 into: out + panel.first * layout.channelStride, layout: layout)
                                } else if inPlace {
                                    // The output lines are written once, after the K loop:
                                    // ask for them now so the misses overlap the FMAs.
                                    Tiled.prefetchTile(c, ldc: ld, rows: panel.rows, second: half)
                                }
                                switch panel.rows {
                                case 12:
                                    Tiled.directKernel12(steps: steps, a: a, offsets: taps, b0: b0, b1: b1, c: c, ldc: ld,
                                                         second: half, loadC: add)
                                case 8:
                                    Tiled.directKernel8(steps: steps, a: a, offsets: taps, b0: b0, b1: b1, c: c, ldc: ld,
                                                        second: half, loadC: add)
                                default:
                                    Tiled.directKernel4(steps: steps, a: a, offsets: taps, b0: b0, b1: b1, c: c, ldc: ld,
                                                        second: half, loadC: add)
                                }
                                if inPlace { continue }
                                if writesOutput || pair {
                                    // Whole vectors of output rows: the valid channels of each half.
                                    let c0 = out + panel.first * p + 16 * v0
                                    Output(base: c0, ld: p, transposed: false)
                                        .merge(tile: tile, stride: 32, row: 0, column: 0, height: panel.valid,
                                               width: pair ? 16 : 32, adding: loadC)
                                    if pair {
                                        Output(base: c0 + second, ld: p, transposed: false)
                                            .merge(tile: tile + 16, stride: 32, row: 0, column: 0, height: panel.valid,
                                                   width: 16, adding: loadC)
                                    }
                                    continue
                                }
                                dealTile(tile, tileWidth: 32, firstPixel: 32 * t, rows: panel.valid, virtualWidth: vw,
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

    /// Where the 16 pixels of flattened vector `v` start in an output channel plane, when
    /// all of them are real pixels of one output row (nil otherwise).
    @inline(__always)
    func flatOutput(_ plan: DirectPlan, vector v: Int) -> Int? {
        let q = 16 * v, oh = q / plan.width, ow = q - oh * plan.width
        guard v < plan.vectors, oh < outSize[1], ow + 16 <= outSize[2] else { return nil }
        return oh * outSize[2] + ow
    }

    /// Whether the direct forward (into the plain output) pairs images (`directImagePairs`):
    /// rows of an odd number of whole vectors, and two images at least.
    func pairsImages(_ plan: DirectPlan) -> Bool {
        tuning.directImagePairs && !plan.flattened && plan.vectorsPerRow % 2 == 1 && plan.virtualWidth == outSize[2]
            && batch >= 2
    }

    /// The K steps of a direct tile over vectors `vectors` (`2t … 2t + 1`, or one vector of
    /// each of two images) and the first of them: for each input channel, the kernel rows that
    /// meet an input row for one of the tile's output rows. The rows left out read only zero
    /// padding (a 16 × 16 image with 5 × 5 taps and padding 2: 7.5 % of the products).
    @inline(__always)
    func tileSteps(_ plan: DirectPlan, vectors: ClosedRange<Int>) -> (steps: DirectSteps, first: Int) {
        let k = columnRows
        let first = vectors.lowerBound, last = min(vectors.upperBound, plan.vectors - 1)
        let rows: ClosedRange<Int>
        if plan.flattened {
            rows = (16 * first / plan.width)...min(outSize[1] - 1, (16 * last + 15) / plan.width)
        } else {
            rows = (first / plan.vectorsPerRow)...(last / plan.vectorsPerRow)
        }
        let taps = kernelRows(meeting: rows), kh = kernel[1], kw = kernel[2]
        if taps.count == kh { return (.all(k), 0) }
        return (DirectSteps(segments: inChannels, count: taps.count * kw, stride: kh * kw), taps.lowerBound * kw)
    }

    /// The tiles of `vectorsPerTile` (2, or 1 for image pairs) consecutive vectors that run
    /// every K step (`tileSteps` says `.all(K)`): one range, since a
    /// tile's first and last output rows only grow with `t` (computed from both ends, so
    /// the hot loop only pays for `tileSteps` at the borders).
    func fullDirectTiles(_ plan: DirectPlan, vectorsPerTile: Int) -> Range<Int> {
        func full(_ t: Int) -> Bool {
            tileSteps(plan, vectors: (vectorsPerTile * t)...(vectorsPerTile * t + vectorsPerTile - 1)).steps.count == columnRows
        }
        var lo = 0, hi = vectorsPerTile == 2 ? plan.tiles : plan.vectors
        while lo < hi && !full(lo) { lo += 1 }
        while hi > lo && !full(hi - 1) { hi -= 1 }
        return lo..<hi
    }

    /// The kernel rows `i` for which input row `oh·s_h + i·d_h − pb_h` lies in the input for
    /// some output row `oh` in `rows` (empty when none does). Every row between the bounds is
    /// included: a row's range only moves down as `oh` grows.
    func kernelRows(meeting rows: ClosedRange<Int>) -> Range<Int> {
        let kh = kernel[1], dh = dilation[1], sh = stride[1], pbh = padBegin[1], inH = inSize[1]
        // Below: input row < 0 for i < lo(oh); above: input row ≥ inH for i ≥ hi(oh).
        func lo(_ oh: Int) -> Int { let need = pbh - oh * sh; return need <= 0 ? 0 : (need + dh - 1) / dh }
        func hi(_ oh: Int) -> Int { let room = pbh + inH - 1 - oh * sh; return room < 0 ? 0 : min(kh, room / dh + 1) }
        let l = min(kh, lo(rows.upperBound)), h = hi(rows.lowerBound)
        return l < h ? l..<h : 0..<0
    }

    /// The outputs `o` along `axis` (1: rows, 2: columns) for which input position
    /// `o·s + i·d − pb` lies in the input for some tap `i` in `taps` (the converse of
    /// `kernelRows(meeting:)`; empty when none does).
    func outputs(along axis: Int, meeting taps: ClosedRange<Int>) -> Range<Int> {
        let count = outSize[axis], d = dilation[axis], s = stride[axis], pb = padBegin[axis], n = inSize[axis]
        // o·s ≥ pb − i·d (first) and o·s ≤ pb + n − 1 − i·d (last).
        let need = pb - taps.upperBound * d, room = pb + n - 1 - taps.lowerBound * d
        let first = need <= 0 ? 0 : (need + s - 1) / s
        let end = room < 0 ? 0 : min(count, room / s + 1)
        return first < end ? first..<end : 0..<0
    }

    /// `Xp[ci][r][c] = x[ci][r − pb_h][c − pb_w]` (zero outside the input) for the input
    /// channels `channels` (all by default; other planes are left as they are), then zeros
    /// to `inputCount` unless `zeroingSlack` is false (workers filling shared buffers zero the
    /// slack once, beforehand). `src` points at channel 0 of one image's group.
    func fillPadded(_ src: UnsafePointer<Float>, _ plan: DirectPlan, channels: Range<Int>? = nil,
                    zeroingSlack: Bool = true, into xp: UnsafeMutablePointer<Float>) {
        for c in channels ?? 0..<inChannels {
            for r in 0..<plan.rows {
                fillPaddedRow(src + c * inSpatial, paddedRow: r, plan, into: xp + c * plan.plane + r * plan.width)
            }
        }
        if zeroingSlack { zeroSlack(plan, of: xp) }
    }

    /// Zeros the slack past the last channel plane of a padded buffer (read by junk lanes).
    func zeroSlack(_ plan: DirectPlan, of xp: UnsafeMutablePointer<Float>) {
        let filled = inChannels * plan.plane
        (xp + filled).update(repeating: 0, count: plan.inputCount - filled)
    }

    /// Buffer row `r` of one channel (`plane`: that channel of the input): the padded row
    /// `r` (input row `r − pb_h`), zero outside the input, split into the plan's width
    /// phases: `row[ρ·phaseWidth + u] = x[r − pb_h][u·s_w + ρ − pb_w]`.
    func fillPaddedRow(_ plane: UnsafePointer<Float>, paddedRow r: Int, _ plan: DirectPlan,
                       into row: UnsafeMutablePointer<Float>) {
        let inH = inSize[1], inW = inSize[2], pbw = padBegin[2], i = r - padBegin[1]
        let sw = plan.widthStride, segment = plan.phaseWidth
        guard i >= 0 && i < inH else { row.update(repeating: 0, count: plan.width); return }
        let source = plane + i * inW
        if sw == 1 {
            // The row as it is, with the padding's few zeros written one by one: no memset
            // and memmove calls or divisions per row (a ResNet 56 × 56 image is 3.7 Ki short
            // rows, where call overhead would dominate).
            let width = plan.width, lo = min(width, max(0, pbw)), hi = max(lo, min(width, pbw + inW))
            for u in 0..<lo { row[u] = 0 }
            Tiled.copyRun(from: source + (lo - pbw), to: row + lo, count: hi - lo, adding: nil)
            for u in hi..<width { row[u] = 0 }
            return
        }
        if sw == 2 {
            // Pair u of the padded row is padded columns (2u, 2u + 1), input columns 2u − p_w
            // and 2u + 1 − p_w: 16 pairs at a time straight from the input where all 32 lie
            // in it, the others one by one, instead of building the padded row first and
            // splitting it (input rows of a GAN transposed conv are only 32 wide, so per-row
            // call overhead and a second pass would dominate).
            let even = row, odd = row + segment
            var u = 0
            while u < segment {
                let c = 2 * u - pbw
                if c >= 0 && c + 32 <= inW && u + 16 <= segment {
                    let pairs = UnsafeRawPointer(source + c).loadUnaligned(as: SIMD32<Float>.self)
                    UnsafeMutableRawPointer(even + u).storeBytes(of: pairs.evenHalf, as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(odd + u).storeBytes(of: pairs.oddHalf, as: SIMD16<Float>.self)
                    u += 16
                } else {
                    even[u] = c >= 0 && c < inW ? source[c] : 0
                    odd[u] = c >= -1 && c + 1 < inW ? source[c + 1] : 0
                    u += 1
                }
            }
            return
        }
        for phase in 0..<sw {
            // Segment columns u whose input column u·s_w + ρ − pb_w lies in 0 ..< inW.
            let lo = min(segment, max(0, (pbw - phase + sw - 1) / sw))
            let hi = max(lo, min(segment, max(0, (pbw + inW - phase + sw - 1) / sw)))
            let dst = row + phase * segment
            dst.update(repeating: 0, count: lo)
            let first = source + (lo * sw + phase - pbw)
            if sw == 1 {
                (dst + lo).update(from: first, count: hi - lo)
            } else {
                Self.gather(first, stride: sw, range: 0..<(hi - lo), into: dst + lo)
            }
            (dst + hi).update(repeating: 0, count: segment - hi)
        }
    }
}

extension TiledConv {
    /// The direct forward with at most 4 output channels: tiles of `wideRows` channels ×
    /// `wideVectors` consecutive vectors (`Tiled.directWideKernel…`), same sums as the
    /// 12 × 32 tiles (one chain over K per element, then the bias).
    func forwardDirectWide(_ plan: DirectPlan, input x: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                           bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>,
                           layout: DirectOutputLayout, threads: Int) {
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
            fillBand(x + imageGroup * ci * inS, plan, bands, firstRow: band.r0, into: padded)
            let firstTile = band.v0 / perTile, bandTiles = (band.v1 + perTile - 1) / perTile - firstTile
            let pieces = inner > 1 ? min(bandTiles, inner) : 1
            let next = bandIndex + 1 < bands.ranges.count
                ? BandPrefetch(self, x + imageGroup * ci * inS, bands, firstRow: bands.ranges[bandIndex + 1].r0, tiles: bandTiles)
                : nil
            Tiled.forEachItem(pieces, threads: inner) { piece, _ in
                Tiled.withScratchFloats(24 * 16) { tile in
                    for t in (firstTile + bandTiles * piece / pieces)..<(firstTile + bandTiles * (piece + 1) / pieces) {
                        let (pf, pfLines) = next?.lines(forTile: t - firstTile) ?? (UnsafeRawPointer(a), 0)
                        let v0 = t * perTile
                        let b = UnsafeRawPointer(padded + bands.start(v0, band, plan, heightStride: sh))
                        let c = inPlace ? out + 16 * v0 : tile
                        let ld = inPlace ? p : tileWidth, add = inPlace && bias != nil
                        switch rowsR {
                        case 2: Tiled.directWideKernel2x12(k: k, a: a, offsets: offsets, b: b, c: c, ldc: ld, loadC: add,
                                                                 prefetch: pf, prefetchLines: pfLines)
                        case 3: Tiled.directWideKernel3x8(k: k, a: a, offsets: offsets, b: b, c: c, ldc: ld, loadC: add,
                                                                 prefetch: pf, prefetchLines: pfLines)
                        default: Tiled.directWideKernel4x6(k: k, a: a, offsets: offsets, b: b, c: c, ldc: ld, loadC: add,
                                                                 prefetch: pf, prefetchLines: pfLines)
                        }
                        if inPlace { continue }
                        dealTile(tile, tileWidth: tileWidth, firstPixel: 16 * v0, rows: co, virtualWidth: vw,
                                 into: out, layout: layout, bias: bias.map { $0 + g * co })
                    }
                }
            }
          }
        }
    }
}

extension TiledConv {
    /// The direct forward's input in bands: per image, a few padded rows of every channel at
    /// a time (`directBandFloats`), so the rows being read stay in L2 however large the
    /// image. A band is a range of vectors (whole tiles of `unit` vectors) and the padded
    /// rows `r0 ..< r0 + rows` they read; the tap offsets are relative to a band plane.
    struct DirectBands {
        var ranges: [(v0: Int, v1: Int, r0: Int)]
        /// Padded rows per channel in a band buffer, floats per channel, floats in all.
        var rows: Int, plane: Int, count: Int

        /// Offset in the band buffer of vector `v` of band `band` (`v ≥ vectors`: a junk
        /// vector, any in-bounds start).
        @inline(__always)
        func start(_ v: Int, _ band: (v0: Int, v1: Int, r0: Int), _ plan: DirectPlan, heightStride: Int) -> Int {
            if v >= plan.vectors { return 0 }
            if plan.flattened { return 16 * v - band.r0 * plan.width }
            let oh = v / plan.vectorsPerRow
            return (oh * heightStride - band.r0) * plan.width + (v - oh * plan.vectorsPerRow) * 16
        }
    }

    func directBands(_ plan: DirectPlan, unit: Int) -> DirectBands {
        let ho = outSize[1], sh = stride[1], width = plan.width, ci = inChannels
        let halo = (kernel[1] - 1) * dilation[1], reach = plan.rowReach
        // A whole padded image within the budget is one band. Otherwise bands take ¾ of it:
        // the tiles of a band prefetch the next band's input rows (`BandPrefetch`) into the
        // same L2, which must hold both. Much smaller bands have fewer tiles than channels,
        // and each tile's prefetch stops at a channel's end.
        let fits = ci * plan.rows * width <= tuning.directBandFloats
        let budget = fits ? tuning.directBandFloats : tuning.directBandFloats / 4 * 3
        let budgetRows = max(1, budget / max(1, ci * width))
        var ranges: [(v0: Int, v1: Int, r0: Int)] = []
        var rows = 1
        // Start of the last vector of a band, relative to its buffer.
        var lastStart = 0
        if plan.flattened {
            let total = Tiled.roundUp(plan.vectors, unit)
            let perBand = max(unit, max(0, budgetRows - halo - 1) * width / 16 / unit * unit)
            for v0 in Swift.stride(from: 0, to: total, by: perBand) {
                let v1 = min(total, v0 + perBand), r0 = 16 * v0 / width
                let lastRead = 16 * v1 - 1 + halo * width + reach
                rows = max(rows, lastRead / width - r0 + 1)
                lastStart = max(lastStart, 16 * (v1 - 1) - r0 * width)
                ranges.append((v0, min(v1, plan.vectors), r0))
            }
        } else {
            let vpr = plan.vectorsPerRow
            var perBand = max(1, (budgetRows - halo - 1) / sh + 1)
            while (perBand * vpr) % unit != 0 { perBand += 1 }
            for oh0 in Swift.stride(from: 0, to: ho, by: perBand) {
                let oh1 = min(ho, oh0 + perBand)
                ranges.append((oh0 * vpr, oh1 * vpr, oh0 * sh))
                rows = max(rows, (oh1 - 1 - oh0) * sh + halo + 1)
                lastStart = max(lastStart, (oh1 - 1 - oh0) * sh * width + (vpr - 1) * 16)
            }
        }
        let plane = rows * width
        let count = max(ci * plane, lastStart + 16 + (ci - 1) * plane + halo * width + reach)
        return DirectBands(ranges: ranges, rows: rows, plane: plane, count: count)
    }

    /// The input rows that the band starting at padded row `r0` copies, as cache lines
    /// shared out among the `tiles` tiles of the band before it: each tile's kernel prefetches
    /// its share into L2, one line per K step, so that the next fill reads from cache. (A
    /// 32-channel 256 × 256 dY, a 3 → 32 layer's backward-data, is 8 MB per image and
    /// otherwise streams from memory between bands, while no tile computes.)
    struct BandPrefetch {
        var base: UnsafeRawPointer, channelBytes: Int, linesPerChannel: Int, lines: Int, tiles: Int, channels: Int

        init(_ lowering: TiledConv, _ src: UnsafePointer<Float>, _ bands: DirectBands, firstRow r0: Int, tiles: Int) {
            let inW = lowering.inSize[2], pbh = lowering.padBegin[1]
            let first = max(0, r0 - pbh), last = max(first, min(lowering.inSize[1], r0 + bands.rows - pbh))
            base = UnsafeRawPointer(src + first * inW)
            channelBytes = 4 * lowering.inSpatial
            linesPerChannel = ((last - first) * inW * 4 + 63) / 64
            channels = lowering.inChannels
            lines = channels * linesPerChannel
            self.tiles = max(1, tiles)
        }

        /// The first line of tile `t`'s share and how many lines follow it contiguously.
        /// With at least as many tiles as channels, each share is part of one channel's run:
        /// the kernel prefetches one contiguous run (even shares cut at a channel's end would
        /// leave part of each channel's lines out). Otherwise the share is cut at a channel's end.
        func lines(forTile t: Int) -> (UnsafeRawPointer, Int) {
            guard linesPerChannel > 0 else { return (base, 0) }
            if tiles >= channels {
                // Channel c's tiles: t with ⌊t·C/T⌋ = c, from ⌈c·T/C⌉ to before ⌈(c+1)·T/C⌉.
                let c = t * channels / tiles
                let first = (c * tiles + channels - 1) / channels, next = ((c + 1) * tiles + channels - 1) / channels
                let start = linesPerChannel * (t - first) / (next - first)
                let end = linesPerChannel * (t - first + 1) / (next - first)
                return (base + c * channelBytes + 64 * start, end - start)
            }
            let start = lines * t / tiles, end = lines * (t + 1) / tiles
            guard start < end else { return (base, 0) }
            let channel = start / linesPerChannel, line = start - channel * linesPerChannel
            return (base + channel * channelBytes + 64 * line, min(end - start, linesPerChannel - line))
        }
    }

    /// Fills a band buffer: padded rows `r0 ..< r0 + bands.rows` of every channel (zero
    /// outside the input), then zeros to `bands.count`.
    func fillBand(_ src: UnsafePointer<Float>, _ plan: DirectPlan, _ bands: DirectBands, firstRow r0: Int,
                  into xp: UnsafeMutablePointer<Float>) {
        for c in 0..<inChannels {
            for r in 0..<bands.rows {
                fillPaddedRow(src + c * inSpatial, paddedRow: r0 + r, plan, into: xp + c * bands.plane + r * plan.width)
            }
        }
        let filled = inChannels * bands.plane
        (xp + filled).update(repeating: 0, count: bands.count - filled)
    }
}

extension TiledConv {
    /// Offsets of the taps `t = (ci, kh, kw)` in weight order inside a zero-padded input of
    /// `plane` floats per channel laid out as `plan` says (`ci·plane + kh·d_h·width +
    /// columnOffset(kw·d_w)`), times `scale` (4 for byte offsets), for `count ≥ K` entries:
    /// the ones past the real taps (padding to whole tiles) repeat tap 0. The caller
    /// deallocates.
    func tapOffsets<T: FixedWidthInteger>(count: Int, plane: Int, plan: DirectPlan, scale: Int = 1,
                                          order: [Int]? = nil) -> UnsafeMutablePointer<T> {
        let k = columnRows, kh = kernel[1], kw = kernel[2], dh = dilation[1], dw = dilation[2]
        let offsets = UnsafeMutablePointer<T>.allocate(capacity: max(1, count))
        for t in 0..<count {
            let q = t < k ? t : 0, tap = order?[q] ?? q
            let c = tap / (kh * kw), i = (tap / kw) % kh, j = tap % kw
            offsets[t] = T(scale * (c * plane + i * dh * plan.width + plan.columnOffset(j * dw)))
        }
        return offsets
    }
}

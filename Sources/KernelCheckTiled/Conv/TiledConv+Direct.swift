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
        /// consecutive vectors per tile (`TiledConv.directWideKernel…`), else 0.
        var wideRows = 0, wideVectors = 0
        /// Fraction of the tiles' lanes that are output pixels (the rest are junk lanes).
        var efficiency = 1.0
        /// Whether the forward runs the channel-lane tiles (`TiledConv+ChannelLanes.swift`)
        /// instead of this geometry's 12 × 32 ones.
        var channelLanes = false

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
        let rowReach =
            (0..<kw).map { DirectPlan.columnOffset($0 * dw, widthStride: sw, phaseWidth: phaseWidth) }.max() ?? 0
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
            return no(
                "\(Self.percent(efficiency)) of the tile lanes would be output pixels "
                    + "(needs \(Self.percent(tuning.directMinimumEfficiency)))")
        }
        let vectors = flattened ? flatVectors : rowVectors
        // Few channels: wide tiles of whole runs of consecutive vectors (within a row in row
        // mode), or no direct path at all below `directMinimumChannels`.
        let wideRows = outChannels <= 4 ? max(2, outChannels) : 0
        let wideVectors = wideRows > 0 ? 24 / wideRows : 0
        let wide = wideRows > 0 && (flattened || (rowWidth / 16) % wideVectors == 0)
        guard wide || outChannels >= tuning.directMinimumChannels else {
            return no(
                "\(outChannels) output channels: wide tiles need output rows of a multiple of \(wideVectors) vectors")
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
                wideRows: wide ? wideRows : 0, wideVectors: wide ? wideVectors : 0, efficiency: efficiency,
                channelLanes: channelLanesUnavailable == nil))
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
            tileSteps(plan, vectors: (vectorsPerTile * t)...(vectorsPerTile * t + vectorsPerTile - 1)).steps.count
                == columnRows
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
    /// A narrow `src` (bf16, f16, fp8) is widened on its way into the buffer (exact).
    func fillPadded(
        _ src: Tiled.Input, _ plan: DirectPlan, channels: Range<Int>? = nil,
        zeroingSlack: Bool = true, into xp: UnsafeMutablePointer<Float>
    ) {
        for c in channels ?? 0..<inChannels {
            for r in 0..<plan.rows {
                fillPaddedRow(
                    src.advanced(by: c * inSpatial), paddedRow: r, plan, into: xp + c * plan.plane + r * plan.width)
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
    ///
    /// A narrow `plane` is widened while copying: with width stride 1 the row's input run is
    /// widened straight into the buffer row; with a larger stride each phase segment is
    /// gathered and widened straight from the narrow row (`splitNarrowRow`). Either way the
    /// buffer holds the same floats as for the widened tensor.
    @inline(__always)
    func fillPaddedRow(
        _ plane: Tiled.Input, paddedRow r: Int, _ plan: DirectPlan, into row: UnsafeMutablePointer<Float>
    ) {
        let inH = inSize[1], inW = inSize[2], i = r - padBegin[1]
        guard i >= 0 && i < inH else { row.update(repeating: 0, count: plan.width); return }
        if plane.type == .f32 {
            fillPaddedRow(input: plane.floats + i * inW, plan, into: row)
            return
        }
        let source = plane.advanced(by: i * inW)
        if plan.widthStride == 1 {
            let pbw = padBegin[2], width = plan.width
            let lo = min(width, max(0, pbw)), hi = max(lo, min(width, pbw + inW))
            for u in 0..<lo { row[u] = 0 }
            Tiled.widen(source.advanced(by: lo - pbw), count: hi - lo, into: row + lo)
            for u in hi..<width { row[u] = 0 }
            return
        }
        switch plane.type {
        case .f32: break
        case .bf16:
            splitNarrowRow(source.raw.assumingMemoryBound(to: UInt16.self), plan, into: row) {
                Float(bitPattern: UInt32($0) << 16)
            }
        case .f16:
            splitNarrowRow(source.raw.assumingMemoryBound(to: Float16.self), plan, into: row) { Float($0) }
        case .f8e4m3, .f8e5m2:
            let table = plane.type == .f8e4m3 ? Float8Table.e4m3 : Float8Table.e5m2
            table.withUnsafeBufferPointer { t in
                splitNarrowRow(source.raw.assumingMemoryBound(to: UInt8.self), plan, into: row) { t[Int($0)] }
            }
        }
    }

    /// The width-phase split of `fillPaddedRow` on a narrow input row (`source`, elements of
    /// type `T`, widened by `value`): `row[ρ·phaseWidth + u] = x[u·s_w + ρ − pb_w]`, zero
    /// outside the input. A strided gather straight from the narrow row: input rows of strided
    /// layers are short (32 columns in a GAN transposed conv), so a staging row per row would
    /// cost more than the row.
    @inline(__always)
    func splitNarrowRow<T>(
        _ source: UnsafePointer<T>, _ plan: DirectPlan, into row: UnsafeMutablePointer<Float>,
        _ value: (T) -> Float
    ) {
        let inW = inSize[2], pbw = padBegin[2], sw = plan.widthStride, segment = plan.phaseWidth
        for phase in 0..<sw {
            // Segment columns u whose input column u·s_w + ρ − pb_w lies in 0 ..< inW.
            let lo = min(segment, max(0, (pbw - phase + sw - 1) / sw))
            let hi = max(lo, min(segment, max(0, (pbw + inW - phase + sw - 1) / sw)))
            let dst = row + phase * segment
            for u in 0..<lo { dst[u] = 0 }
            let first = lo * sw + phase - pbw
            for u in lo..<hi { dst[u] = value(source[first + (u - lo) * sw]) }
            for u in hi..<segment { dst[u] = 0 }
        }
    }

    /// `fillPaddedRow` for a padded row that meets the input: `source` is its float32 input row.
    @inline(__always)
    func fillPaddedRow(
        input source: UnsafePointer<Float>, _ plan: DirectPlan, into row: UnsafeMutablePointer<Float>
    ) {
        let inW = inSize[2], pbw = padBegin[2]
        let sw = plan.widthStride, segment = plan.phaseWidth
        if sw == 1 {
            // The row as it is, with the padding's few zeros written one by one: no memset
            // and memmove calls or divisions per row (a ResNet 56 × 56 image is 3.7 Ki short
            // rows, where call overhead would dominate).
            let width = plan.width, lo = min(width, max(0, pbw)), hi = max(lo, min(width, pbw + inW))
            for u in 0..<lo { row[u] = 0 }
            TiledConv.copyRun(from: source + (lo - pbw), to: row + lo, count: hi - lo, adding: nil)
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

import CKernelSupport

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

        init(_ lowering: TiledConv, _ src: Tiled.Input, _ bands: DirectBands, firstRow r0: Int, tiles: Int) {
            let inW = lowering.inSize[2], pbh = lowering.padBegin[1], bytes = src.type.byteWidth
            let first = max(0, r0 - pbh), last = max(first, min(lowering.inSize[1], r0 + bands.rows - pbh))
            base = src.advanced(by: first * inW).raw
            channelBytes = bytes * lowering.inSpatial
            linesPerChannel = ((last - first) * inW * bytes + 63) / 64
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
    func fillBand(
        _ src: Tiled.Input, _ plan: DirectPlan, _ bands: DirectBands, firstRow r0: Int,
        into xp: UnsafeMutablePointer<Float>
    ) {
        for c in 0..<inChannels {
            for r in 0..<bands.rows {
                fillPaddedRow(
                    src.advanced(by: c * inSpatial), paddedRow: r0 + r, plan,
                    into: xp + c * bands.plane + r * plan.width)
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
    func tapOffsets<T: FixedWidthInteger>(
        count: Int, plane: Int, plan: DirectPlan, scale: Int = 1,
        order: [Int]? = nil
    ) -> UnsafeMutablePointer<T> {
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

/// im2col / col2im for `TiledConv`, and the dual lowering's gather and scatter.
///
/// Every loop walks one output line (fixed od, oh) at a time over the output range that
/// `validOutputs` precomputed per tap, so no index is tested per element: im2col is
/// zeros, a contiguous (stride 1) or strided copy, zeros.
extension TiledConv {

    /// Writes rows `rows` and columns `columns` of col(src) into `dst` (row stride =
    /// `columns.count`). `src` points at channel 0 of one image's group.
    func im2col(
        _ src: UnsafePointer<Float>, rows: Range<Int>, columns: Range<Int>,
        into dst: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let width = columns.count
        let pieces = threads > 1 ? min(rows.count, threads * 4) : 1
        Tiled.forEachItem(pieces, threads: threads) { piece, _ in
            let lo = rows.lowerBound + rows.count * piece / pieces
            let hi = rows.lowerBound + rows.count * (piece + 1) / pieces
            for r in lo..<hi {
                im2colRow(src, row: r, columns: columns, into: dst + (r - rows.lowerBound) * width)
            }
        }
    }

    /// Writes rows `rows` and columns `columns` of col(src) in SGEMM's packed B layout
    /// (`Tiled.packB`): panel `q` holds, for each row `r`, the `nr` values of columns
    /// `columns.lowerBound + q·nr ..< +nr`, at `dst + q·nr·rows.count + (r − rows.lowerBound)·nr`,
    /// zero past the last column. Each row is built in `rowBuffer` (`columns.count` floats,
    /// L1-resident) and dealt out to the panels, which replaces a separate packing pass over
    /// a col buffer in L2.
    func im2colPacked(
        _ src: UnsafePointer<Float>, rows: Range<Int>, columns: Range<Int>,
        into dst: UnsafeMutablePointer<Float>, rowBuffer: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let pieces = threads > 1 ? min(rows.count, threads * 4) : 1
        if pieces == 1 {
            im2colPackedRows(src, rows: rows, of: rows, columns: columns, into: dst, rowBuffer: rowBuffer)
            return
        }
        Tiled.forEachItem(pieces, threads: threads) { piece, _ in
            let lo = rows.lowerBound + rows.count * piece / pieces
            let hi = rows.lowerBound + rows.count * (piece + 1) / pieces
            let buffer = Tiled.allocateFloats(columns.count)
            defer { buffer.deallocate() }
            im2colPackedRows(src, rows: lo..<hi, of: rows, columns: columns, into: dst, rowBuffer: buffer)
        }
    }

    private func im2colPackedRows(
        _ src: UnsafePointer<Float>, rows part: Range<Int>, of rows: Range<Int>,
        columns: Range<Int>, into dst: UnsafeMutablePointer<Float>,
        rowBuffer: UnsafeMutablePointer<Float>
    ) {
        let nr = GEMMBlocking.nr, height = rows.count, width = columns.count
        let full = width / nr, tail = width - full * nr
        for r in part {
            im2colRow(src, row: r, columns: columns, into: rowBuffer)
            var panel = dst + (r - rows.lowerBound) * nr
            var q = 0
            while q < full {
                Tiled.copy(from: rowBuffer + q * nr, to: panel, SIMD16<Float>.self, SIMD16<Float>.self)
                panel += nr * height
                q += 1
            }
            if tail > 0 {
                panel.update(from: rowBuffer + full * nr, count: tail)
                (panel + tail).update(repeating: 0, count: nr - tail)
            }
        }
    }

    /// `out[j] = base[j·stride]` for `j` in `range`. Stride 2 (a strided layer's im2col, e.g.
    /// the ResNet 1×1 stride-2 projection) takes the even halves of 32- and 16-float loads that
    /// end at or before the last element read.
    @inline(__always)
    static func gather(
        _ base: UnsafePointer<Float>, stride: Int, range: Range<Int>, into out: UnsafeMutablePointer<Float>
    ) {
        var j = range.lowerBound
        if stride == 2 {
            while j + 17 <= range.upperBound {
                let pairs = UnsafeRawPointer(base + 2 * j).loadUnaligned(as: SIMD32<Float>.self)
                UnsafeMutableRawPointer(out + j).storeBytes(of: pairs.evenHalf, as: SIMD16<Float>.self)
                j += 16
            }
            while j + 9 <= range.upperBound {
                let pairs = UnsafeRawPointer(base + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(out + j).storeBytes(of: pairs.evenHalf, as: SIMD8<Float>.self)
                j += 8
            }
        }
        while j < range.upperBound {
            out[j] = base[j * stride]
            j += 1
        }
    }

    /// `base[j·stride] += values[j]` for `j` in `range` (the adjoint of `gather`); stride 2
    /// adds into the even lanes of 32- and 16-float windows (the odd lanes are written back
    /// unchanged: each input row belongs to one thread).
    @inline(__always)
    static func scatterAdd(
        _ values: UnsafePointer<Float>, range: Range<Int>, into base: UnsafeMutablePointer<Float>,
        stride: Int
    ) {
        var j = range.lowerBound
        if stride == 1 {
            while j + 16 <= range.upperBound {
                let sum = Tiled.load(base + j, as: SIMD16<Float>.self) + Tiled.load(values + j, as: SIMD16<Float>.self)
                Tiled.store(sum, base + j)
                j += 16
            }
        } else if stride == 2 {
            while j + 17 <= range.upperBound {
                let window = UnsafeMutableRawPointer(base + 2 * j)
                var pairs = window.loadUnaligned(as: SIMD32<Float>.self)
                pairs.evenHalf += UnsafeRawPointer(values + j).loadUnaligned(as: SIMD16<Float>.self)
                window.storeBytes(of: pairs, as: SIMD32<Float>.self)
                j += 16
            }
        }
        while j < range.upperBound {
            base[j * stride] += values[j]
            j += 1
        }
    }

    /// Adds rows `rows`, columns `columns` of col (stored with row stride `columns.count`)
    /// into the input they came from. Threads split the input channels: each channel's
    /// rows are scattered by one thread, in row order.
    func col2im(
        _ col: UnsafePointer<Float>, rows: Range<Int>, columns: Range<Int>,
        into dst: UnsafeMutablePointer<Float>, threads: Int
    ) {
        guard !rows.isEmpty else { return }
        let width = columns.count, taps = taps
        let firstChannel = rows.lowerBound / taps, channels = (rows.upperBound - 1) / taps + 1 - firstChannel
        let pieces = threads > 1 ? min(channels, threads * 4) : 1
        Tiled.forEachItem(pieces, threads: threads) { piece, _ in
            for c in (firstChannel + channels * piece / pieces)..<(firstChannel + channels * (piece + 1) / pieces) {
                for r in max(rows.lowerBound, c * taps)..<min(rows.upperBound, (c + 1) * taps) {
                    col2imRow(col + (r - rows.lowerBound) * width, row: r, columns: columns, into: dst)
                }
            }
        }
    }

    /// Whether backward-data can write dX once instead of zeroing it and adding col into it:
    /// a 1×1 kernel without leading padding reads input `o·s` for output `o`, so every input
    /// element takes at most one value of col and the rest of dX is zero.
    var writesInputOnce: Bool { taps == 1 && padBegin.allSatisfy { $0 == 0 } }

    /// `col2im` for `writesInputOnce` on whole output lines, writing dX instead of adding into
    /// it: `dX[c, od·s_d, oh·s_h, ow·s_w] = 0 + col[c, (od, oh, ow)]` (the `0 +` keeps the bits
    /// of an add into zeros: −0 becomes +0) and every other element of the channels `rows`
    /// that these lines own zero. Line (od, oh) owns the input rows from `oh·s_h` up to the
    /// next line's (the end of the plane for the last), and the last line of a plane also the
    /// planes up to the next plane's, so the lines of all blocks write each element once.
    /// `columns` starts and ends on whole lines (or at P). Threads split the channels.
    func col2imOnce(
        _ col: UnsafePointer<Float>, rows: Range<Int>, columns: Range<Int>,
        into dst: UnsafeMutablePointer<Float>, threads: Int
    ) {
        guard !rows.isEmpty && !columns.isEmpty else { return }
        let width = columns.count, outW = outSize[2], outH = outSize[1], outD = outSize[0]
        let inW = inSize[2], inH = inSize[1], inD = inSize[0], sw = stride[2], sh = stride[1], sd = stride[0]
        let validW = validOutputs[2][0].hi, plane = inH * inW, inS = inSpatial
        let lines = (columns.lowerBound / outW)..<((columns.upperBound + outW - 1) / outW)
        let pieces = threads > 1 ? min(rows.count, threads * 4) : 1
        Tiled.forEachItem(pieces, threads: threads) { piece, _ in
            let first = rows.lowerBound + rows.count * piece / pieces
            let last = rows.lowerBound + rows.count * (piece + 1) / pieces
            for c in first..<last {
                let channel = dst + c * inS, values = col + (c - rows.lowerBound) * width
                for line in lines {
                    let od = line / outH, oh = line % outH
                    let row = values + (line * outW - columns.lowerBound)
                    // The input rows and planes this line owns.
                    let h0 = min(inH, oh * sh), h1 = oh == outH - 1 ? inH : min(inH, (oh + 1) * sh)
                    let d0 = min(inD, od * sd)
                    let d1 = oh < outH - 1 ? min(inD, d0 + 1) : od == outD - 1 ? inD : min(inD, (od + 1) * sd)
                    for d in d0..<d1 {
                        let zeroFrom: Int
                        if d == d0 && h0 < h1 {
                            Self.spread(
                                row, count: validW, stride: sw, into: channel + d * plane + h0 * inW, width: inW)
                            zeroFrom = h0 + 1
                        } else {
                            zeroFrom = d == d0 ? h0 : 0
                        }
                        let zeroTo = d == d0 ? h1 : inH
                        if zeroFrom < zeroTo {
                            (channel + d * plane + zeroFrom * inW).update(
                                repeating: 0, count: (zeroTo - zeroFrom) * inW)
                        }
                    }
                }
            }
        }
    }

    /// `out[j·stride] = 0 + values[j]` for `j < count` and every other float of
    /// `out[0..<width]` zero, each written once; stride 2 builds 32-float windows with the
    /// values in their even lanes.
    @inline(__always)
    static func spread(
        _ values: UnsafePointer<Float>, count: Int, stride: Int, into out: UnsafeMutablePointer<Float>, width: Int
    ) {
        var j = 0
        if stride == 1 {
            while j + 16 <= count {
                Tiled.store(0 + Tiled.load(values + j, as: SIMD16<Float>.self), out + j)
                j += 16
            }
        } else if stride == 2 {
            while j + 16 <= count && 2 * j + 32 <= width {
                var pairs = SIMD32<Float>()
                pairs.evenHalf = 0 + Tiled.load(values + j, as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(out + 2 * j).storeBytes(of: pairs, as: SIMD32<Float>.self)
                j += 16
            }
        }
        let done = j * stride
        (out + done).update(repeating: 0, count: width - done)
        while j < count {
            out[j * stride] = 0 + values[j]
            j += 1
        }
    }

    /// The row `r = (c, kd, kh, kw)` of col(src), columns `columns`, walked one output line
    /// (fixed od, oh) at a time: zeros, a contiguous or strided copy, zeros.
    @inline(__always)
    private func im2colRow(
        _ src: UnsafePointer<Float>, row r: Int, columns: Range<Int>,
        into out: UnsafeMutablePointer<Float>
    ) {
        forEachLine(ofRow: r, columns: columns) { done, line, input in
            let o = out + done - line.lowerBound  // o[ow] is column ow of this line
            guard let (base, valid, sw) = input else {
                return (o + line.lowerBound).update(repeating: 0, count: line.count)
            }
            (o + line.lowerBound).update(repeating: 0, count: valid.lowerBound - line.lowerBound)
            if sw == 1 {
                (o + valid.lowerBound).update(from: src + base + valid.lowerBound, count: valid.count)
            } else {
                Self.gather(src + base, stride: sw, range: valid, into: o)
            }
            (o + valid.upperBound).update(repeating: 0, count: line.upperBound - valid.upperBound)
        }
    }

    /// The adjoint of `im2colRow`: adds the row into the input positions it was read from.
    @inline(__always)
    private func col2imRow(
        _ colRow: UnsafePointer<Float>, row r: Int, columns: Range<Int>,
        into dst: UnsafeMutablePointer<Float>
    ) {
        forEachLine(ofRow: r, columns: columns) { done, line, input in
            if let (base, valid, sw) = input {
                Self.scatterAdd(colRow + done - line.lowerBound, range: valid, into: dst + base, stride: sw)
            }
        }
    }

    /// Walks the row `r = (c, kd, kh, kw)` of col(·) over `columns`, one output line (fixed
    /// od, oh) at a time, in order: `visit(done, owRange, input)` with `done` the columns
    /// visited before this line and `owRange` its columns ow; `input` is nil when the line
    /// reads only padding, else the valid columns (⊆ `owRange`) and the input offset `base`
    /// with column ow reading `input[base + ow·s_w]`, `s_w` the width stride.
    @inline(__always)
    private func forEachLine(
        ofRow r: Int, columns: Range<Int>,
        _ visit: (_ done: Int, _ line: Range<Int>, _ input: (base: Int, valid: Range<Int>, sw: Int)?) -> Void
    ) {
        let (kd, kh, kw, channel) = tapOf(row: r)
        let vd = validOutputs[0][kd], vh = validOutputs[1][kh], vw = validOutputs[2][kw]
        let offD = kd * dilation[0] - padBegin[0], offH = kh * dilation[1] - padBegin[1]
        let offW = kw * dilation[2] - padBegin[2]
        let sd = stride[0], sh = stride[1], sw = stride[2]
        let inH = inSize[1], inW = inSize[2], outH = outSize[1], outW = outSize[2]
        let plane = channel * inSpatial
        let line = columns.lowerBound / outW
        var ow = columns.lowerBound - line * outW
        var oh = line % outH, od = line / outH
        var done = 0
        while done < columns.count {
            let owEnd = min(outW, ow + columns.count - done)
            if od >= vd.lo && od < vd.hi && oh >= vh.lo && oh < vh.hi {
                let lo = min(max(vw.lo, ow), owEnd), hi = max(min(vw.hi, owEnd), lo)
                let base = plane + ((od * sd + offD) * inH + (oh * sh + offH)) * inW + offW
                visit(done, ow..<owEnd, (base, lo..<hi, sw))
            } else {
                visit(done, ow..<owEnd, nil)
            }
            done += owEnd - ow
            ow = 0; oh += 1
            if oh == outH { oh = 0; od += 1 }
        }
    }

    /// Row `r` of the column matrix ↔ (kernel tap kd, kh, kw; channel within the group).
    @inline(__always)
    private func tapOf(row r: Int) -> (Int, Int, Int, Int) {
        let channel = r / taps, t = r - channel * taps
        let kw = t % kernel[2], khd = t / kernel[2]
        return (khd / kernel[1], khd % kernel[1], kw, channel)
    }

    // MARK: - Dual lowering: gather and scatter over whole output rows

    /// `y[co, o] += Σ_t z[(co, t), o·s − pb + t·d]` over valid positions, taps in order.
    /// `z` has `dualRows` rows of `inSpatial`; `y` points at channel 0 of one image's group.
    /// Threads split the output channels.
    func gatherAdd(_ z: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, threads: Int) {
        let taps = taps, inS = inSpatial, p = outSpatial, channels = outChannels, sw = stride[2]
        let pieces = threads > 1 ? min(channels, threads * 4) : 1
        Tiled.forEachItem(pieces, threads: threads) { piece, _ in
            for c in (channels * piece / pieces)..<(channels * (piece + 1) / pieces) {
                let yRow = y + c * p
                for t in 0..<taps {
                    let zRow = z + (c * taps + t) * inS
                    forEachValidLine(tap: t) { small, big, lo, hi in
                        let out = yRow + small, src = zRow + big
                        if sw == 1 {
                            for j in lo..<hi { out[j] += src[j] }
                        } else {
                            for j in lo..<hi { out[j] += src[j * sw] }
                        }
                    }
                }
            }
        }
    }

    /// `d[(co, t), o·s − pb + t·d] = dy[co, o]` over valid positions, zero elsewhere (the
    /// adjoint of `gatherAdd`). `dy` points at channel 0 of one image's group.
    func scatter(_ dy: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>, threads: Int) {
        let taps = taps, inS = inSpatial, p = outSpatial, rows = dualRows, sw = stride[2]
        let pieces = threads > 1 ? min(rows, threads * 4) : 1
        Tiled.forEachItem(pieces, threads: threads) { piece, _ in
            for r in (rows * piece / pieces)..<(rows * (piece + 1) / pieces) {
                let c = r / taps, t = r - c * taps
                let dRow = d + r * inS, dyRow = dy + c * p
                dRow.update(repeating: 0, count: inS)
                forEachValidLine(tap: t) { small, big, lo, hi in
                    let src = dyRow + small, out = dRow + big
                    if sw == 1 {
                        for j in lo..<hi { out[j] = src[j] }
                    } else {
                        for j in lo..<hi { out[j * sw] = src[j] }
                    }
                }
            }
        }
    }

    /// Calls `body(small, big, lo, hi)` for each output line (od, oh) whose input line exists
    /// for tap `t`: output `o = small + ow` reads input `big + ow·s_w` for `ow` in `lo..<hi`.
    @inline(__always)
    private func forEachValidLine(tap t: Int, _ body: (_ small: Int, _ big: Int, _ lo: Int, _ hi: Int) -> Void) {
        let (kd, kh, kw, _) = tapOf(row: t)
        let vd = validOutputs[0][kd], vh = validOutputs[1][kh], vw = validOutputs[2][kw]
        guard vw.lo < vw.hi else { return }
        let offD = kd * dilation[0] - padBegin[0], offH = kh * dilation[1] - padBegin[1]
        let offW = kw * dilation[2] - padBegin[2]
        let inH = inSize[1], inW = inSize[2], outH = outSize[1], outW = outSize[2]
        for od in vd.lo..<vd.hi {
            for oh in vh.lo..<vh.hi {
                body(
                    (od * outH + oh) * outW,
                    ((od * stride[0] + offD) * inH + (oh * stride[1] + offH)) * inW + offW, vw.lo, vw.hi)
            }
        }
    }
}

// The general paths: products through plain SGEMM calls on col slabs (or, for a 1×1
// stride-1 unpadded convolution, on the images themselves).
extension TiledConv {
    /// `forward` of a pointwise convolution: `Y[n,g] = (bias or 0) + W[g] · X[n,g]`, one
    /// SGEMM per (image, group); the output already holds the bias rows when there is one.
    /// Narrow `x` and `w` are widened while the SGEMM packs them.
    func forwardPointwise(
        input x: Tiled.Input, weights w: Tiled.Input, hasBias: Bool,
        output y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let groups = groups
        runItems(batch * groups, threads: threads, workspace: 0) { imageGroup, _, inner in
            let g = imageGroup % groups  // imageGroup = n·G + g
            Tiled.gemm(
                transA: false, transB: false, m: co, n: p, k: k, a: w.advanced(by: g * co * k), lda: k,
                b: x.advanced(by: imageGroup * ci * inS), ldb: p, c: y + imageGroup * co * p, ldc: p,
                accumulate: hasBias, threads: inner)
        }
    }

    /// `backwardData` through `col(dX[n,g]) = W[g]ᵀ · dY[n,g]` in slabs of rows and blocks of
    /// columns, each scattered by col2im (pointwise: one SGEMM straight into dX). Column
    /// blocks of one (image, group) are scattered in order by one worker, so every input
    /// element receives its products in a fixed order. Narrow `dy` and `w` are widened while
    /// the SGEMMs pack them.
    func backwardDataCol2im(
        output dy: Tiled.Input, weights w: Tiled.Input,
        input dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let (slabRows, block) = tiles
        let blocks = (p + block - 1) / block, slabs = (k + slabRows - 1) / slabRows
        let groups = groups, pointwise = isPointwise
        runItems(batch * groups, threads: threads, workspace: pointwise ? 0 : slabRows * block) {
            imageGroup, ws, inner in
            let g = imageGroup % groups
            let dst = dx + imageGroup * ci * inS, a = w.advanced(by: g * co * k)
            let dOut = dy.advanced(by: imageGroup * co * p)
            if pointwise {
                Tiled.gemm(
                    transA: true, transB: false, m: k, n: p, k: co, a: a, lda: k, b: dOut, ldb: p,
                    c: dst, ldc: p, accumulate: false, threads: inner)
                return
            }
            dst.update(repeating: 0, count: ci * inS)
            for blk in 0..<blocks {
                let p0 = blk * block, p1 = min(p, p0 + block)
                for slab in 0..<slabs {
                    let r0 = slab * slabRows, r1 = min(k, r0 + slabRows)
                    Tiled.gemm(
                        transA: true, transB: false, m: r1 - r0, n: p1 - p0, k: co, a: a.advanced(by: r0), lda: k,
                        b: dOut.advanced(by: p0), ldb: p, c: ws, ldc: p1 - p0, accumulate: false, threads: inner)
                    col2im(ws, rows: r0..<r1, columns: p0..<p1, into: dst, threads: inner)
                }
            }
        }
    }

    /// `backwardWeights` through `dW[g] = Σ_n dY[n,g] · col(X[n,g])ᵀ` (pointwise: X itself).
    ///
    /// Work items are (image chunk, group, slab of K rows); slabs write disjoint columns of
    /// dW. The number of image chunks depends only on the shape: with one chunk each item
    /// sums all images in order; with several, chunk partials are added in chunk order.
    ///
    /// A narrow `dy` is widened while the SGEMMs pack it, and so is a narrow `x` of a
    /// pointwise convolution; im2col reads `x` in place, so otherwise `x` must be float32.
    func backwardWeightsIm2col(
        input x: Tiled.Input, output dy: Tiled.Input,
        weights dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        precondition(isPointwise || x.type == .f32, "im2col reads x as float32")
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let total = groups * co * k
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
        let partials: UnsafeMutablePointer<Float>? =
            chunks > 1 || transposed ? .allocate(capacity: chunks * total) : nil
        defer { partials?.deallocate() }
        let groups = groups, batch = batch, pointwise = isPointwise
        runItems(chunks * perChunk, threads: threads, workspace: pointwise ? 0 : slabRows * block) { item, ws, inner in
            let slab = item % slabs, g = (item / slabs) % groups, chunk = item / perChunk
            let r0 = slab * slabRows, r1 = min(k, r0 + slabRows)
            let target =
                transposed
                ? partials! + chunk * total + g * k * co + r0 * co
                : (partials.map { $0 + chunk * total } ?? dw) + g * co * k + r0
            var first = true
            for n in (chunk * imagesPerChunk)..<min(batch, (chunk + 1) * imagesPerChunk) {
                let imageGroup = n * groups + g
                let src = x.advanced(by: imageGroup * ci * inS), dOut = dy.advanced(by: imageGroup * co * p)
                for blk in 0..<blocks {
                    let p0 = blk * block, p1 = min(p, p0 + block)
                    var b = src.advanced(by: r0 * p + p0), ldb = p
                    if !pointwise {
                        im2col(src.floats, rows: r0..<r1, columns: p0..<p1, into: ws, threads: inner)
                        b = Tiled.Input(ws); ldb = p1 - p0
                    }
                    if transposed {
                        Tiled.gemm(
                            transA: false, transB: true, m: r1 - r0, n: co, k: p1 - p0, a: b, lda: ldb,
                            b: dOut.advanced(by: p0), ldb: p, c: target, ldc: co, accumulate: !first, threads: inner)
                    } else {
                        Tiled.gemm(
                            transA: false, transB: true, m: co, n: r1 - r0, k: p1 - p0, a: dOut.advanced(by: p0),
                            lda: p,
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
        Tiled.forEachItem(groups * co, threads: threads) { row, _ in
            let g = row / co, c = row % co
            let src = partials + g * k * co + c, dst = dw + row * k
            for r in 0..<k { dst[r] = src[r * co] }
        }
    }

}

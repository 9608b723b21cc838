// Backward-weights without im2col, for the shapes the direct forward writes in place
// (any stride, output width a multiple of 16, 1-D and 2-D):
// `dW[g][co, (ci, kh, kw)] = Σ_n Σ_pixels dY[n, g·Co + co, pixel] · Xp[n][ci][pixel + tap]`.
//
// The pixels are the reduction: a register tile holds 4 output channels × 6 taps as
// `SIMD16<Float>` accumulators over 16 pixel lanes (`avx512`; the narrower variants take
// the lanes and taps in passes of 4 × 3 `SIMD8` or `SIMD4` accumulators), and each step loads 16 consecutive pixels
// of 4 dY rows and of 6 tap-shifted input rows (read in place from a zero-padded band of the
// input, as in the direct forward) for 24 fused multiply-adds. The accumulators live in a
// buffer between bands (4 output rows of 256 pixels: the band's dY and input stay in L1
// while every tap tile of a channel block passes over them). Each lane sums its pixels in
// the fixed order (image, band, row, vector), then the 16 lanes are folded by `sum()`: the
// order depends only on the shape and the tuning, and threads only split the channel blocks.

extension TiledConv {
    /// Floats of lane accumulators of the direct backward-weights (groups × Co × K × 16,
    /// rounded up to whole tiles). They are reloaded for every band, so the path is taken
    /// only while they fit `directAccumulatorBudget` (stay in cache).
    var directWeightsAccumulators: Int {
        groups * Tiled.roundUp(outChannels, 4) * Tiled.roundUp(columnRows, 6) * 16
    }

    /// Output rows per band of the direct backward-weights.
    func directWeightsBandRows(_ plan: DirectPlan) -> Int {
        max(1, min(outSize[1], tuning.directBandPixels / max(1, outSize[2])))
    }

    func backwardWeightsDirect(
        _ plan: DirectPlan, input x: Tiled.Input, output dy: Tiled.Input,
        weights dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        precondition(!plan.flattened && plan.virtualWidth == outSize[2], "directWeights needs rows of whole vectors")
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let ho = outSize[1], wo = outSize[2], sh = stride[1]
        let kh = kernel[1], dh = dilation[1]
        let width = plan.width
        let bandRows = directWeightsBandRows(plan)
        let bandPaddedRows = (bandRows - 1) * sh + (kh - 1) * dh + 1
        let bandPlane = bandPaddedRows * width
        // Reads of the last vector of the last row reach `maxTap + 16` floats past its start.
        let bandCount = Tiled.roundUp(ci * bandPlane + 16, 16)
        let coBlocks = (co + 3) / 4, tapTiles = (k + 5) / 6
        let tileFloats = 24 * 16
        let perGroup = coBlocks * tapTiles * tileFloats
        let groups = groups, batch = batch
        let acc = Tiled.allocateFloats(groups * perGroup)
        defer { acc.deallocate() }
        // No zeroing pass: a worker's first band of each channel block starts its
        // accumulators at zero (`fresh`), so the buffer is written before it is read.
        if batch == 0 { acc.update(repeating: 0, count: groups * perGroup) }
        // Byte offsets of the taps in the band buffer, padded to whole 6-tap tiles with tap 0.
        let offsets: UnsafeMutablePointer<Int32> = tapOffsets(
            count: tapTiles * 6, plane: bandPlane, plan: plan, scale: 4)
        defer { offsets.deallocate() }
        let items = groups * coBlocks
        let pieces = min(items, Tiled.resolveThreads(threads))
        let buffers = Tiled.allocateFloats(pieces * bandCount)
        defer { buffers.deallocate() }
        // A narrow dY: each worker widens a block's 4 channels of a band's rows into its own
        // staging rows (the kernel reads them once per tap tile, as it reads float32 dY in place).
        let stageCount = dy.type == .f32 ? 0 : Tiled.roundUp(4 * bandRows * wo, 16)
        let stages = Tiled.allocateFloats(max(1, pieces * stageCount))
        defer { stages.deallocate() }
        Tiled.forEachItem(pieces, threads: pieces) { piece, _ in
            let band = buffers + piece * bandCount, stage = stages + piece * stageCount
            let first = items * piece / pieces, last = items * (piece + 1) / pieces
            let variant = KernelVariant.current
            for n in 0..<batch {
                for r0 in Swift.stride(from: 0, to: ho, by: bandRows) {
                    let rows = min(bandRows, ho - r0)
                    var filledGroup = -1
                    for item in first..<last {
                        let g = item / coBlocks, block = item % coBlocks
                        let imageGroup = n * groups + g
                        if g != filledGroup {
                            // Padded rows r0·s_h ..< +bandPaddedRows of this image's group.
                            let src = x.advanced(by: imageGroup * ci * inS)
                            for c in 0..<ci {
                                for r in 0..<bandPaddedRows {
                                    fillPaddedRow(
                                        src.advanced(by: c * inS), paddedRow: r0 * sh + r, plan,
                                        into: band + c * bandPlane + r * width)
                                }
                            }
                            (band + ci * bandPlane).update(repeating: 0, count: 16)
                            filledGroup = g
                        }
                        // dY rows of the block (rows past Co repeat the block's first row).
                        let c0 = block * 4
                        let first = (imageGroup * co) * p + r0 * wo
                        func channel(_ j: Int) -> Int { min(c0 + j, co - 1) }
                        let d0: UnsafePointer<Float>, d1: UnsafePointer<Float>
                        let d2: UnsafePointer<Float>, d3: UnsafePointer<Float>
                        if dy.type == .f32 {
                            let dyBase = dy.floats + first
                            (d0, d1, d2, d3) = (
                                dyBase + channel(0) * p, dyBase + channel(1) * p, dyBase + channel(2) * p,
                                dyBase + channel(3) * p
                            )
                        } else {
                            let run = rows * wo
                            for j in 0..<4 {
                                Tiled.widen(dy.advanced(by: first + channel(j) * p), count: run, into: stage + j * run)
                            }
                            (d0, d1, d2, d3) = (
                                UnsafePointer(stage), UnsafePointer(stage + run), UnsafePointer(stage + 2 * run),
                                UnsafePointer(stage + 3 * run)
                            )
                        }
                        let tiles = acc + g * perGroup + block * tapTiles * tileFloats
                        for tile in 0..<tapTiles {
                            TiledConv.weightKernel(
                                variant, rows: rows, vectorsPerRow: wo / 16, d0: d0, d1: d1, d2: d2, d3: d3,
                                x: UnsafeRawPointer(band), xRowBytes: 4 * sh * width,
                                taps: offsets + tile * 6, acc: tiles + tile * tileFloats,
                                fresh: n == 0 && r0 == 0)
                        }
                    }
                }
            }
        }
        foldLanes(acc, perGroup: perGroup, tapTiles: tapTiles, into: dw, threads: threads)
    }

    /// `dW[g][c][t]` = the 16 lanes of its accumulator (`acc[g][c / 4][t / 6][(c % 4)·6 + t % 6]`)
    /// folded by `sum()`.
    func foldLanes(
        _ acc: UnsafePointer<Float>, perGroup: Int, tapTiles: Int, into dw: UnsafeMutablePointer<Float>,
        threads: Int
    ) {
        let co = outChannels, k = columnRows, tileFloats = 24 * 16
        Tiled.forEachItem(groups * co, threads: threads) { row, _ in
            let g = row / co, c = row % co
            let base = acc + g * perGroup + (c / 4) * tapTiles * tileFloats + (c % 4) * 6 * 16
            let out = dw + row * k
            for t in 0..<k {
                let v = UnsafeRawPointer(base + (t / 6) * tileFloats + (t % 6) * 16).loadUnaligned(
                    as: SIMD16<Float>.self)
                out[t] = v.sum()
            }
        }
    }
}

extension TiledConv {
    /// The direct backward-weights on the direct forward's virtual pixel grid (flattened, or
    /// rows wider than the output): per image and group, the padded input `Xp` and a copy of
    /// dY on the grid with zeros in the junk lanes (so they add nothing), then bands of
    /// `directBandPixels` grid pixels (whole grid rows in row mode) as in the in-place form.
    func backwardWeightsVirtual(
        _ plan: DirectPlan, input x: Tiled.Input, output dy: Tiled.Input,
        weights dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let ho = outSize[1], wo = outSize[2], sh = stride[1], vw = plan.virtualWidth
        let gridCount = plan.vectors * 16
        let coBlocks = (co + 3) / 4, tapTiles = (k + 5) / 6
        let tileFloats = 24 * 16
        let perGroup = coBlocks * tapTiles * tileFloats
        let groups = groups, batch = batch
        let acc = Tiled.allocateFloats(groups * perGroup)
        defer { acc.deallocate() }
        // No zeroing pass: a worker's first band of each channel block starts its
        // accumulators at zero (`fresh`), so the buffer is written before it is read.
        if batch == 0 { acc.update(repeating: 0, count: groups * perGroup) }
        let offsets: UnsafeMutablePointer<Int32> = tapOffsets(
            count: tapTiles * 6, plane: plan.plane, plan: plan, scale: 4)
        defer { offsets.deallocate() }
        // Bands: (first vector, rows, vectors per row); X of a band starts at `start(first)`.
        var bands: [(first: Int, rows: Int, perRow: Int)] = []
        if plan.flattened {
            let step = max(1, tuning.directBandPixels / 16)
            for v in Swift.stride(from: 0, to: plan.vectors, by: step) {
                bands.append((v, 1, min(step, plan.vectors - v)))
            }
        } else {
            let rows = max(1, min(ho, tuning.directBandPixels / vw))
            for r in Swift.stride(from: 0, to: ho, by: rows) {
                bands.append((r * plan.vectorsPerRow, min(rows, ho - r), plan.vectorsPerRow))
            }
        }
        let items = groups * coBlocks
        let pieces = min(items, Tiled.resolveThreads(threads))
        // Workers own runs of channel blocks and share two padded images: while they compute
        // image group i from one, each also pads its share of the input channels of i + 1
        // into the other, and the join between image groups is the only barrier, so no
        // channel is padded twice. Each keeps its own grid and copies only its channels' dY.
        // One worker pads into a single buffer after each image (alternating two buffers
        // would only cost it cache).
        let imageGroups = batch * groups
        let buffers = pieces > 1 ? 2 : 1
        let sharedStride = Tiled.roundUp(plan.inputCount, 16)
        let shared = Tiled.allocateFloats(buffers * sharedStride)
        defer { shared.deallocate() }
        for b in 0..<buffers { zeroSlack(plan, of: shared + b * sharedStride) }
        let grids = Tiled.allocateFloats(pieces * co * gridCount)
        defer { grids.deallocate() }
        let xRowBytes = 4 * sh * plan.width
        /// Worker `piece`'s share of the input channels of image group `i`, padded.
        func pad(_ i: Int, _ piece: Int) {
            fillPadded(
                x.advanced(by: i * ci * inS), plan, channels: (ci * piece / pieces)..<(ci * (piece + 1) / pieces),
                zeroingSlack: false, into: shared + (i % buffers) * sharedStride)
        }
        if imageGroups > 0 { Tiled.forEachItem(pieces, threads: pieces) { piece, _ in pad(0, piece) } }
        for imageGroup in 0..<imageGroups {
            Tiled.forEachItem(pieces, threads: pieces) { piece, _ in
                defer { if imageGroup + 1 < imageGroups { pad(imageGroup + 1, piece) } }
                let padded = shared + (imageGroup % buffers) * sharedStride, grid = grids + piece * co * gridCount
                let first = items * piece / pieces, last = items * (piece + 1) / pieces
                let g = imageGroup % groups
                let lo = max(first, g * coBlocks), hi = min(last, (g + 1) * coBlocks)
                guard lo < hi else { return }
                let variant = KernelVariant.current
                let dOut = dy.advanced(by: imageGroup * co * p)
                for c in ((lo - g * coBlocks) * 4)..<min(co, (hi - g * coBlocks) * 4) {
                    let row = grid + c * gridCount
                    for oh in 0..<ho {
                        // A narrow dY is widened on its way onto the grid.
                        if dy.type == .f32 {
                            TiledConv.copyRun(
                                from: dOut.floats + c * p + oh * wo, to: row + oh * vw, count: wo, adding: nil)
                        } else {
                            Tiled.widen(dOut.advanced(by: c * p + oh * wo), count: wo, into: row + oh * vw)
                        }
                        for u in wo..<vw { row[oh * vw + u] = 0 }  // a few lanes: no memset call
                    }
                    (row + ho * vw).update(repeating: 0, count: gridCount - ho * vw)
                }
                for (bandIndex, band) in bands.enumerated() {
                    let xBand = UnsafeRawPointer(padded + plan.start(band.first, heightStride: sh))
                    for item in lo..<hi {
                        let block = item % coBlocks, c0 = block * 4
                        let d = grid + 16 * band.first
                        let tiles = acc + g * perGroup + block * tapTiles * tileFloats
                        for tile in 0..<tapTiles {
                            TiledConv.weightKernel(
                                variant, rows: band.rows, vectorsPerRow: band.perRow,
                                d0: d + c0 * gridCount, d1: d + min(c0 + 1, co - 1) * gridCount,
                                d2: d + min(c0 + 2, co - 1) * gridCount, d3: d + min(c0 + 3, co - 1) * gridCount,
                                x: xBand, xRowBytes: xRowBytes,
                                taps: offsets + tile * 6, acc: tiles + tile * tileFloats,
                                fresh: imageGroup < groups && bandIndex == 0)
                        }
                    }
                }
            }
        }
        foldLanes(acc, perGroup: perGroup, tapTiles: tapTiles, into: dw, threads: threads)
    }
}

extension TiledConv {
    /// `acc[r·6 + t] += Σ_pixels dY_r[pixel] · X[pixel + taps[t]]` lane-wise for 4 dY rows
    /// × 6 taps (24 `SIMD16<Float>` accumulators at `acc`, 16 floats each), over `rows` rows of
    /// `vectorsPerRow` vectors of 16 pixels: dY rows contiguous, input rows `xRowBytes` apart.
    /// Each lane adds one product per pixel, in order. `fresh`: the sums start at zero
    /// instead of `acc` (the same bits as adding to a zeroed buffer).
    // Written out by hand: its multipliers are dY vectors, not broadcast weights, and its
    // input vectors sit at 6 arbitrary tap offsets, which `RegisterTile.swift` does not model.
    @inline(never)
    static func weightKernel4x6(
        rows: Int, vectorsPerRow: Int,
        d0: UnsafePointer<Float>, d1: UnsafePointer<Float>,
        d2: UnsafePointer<Float>, d3: UnsafePointer<Float>,
        x: UnsafeRawPointer, xRowBytes: Int, taps: UnsafePointer<Int32>,
        acc: UnsafeMutablePointer<Float>, fresh: Bool
    ) {
        let raw = UnsafeMutableRawPointer(acc)
        @inline(__always) func load(_ i: Int) -> SIMD16<Float> {
            fresh ? SIMD16<Float>() : raw.loadUnaligned(fromByteOffset: i * 64, as: SIMD16<Float>.self)
        }
        var a0_0 = load(0), a0_1 = load(1), a0_2 = load(2), a0_3 = load(3), a0_4 = load(4), a0_5 = load(5)
        var a1_0 = load(6), a1_1 = load(7), a1_2 = load(8), a1_3 = load(9), a1_4 = load(10), a1_5 = load(11)
        var a2_0 = load(12), a2_1 = load(13), a2_2 = load(14), a2_3 = load(15), a2_4 = load(16), a2_5 = load(17)
        var a3_0 = load(18), a3_1 = load(19), a3_2 = load(20), a3_3 = load(21), a3_4 = load(22), a3_5 = load(23)
        let o0 = Int(taps[0]), o1 = Int(taps[1]), o2 = Int(taps[2])
        let o3 = Int(taps[3]), o4 = Int(taps[4]), o5 = Int(taps[5])
        var p0 = UnsafeRawPointer(d0), p1 = UnsafeRawPointer(d1), p2 = UnsafeRawPointer(d2), p3 = UnsafeRawPointer(d3)
        var xRow = x
        for _ in 0..<rows {
            var xp = xRow
            for _ in 0..<vectorsPerRow {
                let y0 = p0.loadUnaligned(as: SIMD16<Float>.self), y1 = p1.loadUnaligned(as: SIMD16<Float>.self)
                let y2 = p2.loadUnaligned(as: SIMD16<Float>.self), y3 = p3.loadUnaligned(as: SIMD16<Float>.self)
                let x0 = xp.loadUnaligned(fromByteOffset: o0, as: SIMD16<Float>.self)
                a0_0 = a0_0.addingProduct(y0, x0); a1_0 = a1_0.addingProduct(y1, x0)
                a2_0 = a2_0.addingProduct(y2, x0); a3_0 = a3_0.addingProduct(y3, x0)
                let x1 = xp.loadUnaligned(fromByteOffset: o1, as: SIMD16<Float>.self)
                a0_1 = a0_1.addingProduct(y0, x1); a1_1 = a1_1.addingProduct(y1, x1)
                a2_1 = a2_1.addingProduct(y2, x1); a3_1 = a3_1.addingProduct(y3, x1)
                let x2 = xp.loadUnaligned(fromByteOffset: o2, as: SIMD16<Float>.self)
                a0_2 = a0_2.addingProduct(y0, x2); a1_2 = a1_2.addingProduct(y1, x2)
                a2_2 = a2_2.addingProduct(y2, x2); a3_2 = a3_2.addingProduct(y3, x2)
                let x3 = xp.loadUnaligned(fromByteOffset: o3, as: SIMD16<Float>.self)
                a0_3 = a0_3.addingProduct(y0, x3); a1_3 = a1_3.addingProduct(y1, x3)
                a2_3 = a2_3.addingProduct(y2, x3); a3_3 = a3_3.addingProduct(y3, x3)
                let x4 = xp.loadUnaligned(fromByteOffset: o4, as: SIMD16<Float>.self)
                a0_4 = a0_4.addingProduct(y0, x4); a1_4 = a1_4.addingProduct(y1, x4)
                a2_4 = a2_4.addingProduct(y2, x4); a3_4 = a3_4.addingProduct(y3, x4)
                let x5 = xp.loadUnaligned(fromByteOffset: o5, as: SIMD16<Float>.self)
                a0_5 = a0_5.addingProduct(y0, x5); a1_5 = a1_5.addingProduct(y1, x5)
                a2_5 = a2_5.addingProduct(y2, x5); a3_5 = a3_5.addingProduct(y3, x5)
                p0 += 64; p1 += 64; p2 += 64; p3 += 64; xp += 64
            }
            xRow += xRowBytes
        }
        @inline(__always) func put(_ v: SIMD16<Float>, _ i: Int) {
            raw.storeBytes(of: v, toByteOffset: i * 64, as: SIMD16<Float>.self)
        }
        put(a0_0, 0); put(a0_1, 1); put(a0_2, 2); put(a0_3, 3); put(a0_4, 4); put(a0_5, 5)
        put(a1_0, 6); put(a1_1, 7); put(a1_2, 8); put(a1_3, 9); put(a1_4, 10); put(a1_5, 11)
        put(a2_0, 12); put(a2_1, 13); put(a2_2, 14); put(a2_3, 15); put(a2_4, 16); put(a2_5, 17)
        put(a3_0, 18); put(a3_1, 19); put(a3_2, 20); put(a3_3, 21); put(a3_4, 22); put(a3_5, 23)
    }

    /// `weightKernel4x6` with the register tiles of `variant`: for `avx2` and `neon`, whose
    /// registers cannot hold 24 `SIMD16` accumulators, passes of `weightKernel4x3` over each
    /// group of `variant.lanes` lanes and each half of the taps. Every lane adds the same
    /// products in the same order in every variant, so the bits are the same.
    @inline(__always)
    static func weightKernel(
        _ variant: KernelVariant, rows: Int, vectorsPerRow: Int,
        d0: UnsafePointer<Float>, d1: UnsafePointer<Float>,
        d2: UnsafePointer<Float>, d3: UnsafePointer<Float>,
        x: UnsafeRawPointer, xRowBytes: Int, taps: UnsafePointer<Int32>,
        acc: UnsafeMutablePointer<Float>, fresh: Bool
    ) {
        func passes<V: SIMD>(_: V.Type) where V.Scalar == Float {
            for lane in Swift.stride(from: 0, to: 16, by: V.scalarCount) {
                for firstTap in [0, 3] {
                    weightKernel4x3(
                        V.self, lane: lane, firstTap: firstTap, rows: rows, vectorsPerRow: vectorsPerRow,
                        d0: d0, d1: d1, d2: d2, d3: d3, x: x, xRowBytes: xRowBytes, taps: taps, acc: acc, fresh: fresh)
                }
            }
        }
        switch variant {
        case .avx512:
            weightKernel4x6(
                rows: rows, vectorsPerRow: vectorsPerRow, d0: d0, d1: d1, d2: d2, d3: d3, x: x, xRowBytes: xRowBytes,
                taps: taps, acc: acc, fresh: fresh)
        case .avx2: passes(SIMD8<Float>.self)
        case .neon: passes(SIMD4<Float>.self)
        }
    }

    /// Lanes `lane ..< lane + V.scalarCount` of `weightKernel4x6`'s accumulators of taps
    /// `firstTap ..< firstTap + 3`: 4 dY rows × 3 taps, 12 accumulators of `V` (with 4 dY and
    /// 1 input vector, 17 of 32 registers, or 16 ymm with the input vector reloaded).
    @inline(never)
    static func weightKernel4x3<V: SIMD>(
        _: V.Type, lane: Int, firstTap: Int, rows: Int, vectorsPerRow: Int,
        d0: UnsafePointer<Float>, d1: UnsafePointer<Float>,
        d2: UnsafePointer<Float>, d3: UnsafePointer<Float>,
        x: UnsafeRawPointer, xRowBytes: Int, taps: UnsafePointer<Int32>,
        acc: UnsafeMutablePointer<Float>, fresh: Bool
    ) where V.Scalar == Float {
        let raw = UnsafeMutableRawPointer(acc + lane)
        @inline(__always) func load(_ r: Int, _ t: Int) -> V {
            fresh ? V() : raw.loadUnaligned(fromByteOffset: (r * 6 + firstTap + t) * 64, as: V.self)
        }
        var a0_0 = load(0, 0), a0_1 = load(0, 1), a0_2 = load(0, 2)
        var a1_0 = load(1, 0), a1_1 = load(1, 1), a1_2 = load(1, 2)
        var a2_0 = load(2, 0), a2_1 = load(2, 1), a2_2 = load(2, 2)
        var a3_0 = load(3, 0), a3_1 = load(3, 1), a3_2 = load(3, 2)
        let laneBytes = 4 * lane
        let o0 = Int(taps[firstTap]) + laneBytes, o1 = Int(taps[firstTap + 1]) + laneBytes
        let o2 = Int(taps[firstTap + 2]) + laneBytes
        var p0 = UnsafeRawPointer(d0) + laneBytes, p1 = UnsafeRawPointer(d1) + laneBytes
        var p2 = UnsafeRawPointer(d2) + laneBytes, p3 = UnsafeRawPointer(d3) + laneBytes
        var xRow = x
        for _ in 0..<rows {
            var xp = xRow
            for _ in 0..<vectorsPerRow {
                let y0 = p0.loadUnaligned(as: V.self), y1 = p1.loadUnaligned(as: V.self)
                let y2 = p2.loadUnaligned(as: V.self), y3 = p3.loadUnaligned(as: V.self)
                let x0 = xp.loadUnaligned(fromByteOffset: o0, as: V.self)
                a0_0 = a0_0.addingProduct(y0, x0); a1_0 = a1_0.addingProduct(y1, x0)
                a2_0 = a2_0.addingProduct(y2, x0); a3_0 = a3_0.addingProduct(y3, x0)
                let x1 = xp.loadUnaligned(fromByteOffset: o1, as: V.self)
                a0_1 = a0_1.addingProduct(y0, x1); a1_1 = a1_1.addingProduct(y1, x1)
                a2_1 = a2_1.addingProduct(y2, x1); a3_1 = a3_1.addingProduct(y3, x1)
                let x2 = xp.loadUnaligned(fromByteOffset: o2, as: V.self)
                a0_2 = a0_2.addingProduct(y0, x2); a1_2 = a1_2.addingProduct(y1, x2)
                a2_2 = a2_2.addingProduct(y2, x2); a3_2 = a3_2.addingProduct(y3, x2)
                p0 += 64; p1 += 64; p2 += 64; p3 += 64; xp += 64
            }
            xRow += xRowBytes
        }
        @inline(__always) func put(_ v: V, _ r: Int, _ t: Int) {
            raw.storeBytes(of: v, toByteOffset: (r * 6 + firstTap + t) * 64, as: V.self)
        }
        put(a0_0, 0, 0); put(a0_1, 0, 1); put(a0_2, 0, 2)
        put(a1_0, 1, 0); put(a1_1, 1, 1); put(a1_2, 1, 2)
        put(a2_0, 2, 0); put(a2_1, 2, 1); put(a2_2, 2, 2)
        put(a3_0, 3, 0); put(a3_1, 3, 1); put(a3_2, 3, 2)
    }
}

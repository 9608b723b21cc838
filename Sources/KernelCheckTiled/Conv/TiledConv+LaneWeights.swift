// Backward-weights with the output channels in the lanes (`ConvPath.laneWeights`):
// `dWᵀ[g] (K × Co) = Σ_n Σ_pixels col(X[n,g]) (K × P) · dY[n,g]ᵀ (P × Co)` in the SGEMM's
// 12 × 32 register tiles, 12 taps k × 32 output channels, the pixels the reduction.
//
// Per image and group the input is copied once into the direct forward's zero-padded buffer
// (`fillPadded`), where tap k of output pixel (oh, ow) sits at `oh·s_h·width + ow + offsets[k]`
// (`tapOffsets`), so a tile's 12 rows are broadcast straight from there: no column matrix, no
// packing of X. Only dY is packed, per block of whole output rows and 32 channels, as rows of
// 32 channels per pixel (zero past Co; the SGEMM's `packB` of dYᵀ): the B panel, which stays
// in L1 while every tap tile of the block passes over it. A pixel step loads 2 aligned vectors of dY, broadcasts 12 input
// values and issues 24 fused multiply-adds, over output pixels only: no tap-shifted vector
// loads, no folding of pixel lanes and no junk lanes, where the direct backward-weights
// (`TiledConv+DirectWeights.swift`) has the first two, and the third on its virtual grid. The
// products with the padding's zeros are computed.
//
// Every element of dW is one chain over (image, output row, output column) in increasing
// order: a tile starts from the element's partial sum of the previous block (zero for the
// first), so neither the blocks nor the thread count (threads own whole (group, channel
// block, tap tile) items) nor the kernel variant (the narrower tiles take the same chains in
// passes) changes a bit.

extension TiledConv {
    /// Why the lane backward-weights does not apply where the direct one would, or nil (the
    /// tuning's rule: enough output channels and taps, `ConvTuning.laneWeights`).
    var laneWeightsUnavailable: String? {
        if !tuning.laneWeights { return "the lane backward-weights are off in the tuning" }
        let lanes = (outChannels + 31) / 32 * 32
        guard outChannels >= tuning.laneWeightsMinimumChannels,
            Double(outChannels) >= tuning.laneWeightsMinimumFill * Double(lanes)
        else {
            return "\(outChannels) output channels fill too few of the \(lanes) channel lanes"
        }
        guard columnRows >= tuning.laneWeightsMinimumTaps else {
            return "\(columnRows) taps: fewer than \(tuning.laneWeightsMinimumTaps)"
        }
        return nil
    }

    /// Output rows per block of `backwardWeightsLanes`: whole rows, about
    /// `tuning.laneWeightsBlock` pixels.
    var laneWeightsBlockRows: Int {
        max(1, min(outSize[1], tuning.laneWeightsBlock / max(1, outSize[2])))
    }

    /// Items of `backwardWeightsLanes`: (group, 32-channel block, 12-tap tile).
    var laneWeightsItems: Int { groups * ((outChannels + 31) / 32) * ((columnRows + 11) / 12) }

    func backwardWeightsLanes(
        _ plan: DirectPlan, input x: Tiled.Input, output dy: Tiled.Input,
        weights dw: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let ho = outSize[1], wo = outSize[2], rowStep = stride[1] * plan.width
        let coBlocks = (co + 31) / 32, kTiles = (k + 11) / 12, perImage = coBlocks * kTiles
        // dWᵀ of each group, K rounded up to whole tiles × Co to whole blocks.
        let ld = coBlocks * 32, perGroup = kTiles * 12 * ld
        let blockRows = laneWeightsBlockRows
        // Float offsets of the taps in the padded buffer, padded to whole tiles with tap 0.
        let offsets: UnsafeMutablePointer<Int> = tapOffsets(count: kTiles * 12, plane: plan.plane, plan: plan)
        defer { offsets.deallocate() }
        let acc = Tiled.allocateFloats(groups * perGroup)
        defer { acc.deallocate() }
        let groups = groups, batch = batch
        let items = laneWeightsItems
        let pieces = min(items, Tiled.resolveThreads(threads))
        let inputCount = Tiled.roundUp(plan.inputCount, 16), panelCount = blockRows * wo * 32
        let workspace = inputCount + panelCount
        let buffer = Tiled.allocateFloats(pieces * workspace)
        defer { buffer.deallocate() }
        Tiled.forEachItem(pieces, threads: pieces) { piece, _ in
            let xp = buffer + piece * workspace, panel = xp + inputCount
            let first = items * piece / pieces, last = items * (piece + 1) / pieces
            guard first < last else { return }
            let variant = KernelVariant.current
            for n in 0..<batch {
                for g in (first / perImage)...((last - 1) / perImage) {
                    let imageGroup = n * groups + g
                    fillPadded(x.advanced(by: imageGroup * ci * inS), plan, into: xp)
                    let mine = max(first, g * perImage)..<min(last, (g + 1) * perImage)
                    for r0 in Swift.stride(from: 0, to: ho, by: blockRows) {
                        let rows = min(blockRows, ho - r0), pixels = rows * wo
                        var packed = -1
                        for item in mine {
                            let block = (item / kTiles) % coBlocks, tile = item % kTiles
                            if block != packed {
                                // dYᵀ's rows r0·wo ..< +pixels, the block's 32 channels (zero past Co).
                                Tiled.packB(
                                    Operand(dy.advanced(by: imageGroup * co * p), ld: p, transposed: true),
                                    rows: r0 * wo, count: pixels, columns: block * 32,
                                    count: min(32, co - block * 32), into: panel)
                                packed = block
                            }
                            Tiled.laneWeightKernel(
                                variant, rows: rows, width: wo, x: UnsafePointer(xp + r0 * rowStep),
                                rowStep: rowStep, offsets: offsets + tile * 12, b: UnsafePointer(panel),
                                c: acc + g * perGroup + tile * 12 * ld + block * 32, ldc: ld,
                                continuing: n > 0 || r0 > 0)
                        }
                    }
                }
            }
        }
        // dW[g][c][t] = dWᵀ[g][t][c].
        Tiled.forEachItem(groups * co, threads: threads) { row, _ in
            let g = row / co, c = row % co
            let src = acc + g * perGroup + c, out = dw + row * k
            for t in 0..<k { out[t] = src[t * ld] }
        }
    }
}

extension Tiled {
    /// `C[0..<12, 0..<32] = (continuing ? C : 0) + Σ_q X[pixel(q) + offsets[r]] · B[q, ·]` over
    /// the `rows · width` pixels q of `rows` rows of `width` (`pixel(q)` = `(q / width)·rowStep +
    /// q % width` floats into `x`; 32 floats a pixel in `b`), with the register tile of `variant`: one
    /// 12 × 32 tile (`avx512`), or passes of 6 × 16 (`avx2`) and 12 × 8 (`neon`) that take
    /// the same chains.
    @inline(__always)
    static func laneWeightKernel(
        _ variant: KernelVariant, rows: Int, width: Int, x: UnsafePointer<Float>, rowStep: Int,
        offsets: UnsafePointer<Int>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
        continuing: Bool
    ) {
        func pass<Rows: GatheringTileRows>(_: Rows.Type, row: Int, column: Int) {
            laneWeightPass(
                Rows.self, rows: rows, width: width, x: x, rowStep: rowStep, offsets: offsets + row,
                b: b + column, c: c + (row * ldc + column), ldc: ldc, continuing: continuing)
        }
        switch variant {
        case .avx512: pass(TileRows12.self, row: 0, column: 0)
        case .avx2:
            for column in Swift.stride(from: 0, to: 32, by: 16) {
                for row in Swift.stride(from: 0, to: 12, by: 6) { pass(Rows6x16.self, row: row, column: column) }
            }
        case .neon:
            for column in Swift.stride(from: 0, to: 32, by: 8) { pass(Rows12x8.self, row: 0, column: column) }
        }
    }

    /// One pass of `laneWeightKernel`: `Rows.count` taps × the columns of `Rows`.
    @inline(never)
    static func laneWeightPass<Rows: GatheringTileRows>(
        _: Rows.Type, rows: Int, width: Int, x: UnsafePointer<Float>, rowStep: Int,
        offsets: UnsafePointer<Int>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
        continuing: Bool
    ) {
        // A row's second vector, `second` floats after its first.
        let second = MemoryLayout<Rows.Vectors>.size / 8
        var tile = Rows()
        if continuing { tile.load(c, ldc: ldc, second: second) }
        var bp = UnsafeRawPointer(b)
        var row = x
        // Whole rows: the optimiser keeps the 12 tap pointers of a row in registers.
        for _ in 0..<rows {
            var xp = row
            for _ in 0..<width {
                tile.add(gathering: xp, offsets, Rows.vectors(at: bp))
                xp += 1
                bp += 128
            }
            row += rowStep
        }
        tile.store(c, ldc: ldc, second: second, adding: false)
    }
}

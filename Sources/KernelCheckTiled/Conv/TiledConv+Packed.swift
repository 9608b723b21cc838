// The forward convolution as SGEMM on operands packed by the lowering itself:
// `Y[n,g] = W[g] · col(X[n,g])` with W[g]'s slabs packed into A panels once per call
// (shared by every image) and col written by `im2colPacked` directly as B panels, so
// neither operand is copied again per product.

extension TiledConv {
    /// How col (K × P) is cut for the packed forward: slabs of at most `GEMMBlocking.kc`
    /// rows (each slab is exactly one SGEMM K block), cut evenly, and column blocks that fill
    /// the column budget, cut evenly and rounded up to whole `nr`-wide panels when at least
    /// one panel wide (a partial panel costs a whole register tile). Depends only on the
    /// shape and the tuning, never on the thread count.
    var packedTiles: (slabRows: Int, block: Int) {
        let p = max(outSpatial, 1), k = max(columnRows, 1), nr = GEMMBlocking.nr
        func even(_ total: Int, _ most: Int) -> Int {
            let pieces = (total + most - 1) / most
            return (total + pieces - 1) / pieces
        }
        let slabMost = min(
            GEMMBlocking.kc,
            max(tuning.minimumSlabRows, tuning.columnBudget / max(1, min(p, tuning.minimumColumnBlock))))
        let slab = even(k, max(1, min(k, slabMost)))
        var block = even(p, max(1, min(p, max(tuning.minimumColumnBlock, tuning.columnBudget / slab))))
        if block >= nr { block = min(p, Tiled.roundUp(block, nr)) }
        return (slab, block)
    }

    /// `forward` for a non-pointwise convolution through the packed operands; the K slabs
    /// are added into the output in slab order (the first one over the bias, or over zero).
    /// A narrow `w` is widened while packing its slabs.
    func forwardPacked(
        input x: UnsafePointer<Float>, weights w: Tiled.Input, hasBias: Bool,
        output y: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        let (slabRows, block) = packedTiles
        let blocks = (p + block - 1) / block, slabs = (k + slabRows - 1) / slabRows
        let groups = groups
        // Ã for slab s of group g at (g·slabs + s)·aStride: ⌈Co/mr⌉ panels of that slab's rows.
        let aStride = Tiled.roundUp(co, mr) * slabRows
        let packedW = packWeightSlabs(w, transposed: false, slabRows: slabRows, aStride: aStride, threads: threads)
        defer { packedW.deallocate() }
        runItems(batch * groups * blocks, threads: threads, workspace: Tiled.roundUp(block, nr) * slabRows + block) {
            item, ws, inner in
            let imageGroup = item / blocks, g = imageGroup % groups  // imageGroup = n·G + g
            let p0 = (item % blocks) * block, p1 = min(p, p0 + block)
            let src = x + imageGroup * ci * inS, out = y + imageGroup * co * p + p0
            for slab in 0..<slabs {
                let r0 = slab * slabRows, r1 = min(k, r0 + slabRows)
                im2colPacked(
                    src, rows: r0..<r1, columns: p0..<p1, into: ws, rowBuffer: ws + Tiled.roundUp(block, nr) * slabRows,
                    threads: inner)
                Tiled.sgemmPrepacked(
                    m: co, n: p1 - p0, kc: r1 - r0, packedA: packedW + (g * slabs + slab) * aStride,
                    packedB: ws, c: out, ldc: p, accumulate: hasBias || slab > 0, threads: inner)
            }
        }
    }
}

extension TiledConv {
    /// How the packed backward-data cuts col (K × P): `tiles`' slabs, and its column blocks
    /// rounded up to whole `nr`-wide panels (a partial panel costs a whole register tile:
    /// 3136 positions go as 12 × 256 + 64 instead of 13 × 242, 7 panels + 18 columns), or to
    /// whole output lines when dX is written once (`once`: a 1×1 kernel, `writesInputOnce`,
    /// whose lines fit a block; zeroing dX and adding into it would read and write it twice).
    var col2imTiles: (slabRows: Int, block: Int, once: Bool) {
        let (slabRows, evenBlock) = tiles, p = outSpatial, line = outSize[2]
        if writesInputOnce && line <= evenBlock { return (slabRows, min(p, Tiled.roundUp(evenBlock, line)), true) }
        let block = evenBlock >= GEMMBlocking.nr ? min(p, Tiled.roundUp(evenBlock, GEMMBlocking.nr)) : evenBlock
        return (slabRows, block, false)
    }

    /// `backwardData` for a non-pointwise convolution with `Co ≤ kc`: `W[g]ᵀ`'s slabs are
    /// packed into A panels once per call, each column block of `dY[n,g]` into B panels once
    /// (not once per slab), and each slab's product (one K block of `Co` steps, as in
    /// `sgemm`) goes to col and is scattered in slab order by col2im (written
    /// once by `col2imOnce` for a 1×1 kernel).
    ///
    /// Narrow `dy` and `w` are widened while packing (`packA` / `packB` on a narrow `Operand`).
    func backwardDataPacked(
        output dy: Tiled.Input, weights w: Tiled.Input,
        input dx: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let p = outSpatial, k = columnRows, co = outChannels, ci = inChannels, inS = inSpatial
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        let (slabRows, block, once) = col2imTiles
        let blocks = (p + block - 1) / block, slabs = (k + slabRows - 1) / slabRows
        let groups = groups
        let aStride = Tiled.roundUp(slabRows, mr) * co
        let packedW = packWeightSlabs(w, transposed: true, slabRows: slabRows, aStride: aStride, threads: threads)
        defer { packedW.deallocate() }
        let colCount = slabRows * block
        runItems(batch * groups, threads: threads, workspace: colCount + Tiled.roundUp(block, nr) * co) {
            imageGroup, ws, inner in
            let g = imageGroup % groups
            let dst = dx + imageGroup * ci * inS, dOut = dy.advanced(by: imageGroup * co * p)
            let packedDY = ws + colCount
            if !once { dst.update(repeating: 0, count: ci * inS) }
            for blk in 0..<blocks {
                let p0 = blk * block, p1 = min(p, p0 + block)
                Tiled.packB(
                    Operand(dOut, ld: p, transposed: false), rows: 0, count: co,
                    columns: p0, count: p1 - p0, into: packedDY)
                for slab in 0..<slabs {
                    let r0 = slab * slabRows, r1 = min(k, r0 + slabRows)
                    Tiled.sgemmPrepacked(
                        m: r1 - r0, n: p1 - p0, kc: co, packedA: packedW + (g * slabs + slab) * aStride,
                        packedB: packedDY, c: ws, ldc: p1 - p0, accumulate: false, threads: inner)
                    if once {
                        col2imOnce(ws, rows: r0..<r1, columns: p0..<p1, into: dst, threads: inner)
                    } else {
                        col2im(ws, rows: r0..<r1, columns: p0..<p1, into: dst, threads: inner)
                    }
                }
            }
        }
    }
}

extension TiledConv {
    /// A panels of the weights, one block of `aStride` floats per (group g, slab s), at
    /// `(g·slabs + s)·aStride`: the slab's K steps `s·slabRows..<(s+1)·slabRows` of `W[g]`
    /// (`Co × K`; `W[g]ᵀ`, `K × Co`, when `transposed`), a narrow `w` widened while packing.
    /// The caller deallocates.
    func packWeightSlabs(
        _ w: Tiled.Input, transposed: Bool, slabRows: Int, aStride: Int, threads: Int
    ) -> UnsafeMutablePointer<Float> {
        let k = columnRows, co = outChannels, slabs = (k + slabRows - 1) / slabRows
        let packed = Tiled.allocateFloats(groups * slabs * aStride)
        Tiled.forEachItem(groups * slabs, threads: threads) { item, _ in
            let g = item / slabs, r0 = (item % slabs) * slabRows, r1 = min(k, r0 + slabRows)
            let a = Operand(w.advanced(by: g * co * k), ld: k, transposed: transposed), into = packed + item * aStride
            if transposed {
                Tiled.packA(a, rows: r0, count: r1 - r0, columns: 0, count: co, into: into)
            } else {
                Tiled.packA(a, rows: 0, count: co, columns: r0, count: r1 - r0, into: into)
            }
        }
        return packed
    }
}

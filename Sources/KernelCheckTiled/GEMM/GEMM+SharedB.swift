// The multi-threaded SGEMM for large problems: all threads share one packed B block.
//
// Splitting C into column blocks (GEMMSplit) makes every thread pack all of op(A) and its
// own B block; on 2048³ with 2 threads that is 1.5× the packing traffic of one shared
// block, and packing reads come from DRAM. Here, for each (jc, pc) block the threads first
// pack one B block together (each a range of its panels), then each takes a range of
// whole row tiles and runs the usual ic → jr → ir loops on it with its own packed A. K is
// never split, and every element is the same micro-kernel chain over the same kc blocks as
// in `sgemmBlocked`, so the result is bit-identical to the one-thread result.

extension Tiled {
    /// Whether `sgemm` uses `sgemmSharedB` for a (possibly transposed) problem of
    /// `rows × columns` C: both sides span several cache blocks, so a column split would
    /// repack all of A per thread and a row split all of B.
    static func prefersSharedB(rows: Int, columns: Int, threads: Int) -> Bool {
        threads > 1 && rows >= 4 * GEMMBlocking.mc && columns >= 16 * GEMMBlocking.nr
    }

    static func sgemmSharedB(
        m: Int, n: Int, k: Int, a: Operand, b: Operand, c: Output, accumulate: Bool,
        threads: Int
    ) {
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        let rowTiles = (m + mr - 1) / mr
        let parts = max(1, min(threads, rowTiles))
        let kcMax = min(GEMMBlocking.kc, k)
        let mcMax = roundUp(min(GEMMBlocking.mc, m), mr)
        let ncMax = roundUp(min(GEMMBlocking.nc, n), nr)
        // Per thread: a packed A block and a scratch tile, 64-byte aligned slots.
        let aSlot = roundUp(mcMax * kcMax + mr * nr, 16)
        let bCount = kcMax * ncMax
        ScratchPool.shared.withFloats(bCount + parts * aSlot) { packedB in
            let privateBase = packedB + bCount
            for jc in stride(from: 0, to: n, by: GEMMBlocking.nc) {
                let ncb = min(GEMMBlocking.nc, n - jc)
                let panels = (ncb + nr - 1) / nr
                for pc in stride(from: 0, to: k, by: GEMMBlocking.kc) {
                    let kcb = min(GEMMBlocking.kc, k - pc)
                    // Pack the B block together: thread t takes a range of its panels.
                    parallelFor(parts) { t in
                        let p0 = panels * t / parts, p1 = panels * (t + 1) / parts
                        guard p0 < p1 else { return }
                        let col0 = p0 * nr, col1 = min(ncb, p1 * nr)
                        packB(
                            b, rows: pc, count: kcb, columns: jc + col0, count: col1 - col0,
                            into: packedB + col0 * kcb)
                    }
                    // Multiply: thread t takes a range of whole row tiles.
                    let loadC = accumulate || pc > 0
                    parallelFor(parts) { t in
                        let r0 = rowTiles * t / parts * mr, r1 = min(m, rowTiles * (t + 1) / parts * mr)
                        guard r0 < r1 else { return }
                        let packedA = privateBase + t * aSlot
                        macroBlock(
                            rows: r0..<r1, columns: jc, count: ncb, depth: pc, count: kcb,
                            a: a, packedB: packedB, c: c, loadC: loadC,
                            packedA: packedA, tile: packedA + mcMax * kcMax)
                    }
                }
            }
        }
    }
}

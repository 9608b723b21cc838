// SGEMM on operands that the caller packed itself: the convolution lowering packs the
// weights once per call (not once per image) and writes im2col straight into B panels.

extension Tiled {
    /// `C[m×n] = (accumulate ? C : 0) + Ã·B̃` for one K block of `kc ≤ GEMMBlocking.kc` steps.
    ///
    /// `packedA` holds `⌈m/mr⌉` A micro-panels in `packA`'s layout (panel q at `q·mr·kc`),
    /// `packedB` holds `⌈n/nr⌉` B micro-panels in `packB`'s layout (panel j at `j·nr·kc`),
    /// both zero-padded to whole panels. Every element of C is one micro-kernel chain over
    /// the block, exactly as `sgemm` sums a K block, and the split of column panels over
    /// `threads` only decides which thread computes an element.
    static func sgemmPrepacked(
        m: Int, n: Int, kc: Int, packedA: UnsafePointer<Float>,
        packedB: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, threads: Int
    ) {
        guard m > 0 && n > 0 else { return }
        let mr = GEMMBlocking.mr, nr = GEMMBlocking.nr
        let panels = (n + nr - 1) / nr
        let variant = KernelVariant.current
        let pieces = threads > 1 && m * n * kc >= sgemmParallelThreshold ? min(panels, threads) : 1
        Tiled.forEachItem(pieces, threads: threads) { piece, _ in
            Tiled.withScratchFloats(mr * nr) { tile in
                let out = Output(base: c, ld: ldc, transposed: false)
                let firstPanel = panels * piece / pieces, lastPanel = panels * (piece + 1) / pieces
                // mc rows of Ã (3/16 of L2) stay in L2 while the column panels stream past.
                for ic in stride(from: 0, to: m, by: GEMMBlocking.mc) {
                    let rowEnd = min(m, ic + GEMMBlocking.mc)
                    for panel in firstPanel..<lastPanel {
                        let jr = panel * nr, width = min(nr, n - jr)
                        let bPanel = packedB + jr * kc
                        for ir in stride(from: ic, to: rowEnd, by: mr) {
                            let height = min(mr, m - ir)
                            let aPanel = packedA + ir * kc
                            let rows = panelRows(height: height)
                            if rows == height && width == nr {
                                panelKernel(
                                    variant, rows: rows, kc: kc, a: aPanel, b: bPanel, bStride: nr,
                                    c: c + ir * ldc + jr, ldc: ldc, loadC: accumulate)
                            } else {
                                panelKernel(
                                    variant, rows: rows, kc: kc, a: aPanel, b: bPanel, bStride: nr, c: tile, ldc: nr,
                                    loadC: false)
                                out.merge(
                                    tile: tile, stride: nr, row: ir, column: jr,
                                    height: height, width: width, adding: accumulate)
                            }
                        }
                    }
                }
            }
        }
    }
}

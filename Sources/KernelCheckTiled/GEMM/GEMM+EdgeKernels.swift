// The register tiles of every kernel variant on one packed panel pair, and the narrow
// forms for the last row panel of C when it holds 8 or fewer rows (C with 64 rows = 5 full
// 12-row panels + 4 rows; 32 rows = 2 + 8). Running the 12-row kernel there spends 12 rows
// of FMAs on 4 or 8 useful ones; the narrow forms do only those, on the same zero-padded
// 12-row A panels.

extension Tiled {
    /// The rows a panel of `height ≤ mr` valid rows is computed with: 4, 8 or 12.
    @inline(__always)
    static func panelRows(height: Int) -> Int { height <= 4 ? 4 : height <= 8 ? 8 : GEMMBlocking.mr }

    /// `C[0..<rows, 0..<32] = (loadC ? C : 0) + Σ_p Ã[0..<rows, p]·B̃[p, ·]` for `rows` = 12, 8
    /// or 4 rows of a packed 12-row A panel and one 32-column B panel (`bStride` floats per
    /// step), with the register tile of `variant`. Every element is the same chain in every
    /// variant and every row count (zero, then one fused multiply-add per step in increasing
    /// p, then the optional add of C), so which kernel computes an element never changes its
    /// bits.
    @inline(__always)
    static func panelKernel(
        _ variant: KernelVariant, rows: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool
    ) {
        func run<Rows: TileRows>(_: Rows.Type, columns: Int) {
            narrowKernel(
                Rows.self, columns: columns, rows: rows, kc: kc, a: a, b: b, bStride: bStride, c: c, ldc: ldc,
                loadC: loadC)
        }
        switch variant {
        case .avx512:
            if rows == GEMMBlocking.mr {
                microKernel(kc: kc, a: a, b: b, bStride: bStride, c: c, ldc: ldc, loadC: loadC)
            } else if rows <= 4 {
                microKernelRows(TileRows4.self, kc: kc, a: a, b: b, bStride: bStride, c: c, ldc: ldc, loadC: loadC)
            } else {
                microKernelRows(TileRows8.self, kc: kc, a: a, b: b, bStride: bStride, c: c, ldc: ldc, loadC: loadC)
            }
        case .avx2:
            if rows == GEMMBlocking.mr { run(Rows6x16.self, columns: 16) } else { run(Rows4x16.self, columns: 16) }
        case .neon:
            if rows == GEMMBlocking.mr {
                run(Rows12x8.self, columns: 8)
            } else if rows <= 4 {
                run(Rows4x8.self, columns: 8)
            } else {
                run(Rows8x8.self, columns: 8)
            }
        }
    }

    /// Rows 0..<`Rows.count` of a 12-row A panel against one 32-column B panel (`avx512`).
    @inline(never)
    static func microKernelRows<Rows: TileRows>(
        _: Rows.Type, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, bStride: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool
    ) where Rows.Vectors == (SIMD16<Float>, SIMD16<Float>) {
        var tile = Rows()
        var ap = a
        var bp = UnsafeRawPointer(b)
        microSteps(&tile, kc, a: &ap, b: &bp, bStride: bStride)
        tile.store(c, ldc: ldc, second: 16, adding: loadC)
    }

    /// `rows` rows × 32 columns of a panel pair with a register tile narrower than it: one
    /// pass of `Rows` (`Rows.count` rows × `columns` columns, two vectors per row) per block,
    /// column blocks outermost so that the two row halves of an `avx2` pass share B's lines.
    @inline(never)
    static func narrowKernel<Rows: TileRows>(
        _: Rows.Type, columns: Int, rows: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool
    ) {
        prefetchTile(c, ldc: ldc, rows: rows)
        for c0 in stride(from: 0, to: GEMMBlocking.nr, by: columns) {
            for r0 in stride(from: 0, to: rows, by: Rows.count) {
                var tile = Rows()
                var ap = a + r0
                var bp = UnsafeRawPointer(b + c0)
                microSteps(&tile, kc, a: &ap, b: &bp, bStride: bStride)
                tile.store(c + (r0 &* ldc &+ c0), ldc: ldc, second: columns / 2, adding: loadC)
            }
        }
    }
}

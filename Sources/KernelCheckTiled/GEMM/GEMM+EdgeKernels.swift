// Narrow register tiles for the last row panel of C when it holds 8 or fewer rows
// (C with 64 rows = 5 full 12-row panels + 4 rows; 32 rows = 2 + 8). Running the 12-row
// kernel there spends 12 rows of FMAs on 4 or 8 useful ones; these kernels do only
// those, on the same zero-padded 12-row A panels.

extension Tiled {
    /// Whether `microKernelRows` has a narrow kernel for a panel of `height < mr` rows.
    @inline(__always)
    static func hasNarrowKernel(height: Int) -> Bool { height <= 8 }

    /// `C[0..<h, 0..<32] = (loadC ? C : 0) + Σ_p Ã[0..<h, p]·B̃[p, ·]` for `h` = 4 (height ≤ 4)
    /// or 8 (height ≤ 8) rows of a packed 12-row A panel. Every element is the same chain as
    /// in `microKernel` (zero, then one fused multiply-add per step in increasing p, then the
    /// optional add of C), so which kernel computes an element never changes its bits.
    @inline(__always)
    static func microKernelRows(
        _ height: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool
    ) {
        func run<Rows: TileRows>(_: Rows.Type) where Rows.Vectors == (SIMD16<Float>, SIMD16<Float>) {
            microKernelRows(Rows.self, kc: kc, a: a, b: b, bStride: bStride, c: c, ldc: ldc, loadC: loadC)
        }
        if height <= 4 { run(TileRows4.self) } else { run(TileRows8.self) }
    }

    /// Rows 0..<`Rows.count` of a 12-row A panel against one 32-column B panel.
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
}

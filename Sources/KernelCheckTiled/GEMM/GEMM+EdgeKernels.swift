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
        if height <= 4 {
            microKernel4(kc: kc, a: a, b: b, bStride: bStride, c: c, ldc: ldc, loadC: loadC)
        } else {
            microKernel8(kc: kc, a: a, b: b, bStride: bStride, c: c, ldc: ldc, loadC: loadC)
        }
    }

    /// Rows 0..<8 of a 12-row A panel against one 32-column B panel (16 accumulators).
    @inline(never)
    static func microKernel8(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, bStride: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool
    ) {
        var c0_0 = SIMD16<Float>(); var c0_1 = SIMD16<Float>()
        var c1_0 = SIMD16<Float>(); var c1_1 = SIMD16<Float>()
        var c2_0 = SIMD16<Float>(); var c2_1 = SIMD16<Float>()
        var c3_0 = SIMD16<Float>(); var c3_1 = SIMD16<Float>()
        var c4_0 = SIMD16<Float>(); var c4_1 = SIMD16<Float>()
        var c5_0 = SIMD16<Float>(); var c5_1 = SIMD16<Float>()
        var c6_0 = SIMD16<Float>(); var c6_1 = SIMD16<Float>()
        var c7_0 = SIMD16<Float>(); var c7_1 = SIMD16<Float>()
        var ap = a
        var bp = UnsafeRawPointer(b)
        let bStrideBytes = bStride &* 4
        for _ in 0..<kc {
            let b0 = bp.loadUnaligned(fromByteOffset: 0, as: SIMD16<Float>.self)
            let b1 = bp.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            let a0 = ap[0]
            c0_0 = c0_0.addingProduct(a0, b0); c0_1 = c0_1.addingProduct(a0, b1)
            let a1 = ap[1]
            c1_0 = c1_0.addingProduct(a1, b0); c1_1 = c1_1.addingProduct(a1, b1)
            let a2 = ap[2]
            c2_0 = c2_0.addingProduct(a2, b0); c2_1 = c2_1.addingProduct(a2, b1)
            let a3 = ap[3]
            c3_0 = c3_0.addingProduct(a3, b0); c3_1 = c3_1.addingProduct(a3, b1)
            let a4 = ap[4]
            c4_0 = c4_0.addingProduct(a4, b0); c4_1 = c4_1.addingProduct(a4, b1)
            let a5 = ap[5]
            c5_0 = c5_0.addingProduct(a5, b0); c5_1 = c5_1.addingProduct(a5, b1)
            let a6 = ap[6]
            c6_0 = c6_0.addingProduct(a6, b0); c6_1 = c6_1.addingProduct(a6, b1)
            let a7 = ap[7]
            c7_0 = c7_0.addingProduct(a7, b0); c7_1 = c7_1.addingProduct(a7, b1)
            ap += GEMMBlocking.mr
            bp += bStrideBytes
        }
        var row = c
        store(c0_0, row + 0, adding: loadC); store(c0_1, row + 16, adding: loadC); row += ldc
        store(c1_0, row + 0, adding: loadC); store(c1_1, row + 16, adding: loadC); row += ldc
        store(c2_0, row + 0, adding: loadC); store(c2_1, row + 16, adding: loadC); row += ldc
        store(c3_0, row + 0, adding: loadC); store(c3_1, row + 16, adding: loadC); row += ldc
        store(c4_0, row + 0, adding: loadC); store(c4_1, row + 16, adding: loadC); row += ldc
        store(c5_0, row + 0, adding: loadC); store(c5_1, row + 16, adding: loadC); row += ldc
        store(c6_0, row + 0, adding: loadC); store(c6_1, row + 16, adding: loadC); row += ldc
        store(c7_0, row + 0, adding: loadC); store(c7_1, row + 16, adding: loadC)
    }

    /// Rows 0..<4 of a 12-row A panel against one 32-column B panel (8 accumulators).
    @inline(never)
    static func microKernel4(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, bStride: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool
    ) {
        var c0_0 = SIMD16<Float>(); var c0_1 = SIMD16<Float>()
        var c1_0 = SIMD16<Float>(); var c1_1 = SIMD16<Float>()
        var c2_0 = SIMD16<Float>(); var c2_1 = SIMD16<Float>()
        var c3_0 = SIMD16<Float>(); var c3_1 = SIMD16<Float>()
        var ap = a
        var bp = UnsafeRawPointer(b)
        let bStrideBytes = bStride &* 4
        for _ in 0..<kc {
            let b0 = bp.loadUnaligned(fromByteOffset: 0, as: SIMD16<Float>.self)
            let b1 = bp.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            let a0 = ap[0]
            c0_0 = c0_0.addingProduct(a0, b0); c0_1 = c0_1.addingProduct(a0, b1)
            let a1 = ap[1]
            c1_0 = c1_0.addingProduct(a1, b0); c1_1 = c1_1.addingProduct(a1, b1)
            let a2 = ap[2]
            c2_0 = c2_0.addingProduct(a2, b0); c2_1 = c2_1.addingProduct(a2, b1)
            let a3 = ap[3]
            c3_0 = c3_0.addingProduct(a3, b0); c3_1 = c3_1.addingProduct(a3, b1)
            ap += GEMMBlocking.mr
            bp += bStrideBytes
        }
        var row = c
        store(c0_0, row + 0, adding: loadC); store(c0_1, row + 16, adding: loadC); row += ldc
        store(c1_0, row + 0, adding: loadC); store(c1_1, row + 16, adding: loadC); row += ldc
        store(c2_0, row + 0, adding: loadC); store(c2_1, row + 16, adding: loadC); row += ldc
        store(c3_0, row + 0, adding: loadC); store(c3_1, row + 16, adding: loadC)
    }
}

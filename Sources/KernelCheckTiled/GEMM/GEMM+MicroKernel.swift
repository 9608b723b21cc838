// The register tile of the tiled SGEMM, written out by hand: no arrays or loops over
// accumulators, so that the compiler keeps all of them in zmm registers.

import CKernelSupport

extension Tiled {
    /// The 12×32 register tile: `C[0..<12, 0..<32] = (loadC ? C : 0) + Σ_p Ã[·, p]·B̃[p, ·]`
    /// over `kc` steps p.
    ///
    /// `a` is a packed A micro-panel (`kc` steps of 12 row values), `b` a B micro-panel of
    /// `kc` rows of 32 contiguous column values, `bStride` floats apart (32 when packed, the
    /// row stride of B when read in place). The 24 accumulators are `SIMD16<Float>` values
    /// (one zmm register each); every step loads 2 vectors of B, broadcasts 12 values of
    /// A and issues 24 fused multiply-adds. Each accumulator starts at zero and sums its
    /// products in increasing p, so an element of C depends only on the KC blocking, never
    /// on how the caller split M and N over threads.
    @inline(never)
    static func microKernel(
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
        var c8_0 = SIMD16<Float>(); var c8_1 = SIMD16<Float>()
        var c9_0 = SIMD16<Float>(); var c9_1 = SIMD16<Float>()
        var c10_0 = SIMD16<Float>(); var c10_1 = SIMD16<Float>()
        var c11_0 = SIMD16<Float>(); var c11_1 = SIMD16<Float>()
        // The C tile is read and written after the k loop; on large problems its lines are
        // out of cache. Ask for them now so the misses overlap the FMAs. A 128-byte row
        // touches 3 cache lines when C is not 64-byte aligned (Swift arrays are 16-aligned).
        // The k loop streams more than L1 holds, so the lines are asked for again 64 steps
        // before the end (a hit in L2 then, moved back to L1 in time for the stores).
        prefetchTile(c, ldc: ldc)
        var ap = a
        var bp = UnsafeRawPointer(b)
        let bStrideBytes = bStride &* 4
        let late = 64
        for phase in 0..<2 {
            if phase == 1 { prefetchTile(c, ldc: ldc) }
            for _ in 0..<(phase == 0 ? max(0, kc &- late) : min(kc, late)) {
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
                let a8 = ap[8]
                c8_0 = c8_0.addingProduct(a8, b0); c8_1 = c8_1.addingProduct(a8, b1)
                let a9 = ap[9]
                c9_0 = c9_0.addingProduct(a9, b0); c9_1 = c9_1.addingProduct(a9, b1)
                let a10 = ap[10]
                c10_0 = c10_0.addingProduct(a10, b0); c10_1 = c10_1.addingProduct(a10, b1)
                let a11 = ap[11]
                c11_0 = c11_0.addingProduct(a11, b0); c11_1 = c11_1.addingProduct(a11, b1)
                ap += 12
                bp += bStrideBytes
            }
        }
        var row = c
        store(c0_0, row + 0, adding: loadC); store(c0_1, row + 16, adding: loadC); row += ldc
        store(c1_0, row + 0, adding: loadC); store(c1_1, row + 16, adding: loadC); row += ldc
        store(c2_0, row + 0, adding: loadC); store(c2_1, row + 16, adding: loadC); row += ldc
        store(c3_0, row + 0, adding: loadC); store(c3_1, row + 16, adding: loadC); row += ldc
        store(c4_0, row + 0, adding: loadC); store(c4_1, row + 16, adding: loadC); row += ldc
        store(c5_0, row + 0, adding: loadC); store(c5_1, row + 16, adding: loadC); row += ldc
        store(c6_0, row + 0, adding: loadC); store(c6_1, row + 16, adding: loadC); row += ldc
        store(c7_0, row + 0, adding: loadC); store(c7_1, row + 16, adding: loadC); row += ldc
        store(c8_0, row + 0, adding: loadC); store(c8_1, row + 16, adding: loadC); row += ldc
        store(c9_0, row + 0, adding: loadC); store(c9_1, row + 16, adding: loadC); row += ldc
        store(c10_0, row + 0, adding: loadC); store(c10_1, row + 16, adding: loadC); row += ldc
        store(c11_0, row + 0, adding: loadC); store(c11_1, row + 16, adding: loadC)
    }

    /// Prefetches (for writing) the `rows` rows of 32 floats of a C tile: 3 lines per row,
    /// since a row that is not 64-byte aligned touches three.
    @inline(__always)
    static func prefetchTile(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int = 12) {
        var pf = UnsafeRawPointer(c)
        for _ in 0..<rows {
            kc_prefetch_write(pf)
            kc_prefetch_write(pf + 64)
            kc_prefetch_write(pf + 127)
            pf += ldc &* 4
        }
    }

    /// `prefetchTile` for a tile whose second 16 columns are `second` floats after its first
    /// (the direct forward's image pairs); `second = 16` is `prefetchTile`.
    @inline(__always)
    static func prefetchTile(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, second: Int) {
        guard second != 16 else { prefetchTile(c, ldc: ldc, rows: rows); return }
        var pf = UnsafeRawPointer(c)
        for _ in 0..<rows {
            kc_prefetch_write(pf)
            kc_prefetch_write(pf + 63)
            kc_prefetch_write(pf + 4 &* second)
            kc_prefetch_write(pf + (4 &* second + 63))
            pf += ldc &* 4
        }
    }

    /// `*p = v` or `*p += v` for 16 consecutive floats (unaligned).
    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, adding: Bool) {
        let raw = UnsafeMutableRawPointer(p)
        let sum = adding ? raw.loadUnaligned(as: SIMD16<Float>.self) + v : v
        raw.storeBytes(of: sum, as: SIMD16<Float>.self)
    }
}

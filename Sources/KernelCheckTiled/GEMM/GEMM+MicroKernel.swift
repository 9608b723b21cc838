// The register tile of the tiled SGEMM (`RegisterTile.swift` keeps all of its accumulators
// in zmm registers).

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
    ///
    /// The B panel (64 KiB at kc = 512) does not stay in L1 between the tiles that share it:
    /// it streams from L2 (or, for the first tile of a panel, L3), so every step also asks
    /// for B's row `bPrefetchSteps` steps ahead.
    @inline(never)
    static func microKernel(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, bStride: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool
    ) {
        var tile = TileRows12()
        // The C tile is read and written after the k loop; on large problems its lines are
        // out of cache. Ask for them now so the misses overlap the FMAs. A 128-byte row
        // touches 3 cache lines when C is not 64-byte aligned (Swift arrays are 16-aligned).
        // The k loop streams more than L1 holds, so the lines are asked for again 64 steps
        // before the end (a hit in L2 then, moved back to L1 in time for the stores).
        prefetchTile(c, ldc: ldc)
        var ap = a
        var bp = UnsafeRawPointer(b)
        let late = 64
        microSteps(&tile, max(0, kc &- late), a: &ap, b: &bp, bStride: bStride, prefetchingB: bPrefetchSteps)
        prefetchTile(c, ldc: ldc)
        microSteps(&tile, min(kc, late), a: &ap, b: &bp, bStride: bStride, prefetchingB: bPrefetchSteps)
        tile.store(c, ldc: ldc, second: 16, adding: loadC)
    }

    /// `steps` K steps of a register tile: B̃'s vectors at `b` (`Rows.vectors(at:)`), Ã's rows
    /// at `a`; advances `a` by `aStride` floats a step (the packed panel's 12 rows) and `b` by
    /// `bStride`. With `prefetchingB` > 0 each step also asks for B's row that many steps on
    /// (its first 128 bytes: two lines of a packed panel; past the panel's end the hint is
    /// harmless). Callers pass a constant, so the branch folds away.
    @inline(__always)
    static func microSteps<Rows: TileRows>(
        _ tile: inout Rows, _ steps: Int, a: inout UnsafePointer<Float>, b: inout UnsafeRawPointer, bStride: Int,
        aStride: Int = GEMMBlocking.mr, prefetchingB ahead: Int = 0
    ) {
        let bStrideBytes = bStride &* 4
        let distance = ahead &* bStrideBytes
        for _ in 0..<steps {
            if ahead > 0 {
                kc_prefetch_read(b + distance)
                kc_prefetch_read(b + (distance &+ 64))
            }
            tile.add(a, Rows.vectors(at: b))
            a += aStride
            b += bStrideBytes
        }
    }

    /// How many K steps ahead `microKernel` prefetches its B rows (8 steps: 1 KiB of a
    /// packed panel, about 100 cycles of FMAs, an L3 hit's latency).
    static let bPrefetchSteps = 8

    /// Prefetches (for writing) the `rows` rows of 32 floats of a C tile: 3 lines per row,
    /// since a row that is not 64-byte aligned touches three. `toL2`: into L2 only, for a
    /// tile a later register tile reads and writes.
    @inline(__always)
    static func prefetchTile(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int = 12, toL2: Bool = false) {
        @inline(__always) func fetch(_ line: UnsafeRawPointer) {
            if toL2 { kc_prefetch_l2(line) } else { kc_prefetch_write(line) }
        }
        var pf = UnsafeRawPointer(c)
        for _ in 0..<rows {
            fetch(pf)
            fetch(pf + 64)
            fetch(pf + 127)
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

    /// `*p = v` or `*p += v` for `V.scalarCount` consecutive floats (unaligned).
    @inline(__always)
    static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>, adding: Bool) where V.Scalar == Float {
        let raw = UnsafeMutableRawPointer(p)
        let sum = adding ? raw.loadUnaligned(as: V.self) + v : v
        raw.storeBytes(of: sum, as: V.self)
    }
}

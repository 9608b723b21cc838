// Register tiles of the direct forward for layers with at most 4 output channels per group
// (`TiledConv+Direct.swift`): R channels × 24/R vectors of 16 pixels, so a few channels
// still fill 24 accumulators (the 4-row tile of the 12 × 32 family would run a third of
// them). `RegisterTile.swift` keeps every accumulator in a zmm register.

import CKernelSupport

extension TiledConv {
    /// `channels` output channels (2, 3 or 4; a packed panel of that many values per step) ×
    /// 24/`channels` consecutive vectors of 16 pixels read in place at `b + offsets[p] + 64·j`
    /// bytes: one chain per element, zero, then one fused multiply-add per step in increasing p,
    /// then the optional add of C (channel r at `c + r·ldc`). Steps p < `prefetchLines` also
    /// prefetch the line at `prefetch + 64·p` into L2.
    @inline(__always)
    static func directWideKernel(
        channels: Int, k: Int, a: UnsafePointer<Float>, offsets: UnsafePointer<Int32>, b: UnsafeRawPointer,
        c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool, prefetch: UnsafeRawPointer, prefetchLines: Int
    ) {
        func run<Tile: TileColumns>(_ tile: Tile.Type) {
            directWideKernel(
                tile, k: k, a: a, offsets: offsets, b: b, c: c, ldc: ldc, loadC: loadC,
                prefetch: prefetch, prefetchLines: prefetchLines)
        }
        switch channels {
        case 2: run(WideTile2x12.self)
        case 3: run(WideTile3x8.self)
        default: run(WideTile4x6.self)
        }
    }

    /// `directWideKernel(channels:…)` for the tile `Tile` (`Tile.rows` channels).
    @inline(never)
    static func directWideKernel<Tile: TileColumns>(
        _: Tile.Type, k: Int, a: UnsafePointer<Float>, offsets: UnsafePointer<Int32>,
        b: UnsafeRawPointer, c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool, prefetch: UnsafeRawPointer,
        prefetchLines: Int
    ) {
        var tile = Tile()
        var ap = a
        for p in 0..<k {
            if p < prefetchLines { kc_prefetch_l2(prefetch + 64 * p) }
            tile.add(ap, b + Int(offsets[p]))
            ap += Tile.rows
        }
        tile.store(c, ldc: ldc, adding: loadC)
    }
}

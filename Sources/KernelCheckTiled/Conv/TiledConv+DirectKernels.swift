// Register tiles of the direct convolution (`TiledConv+Direct.swift`): the tiles of the
// SGEMM's `panelKernel` for each `KernelVariant` (12×32 and its 8- and 4-row forms for
// `avx512`, 4 passes of 6×16 or 12×8 for `avx2` and `neon`) with B read in place from a
// padded input through a per-step offset table instead of from packed panels.

/// The K steps a direct tile runs: `segments` runs of `count` consecutive steps whose
/// starts are `stride` steps apart (for a padded layer, the taps of each input channel whose
/// kernel rows meet an input row for one of the tile's output rows: the others multiply
/// zero padding). The weight panel and the offsets start at the first run's first step.
struct DirectSteps {
    var segments: Int, count: Int, stride: Int

    /// Every step of a K of `k` steps, as one run.
    static func all(_ k: Int) -> DirectSteps { DirectSteps(segments: 1, count: k, stride: k) }
}

extension TiledConv {
    /// A packed `rows`-row weight panel (`rows` = 12, 8 or 4 values per step) against two 16-pixel
    /// B vectors read in place at `b0 + offsets[p]` and `b1 + offsets[p]` (byte offsets) for the K
    /// steps `steps` names: one chain per element, zero, then one fused multiply-add per step in
    /// increasing p, then the optional add of C (row r of the tile at `c + r·ldc`, the `b1` half
    /// `second` floats after the `b0` half), with the register tiles of `variant`.
    @inline(__always)
    static func directKernel(
        _ variant: KernelVariant, rows: Int, steps: DirectSteps, a: UnsafePointer<Float>, offsets: UnsafePointer<Int32>,
        b0: UnsafeRawPointer, b1: UnsafeRawPointer, c: UnsafeMutablePointer<Float>, ldc: Int, second: Int,
        loadC: Bool
    ) {
        func run<Rows: TileRows>(_ tile: Rows.Type) where Rows.Vectors == (SIMD16<Float>, SIMD16<Float>) {
            directKernel(
                tile, steps: steps, a: a, offsets: offsets, b0: b0, b1: b1, c: c, ldc: ldc, second: second,
                loadC: loadC)
        }
        func narrow<Rows: TileRows>(_: Rows.Type, columns: Int) {
            directNarrowKernel(
                Rows.self, columns: columns, rows: rows, steps: steps, a: a, offsets: offsets, b0: b0, b1: b1, c: c,
                ldc: ldc, second: second, loadC: loadC)
        }
        switch variant {
        case .avx512:
            if rows == 12 {
                run(TileRows12.self)
            } else if rows == 8 {
                run(TileRows8.self)
            } else {
                run(TileRows4.self)
            }
        case .avx2:
            if rows == 12 { narrow(Rows6x16.self, columns: 16) } else { narrow(Rows4x16.self, columns: 16) }
        case .neon:
            if rows == 12 {
                narrow(Rows12x8.self, columns: 8)
            } else if rows == 8 {
                narrow(Rows8x8.self, columns: 8)
            } else {
                narrow(Rows4x8.self, columns: 8)
            }
        }
    }

    /// `directKernel(rows:…)` for the tile `Rows` (`Rows.count` rows).
    @inline(never)
    static func directKernel<Rows: TileRows>(
        _: Rows.Type, steps: DirectSteps, a: UnsafePointer<Float>, offsets: UnsafePointer<Int32>,
        b0: UnsafeRawPointer, b1: UnsafeRawPointer, c: UnsafeMutablePointer<Float>, ldc: Int, second: Int,
        loadC: Bool
    ) where Rows.Vectors == (SIMD16<Float>, SIMD16<Float>) {
        var tile = Rows()
        var ap = a, taps = offsets
        for _ in 0..<steps.segments {
            for p in 0..<steps.count {
                let off = Int(taps[p])
                tile.add(
                    ap,
                    (
                        b0.loadUnaligned(fromByteOffset: off, as: SIMD16<Float>.self),
                        b1.loadUnaligned(fromByteOffset: off, as: SIMD16<Float>.self)
                    ))
                ap += Rows.count
            }
            ap += Rows.count * (steps.stride - steps.count); taps += steps.stride
        }
        tile.store(c, ldc: ldc, second: second, adding: loadC)
    }

    /// `directKernel(rows:…)` with a register tile narrower than 12 × 32: one pass of `Rows`
    /// (`Rows.count` rows × `columns` columns) per block of the `rows` × 2 × 16 tile, each
    /// reading its columns at `b0`/`b1 + offsets[p] + 4·column` from a `rows`-row panel.
    @inline(never)
    static func directNarrowKernel<Rows: TileRows>(
        _: Rows.Type, columns: Int, rows: Int, steps: DirectSteps, a: UnsafePointer<Float>,
        offsets: UnsafePointer<Int32>, b0: UnsafeRawPointer, b1: UnsafeRawPointer, c: UnsafeMutablePointer<Float>,
        ldc: Int, second: Int, loadC: Bool
    ) {
        for half in 0..<2 {
            let b = half == 0 ? b0 : b1, out = half == 0 ? c : c + second
            for c0 in Swift.stride(from: 0, to: 16, by: columns) {
                for r0 in Swift.stride(from: 0, to: rows, by: Rows.count) {
                    var tile = Rows()
                    var ap = a + r0, taps = offsets
                    let bc = b + 4 &* c0
                    for _ in 0..<steps.segments {
                        for p in 0..<steps.count {
                            tile.add(ap, Rows.vectors(at: bc + Int(taps[p])))
                            ap += rows
                        }
                        ap += rows &* (steps.stride - steps.count); taps += steps.stride
                    }
                    tile.store(out + (r0 &* ldc &+ c0), ldc: ldc, second: columns / 2, adding: loadC)
                }
            }
        }
    }
}

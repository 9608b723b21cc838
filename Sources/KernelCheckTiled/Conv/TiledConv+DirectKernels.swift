// Register tiles of the direct convolution (`TiledConv+Direct.swift`): the 12×32 tile of
// `microKernel` (and its 8- and 4-row forms) with B read in place from a padded input
// through a per-step offset table instead of from packed panels. Written out by hand (no
// arrays or loops over accumulators) so that every accumulator stays in a zmm register.

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
    /// A packed 12-row weight panel (12 values per step) against two 16-pixel B vectors read in place
    /// at `b0 + offsets[p]` and `b1 + offsets[p]` (byte offsets) for the K steps `steps` names: one chain
    /// per element, zero, then one fused multiply-add per step in increasing p, then the optional add of C
    /// (row r of the tile at `c + r·ldc`, the `b1` half `second` floats after the `b0` half).
    @inline(never)
    static func directKernel12(
        steps: DirectSteps, a: UnsafePointer<Float>, offsets: UnsafePointer<Int32>, b0: UnsafeRawPointer,
        b1: UnsafeRawPointer,
        c: UnsafeMutablePointer<Float>, ldc: Int, second: Int, loadC: Bool
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
        var ap = a, taps = offsets
        for _ in 0..<steps.segments {
            for p in 0..<steps.count {
                let off = Int(taps[p])
                let v0 = b0.loadUnaligned(fromByteOffset: off, as: SIMD16<Float>.self)
                let v1 = b1.loadUnaligned(fromByteOffset: off, as: SIMD16<Float>.self)
                let a0 = ap[0]
                c0_0 = c0_0.addingProduct(a0, v0); c0_1 = c0_1.addingProduct(a0, v1)
                let a1 = ap[1]
                c1_0 = c1_0.addingProduct(a1, v0); c1_1 = c1_1.addingProduct(a1, v1)
                let a2 = ap[2]
                c2_0 = c2_0.addingProduct(a2, v0); c2_1 = c2_1.addingProduct(a2, v1)
                let a3 = ap[3]
                c3_0 = c3_0.addingProduct(a3, v0); c3_1 = c3_1.addingProduct(a3, v1)
                let a4 = ap[4]
                c4_0 = c4_0.addingProduct(a4, v0); c4_1 = c4_1.addingProduct(a4, v1)
                let a5 = ap[5]
                c5_0 = c5_0.addingProduct(a5, v0); c5_1 = c5_1.addingProduct(a5, v1)
                let a6 = ap[6]
                c6_0 = c6_0.addingProduct(a6, v0); c6_1 = c6_1.addingProduct(a6, v1)
                let a7 = ap[7]
                c7_0 = c7_0.addingProduct(a7, v0); c7_1 = c7_1.addingProduct(a7, v1)
                let a8 = ap[8]
                c8_0 = c8_0.addingProduct(a8, v0); c8_1 = c8_1.addingProduct(a8, v1)
                let a9 = ap[9]
                c9_0 = c9_0.addingProduct(a9, v0); c9_1 = c9_1.addingProduct(a9, v1)
                let a10 = ap[10]
                c10_0 = c10_0.addingProduct(a10, v0); c10_1 = c10_1.addingProduct(a10, v1)
                let a11 = ap[11]
                c11_0 = c11_0.addingProduct(a11, v0); c11_1 = c11_1.addingProduct(a11, v1)
                ap += 12
            }
            ap += 12 * (steps.stride - steps.count); taps += steps.stride
        }
        var row = c
        Tiled.store(c0_0, row + 0, adding: loadC); Tiled.store(c0_1, row + second, adding: loadC); row += ldc
        Tiled.store(c1_0, row + 0, adding: loadC); Tiled.store(c1_1, row + second, adding: loadC); row += ldc
        Tiled.store(c2_0, row + 0, adding: loadC); Tiled.store(c2_1, row + second, adding: loadC); row += ldc
        Tiled.store(c3_0, row + 0, adding: loadC); Tiled.store(c3_1, row + second, adding: loadC); row += ldc
        Tiled.store(c4_0, row + 0, adding: loadC); Tiled.store(c4_1, row + second, adding: loadC); row += ldc
        Tiled.store(c5_0, row + 0, adding: loadC); Tiled.store(c5_1, row + second, adding: loadC); row += ldc
        Tiled.store(c6_0, row + 0, adding: loadC); Tiled.store(c6_1, row + second, adding: loadC); row += ldc
        Tiled.store(c7_0, row + 0, adding: loadC); Tiled.store(c7_1, row + second, adding: loadC); row += ldc
        Tiled.store(c8_0, row + 0, adding: loadC); Tiled.store(c8_1, row + second, adding: loadC); row += ldc
        Tiled.store(c9_0, row + 0, adding: loadC); Tiled.store(c9_1, row + second, adding: loadC); row += ldc
        Tiled.store(c10_0, row + 0, adding: loadC); Tiled.store(c10_1, row + second, adding: loadC); row += ldc
        Tiled.store(c11_0, row + 0, adding: loadC); Tiled.store(c11_1, row + second, adding: loadC)
    }

    /// A packed 8-row weight panel (8 values per step) against two 16-pixel B vectors read in place
    /// at `b0 + offsets[p]` and `b1 + offsets[p]` (byte offsets) for the K steps `steps` names: one chain
    /// per element, zero, then one fused multiply-add per step in increasing p, then the optional add of C
    /// (row r of the tile at `c + r·ldc`, the `b1` half `second` floats after the `b0` half).
    @inline(never)
    static func directKernel8(
        steps: DirectSteps, a: UnsafePointer<Float>, offsets: UnsafePointer<Int32>, b0: UnsafeRawPointer,
        b1: UnsafeRawPointer,
        c: UnsafeMutablePointer<Float>, ldc: Int, second: Int, loadC: Bool
    ) {
        var c0_0 = SIMD16<Float>(); var c0_1 = SIMD16<Float>()
        var c1_0 = SIMD16<Float>(); var c1_1 = SIMD16<Float>()
        var c2_0 = SIMD16<Float>(); var c2_1 = SIMD16<Float>()
        var c3_0 = SIMD16<Float>(); var c3_1 = SIMD16<Float>()
        var c4_0 = SIMD16<Float>(); var c4_1 = SIMD16<Float>()
        var c5_0 = SIMD16<Float>(); var c5_1 = SIMD16<Float>()
        var c6_0 = SIMD16<Float>(); var c6_1 = SIMD16<Float>()
        var c7_0 = SIMD16<Float>(); var c7_1 = SIMD16<Float>()
        var ap = a, taps = offsets
        for _ in 0..<steps.segments {
            for p in 0..<steps.count {
                let off = Int(taps[p])
                let v0 = b0.loadUnaligned(fromByteOffset: off, as: SIMD16<Float>.self)
                let v1 = b1.loadUnaligned(fromByteOffset: off, as: SIMD16<Float>.self)
                let a0 = ap[0]
                c0_0 = c0_0.addingProduct(a0, v0); c0_1 = c0_1.addingProduct(a0, v1)
                let a1 = ap[1]
                c1_0 = c1_0.addingProduct(a1, v0); c1_1 = c1_1.addingProduct(a1, v1)
                let a2 = ap[2]
                c2_0 = c2_0.addingProduct(a2, v0); c2_1 = c2_1.addingProduct(a2, v1)
                let a3 = ap[3]
                c3_0 = c3_0.addingProduct(a3, v0); c3_1 = c3_1.addingProduct(a3, v1)
                let a4 = ap[4]
                c4_0 = c4_0.addingProduct(a4, v0); c4_1 = c4_1.addingProduct(a4, v1)
                let a5 = ap[5]
                c5_0 = c5_0.addingProduct(a5, v0); c5_1 = c5_1.addingProduct(a5, v1)
                let a6 = ap[6]
                c6_0 = c6_0.addingProduct(a6, v0); c6_1 = c6_1.addingProduct(a6, v1)
                let a7 = ap[7]
                c7_0 = c7_0.addingProduct(a7, v0); c7_1 = c7_1.addingProduct(a7, v1)
                ap += 8
            }
            ap += 8 * (steps.stride - steps.count); taps += steps.stride
        }
        var row = c
        Tiled.store(c0_0, row + 0, adding: loadC); Tiled.store(c0_1, row + second, adding: loadC); row += ldc
        Tiled.store(c1_0, row + 0, adding: loadC); Tiled.store(c1_1, row + second, adding: loadC); row += ldc
        Tiled.store(c2_0, row + 0, adding: loadC); Tiled.store(c2_1, row + second, adding: loadC); row += ldc
        Tiled.store(c3_0, row + 0, adding: loadC); Tiled.store(c3_1, row + second, adding: loadC); row += ldc
        Tiled.store(c4_0, row + 0, adding: loadC); Tiled.store(c4_1, row + second, adding: loadC); row += ldc
        Tiled.store(c5_0, row + 0, adding: loadC); Tiled.store(c5_1, row + second, adding: loadC); row += ldc
        Tiled.store(c6_0, row + 0, adding: loadC); Tiled.store(c6_1, row + second, adding: loadC); row += ldc
        Tiled.store(c7_0, row + 0, adding: loadC); Tiled.store(c7_1, row + second, adding: loadC)
    }

    /// A packed 4-row weight panel (4 values per step) against two 16-pixel B vectors read in place
    /// at `b0 + offsets[p]` and `b1 + offsets[p]` (byte offsets) for the K steps `steps` names: one chain
    /// per element, zero, then one fused multiply-add per step in increasing p, then the optional add of C
    /// (row r of the tile at `c + r·ldc`, the `b1` half `second` floats after the `b0` half).
    @inline(never)
    static func directKernel4(
        steps: DirectSteps, a: UnsafePointer<Float>, offsets: UnsafePointer<Int32>, b0: UnsafeRawPointer,
        b1: UnsafeRawPointer,
        c: UnsafeMutablePointer<Float>, ldc: Int, second: Int, loadC: Bool
    ) {
        var c0_0 = SIMD16<Float>(); var c0_1 = SIMD16<Float>()
        var c1_0 = SIMD16<Float>(); var c1_1 = SIMD16<Float>()
        var c2_0 = SIMD16<Float>(); var c2_1 = SIMD16<Float>()
        var c3_0 = SIMD16<Float>(); var c3_1 = SIMD16<Float>()
        var ap = a, taps = offsets
        for _ in 0..<steps.segments {
            for p in 0..<steps.count {
                let off = Int(taps[p])
                let v0 = b0.loadUnaligned(fromByteOffset: off, as: SIMD16<Float>.self)
                let v1 = b1.loadUnaligned(fromByteOffset: off, as: SIMD16<Float>.self)
                let a0 = ap[0]
                c0_0 = c0_0.addingProduct(a0, v0); c0_1 = c0_1.addingProduct(a0, v1)
                let a1 = ap[1]
                c1_0 = c1_0.addingProduct(a1, v0); c1_1 = c1_1.addingProduct(a1, v1)
                let a2 = ap[2]
                c2_0 = c2_0.addingProduct(a2, v0); c2_1 = c2_1.addingProduct(a2, v1)
                let a3 = ap[3]
                c3_0 = c3_0.addingProduct(a3, v0); c3_1 = c3_1.addingProduct(a3, v1)
                ap += 4
            }
            ap += 4 * (steps.stride - steps.count); taps += steps.stride
        }
        var row = c
        Tiled.store(c0_0, row + 0, adding: loadC); Tiled.store(c0_1, row + second, adding: loadC); row += ldc
        Tiled.store(c1_0, row + 0, adding: loadC); Tiled.store(c1_1, row + second, adding: loadC); row += ldc
        Tiled.store(c2_0, row + 0, adding: loadC); Tiled.store(c2_1, row + second, adding: loadC); row += ldc
        Tiled.store(c3_0, row + 0, adding: loadC); Tiled.store(c3_1, row + second, adding: loadC)
    }
}

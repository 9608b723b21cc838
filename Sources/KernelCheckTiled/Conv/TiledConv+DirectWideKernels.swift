// Register tiles of the direct forward for layers with at most 4 output channels per group
// (`TiledConv+Direct.swift`): R channels × 24/R vectors of 16 pixels, so a few channels
// still fill 24 accumulators (the 4-row tile of the 12 × 32 family would run a third of
// them). Written out by hand so that every accumulator stays in a zmm register.

import CKernelSupport

extension TiledConv {
    /// 2 output channels (a packed panel of 2 values per step) × 12 consecutive vectors of 16
    /// pixels read in place at `b + offsets[p] + 64·j` bytes: one chain per element, zero, then one
    /// fused multiply-add per step in increasing p, then the optional add of C.
    @inline(never)
    static func directWideKernel2x12(
        k: Int, a: UnsafePointer<Float>, offsets: UnsafePointer<Int32>, b: UnsafeRawPointer,
        c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool, prefetch: UnsafeRawPointer, prefetchLines: Int
    ) {
        var c0_0 = SIMD16<Float>(); var c0_1 = SIMD16<Float>(); var c0_2 = SIMD16<Float>(); var c0_3 = SIMD16<Float>();
        var c0_4 = SIMD16<Float>(); var c0_5 = SIMD16<Float>(); var c0_6 = SIMD16<Float>(); var c0_7 = SIMD16<Float>();
        var c0_8 = SIMD16<Float>(); var c0_9 = SIMD16<Float>(); var c0_10 = SIMD16<Float>(); var c0_11 = SIMD16<Float>()
        var c1_0 = SIMD16<Float>(); var c1_1 = SIMD16<Float>(); var c1_2 = SIMD16<Float>(); var c1_3 = SIMD16<Float>();
        var c1_4 = SIMD16<Float>(); var c1_5 = SIMD16<Float>(); var c1_6 = SIMD16<Float>(); var c1_7 = SIMD16<Float>();
        var c1_8 = SIMD16<Float>(); var c1_9 = SIMD16<Float>(); var c1_10 = SIMD16<Float>(); var c1_11 = SIMD16<Float>()
        var ap = a
        for p in 0..<k {
            if p < prefetchLines { kc_prefetch_l2(prefetch + 64 * p) }
            let bp = b + Int(offsets[p])
            let a0 = ap[0]
            let a1 = ap[1]
            let v0 = bp.loadUnaligned(fromByteOffset: 0, as: SIMD16<Float>.self)
            c0_0 = c0_0.addingProduct(a0, v0); c1_0 = c1_0.addingProduct(a1, v0)
            let v1 = bp.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            c0_1 = c0_1.addingProduct(a0, v1); c1_1 = c1_1.addingProduct(a1, v1)
            let v2 = bp.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
            c0_2 = c0_2.addingProduct(a0, v2); c1_2 = c1_2.addingProduct(a1, v2)
            let v3 = bp.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self)
            c0_3 = c0_3.addingProduct(a0, v3); c1_3 = c1_3.addingProduct(a1, v3)
            let v4 = bp.loadUnaligned(fromByteOffset: 256, as: SIMD16<Float>.self)
            c0_4 = c0_4.addingProduct(a0, v4); c1_4 = c1_4.addingProduct(a1, v4)
            let v5 = bp.loadUnaligned(fromByteOffset: 320, as: SIMD16<Float>.self)
            c0_5 = c0_5.addingProduct(a0, v5); c1_5 = c1_5.addingProduct(a1, v5)
            let v6 = bp.loadUnaligned(fromByteOffset: 384, as: SIMD16<Float>.self)
            c0_6 = c0_6.addingProduct(a0, v6); c1_6 = c1_6.addingProduct(a1, v6)
            let v7 = bp.loadUnaligned(fromByteOffset: 448, as: SIMD16<Float>.self)
            c0_7 = c0_7.addingProduct(a0, v7); c1_7 = c1_7.addingProduct(a1, v7)
            let v8 = bp.loadUnaligned(fromByteOffset: 512, as: SIMD16<Float>.self)
            c0_8 = c0_8.addingProduct(a0, v8); c1_8 = c1_8.addingProduct(a1, v8)
            let v9 = bp.loadUnaligned(fromByteOffset: 576, as: SIMD16<Float>.self)
            c0_9 = c0_9.addingProduct(a0, v9); c1_9 = c1_9.addingProduct(a1, v9)
            let v10 = bp.loadUnaligned(fromByteOffset: 640, as: SIMD16<Float>.self)
            c0_10 = c0_10.addingProduct(a0, v10); c1_10 = c1_10.addingProduct(a1, v10)
            let v11 = bp.loadUnaligned(fromByteOffset: 704, as: SIMD16<Float>.self)
            c0_11 = c0_11.addingProduct(a0, v11); c1_11 = c1_11.addingProduct(a1, v11)
            ap += 2
        }
        var row = c
        Tiled.store(c0_0, row + 0, adding: loadC); Tiled.store(c0_1, row + 16, adding: loadC);
        Tiled.store(c0_2, row + 32, adding: loadC); Tiled.store(c0_3, row + 48, adding: loadC);
        Tiled.store(c0_4, row + 64, adding: loadC); Tiled.store(c0_5, row + 80, adding: loadC);
        Tiled.store(c0_6, row + 96, adding: loadC); Tiled.store(c0_7, row + 112, adding: loadC);
        Tiled.store(c0_8, row + 128, adding: loadC); Tiled.store(c0_9, row + 144, adding: loadC);
        Tiled.store(c0_10, row + 160, adding: loadC); Tiled.store(c0_11, row + 176, adding: loadC); row += ldc
        Tiled.store(c1_0, row + 0, adding: loadC); Tiled.store(c1_1, row + 16, adding: loadC);
        Tiled.store(c1_2, row + 32, adding: loadC); Tiled.store(c1_3, row + 48, adding: loadC);
        Tiled.store(c1_4, row + 64, adding: loadC); Tiled.store(c1_5, row + 80, adding: loadC);
        Tiled.store(c1_6, row + 96, adding: loadC); Tiled.store(c1_7, row + 112, adding: loadC);
        Tiled.store(c1_8, row + 128, adding: loadC); Tiled.store(c1_9, row + 144, adding: loadC);
        Tiled.store(c1_10, row + 160, adding: loadC); Tiled.store(c1_11, row + 176, adding: loadC)
    }

    /// 3 output channels (a packed panel of 3 values per step) × 8 consecutive vectors of 16
    /// pixels read in place at `b + offsets[p] + 64·j` bytes: one chain per element, zero, then one
    /// fused multiply-add per step in increasing p, then the optional add of C.
    @inline(never)
    static func directWideKernel3x8(
        k: Int, a: UnsafePointer<Float>, offsets: UnsafePointer<Int32>, b: UnsafeRawPointer,
        c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool, prefetch: UnsafeRawPointer, prefetchLines: Int
    ) {
        var c0_0 = SIMD16<Float>(); var c0_1 = SIMD16<Float>(); var c0_2 = SIMD16<Float>(); var c0_3 = SIMD16<Float>();
        var c0_4 = SIMD16<Float>(); var c0_5 = SIMD16<Float>(); var c0_6 = SIMD16<Float>(); var c0_7 = SIMD16<Float>()
        var c1_0 = SIMD16<Float>(); var c1_1 = SIMD16<Float>(); var c1_2 = SIMD16<Float>(); var c1_3 = SIMD16<Float>();
        var c1_4 = SIMD16<Float>(); var c1_5 = SIMD16<Float>(); var c1_6 = SIMD16<Float>(); var c1_7 = SIMD16<Float>()
        var c2_0 = SIMD16<Float>(); var c2_1 = SIMD16<Float>(); var c2_2 = SIMD16<Float>(); var c2_3 = SIMD16<Float>();
        var c2_4 = SIMD16<Float>(); var c2_5 = SIMD16<Float>(); var c2_6 = SIMD16<Float>(); var c2_7 = SIMD16<Float>()
        var ap = a
        for p in 0..<k {
            if p < prefetchLines { kc_prefetch_l2(prefetch + 64 * p) }
            let bp = b + Int(offsets[p])
            let a0 = ap[0]
            let a1 = ap[1]
            let a2 = ap[2]
            let v0 = bp.loadUnaligned(fromByteOffset: 0, as: SIMD16<Float>.self)
            c0_0 = c0_0.addingProduct(a0, v0); c1_0 = c1_0.addingProduct(a1, v0); c2_0 = c2_0.addingProduct(a2, v0)
            let v1 = bp.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            c0_1 = c0_1.addingProduct(a0, v1); c1_1 = c1_1.addingProduct(a1, v1); c2_1 = c2_1.addingProduct(a2, v1)
            let v2 = bp.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
            c0_2 = c0_2.addingProduct(a0, v2); c1_2 = c1_2.addingProduct(a1, v2); c2_2 = c2_2.addingProduct(a2, v2)
            let v3 = bp.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self)
            c0_3 = c0_3.addingProduct(a0, v3); c1_3 = c1_3.addingProduct(a1, v3); c2_3 = c2_3.addingProduct(a2, v3)
            let v4 = bp.loadUnaligned(fromByteOffset: 256, as: SIMD16<Float>.self)
            c0_4 = c0_4.addingProduct(a0, v4); c1_4 = c1_4.addingProduct(a1, v4); c2_4 = c2_4.addingProduct(a2, v4)
            let v5 = bp.loadUnaligned(fromByteOffset: 320, as: SIMD16<Float>.self)
            c0_5 = c0_5.addingProduct(a0, v5); c1_5 = c1_5.addingProduct(a1, v5); c2_5 = c2_5.addingProduct(a2, v5)
            let v6 = bp.loadUnaligned(fromByteOffset: 384, as: SIMD16<Float>.self)
            c0_6 = c0_6.addingProduct(a0, v6); c1_6 = c1_6.addingProduct(a1, v6); c2_6 = c2_6.addingProduct(a2, v6)
            let v7 = bp.loadUnaligned(fromByteOffset: 448, as: SIMD16<Float>.self)
            c0_7 = c0_7.addingProduct(a0, v7); c1_7 = c1_7.addingProduct(a1, v7); c2_7 = c2_7.addingProduct(a2, v7)
            ap += 3
        }
        var row = c
        Tiled.store(c0_0, row + 0, adding: loadC); Tiled.store(c0_1, row + 16, adding: loadC);
        Tiled.store(c0_2, row + 32, adding: loadC); Tiled.store(c0_3, row + 48, adding: loadC);
        Tiled.store(c0_4, row + 64, adding: loadC); Tiled.store(c0_5, row + 80, adding: loadC);
        Tiled.store(c0_6, row + 96, adding: loadC); Tiled.store(c0_7, row + 112, adding: loadC); row += ldc
        Tiled.store(c1_0, row + 0, adding: loadC); Tiled.store(c1_1, row + 16, adding: loadC);
        Tiled.store(c1_2, row + 32, adding: loadC); Tiled.store(c1_3, row + 48, adding: loadC);
        Tiled.store(c1_4, row + 64, adding: loadC); Tiled.store(c1_5, row + 80, adding: loadC);
        Tiled.store(c1_6, row + 96, adding: loadC); Tiled.store(c1_7, row + 112, adding: loadC); row += ldc
        Tiled.store(c2_0, row + 0, adding: loadC); Tiled.store(c2_1, row + 16, adding: loadC);
        Tiled.store(c2_2, row + 32, adding: loadC); Tiled.store(c2_3, row + 48, adding: loadC);
        Tiled.store(c2_4, row + 64, adding: loadC); Tiled.store(c2_5, row + 80, adding: loadC);
        Tiled.store(c2_6, row + 96, adding: loadC); Tiled.store(c2_7, row + 112, adding: loadC)
    }

    /// 4 output channels (a packed panel of 4 values per step) × 6 consecutive vectors of 16
    /// pixels read in place at `b + offsets[p] + 64·j` bytes: one chain per element, zero, then one
    /// fused multiply-add per step in increasing p, then the optional add of C.
    @inline(never)
    static func directWideKernel4x6(
        k: Int, a: UnsafePointer<Float>, offsets: UnsafePointer<Int32>, b: UnsafeRawPointer,
        c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool, prefetch: UnsafeRawPointer, prefetchLines: Int
    ) {
        var c0_0 = SIMD16<Float>(); var c0_1 = SIMD16<Float>(); var c0_2 = SIMD16<Float>(); var c0_3 = SIMD16<Float>();
        var c0_4 = SIMD16<Float>(); var c0_5 = SIMD16<Float>()
        var c1_0 = SIMD16<Float>(); var c1_1 = SIMD16<Float>(); var c1_2 = SIMD16<Float>(); var c1_3 = SIMD16<Float>();
        var c1_4 = SIMD16<Float>(); var c1_5 = SIMD16<Float>()
        var c2_0 = SIMD16<Float>(); var c2_1 = SIMD16<Float>(); var c2_2 = SIMD16<Float>(); var c2_3 = SIMD16<Float>();
        var c2_4 = SIMD16<Float>(); var c2_5 = SIMD16<Float>()
        var c3_0 = SIMD16<Float>(); var c3_1 = SIMD16<Float>(); var c3_2 = SIMD16<Float>(); var c3_3 = SIMD16<Float>();
        var c3_4 = SIMD16<Float>(); var c3_5 = SIMD16<Float>()
        var ap = a
        for p in 0..<k {
            if p < prefetchLines { kc_prefetch_l2(prefetch + 64 * p) }
            let bp = b + Int(offsets[p])
            let a0 = ap[0]
            let a1 = ap[1]
            let a2 = ap[2]
            let a3 = ap[3]
            let v0 = bp.loadUnaligned(fromByteOffset: 0, as: SIMD16<Float>.self)
            c0_0 = c0_0.addingProduct(a0, v0); c1_0 = c1_0.addingProduct(a1, v0); c2_0 = c2_0.addingProduct(a2, v0);
            c3_0 = c3_0.addingProduct(a3, v0)
            let v1 = bp.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            c0_1 = c0_1.addingProduct(a0, v1); c1_1 = c1_1.addingProduct(a1, v1); c2_1 = c2_1.addingProduct(a2, v1);
            c3_1 = c3_1.addingProduct(a3, v1)
            let v2 = bp.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
            c0_2 = c0_2.addingProduct(a0, v2); c1_2 = c1_2.addingProduct(a1, v2); c2_2 = c2_2.addingProduct(a2, v2);
            c3_2 = c3_2.addingProduct(a3, v2)
            let v3 = bp.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self)
            c0_3 = c0_3.addingProduct(a0, v3); c1_3 = c1_3.addingProduct(a1, v3); c2_3 = c2_3.addingProduct(a2, v3);
            c3_3 = c3_3.addingProduct(a3, v3)
            let v4 = bp.loadUnaligned(fromByteOffset: 256, as: SIMD16<Float>.self)
            c0_4 = c0_4.addingProduct(a0, v4); c1_4 = c1_4.addingProduct(a1, v4); c2_4 = c2_4.addingProduct(a2, v4);
            c3_4 = c3_4.addingProduct(a3, v4)
            let v5 = bp.loadUnaligned(fromByteOffset: 320, as: SIMD16<Float>.self)
            c0_5 = c0_5.addingProduct(a0, v5); c1_5 = c1_5.addingProduct(a1, v5); c2_5 = c2_5.addingProduct(a2, v5);
            c3_5 = c3_5.addingProduct(a3, v5)
            ap += 4
        }
        var row = c
        Tiled.store(c0_0, row + 0, adding: loadC); Tiled.store(c0_1, row + 16, adding: loadC);
        Tiled.store(c0_2, row + 32, adding: loadC); Tiled.store(c0_3, row + 48, adding: loadC);
        Tiled.store(c0_4, row + 64, adding: loadC); Tiled.store(c0_5, row + 80, adding: loadC); row += ldc
        Tiled.store(c1_0, row + 0, adding: loadC); Tiled.store(c1_1, row + 16, adding: loadC);
        Tiled.store(c1_2, row + 32, adding: loadC); Tiled.store(c1_3, row + 48, adding: loadC);
        Tiled.store(c1_4, row + 64, adding: loadC); Tiled.store(c1_5, row + 80, adding: loadC); row += ldc
        Tiled.store(c2_0, row + 0, adding: loadC); Tiled.store(c2_1, row + 16, adding: loadC);
        Tiled.store(c2_2, row + 32, adding: loadC); Tiled.store(c2_3, row + 48, adding: loadC);
        Tiled.store(c2_4, row + 64, adding: loadC); Tiled.store(c2_5, row + 80, adding: loadC); row += ldc
        Tiled.store(c3_0, row + 0, adding: loadC); Tiled.store(c3_1, row + 16, adding: loadC);
        Tiled.store(c3_2, row + 32, adding: loadC); Tiled.store(c3_3, row + 48, adding: loadC);
        Tiled.store(c3_4, row + 64, adding: loadC); Tiled.store(c3_5, row + 80, adding: loadC)
    }
}

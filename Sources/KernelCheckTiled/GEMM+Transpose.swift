// 16×16 register transposes for the packing routines: four rounds of a perfect unshuffle
// over the 256 values of 16 vectors (each round rotates the bits of an element's index by
// one, so four rounds swap row and column). Each output vector of a round is one two-source
// shuffle (`vpermt2ps` on AVX-512), instead of the 4×4 transposes' scalar-width moves.

extension Tiled {
    /// Sixteen `SIMD16<Float>` rows of a 16×16 block.
    typealias Block16 = (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                         SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                         SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                         SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

    @inline(__always)
    static func evens(_ x: SIMD16<Float>, _ y: SIMD16<Float>) -> SIMD16<Float> {
        SIMD16(lowHalf: x.evenHalf, highHalf: y.evenHalf)
    }

    @inline(__always)
    static func odds(_ x: SIMD16<Float>, _ y: SIMD16<Float>) -> SIMD16<Float> {
        SIMD16(lowHalf: x.oddHalf, highHalf: y.oddHalf)
    }

    /// One perfect unshuffle of the 256 values: evens of rows (2k, 2k+1) become row k,
    /// odds become row k + 8.
    @inline(__always)
    static func unshuffle(_ v: Block16) -> Block16 {
        (evens(v.0, v.1), evens(v.2, v.3), evens(v.4, v.5), evens(v.6, v.7), evens(v.8, v.9), evens(v.10, v.11), evens(v.12, v.13), evens(v.14, v.15),
         odds(v.0, v.1), odds(v.2, v.3), odds(v.4, v.5), odds(v.6, v.7), odds(v.8, v.9), odds(v.10, v.11), odds(v.12, v.13), odds(v.14, v.15))
    }

    /// The transpose of a 16×16 block: row `i` of the result holds column `i` of `v`.
    @inline(__always)
    static func transpose16(_ v: Block16) -> Block16 {
        unshuffle(unshuffle(unshuffle(unshuffle(v))))
    }

    /// `dst[p·12 + r] = src[r·ld + p]` for 12 rows r and 16 steps p (192 contiguous floats:
    /// one packed A panel's worth of 16 k steps).
    @inline(__always)
    static func transpose12Rows(_ src: UnsafePointer<Float>, ld: Int, into dst: UnsafeMutablePointer<Float>) {
        let z = SIMD16<Float>()
        let t = transpose16((load16(src), load16(src + 1 * ld), load16(src + 2 * ld), load16(src + 3 * ld), load16(src + 4 * ld), load16(src + 5 * ld), load16(src + 6 * ld), load16(src + 7 * ld), load16(src + 8 * ld), load16(src + 9 * ld), load16(src + 10 * ld), load16(src + 11 * ld), z, z, z, z))
        store8(t.0.lowHalf, dst + 0); store4(t.0.highHalf.lowHalf, dst + 8)
        store8(t.1.lowHalf, dst + 12); store4(t.1.highHalf.lowHalf, dst + 20)
        store8(t.2.lowHalf, dst + 24); store4(t.2.highHalf.lowHalf, dst + 32)
        store8(t.3.lowHalf, dst + 36); store4(t.3.highHalf.lowHalf, dst + 44)
        store8(t.4.lowHalf, dst + 48); store4(t.4.highHalf.lowHalf, dst + 56)
        store8(t.5.lowHalf, dst + 60); store4(t.5.highHalf.lowHalf, dst + 68)
        store8(t.6.lowHalf, dst + 72); store4(t.6.highHalf.lowHalf, dst + 80)
        store8(t.7.lowHalf, dst + 84); store4(t.7.highHalf.lowHalf, dst + 92)
        store8(t.8.lowHalf, dst + 96); store4(t.8.highHalf.lowHalf, dst + 104)
        store8(t.9.lowHalf, dst + 108); store4(t.9.highHalf.lowHalf, dst + 116)
        store8(t.10.lowHalf, dst + 120); store4(t.10.highHalf.lowHalf, dst + 128)
        store8(t.11.lowHalf, dst + 132); store4(t.11.highHalf.lowHalf, dst + 140)
        store8(t.12.lowHalf, dst + 144); store4(t.12.highHalf.lowHalf, dst + 152)
        store8(t.13.lowHalf, dst + 156); store4(t.13.highHalf.lowHalf, dst + 164)
        store8(t.14.lowHalf, dst + 168); store4(t.14.highHalf.lowHalf, dst + 176)
        store8(t.15.lowHalf, dst + 180); store4(t.15.highHalf.lowHalf, dst + 188)
    }

    @inline(__always)
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}

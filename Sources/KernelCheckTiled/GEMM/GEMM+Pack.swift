// Packing copies a block of op(A) or op(B) into the order the micro-kernel reads it, so
// that the hot loop walks memory contiguously (and edge panels are zero-padded to full
// tiles: padded products are 0·x, added to accumulators whose values are then discarded).

import CKernelSupport

extension Tiled {
    /// Packs `op(A)[rows0 ..< rows0+rowCount, cols0 ..< cols0+colCount]` into micro-panels of
    /// `mr` rows: panel `q` holds, for each k step `p`, the `mr` values
    /// `op(A)[rows0 + q·mr + r, cols0 + p]` (r = 0..<mr, zero past the last row).
    static func packA(
        _ a: Operand, rows rows0: Int, count rowCount: Int,
        columns cols0: Int, count colCount: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        if a.type != .f32 {
            return packANarrow(a, rows: rows0, count: rowCount, columns: cols0, count: colCount, into: dst)
        }
        let mr = GEMMBlocking.mr
        let kc = colCount
        if a.transposed {
            // op(A)[i, p] = A[p, i]: stored row p holds the `rowCount` values of k step p for
            // every panel, 12 values per panel.
            dealRows(
                a.base + (cols0 * a.ld + rows0), ld: a.ld, steps: kc, count: rowCount, into: dst,
                SIMD8<Float>.self, SIMD4<Float>.self)
            return
        }
        for ir in stride(from: 0, to: rowCount, by: mr) {
            let height = min(mr, rowCount - ir)
            let panel = dst + ir * kc
            // op(A)[i, p] = A[i, p]: read rows contiguously, write with stride mr.
            var done = 0
            if height == mr {
                // 16 k steps at a time through one 16×16 register transpose.
                let src = a.base + ((rows0 + ir) * a.ld + cols0)
                while done + 16 <= kc {
                    transpose12Rows(src + done, ld: a.ld, into: panel + done * mr)
                    done += 16
                }
                if done == kc { continue }
            }
            transposeRows(
                a.base + ((rows0 + ir) * a.ld + cols0 + done), ld: a.ld, rows: height,
                length: kc - done, into: panel + done * mr, stride: mr)
            if height < mr {
                for p in 0..<kc { (panel + p * mr + height).update(repeating: 0, count: mr - height) }
            }
        }
    }

    /// Packs `op(B)[rows0 ..< rows0+rowCount, cols0 ..< cols0+colCount]` into micro-panels of
    /// `nr` columns: panel `q` holds, for each k step `p`, the `nr` values
    /// `op(B)[rows0 + p, cols0 + q·nr + j]` (j = 0..<nr, zero past the last column).
    static func packB(
        _ b: Operand, rows rows0: Int, count rowCount: Int,
        columns cols0: Int, count colCount: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        if b.type != .f32 {
            return packBNarrow(b, rows: rows0, count: rowCount, columns: cols0, count: colCount, into: dst)
        }
        let nr = GEMMBlocking.nr
        let kc = rowCount
        if !b.transposed {
            // op(B)[p, j] = B[p, j]: stored row p holds the `colCount` values of k step p for
            // every panel, 32 values per panel.
            dealRows(
                b.base + (rows0 * b.ld + cols0), ld: b.ld, steps: kc, count: colCount, into: dst,
                SIMD16<Float>.self, SIMD16<Float>.self)
            return
        }
        for jr in stride(from: 0, to: colCount, by: nr) {
            // op(B)[p, j] = B[j, p]: read stored rows contiguously, write with stride nr. A
            // full panel goes 16 steps at a time through two 16 × 16 AVX-512 register
            // transposes (its 32 stored rows); the rest through 4 × 4 transposes.
            let width = min(nr, colCount - jr)
            let panel = dst + jr * kc
            let src = b.base + ((cols0 + jr) * b.ld + rows0)
            var done = 0
            if width == nr && transposesBy16 {
                while done + 16 <= kc {
                    kc_transpose16x16(src + done, b.ld, panel + done * nr, nr)
                    kc_transpose16x16(src + (16 * b.ld + done), b.ld, panel + (done * nr + 16), nr)
                    done += 16
                }
            }
            transposeRows(src + done, ld: b.ld, rows: width, length: kc - done, into: panel + done * nr, stride: nr)
            if width < nr {
                for p in 0..<kc { (panel + p * nr + width).update(repeating: 0, count: nr - width) }
            }
        }
    }

    /// Deals `steps` stored rows out to panels `width = First.scalarCount +
    /// Second.scalarCount` floats wide: stored row p (at `src + p·ld`) holds `count` values,
    /// and panel q gets values `q·width ..< (q+1)·width` of it at `dst + q·width·steps +
    /// p·width`, zero past `count`. Each stored row is read once from end to end: one long
    /// stream for the hardware prefetchers, not `steps` short strided ones per panel.
    @inline(__always)
    static func dealRows<First: SIMD, Second: SIMD>(
        _ src: UnsafePointer<Float>, ld: Int, steps: Int, count: Int, into dst: UnsafeMutablePointer<Float>,
        _: First.Type, _: Second.Type
    ) where First.Scalar == Float, Second.Scalar == Float {
        let width = First.scalarCount + Second.scalarCount
        let full = count / width, tail = count - full * width
        var row = src
        for p in 0..<steps {
            var out = dst + p * width
            var run = row
            for _ in 0..<full {
                copy(from: run, to: out, First.self, Second.self)
                run += width
                out += width * steps
            }
            if tail > 0 {
                out.update(from: run, count: tail)
                (out + tail).update(repeating: 0, count: width - tail)
            }
            row += ld
        }
    }

    /// Whether `packB` transposes full panels with AVX-512 register transposes (compiled
    /// for a CPU that has them).
    static let transposesBy16 = kc_avx512_compiled() != 0

    /// `dst[p·stride + r] = src[r·ld + p]` for `r < rows`, `p < length`; the lanes
    /// `rows ..< roundUp(rows, 4)` are written with junk that the caller then zeroes.
    ///
    /// Four source rows at a time through 4×4 register transposes: the auto-vectorized form
    /// of this loop is a scatter, which is several times slower on x86.
    @inline(__always)
    static func transposeRows(
        _ src: UnsafePointer<Float>, ld: Int, rows: Int, length: Int,
        into dst: UnsafeMutablePointer<Float>, stride: Int
    ) {
        let length4 = length & ~3
        for r in Swift.stride(from: 0, to: rows, by: 4) {
            // A group past the last row repeats the last row (its lanes are zeroed later).
            let last = rows - 1
            let s0 = src + r * ld
            let s1 = src + min(r + 1, last) * ld
            let s2 = src + min(r + 2, last) * ld
            let s3 = src + min(r + 3, last) * ld
            let out = dst + r
            var p = 0
            while p < length4 {
                let v0 = load(s0 + p, as: SIMD4<Float>.self), v1 = load(s1 + p, as: SIMD4<Float>.self)
                let v2 = load(s2 + p, as: SIMD4<Float>.self), v3 = load(s3 + p, as: SIMD4<Float>.self)
                store(SIMD4(v0[0], v1[0], v2[0], v3[0]), out + p * stride)
                store(SIMD4(v0[1], v1[1], v2[1], v3[1]), out + (p + 1) * stride)
                store(SIMD4(v0[2], v1[2], v2[2], v3[2]), out + (p + 2) * stride)
                store(SIMD4(v0[3], v1[3], v2[3], v3[3]), out + (p + 3) * stride)
                p += 4
            }
            while p < length {
                store(SIMD4(s0[p], s1[p], s2[p], s3[p]), out + p * stride)
                p += 1
            }
        }
    }

    /// Copies the `First.scalarCount + Second.scalarCount` floats at `src` to `dst` with two
    /// vector moves (never touching a float past them): `SIMD8, SIMD4` for a 12-row panel of
    /// A, `SIMD16, SIMD16` for a 32-column panel of B.
    @inline(__always)
    static func copy<First: SIMD, Second: SIMD>(
        from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, _: First.Type, _: Second.Type
    ) where First.Scalar == Float, Second.Scalar == Float {
        store(load(src, as: First.self), dst)
        store(load(src + First.scalarCount, as: Second.self), dst + First.scalarCount)
    }
}

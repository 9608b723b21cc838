// The register transpose behind packing an untransposed A: 12 rows × 16 k steps at a time.

import CKernelSupport

extension Tiled {
    /// `dst[p·12 + r] = src[r·ld + p]` for 12 rows r and 16 steps p (192 contiguous floats:
    /// one packed A panel's worth of 16 k steps).
    ///
    /// A 16 × 16 register transpose in C (`kc_transpose12x16`): AVX-512 two-source shuffles
    /// there, which Swift's SIMD types cannot name. The same transpose in Swift, four rounds
    /// of `evenHalf`/`oddHalf` unshuffles, compiles to narrower moves with stack spills.
    @inline(__always)
    static func transpose12Rows(_ src: UnsafePointer<Float>, ld: Int, into dst: UnsafeMutablePointer<Float>) {
        kc_transpose12x16(src, ld, dst)
    }
}

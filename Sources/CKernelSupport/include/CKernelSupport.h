#ifndef CKERNELSUPPORT_H
#define CKERNELSUPPORT_H

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

// What Swift cannot say for the tiled kernels: cache prefetch hints (Swift has no prefetch
// intrinsic) and AVX-512 register transposes (Swift's SIMD types have no two-source
// shuffles). These static inline functions are compiled by the Clang importer into the
// caller's module with the caller's target CPU and inlined: a prefetch hint becomes one
// instruction (no call, no effect on results).

/// Hint that `p`'s cache line is about to be read and written (prefetchw).
static inline __attribute__((always_inline)) void kc_prefetch_write(const void *p) {
    __builtin_prefetch(p, 1, 3);
}

/// Hint that `p`'s cache line is about to be read (prefetcht0).
static inline __attribute__((always_inline)) void kc_prefetch_read(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

/// Hint that `p`'s cache line will be read soon, into L2 (prefetcht1): the next band of a
/// direct convolution's input, fetched while the current band computes.
static inline __attribute__((always_inline)) void kc_prefetch_l2(const void *p) {
    __builtin_prefetch(p, 0, 2);
}

/// `dst[p·12 + r] = src[r·ld + p]` for 12 rows r and 16 columns p: 16 k steps of a packed
/// SGEMM A panel (192 contiguous floats) from 12 rows of a row-major A.
///
/// With AVX-512, a 16 × 16 register transpose (rows 12–15 zero) in four rounds of two-source
/// shuffles, stored 12 lanes at a time. Swift's SIMD types have no such shuffles, and the
/// same transpose written with `evenHalf`/`oddHalf` compiled to narrower moves and stack
/// spills (≈ 220 cycles per block). Without AVX-512 (a portable build) a plain loop.
static inline __attribute__((always_inline))
void kc_transpose12x16(const float *src, long ld, float *dst) {
#if defined(__AVX512F__)
    __m512 r0 = _mm512_loadu_ps(src), r1 = _mm512_loadu_ps(src + ld);
    __m512 r2 = _mm512_loadu_ps(src + 2 * ld), r3 = _mm512_loadu_ps(src + 3 * ld);
    __m512 r4 = _mm512_loadu_ps(src + 4 * ld), r5 = _mm512_loadu_ps(src + 5 * ld);
    __m512 r6 = _mm512_loadu_ps(src + 6 * ld), r7 = _mm512_loadu_ps(src + 7 * ld);
    __m512 r8 = _mm512_loadu_ps(src + 8 * ld), r9 = _mm512_loadu_ps(src + 9 * ld);
    __m512 r10 = _mm512_loadu_ps(src + 10 * ld), r11 = _mm512_loadu_ps(src + 11 * ld);
    __m512 z = _mm512_setzero_ps();
    // Round 1: interleave row pairs within 128-bit lanes.
    __m512 t0 = _mm512_unpacklo_ps(r0, r1), t1 = _mm512_unpackhi_ps(r0, r1);
    __m512 t2 = _mm512_unpacklo_ps(r2, r3), t3 = _mm512_unpackhi_ps(r2, r3);
    __m512 t4 = _mm512_unpacklo_ps(r4, r5), t5 = _mm512_unpackhi_ps(r4, r5);
    __m512 t6 = _mm512_unpacklo_ps(r6, r7), t7 = _mm512_unpackhi_ps(r6, r7);
    __m512 t8 = _mm512_unpacklo_ps(r8, r9), t9 = _mm512_unpackhi_ps(r8, r9);
    __m512 t10 = _mm512_unpacklo_ps(r10, r11), t11 = _mm512_unpackhi_ps(r10, r11);
    // Round 2: 4 × 4 blocks within 128-bit lanes.
    __m512 u0 = _mm512_shuffle_ps(t0, t2, 0x44), u1 = _mm512_shuffle_ps(t0, t2, 0xEE);
    __m512 u2 = _mm512_shuffle_ps(t1, t3, 0x44), u3 = _mm512_shuffle_ps(t1, t3, 0xEE);
    __m512 u4 = _mm512_shuffle_ps(t4, t6, 0x44), u5 = _mm512_shuffle_ps(t4, t6, 0xEE);
    __m512 u6 = _mm512_shuffle_ps(t5, t7, 0x44), u7 = _mm512_shuffle_ps(t5, t7, 0xEE);
    __m512 u8 = _mm512_shuffle_ps(t8, t10, 0x44), u9 = _mm512_shuffle_ps(t8, t10, 0xEE);
    __m512 u10 = _mm512_shuffle_ps(t9, t11, 0x44), u11 = _mm512_shuffle_ps(t9, t11, 0xEE);
    // u_j (j < 4) holds column j + 4·lane of rows 0–3; u_{4+j} rows 4–7; u_{8+j} rows 8–11.
    // Rounds 3–4: gather the 128-bit lanes: column 4·l + j = (u_j[l], u_{4+j}[l], u_{8+j}[l], 0).
    __m512 v0 = _mm512_shuffle_f32x4(u0, u4, 0x88), v1 = _mm512_shuffle_f32x4(u1, u5, 0x88);
    __m512 v2 = _mm512_shuffle_f32x4(u2, u6, 0x88), v3 = _mm512_shuffle_f32x4(u3, u7, 0x88);
    __m512 v4 = _mm512_shuffle_f32x4(u0, u4, 0xDD), v5 = _mm512_shuffle_f32x4(u1, u5, 0xDD);
    __m512 v6 = _mm512_shuffle_f32x4(u2, u6, 0xDD), v7 = _mm512_shuffle_f32x4(u3, u7, 0xDD);
    __m512 v8 = _mm512_shuffle_f32x4(u8, z, 0x88), v9 = _mm512_shuffle_f32x4(u9, z, 0x88);
    __m512 v10 = _mm512_shuffle_f32x4(u10, z, 0x88), v11 = _mm512_shuffle_f32x4(u11, z, 0x88);
    __m512 v12 = _mm512_shuffle_f32x4(u8, z, 0xDD), v13 = _mm512_shuffle_f32x4(u9, z, 0xDD);
    __m512 v14 = _mm512_shuffle_f32x4(u10, z, 0xDD), v15 = _mm512_shuffle_f32x4(u11, z, 0xDD);
    const __mmask16 m = 0x0FFF;
    _mm512_mask_storeu_ps(dst + 0 * 12, m, _mm512_shuffle_f32x4(v0, v8, 0x88));
    _mm512_mask_storeu_ps(dst + 1 * 12, m, _mm512_shuffle_f32x4(v1, v9, 0x88));
    _mm512_mask_storeu_ps(dst + 2 * 12, m, _mm512_shuffle_f32x4(v2, v10, 0x88));
    _mm512_mask_storeu_ps(dst + 3 * 12, m, _mm512_shuffle_f32x4(v3, v11, 0x88));
    _mm512_mask_storeu_ps(dst + 4 * 12, m, _mm512_shuffle_f32x4(v4, v12, 0x88));
    _mm512_mask_storeu_ps(dst + 5 * 12, m, _mm512_shuffle_f32x4(v5, v13, 0x88));
    _mm512_mask_storeu_ps(dst + 6 * 12, m, _mm512_shuffle_f32x4(v6, v14, 0x88));
    _mm512_mask_storeu_ps(dst + 7 * 12, m, _mm512_shuffle_f32x4(v7, v15, 0x88));
    _mm512_mask_storeu_ps(dst + 8 * 12, m, _mm512_shuffle_f32x4(v0, v8, 0xDD));
    _mm512_mask_storeu_ps(dst + 9 * 12, m, _mm512_shuffle_f32x4(v1, v9, 0xDD));
    _mm512_mask_storeu_ps(dst + 10 * 12, m, _mm512_shuffle_f32x4(v2, v10, 0xDD));
    _mm512_mask_storeu_ps(dst + 11 * 12, m, _mm512_shuffle_f32x4(v3, v11, 0xDD));
    _mm512_mask_storeu_ps(dst + 12 * 12, m, _mm512_shuffle_f32x4(v4, v12, 0xDD));
    _mm512_mask_storeu_ps(dst + 13 * 12, m, _mm512_shuffle_f32x4(v5, v13, 0xDD));
    _mm512_mask_storeu_ps(dst + 14 * 12, m, _mm512_shuffle_f32x4(v6, v14, 0xDD));
    _mm512_mask_storeu_ps(dst + 15 * 12, m, _mm512_shuffle_f32x4(v7, v15, 0xDD));
#else
    for (int p = 0; p < 16; p++) {
        for (int r = 0; r < 12; r++) { dst[p * 12 + r] = src[r * ld + p]; }
    }
#endif
}

/// Whether the functions here were compiled with AVX-512 (else they are plain loops).
static inline __attribute__((always_inline)) int kc_avx512_compiled(void) {
#if defined(__AVX512F__)
    return 1;
#else
    return 0;
#endif
}

#if defined(__AVX512F__)
/// `column[q]` lane j = `row[j]` lane q: a 16 × 16 transpose in four rounds of two-source
/// shuffles.
static inline __attribute__((always_inline)) void kc_transpose16(const __m512 row[16], __m512 column[16]) {
    // Round 1: interleave row pairs within 128-bit lanes.
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(row[2 * i], row[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(row[2 * i], row[2 * i + 1]);
    }
    // Round 2: u[4i + c], lane L, holds rows 4i … 4i + 3 of column 4L + c.
    __m512 u[16];
    for (int i = 0; i < 4; i++) {
        u[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    // Rounds 3–4: column 4L + c is lane L of u[c], u[4 + c], u[8 + c], u[12 + c].
    for (int c = 0; c < 4; c++) {
        __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
        __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88), v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        column[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        column[4 + c] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        column[8 + c] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
        column[12 + c] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
    }
}
#endif

/// `dst[q·ldd + j] = base[offsets[j] + q]` for 16 rows j and `count` ≤ 16 columns q, with
/// rows `j ≥ valid` zero: 16 taps × up to 16 pixels of a backward-weights B panel, gathered
/// from the padded input, where a tap's pixels along an output row are consecutive floats.
///
/// With AVX-512, masked row loads (nothing read past `count`) and a 16 × 16 register transpose
/// in four rounds of two-source shuffles; without it a plain loop (callers keep their own
/// vector code there: `kc_avx512_compiled`).
static inline __attribute__((always_inline))
void kc_gather_transpose16(const float *base, const long *offsets, long valid, long count, float *dst, long ldd) {
#if defined(__AVX512F__)
    const __mmask16 m = (__mmask16)((1u << count) - 1u);
    __m512 r[16];
    for (int j = 0; j < 16; j++) {
        r[j] = j < valid ? _mm512_maskz_loadu_ps(m, base + offsets[j]) : _mm512_setzero_ps();
    }
    __m512 column[16];
    kc_transpose16(r, column);
    for (long q = 0; q < count; q++) { _mm512_storeu_ps(dst + q * ldd, column[q]); }
#else
    for (long q = 0; q < count; q++) {
        for (long j = 0; j < 16; j++) { dst[q * ldd + j] = j < valid ? base[offsets[j] + q] : 0.0f; }
    }
#endif
}

/// `out[c·ld + p] = bias[c] + tile[32·p + c]` (without `bias` when it is NULL) for `channels`
/// ≤ 32 channels c and `pixels` ≤ 8 pixels p: a channel-lane tile (8 pixels × 32 channels,
/// pixel-major) written to an output whose pixels are consecutive, each channel's row `ld`
/// floats from the next.
///
/// With AVX-512, two 16 × 16 transposes (rows 8–15 zero) and one masked store of `pixels`
/// floats per channel; without it a plain loop.
static inline __attribute__((always_inline))
void kc_store_lane_tile(const float *tile, long pixels, long channels, const float *bias, float *out, long ld) {
#if defined(__AVX512F__)
    const __mmask16 m = (__mmask16)((1u << pixels) - 1u);
    for (int h = 0; h < 2 && 16 * h < channels; h++) {
        __m512 r[16], column[16];
        for (int p = 0; p < 16; p++) { r[p] = p < 8 ? _mm512_loadu_ps(tile + 32 * p + 16 * h) : _mm512_setzero_ps(); }
        kc_transpose16(r, column);
        for (long c = 0; c < 16 && 16 * h + c < channels; c++) {
            long channel = 16 * h + c;
            __m512 v = bias ? _mm512_add_ps(_mm512_set1_ps(bias[channel]), column[c]) : column[c];
            _mm512_mask_storeu_ps(out + channel * ld, m, v);
        }
    }
#else
    for (long c = 0; c < channels; c++) {
        for (long p = 0; p < pixels; p++) { out[c * ld + p] = bias ? bias[c] + tile[32 * p + c] : tile[32 * p + c]; }
    }
#endif
}

/// The widest vector instruction set this CPU executes, from cpuid: 512 for AVX-512F, 256 for
/// AVX2 with FMA, 0 otherwise (including every non-x86 CPU). The tiled kernels are compiled
/// for the build host; the machine profile reports what the running CPU offers.
static inline int kc_cpu_vector_bits(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 256;
#endif
    return 0;
}

#endif

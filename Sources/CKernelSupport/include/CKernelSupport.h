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

/// `dst[p·12 + r] = src[r·ld + p]` for 12 rows r and 16 columns p: 16 k steps of a packed
/// SGEMM A panel (192 contiguous floats) from 12 rows of a row-major A.
///
/// With AVX-512, a 16 × 16 register transpose (`kc_transpose16`, rows 12–15 zero), stored 12
/// lanes at a time. Swift's SIMD types have no such shuffles, and the same transpose written
/// with `evenHalf`/`oddHalf` compiled to narrower moves and stack spills (≈ 220 cycles per
/// block). Without AVX-512 (a portable build) a plain loop.
static inline __attribute__((always_inline))
void kc_transpose12x16(const float *src, long ld, float *dst) {
#if defined(__AVX512F__)
    __m512 r[16], column[16];
    for (int i = 0; i < 16; i++) { r[i] = i < 12 ? _mm512_loadu_ps(src + i * ld) : _mm512_setzero_ps(); }
    kc_transpose16(r, column);
    for (int p = 0; p < 16; p++) { _mm512_mask_storeu_ps(dst + p * 12, 0x0FFF, column[p]); }
#else
    for (int p = 0; p < 16; p++) {
        for (int r = 0; r < 12; r++) { dst[p * 12 + r] = src[r * ld + p]; }
    }
#endif
}

/// `dst[q·ldd + i] = src[i·ld + q]` for 16 rows i and 16 columns q: 16 k steps of 16 columns
/// of a packed SGEMM B panel from 16 rows of a transposed B. With AVX-512 one 16 × 16
/// register transpose (`kc_transpose16`); without it a plain loop (callers keep their own
/// 4 × 4 transposes there: `kc_avx512_compiled`).
static inline __attribute__((always_inline))
void kc_transpose16x16(const float *src, long ld, float *dst, long ldd) {
#if defined(__AVX512F__)
    __m512 r[16], column[16];
    for (int i = 0; i < 16; i++) { r[i] = _mm512_loadu_ps(src + i * ld); }
    kc_transpose16(r, column);
    for (int q = 0; q < 16; q++) { _mm512_storeu_ps(dst + q * ldd, column[q]); }
#else
    for (int q = 0; q < 16; q++) {
        for (int i = 0; i < 16; i++) { dst[q * ldd + i] = src[i * ld + q]; }
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

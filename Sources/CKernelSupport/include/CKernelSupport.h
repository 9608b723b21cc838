#ifndef CKERNELSUPPORT_H
#define CKERNELSUPPORT_H

// Cache prefetch hints for the tiled kernels. Swift has no prefetch intrinsic; these
// static inline functions are compiled by the Clang importer into the caller's module and
// inlined, so each call becomes one prefetch instruction (no call, no effect on results).

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

#endif

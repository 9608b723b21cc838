#ifndef KERNELCHECK_CHDF5PROBE_H
#define KERNELCHECK_CHDF5PROBE_H
#include <stddef.h>

/// What happened when a child process read a whole HDF5 file (`kc_probe_file`).
typedef enum {
    /// Every object, attribute and dataset was read without trouble.
    KC_PROBE_OK = 0,
    /// libhdf5 reported an error (a truncated file, a broken object): harmless, the caller's
    /// own read meets the same error and reports it.
    KC_PROBE_HDF5_ERROR = 1,
    /// libhdf5 failed to allocate memory under the child's address-space cap: a corrupt
    /// length (a variable-length string claiming gigabytes).
    KC_PROBE_OUT_OF_MEMORY = 2,
    /// The child died from a signal (`detail`: its number) — libhdf5 crashed — or, under a
    /// sanitizer, the sanitizer stopped it at a memory error (`detail` 0).
    KC_PROBE_CRASHED = 3,
    /// The child did not finish within the timeout and was killed — libhdf5 looped.
    KC_PROBE_TIMED_OUT = 4,
    /// The child exited with an unexpected status (`detail`), e.g. a sanitizer report.
    KC_PROBE_UNEXPECTED_EXIT = 5,
    /// No child could be started (`detail`: errno of fork or pipe).
    KC_PROBE_UNAVAILABLE = 6,
    /// The file holds something the caller must not read, found before it was read: an
    /// external link or a dataset stored outside the file. `message` is
    /// "kind<0x1f>object<0x1f>detail", kind "external-link" (detail: "file:/object") or
    /// "external-storage" (detail: why).
    KC_PROBE_REFUSED = 7,
} kc_probe_outcome;

/// Reads the whole file at `path` with libhdf5 in a forked child process — every group
/// (looked up by name), every attribute and every dataset of at most `max_read_bytes` — so
/// that a file that crashes, hangs or exhausts libhdf5 harms the child, not the caller.
///
/// The child's address space is capped at its size at fork plus `address_headroom` bytes
/// (0: no cap) and it is killed after `timeout_seconds`. libhdf5's error text, if any, is
/// copied into `message` (NUL-terminated, at most `capacity` bytes); `detail` receives the
/// signal number, exit status or errno the outcome mentions.
///
/// The caller must hold the lock that serializes libhdf5 calls: the child inherits
/// libhdf5's state and must not find another thread half-way through a call. The child runs
/// only C code and leaves with `_exit`, so it never touches the Swift runtime.
kc_probe_outcome kc_probe_file(const char *path, double timeout_seconds, long long address_headroom,
                               long long max_read_bytes, char *message, size_t capacity, int *detail);

#endif

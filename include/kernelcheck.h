/*
 * kernelcheck.h: the C ABI of a KernelCheck plug-in library (`kernelcheck check --impl lib:PATH`).
 *
 * Copy this header next to your kernel or pass -I to this directory; nothing is installed.
 * A plug-in is a shared library (built with -shared -fPIC) that exports the functions declared
 * below with C linkage. KernelCheck loads it with dlopen(RTLD_NOW | RTLD_LOCAL), looks the
 * symbols up by name, never unloads it, and checks every output against its Float64
 * reference exactly as it checks its own kernels. Guide: docs/plugins.md.
 *
 * Version 1 of the ABI. A change to any declaration below raises KERNELCHECK_ABI_VERSION;
 * KernelCheck refuses (exit 2) a library whose kernelcheck_abi_version() differs from the
 * version it was built with.
 *
 * Problems and directions
 * -----------------------
 * `problem` is a canonical problem string, one line `op key=value ...` with every key in a
 * fixed order, e.g.
 *     conv2d n=2 ic=4 oc=8 g=2 in=7x6 k=3x3 s=2x1 d=1x2 p=1x0:2x1 bias=1
 * (`kernelcheck problem --help` and fixtures/SCHEMA.md list every op; `p` is `same`,
 * `same_lower`, `valid` or `B:E`, begin and end lists of the spatial dimensions).
 * `direction` is one of "fwd", "bwd_data", "bwd_weights", "bwd_bias", "bwd_gamma", "bwd_beta".
 *
 * Tensors
 * -------
 * Every tensor is float32, dense and row-major (the last dimension is contiguous), in
 * PyTorch's layouts: NC... for data, C_out x C_in/g x k... for convolution weights. Inputs
 * come by role, in the order the op declares them (conv fwd: "x", "w", then "b" when the
 * problem has a bias; bwd_data: "dy", "w"; bwd_weights: "x", "dy"; bwd_bias: "dy").
 *
 * Ownership and lifetime: the harness owns every input and the output. Inputs are read-only
 * and valid for the duration of the call only; do not keep a pointer past the return.
 *
 * Alignment: every `data` pointer (inputs and output) is 64-byte aligned (a cache line, and
 * aligned for any SIMD load). A tensor of zero elements still has a valid, never-dereferenced
 * pointer.
 *
 * The output buffer is surrounded by sentinel guards: KernelCheck fills 64 elements before
 * and after it with a signalling-NaN pattern and checks them after every call, so a write
 * before the start or past the end is reported as a failure ("out-of-bounds write"). The
 * output itself is pre-filled with a second signalling NaN, so an element you never write is
 * reported too. Write every element; do not accumulate into the output.
 *
 * Threads: `threads` = 1 asks for a single-threaded run; 0 means use as many threads as you
 * like; N > 1 suggests N. The harness runs each case again with the same count and with one
 * thread and requires bit-identical output, so the order in which an output element sums its
 * terms must not depend on the thread count. Calls into the library come from one thread at
 * a time.
 *
 * Return codes of kernelcheck_run: KERNELCHECK_OK (0), the output is written;
 * KERNELCHECK_UNSUPPORTED (1), this problem or direction is not implemented (the case is
 * skipped, not failed); KERNELCHECK_ERROR (2), the kernel could not run: write a one-line,
 * NUL-terminated reason into `message` (at most `message_capacity` bytes including the NUL)
 * and the case fails with it. Any other value fails the case too.
 */
#ifndef KERNELCHECK_H
#define KERNELCHECK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI version this header describes; return it from kernelcheck_abi_version(). */
#define KERNELCHECK_ABI_VERSION 1

/** Return codes of kernelcheck_run. */
#define KERNELCHECK_OK 0
#define KERNELCHECK_UNSUPPORTED 1
#define KERNELCHECK_ERROR 2

/** A read-only input tensor: `shape[0] x ... x shape[rank-1]` floats at `data`. */
typedef struct kernelcheck_tensor {
    /** The role: "x", "w", "b", "dy", "a", "gamma", ... (NUL-terminated). */
    const char *role;
    /** 64-byte aligned, row-major, valid for the call only. */
    const float *data;
    /** Number of dimensions (0 for a scalar). */
    size_t rank;
    /** `rank` sizes, outermost first (may be NULL when rank is 0). */
    const int64_t *shape;
} kernelcheck_tensor;

/** The output tensor the kernel writes: exactly `count` floats at `data`, guarded on both sides. */
typedef struct kernelcheck_output {
    /** The role: "y", "dx", "dw", "db", ... (NUL-terminated). */
    const char *role;
    /** 64-byte aligned; write all `count` elements and nothing outside them. */
    float *data;
    /** The product of the shape's sizes. */
    size_t count;
    /** Number of dimensions (0 for a scalar). */
    size_t rank;
    /** `rank` sizes, outermost first (may be NULL when rank is 0). */
    const int64_t *shape;
} kernelcheck_output;

/** Required: return KERNELCHECK_ABI_VERSION (the version your library was compiled against). */
int kernelcheck_abi_version(void);

/**
 * Required: nonzero when kernelcheck_run implements `direction` of `problem`. Called before
 * every case; a zero makes the case `skipped` (with this library named), never `passed`.
 */
int kernelcheck_supports(const char *problem, const char *direction);

/**
 * Required: computes `direction` of `problem` from `inputs` (`input_count` tensors, the
 * roles of the direction in the op's order) into `output`, with `threads` as described
 * above. Returns KERNELCHECK_OK, KERNELCHECK_UNSUPPORTED or KERNELCHECK_ERROR (with a
 * reason in `message`).
 */
int kernelcheck_run(
    const char *problem, const char *direction, const kernelcheck_tensor *inputs, size_t input_count,
    const kernelcheck_output *output, int threads, char *message, size_t message_capacity);

/**
 * Optional (ABI 1, added with low-precision problems; a library without it keeps working):
 * the same call for a problem whose inputs are stored in a narrow type, i.e. whose problem
 * string ends in `dt=bf16`, `dt=f16`, `dt=f8e4m3` or `dt=f8e5m2` (then `acc=` / `odt=` when
 * not the defaults). When the library exports it, KernelCheck calls it instead of
 * kernelcheck_run for those problems (kernelcheck_run still serves float32 problems).
 * `dtype` is that type's name ("bf16", "f16", "f8e4m3", "f8e5m2"); `stored[i]` points at
 * inputs[i]'s elements as the type's little-endian bit patterns (2 bytes each for bf16 and
 * f16, 1 byte for fp8; f8e4m3 is the OCP "fn" variant, no infinities), 64-byte aligned, in
 * the same row-major order. `inputs[i].data` still holds the same values as float32 (every
 * value is exactly a number of `dtype`), so a kernel may read either. The output is float32
 * as always, and every element must be a value of the output type (`odt`, default `dt`):
 * round it (to nearest, ties to even) before storing. Return codes as kernelcheck_run.
 */
int kernelcheck_run_stored(
    const char *problem, const char *direction, const kernelcheck_tensor *inputs, const void *const *stored,
    const char *dtype, size_t input_count, const kernelcheck_output *output, int threads, char *message,
    size_t message_capacity);

/**
 * Optional: a short human-readable name and version of the library, e.g. "c-conv 1.0",
 * shown beside `lib:PATH` in the headers of KernelCheck's output. The string must stay valid
 * for the life of the process.
 */
const char *kernelcheck_name(void);

#ifdef __cplusplus
}
#endif

#endif /* KERNELCHECK_H */

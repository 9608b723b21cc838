/*
 * A KernelCheck plug-in in plain C99: convolution forward and backward-data.
 *
 *     cc -std=c99 -O2 -shared -fPIC -I../../include conv.c -o libconv.so
 *     kernelcheck check --impl lib:examples/c-conv/libconv.so --op conv
 *
 * It implements `conv1d` and `conv2d` problems (NCHW; stride, dilation, groups, bias and
 * every padding form: `valid`, `same`, `same_lower` and explicit, asymmetric `B:E`) in the
 * directions `fwd` and `bwd_data`, and declares exactly that through kernelcheck_supports;
 * KernelCheck skips (never passes) everything else. A conv1d is run as a conv2d of height 1.
 *
 * The loops are the formulas, one output element at a time, accumulated in float:
 *     fwd:      y[n,co,oh,ow]  = b[co] + sum over ci in the group of co, kh, kw of
 *                                w[co,ci',kh,kw] * x[n,ci,oh*s - pb + kh*d, ...]
 *     bwd_data: dx[n,ci,ih,iw] = sum over co in the group of ci, kh, kw with
 *                                ih + pb - kh*d = oh*s (0 <= oh < OH) of w[co,ci',kh,kw] * dy[n,co,oh,ow]
 * (ci' = ci mod C_in/g; taps that fall in the padding contribute nothing). Each element sums
 * its terms in one fixed order and the example runs on one thread, so its output does not
 * depend on `threads` (KernelCheck checks that).
 *
 * -DPLANT_PADDING_BUG builds a deliberately wrong variant (the begin padding taken from the
 * end padding, one too many for `same` with an odd total) that KernelCheck's tests must catch.
 */
#include "kernelcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The problem string ------------------------------------------------------------------ */

/*
 * A conv1d or conv2d problem. Index 0 of the spatial arrays is the height, 1 the width; a
 * conv1d has height 1 (in, k, s, d = 1, no padding).
 */
typedef struct conv_problem {
    long n, ic, oc, groups;
    long in[2], k[2], s[2], d[2];
    long pad_begin[2], pad_end[2];
    long out[2];
    long bias;
} conv_problem;

/* Parses a decimal integer; returns the rest of `text`, or NULL when it does not start with one. */
static const char *parse_long(const char *text, long *out) {
    char *end;
    *out = strtol(text, &end, 10);
    return end == text ? NULL : end;
}

/* Parses `text` as a list of `rank` sizes separated by 'x' ("3x5"), or one size repeated
 * ("3"). Returns the end of the list, or NULL when it is not one. */
static const char *parse_dims(const char *text, int rank, long *out) {
    int count = 0;
    for (;;) {
        if (count == rank || (text = parse_long(text, &out[count])) == NULL) return NULL;
        count++;
        if (*text != 'x') break;
        text++;
    }
    if (count == 1)
        for (int i = 1; i < rank; i++) out[i] = out[0];
    else if (count != rank)
        return NULL;
    return text;
}

/* Padding of `p=`: `valid`, `same`, `same_lower`, `B:E` or `P` (symmetric). `*mode` becomes
 * 0 (explicit), 1 (same) or 2 (same_lower); explicit numbers go to `begin` and `end`. */
static int parse_padding(const char *value, int rank, int *mode, long *begin, long *end) {
    *mode = strcmp(value, "same") == 0 ? 1 : strcmp(value, "same_lower") == 0 ? 2 : 0;
    if (*mode != 0) return 1;
    if (strcmp(value, "valid") == 0) {
        for (int i = 0; i < rank; i++) begin[i] = end[i] = 0;
        return 1;
    }
    const char *rest = parse_dims(value, rank, begin);
    if (rest == NULL) return 0;
    if (*rest == '\0') {
        memcpy(end, begin, (size_t)rank * sizeof *begin);
        return 1;
    }
    if (*rest != ':') return 0;
    rest = parse_dims(rest + 1, rank, end);
    return rest != NULL && *rest == '\0';
}

/*
 * Parses a canonical conv1d / conv2d problem string ("conv2d n=2 ic=4 oc=8 g=2 in=7x6 k=3x3
 * s=2x1 d=1x2 p=1x0:2x1 bias=1"; missing s, d, g, p, bias take their defaults), resolves
 * `same` / `same_lower` padding and computes the output size. Returns 0 for any other op or
 * a string it cannot read.
 */
static int parse_conv(const char *problem, conv_problem *p) {
    int rank;
    if (strncmp(problem, "conv1d ", 7) == 0)
        rank = 1;
    else if (strncmp(problem, "conv2d ", 7) == 0)
        rank = 2;
    else
        return 0;

    long in[2] = {0, 0}, k[2] = {0, 0}, s[2] = {1, 1}, d[2] = {1, 1}, pb[2] = {0, 0}, pe[2] = {0, 0};
    int pad_mode = 0, have_in = 0, have_k = 0;
    memset(p, 0, sizeof *p);
    p->n = p->ic = p->oc = -1;
    p->groups = 1;

    char field[256];
    const char *cursor = problem + 7;
    while (*cursor != '\0') {
        while (*cursor == ' ') cursor++;
        size_t length = strcspn(cursor, " ");
        if (length == 0) break;
        if (length >= sizeof field) return 0;
        memcpy(field, cursor, length);
        field[length] = '\0';
        cursor += length;

        char *value = strchr(field, '=');
        if (value == NULL) return 0;
        *value++ = '\0';
        const char *rest;
        if (strcmp(field, "n") == 0) rest = parse_long(value, &p->n);
        else if (strcmp(field, "ic") == 0) rest = parse_long(value, &p->ic);
        else if (strcmp(field, "oc") == 0) rest = parse_long(value, &p->oc);
        else if (strcmp(field, "g") == 0) rest = parse_long(value, &p->groups);
        else if (strcmp(field, "bias") == 0) rest = parse_long(value, &p->bias);
        else if (strcmp(field, "in") == 0) have_in = (rest = parse_dims(value, rank, in)) != NULL;
        else if (strcmp(field, "k") == 0) have_k = (rest = parse_dims(value, rank, k)) != NULL;
        else if (strcmp(field, "s") == 0) rest = parse_dims(value, rank, s);
        else if (strcmp(field, "d") == 0) rest = parse_dims(value, rank, d);
        else if (strcmp(field, "p") == 0) rest = parse_padding(value, rank, &pad_mode, pb, pe) ? "" : NULL;
        else return 0;
        if (rest == NULL || *rest != '\0') return 0;
    }
    if (!have_in || !have_k || p->n < 0 || p->ic < 0 || p->oc < 0 || p->groups < 1) return 0;
    if (p->ic % p->groups != 0 || p->oc % p->groups != 0) return 0;

    /* A conv1d is a conv2d of height 1: the given dimension becomes the width. */
    int first = 2 - rank;
    for (int i = 0; i < 2; i++) {
        int src = i - first;
        p->in[i] = src >= 0 ? in[src] : 1;
        p->k[i] = src >= 0 ? k[src] : 1;
        p->s[i] = src >= 0 ? s[src] : 1;
        p->d[i] = src >= 0 ? d[src] : 1;
        p->pad_begin[i] = src >= 0 ? pb[src] : 0;
        p->pad_end[i] = src >= 0 ? pe[src] : 0;
        if (p->k[i] < 1 || p->s[i] < 1 || p->d[i] < 1 || p->in[i] < 0) return 0;
        long extent = p->d[i] * (p->k[i] - 1) + 1;
        if (src >= 0 && pad_mode != 0) {
            /* SAME: the output is ceil(in/s); `same` puts the odd extra pixel at the end,
             * `same_lower` at the beginning. */
            long outs = (p->in[i] + p->s[i] - 1) / p->s[i];
            long total = (outs - 1) * p->s[i] + extent - p->in[i];
            if (total < 0) total = 0;
            long small = total / 2;
            p->pad_begin[i] = pad_mode == 1 ? small : total - small;
            p->pad_end[i] = total - p->pad_begin[i];
        }
        if (p->pad_begin[i] < 0 || p->pad_end[i] < 0) return 0;
        long span = p->in[i] + p->pad_begin[i] + p->pad_end[i] - extent;
        p->out[i] = span < 0 ? 0 : span / p->s[i] + 1;
#ifdef PLANT_PADDING_BUG
        p->pad_begin[i] = p->pad_end[i];
#endif
    }
    return 1;
}

/* ---- The kernels ------------------------------------------------------------------------- */

/* y = conv(x, w) + b; `b` is NULL without a bias. */
static void conv_forward(const conv_problem *p, const float *x, const float *w, const float *b, float *y) {
    const long H = p->in[0], W = p->in[1], OH = p->out[0], OW = p->out[1];
    const long KH = p->k[0], KW = p->k[1];
    const long icg = p->ic / p->groups, ocg = p->oc / p->groups;
    for (long n = 0; n < p->n; n++)
        for (long co = 0; co < p->oc; co++) {
            const long group = co / ocg;
            for (long oh = 0; oh < OH; oh++)
                for (long ow = 0; ow < OW; ow++) {
                    float sum = b != NULL ? b[co] : 0.0f;
                    for (long c = 0; c < icg; c++) {
                        const long ci = group * icg + c;
                        for (long kh = 0; kh < KH; kh++) {
                            const long ih = oh * p->s[0] - p->pad_begin[0] + kh * p->d[0];
                            if (ih < 0 || ih >= H) continue;
                            for (long kw = 0; kw < KW; kw++) {
                                const long iw = ow * p->s[1] - p->pad_begin[1] + kw * p->d[1];
                                if (iw < 0 || iw >= W) continue;
                                sum += w[((co * icg + c) * KH + kh) * KW + kw] * x[((n * p->ic + ci) * H + ih) * W + iw];
                            }
                        }
                    }
                    y[((n * p->oc + co) * OH + oh) * OW + ow] = sum;
                }
        }
}

/* The output index `o` with o*s = t, or -1 when there is none below `limit`. */
static long strided_index(long t, long s, long limit) {
    if (t < 0 || t % s != 0 || t / s >= limit) return -1;
    return t / s;
}

/* dx = the gradient of conv(x, w) with respect to x, given dy (a gather: one sum per dx). */
static void conv_backward_data(const conv_problem *p, const float *dy, const float *w, float *dx) {
    const long H = p->in[0], W = p->in[1], OH = p->out[0], OW = p->out[1];
    const long KH = p->k[0], KW = p->k[1];
    const long icg = p->ic / p->groups, ocg = p->oc / p->groups;
    for (long n = 0; n < p->n; n++)
        for (long ci = 0; ci < p->ic; ci++) {
            const long group = ci / icg, c = ci % icg;
            for (long ih = 0; ih < H; ih++)
                for (long iw = 0; iw < W; iw++) {
                    float sum = 0.0f;
                    for (long o = 0; o < ocg; o++) {
                        const long co = group * ocg + o;
                        for (long kh = 0; kh < KH; kh++) {
                            const long oh = strided_index(ih + p->pad_begin[0] - kh * p->d[0], p->s[0], OH);
                            if (oh < 0) continue;
                            for (long kw = 0; kw < KW; kw++) {
                                const long ow = strided_index(iw + p->pad_begin[1] - kw * p->d[1], p->s[1], OW);
                                if (ow < 0) continue;
                                sum += w[((co * icg + c) * KH + kh) * KW + kw] * dy[((n * p->oc + co) * OH + oh) * OW + ow];
                            }
                        }
                    }
                    dx[((n * p->ic + ci) * H + ih) * W + iw] = sum;
                }
        }
}

/* ---- The ABI ----------------------------------------------------------------------------- */

int kernelcheck_abi_version(void) { return KERNELCHECK_ABI_VERSION; }

const char *kernelcheck_name(void) {
#ifdef PLANT_PADDING_BUG
    return "c-conv example 1.0 (planted padding bug)";
#else
    return "c-conv example 1.0";
#endif
}

int kernelcheck_supports(const char *problem, const char *direction) {
    conv_problem p;
    return parse_conv(problem, &p) && (strcmp(direction, "fwd") == 0 || strcmp(direction, "bwd_data") == 0);
}

/* The input of `role` holding `count` elements, or NULL (with a reason in `message`). */
static const float *input(const kernelcheck_tensor *inputs, size_t input_count, const char *role, long count,
                          char *message, size_t capacity) {
    for (size_t i = 0; i < input_count; i++) {
        if (strcmp(inputs[i].role, role) != 0) continue;
        long found = 1;
        for (size_t j = 0; j < inputs[i].rank; j++) found *= (long)inputs[i].shape[j];
        if (found == count) return inputs[i].data;
        snprintf(message, capacity, "input '%s' holds %ld elements, expected %ld", role, found, count);
        return NULL;
    }
    snprintf(message, capacity, "input '%s' is missing", role);
    return NULL;
}

int kernelcheck_run(const char *problem, const char *direction, const kernelcheck_tensor *inputs, size_t input_count,
                    const kernelcheck_output *output, int threads, char *message, size_t message_capacity) {
    (void)threads; /* always one thread: see the top of the file */
    conv_problem p;
    if (!parse_conv(problem, &p)) return KERNELCHECK_UNSUPPORTED;
    const long x_count = p.n * p.ic * p.in[0] * p.in[1];
    const long y_count = p.n * p.oc * p.out[0] * p.out[1];
    const long w_count = p.oc * (p.ic / p.groups) * p.k[0] * p.k[1];
    const int forward = strcmp(direction, "fwd") == 0;
    if (!forward && strcmp(direction, "bwd_data") != 0) return KERNELCHECK_UNSUPPORTED;

    const long expected = forward ? y_count : x_count;
    if ((long)output->count != expected) {
        snprintf(message, message_capacity, "output '%s' holds %zu elements, expected %ld", output->role,
                 output->count, expected);
        return KERNELCHECK_ERROR;
    }
    const float *w = input(inputs, input_count, "w", w_count, message, message_capacity);
    if (w == NULL) return KERNELCHECK_ERROR;
    if (forward) {
        const float *x = input(inputs, input_count, "x", x_count, message, message_capacity);
        const float *b = p.bias ? input(inputs, input_count, "b", p.oc, message, message_capacity) : NULL;
        if (x == NULL || (p.bias && b == NULL)) return KERNELCHECK_ERROR;
        conv_forward(&p, x, w, b, output->data);
    } else {
        const float *dy = input(inputs, input_count, "dy", y_count, message, message_capacity);
        if (dy == NULL) return KERNELCHECK_ERROR;
        conv_backward_data(&p, dy, w, output->data);
    }
    return KERNELCHECK_OK;
}

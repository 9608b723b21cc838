#!/usr/bin/env python3
"""Peer baselines for `kernelcheck bench`: numpy (OpenBLAS) matmul, PyTorch (CPU) matmul and
convolutions, and ONNX Runtime (CPU) forward matmul and convolutions, timed with an explicit
thread count.

Prints one JSON object per line on stdout (progress goes to stderr):

    {"framework": "numpy", "version": "2.4.6", "op": "matmul", "direction": "fwd",
     "problem": "matmul a=1024x1024 b=1024x1024 ta=0 tb=0", "threads": 1, "runs": 5,
     "median_s": 0.0089, "min_s": 0.0088, "flops": 2147483648.0, "gflops": 241.3,
     "cores_used": 0.99}

`problem` is the KernelCheck canonical problem string, so rows join with the Swift
benchmark's output. FLOPs follow the descriptors: a multiply-add counts 2; a transposed
convolution counts its scatter form `N·C_in·∏in·C_out·∏k` multiply-adds.

`--dtypes bf16,f16,f8e4m3,f8e5m2` also times PyTorch on inputs and outputs of that type
(`torch.bfloat16`, `float16`, `float8_e4m3fn`, `float8_e5m2`; accumulation is PyTorch's own,
float32 in its bf16 / f16 CPU kernels): the problem string gets ` dt=<type>`, as KernelCheck
writes the same problem. Where PyTorch has no CPU kernel for a type (fp8 convolutions) the
line says so instead of a number:

    {"framework": "torch", "version": "2.13.0+cpu", "op": "conv2d", "direction": "fwd",
     "problem": "conv2d … bias=0 dt=f8e4m3", "threads": 1,
     "unavailable": "\"slow_conv2d_cpu\" not implemented for 'Float8_e4m3fn'"}

numpy and ONNX Runtime time float32 only.

Thread counts are fixed per process before numpy/torch load: each requested count runs in
a child process whose environment sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS /
MKL_NUM_THREADS and *unsets* OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (this machine sets
them for old OpenBLAS builds; they make the bundled OpenBLAS pick a slower kernel). The
caller's environment is left alone. Torch additionally gets torch.set_num_threads(t), ONNX
Runtime intra_op_num_threads = t (inter-op 1, sequential). Each framework runs in its own
child, so idle BLAS workers of one never disturb the other.

ONNX Runtime runs one-node graphs (MatMul, Conv, ConvTranspose; `ort_model`, built with
`onnx.helper` when the `onnx` package is importable, else skipped with one line on stderr)
and only the forward direction: it has no training kernels to compare the backward with.

Usage:
    python3 tools/bench_peers.py --threads 1 --runs 5 [--only matmul]
    python3 tools/bench_peers.py --threads 1,2 --only conv2d --directions fwd \
        --problem 'conv2d n=8 ic=64 oc=64 g=1 in=56x56 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=0'
    python3 tools/bench_peers.py --threads 1,2 --only conv2d,convt2d --frameworks torch
    python3 tools/bench_peers.py --threads 1 --only matmul --matmul-sizes 1024 --frameworks torch --dtypes f32,bf16
"""
import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

MATMUL_SIZES = [256, 1024, 2048]

# (batch, in_channels, out_channels, spatial, kernel, stride, padding), NCHW, no bias.
CONV2D_CASES = [
    (16, 128, 256, 16, 5, 1, 2),   # DCGAN-style discriminator layer
    (16, 256, 256, 32, 5, 1, 2),
    (16, 256, 3, 32, 7, 1, 3),     # to-RGB head
    (8, 64, 64, 56, 3, 1, 1),      # ResNet basic block
    (8, 256, 512, 56, 1, 2, 0),    # ResNet option-B shortcut: 1×1 stride 2
    (16, 3, 32, 256, 5, 1, 2),     # first layer on 256×256×3 images
]

# (batch, in_channels, out_channels, spatial, kernel, stride, padding): GAN generator
# upsampling 16×16 → 32×32.
CONVT2D_CASES = [
    (16, 256, 256, 16, 4, 2, 1),
]

DIRECTIONS = ["fwd", "bwd_data", "bwd_weights"]
# KernelCheck's storage types (`dt=`) and PyTorch's dtype names for them.
DTYPES = {"f32": "float32", "bf16": "bfloat16", "f16": "float16", "f8e4m3": "float8_e4m3fn",
          "f8e5m2": "float8_e5m2"}
FAMILIES = ["matmul", "conv2d", "convt2d"]
FRAMEWORKS = ["numpy", "torch", "onnxruntime"]


def log(message):
    print(message, file=sys.stderr, flush=True)


class Samples(list):
    """Seconds per call of each timed sample, and `cores_used`: the process's CPU time (every
    thread, user + system) over the samples' wall time, as `kernelcheck bench` records it for
    the tiled rows. Well below the thread count, a thread waited for a CPU."""
    cores_used = None


def process_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_runs(fn, runs, warmup, minimum_sample_seconds=0.02):
    """Seconds per call of `runs` samples, by the rule of Swift's `Tiled.benchmark`: an
    untimed warm-up of at least `warmup` calls and 0.1 s, then samples of as many back-to-back
    calls as last ≥ 20 ms (a single 80 µs call times thread wake-ups, not the kernel)."""
    calls, start = 0, time.perf_counter()
    while calls < max(1, warmup) or time.perf_counter() - start < 0.1:
        fn()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    repetitions = max(1, math.ceil(minimum_sample_seconds / per_call)) if per_call > 0 else 1
    seconds = Samples()
    cpu_start, wall_start = process_cpu_seconds(), time.perf_counter()
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(repetitions):
            fn()
        seconds.append((time.perf_counter() - start) / repetitions)
    wall = time.perf_counter() - wall_start
    if wall > 0:
        seconds.cores_used = (process_cpu_seconds() - cpu_start) / wall
    return seconds


def warm_allocator():
    """Leaves glibc malloc as a long-running process leaves it: freeing a large block raises
    its mmap threshold (up to 32 MiB), after which big tensors come from the heap instead of
    fresh, page-faulting mappings on every call. A fresh child measured PyTorch's first conv
    ≈ 15 % slower than the same child after a 2048² matmul; `kernelcheck bench` does the same
    in its own process (`Benchmark.warmAllocator`)."""
    import ctypes
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    block = libc.malloc((32 << 20) - (64 << 10))
    libc.free(block)


def emit(framework, version, op, direction, problem, threads, seconds, flops):
    median = statistics.median(seconds)
    record = {
        "framework": framework, "version": version, "op": op, "direction": direction,
        "problem": problem, "threads": threads, "runs": len(seconds),
        "median_s": median, "min_s": min(seconds), "flops": flops,
        "gflops": flops / median / 1e9,
    }
    if getattr(seconds, "cores_used", None) is not None:
        record["cores_used"] = seconds.cores_used
    print(json.dumps(record), flush=True)
    log(f"{framework:6} {problem} {direction:11} threads={threads}: {record['gflops']:.1f} GFLOP/s")


def emit_unavailable(framework, version, op, direction, problem, threads, reason):
    """A line for a (problem, direction) the framework cannot run: the reason, no number."""
    record = {"framework": framework, "version": version, "op": op, "direction": direction,
              "problem": problem, "threads": threads, "unavailable": reason}
    print(json.dumps(record), flush=True)
    log(f"{framework:6} {problem} {direction:11} threads={threads}: n/a ({reason})")


def with_dtype(problem, dtype):
    """The problem string of `problem` stored in `dtype` (KernelCheck's canonical suffix)."""
    return problem if dtype == "f32" else f"{problem} dt={dtype}"


def matmul_problem(n):
    return f"matmul a={n}x{n} b={n}x{n} ta=0 tb=0"


def conv_out(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


def conv_problem(n, ic, oc, size, k, s, p):
    # Unpadded layers are written `p=valid`, as the Swift benchmark list writes them.
    padding = "valid" if p == 0 else f"{p}x{p}:{p}x{p}"
    return (f"conv2d n={n} ic={ic} oc={oc} g=1 in={size}x{size} k={k}x{k} s={s}x{s} d=1x1 "
            f"p={padding} bias=0")


def convt_problem(n, ic, oc, size, k, s, p):
    return (f"convt2d n={n} ic={ic} oc={oc} g=1 in={size}x{size} k={k}x{k} s={s}x{s} d=1x1 "
            f"p={p}x{p}:{p}x{p} op=0x0 bias=0")


def bench_numpy(args, threads):
    import numpy as np
    if "matmul" not in args.only:
        return
    rng = np.random.default_rng(0)
    for n in args.matmul_sizes:
        a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        dc = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        out = np.empty((n, n), dtype=np.float32)
        # The transposed operands are views (b.T, a.T): numpy hands OpenBLAS the transpose
        # flag, no copy, so each direction is the one sgemm call a backward pass makes.
        calls = {
            "fwd": lambda: np.matmul(a, b, out=out),
            "bwd_data": lambda: np.matmul(dc, b.T, out=out),     # dA = dC · Bᵀ
            "bwd_weights": lambda: np.matmul(a.T, dc, out=out),  # dB = Aᵀ · dC
        }
        for direction in args.directions:
            seconds = time_runs(calls[direction], args.runs, args.warmup)
            emit("numpy", np.__version__, "matmul", direction, matmul_problem(n), threads, seconds, 2.0 * n ** 3)


def bench_torch(args, threads):
    import torch
    torch.set_num_threads(threads)
    for dtype in args.dtypes:
        bench_torch_dtype(args, threads, dtype)


def bench_torch_dtype(args, threads, dtype):
    import torch
    import torch.nn.functional as F
    version = torch.__version__
    gen = torch.Generator().manual_seed(0)
    torch_dtype = getattr(torch, DTYPES[dtype])

    def uniform(*shape):
        return (torch.rand(*shape, generator=gen, dtype=torch.float32) * 2 - 1).to(torch_dtype)

    def timed(op, direction, problem, call, flops):
        problem = with_dtype(problem, dtype)
        try:
            call()
        except (RuntimeError, NotImplementedError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            emit_unavailable("torch", version, op, direction, problem, threads, reason)
            return
        seconds = time_runs(call, args.runs, args.warmup)
        emit("torch", version, op, direction, problem, threads, seconds, flops)

    with torch.no_grad():
        if "matmul" in args.only:
            for n in args.matmul_sizes:
                a, b, dc = uniform(n, n), uniform(n, n), uniform(n, n)
                c = torch.empty(n, n, dtype=torch_dtype)
                # What autograd's mm backward calls: dA = dC · Bᵀ, dB = Aᵀ · dC (strided views).
                calls = {
                    "fwd": lambda: torch.matmul(a, b, out=c),
                    "bwd_data": lambda: torch.matmul(dc, b.t(), out=c),
                    "bwd_weights": lambda: torch.matmul(a.t(), dc, out=c),
                }
                for direction in args.directions:
                    timed("matmul", direction, matmul_problem(n), calls[direction], 2.0 * n ** 3)

        # aten.convolution_backward computes one gradient at a time through output_mask,
        # which is what the direction-specific timings need (no autograd graph involved).
        backward = torch.ops.aten.convolution_backward.default

        # The ordinary and the transposed convolution: (cases, problem string, output size,
        # weight shape, forward, whether convolution_backward runs it transposed).
        convolutions = {
            "conv2d": (CONV2D_CASES, conv_problem, conv_out, lambda ic, oc, k: (oc, ic, k, k), F.conv2d, False),
            # Transposed-conv weights are C_in × C_out × k × k.
            "convt2d": (CONVT2D_CASES, convt_problem, lambda size, k, s, p: (size - 1) * s - 2 * p + k,
                        lambda ic, oc, k: (ic, oc, k, k), F.conv_transpose2d, True),
        }
        for op, (cases, name, out_size, weight_shape, forward, transposed) in convolutions.items():
            if op not in args.only:
                continue
            for (n, ic, oc, size, k, s, p) in cases:
                out = out_size(size, k, s, p)
                x, w, dy = uniform(n, ic, size, size), uniform(*weight_shape(ic, oc, k)), uniform(n, oc, out, out)
                # Multiply-adds per output (conv) or per input (transposed) pixel: ic·oc·k².
                flops = 2.0 * n * (out * out if not transposed else size * size) * ic * oc * k * k
                problem = name(n, ic, oc, size, k, s, p)
                if args.problem and problem not in args.problem:
                    continue
                calls = {
                    "fwd": lambda: forward(x, w, stride=s, padding=p),
                    "bwd_data": lambda: backward(dy, x, w, None, [s, s], [p, p], [1, 1], transposed, [0, 0], 1,
                                                 [True, False, False]),
                    "bwd_weights": lambda: backward(dy, x, w, None, [s, s], [p, p], [1, 1], transposed, [0, 0], 1,
                                                    [False, True, False]),
                }
                for direction in args.directions:
                    timed(op, direction, problem, calls[direction], flops)

def ort_model(op, input_shapes, attributes=None, opset=17):
    """Serialized one-node ONNX model: float inputs `x` (and `w`) of `input_shapes`, output
    `y` of inferred shape; `op` is MatMul, Conv or ConvTranspose."""
    from onnx import TensorProto, helper
    names = ["x", "w"][:len(input_shapes)]
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))
              for name, shape in zip(names, input_shapes)]
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    node = helper.make_node(op, names, ["y"], **(attributes or {}))
    graph = helper.make_graph([node], f"kernelcheck_{op.lower()}", inputs, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8  # what every ONNX Runtime of the last years loads
    return model.SerializeToString()


def ort_session(model, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def bench_onnxruntime(args, threads):
    import numpy as np
    try:
        import onnx  # noqa: F401  (the graph builder needs it)
        import onnxruntime as ort
    except ImportError as error:
        log(f"onnxruntime peer skipped: {error}")
        return
    if "fwd" not in args.directions:
        return
    rng = np.random.default_rng(0)

    def uniform(*shape):
        return rng.uniform(-1, 1, shape).astype(np.float32)

    def run(op, problem, model, feeds, flops):
        session = ort_session(model, threads)
        seconds = time_runs(lambda: session.run(None, feeds), args.runs, args.warmup)
        emit("onnxruntime", ort.__version__, op, "fwd", problem, threads, seconds, flops)

    if "matmul" in args.only:
        for n in args.matmul_sizes:
            run("matmul", matmul_problem(n), ort_model("MatMul", [(n, n), (n, n)]),
                {"x": uniform(n, n), "w": uniform(n, n)}, 2.0 * n ** 3)
    for op, cases, name, transposed in (("conv2d", CONV2D_CASES, conv_problem, False),
                                        ("convt2d", CONVT2D_CASES, convt_problem, True)):
        if op not in args.only:
            continue
        for (n, ic, oc, size, k, s, p) in cases:
            problem = name(n, ic, oc, size, k, s, p)
            if args.problem and problem not in args.problem:
                continue
            weight = (ic, oc, k, k) if transposed else (oc, ic, k, k)
            attributes = {"kernel_shape": [k, k], "strides": [s, s], "pads": [p, p, p, p]}
            model = ort_model("ConvTranspose" if transposed else "Conv", [(n, ic, size, size), weight], attributes)
            pixels = size * size if transposed else conv_out(size, k, s, p) ** 2
            run(op, problem, model, {"x": uniform(n, ic, size, size), "w": uniform(*weight)},
                2.0 * n * pixels * ic * oc * k * k)


# KERNELCHECK_PEER_ISA=avx2 restricts the peers that allow it to AVX2 code, to compare a
# forced `--kernel-variant avx2` on an AVX-512 machine: PyTorch's ATen kernels
# (ATEN_CPU_CAPABILITY), its oneDNN convolutions (ONEDNN_MAX_CPU_ISA), its MKL matmul
# (MKL_ENABLE_INSTRUCTIONS) and OpenBLAS (OPENBLAS_CORETYPE=Haswell). ONNX Runtime has no
# such switch and runs its widest kernels.
PEER_ISA_ENVIRONMENT = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
             "OPENBLAS_CORETYPE": "Haswell"},
}


def child_environment(threads):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env.update(PEER_ISA_ENVIRONMENT.get(os.environ.get("KERNELCHECK_PEER_ISA", ""), {}))
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    return env


def csv(kind, allowed=None):
    def parse(text):
        values = [kind(v) for v in text.split(",") if v]
        if allowed is not None:
            bad = [v for v in values if v not in allowed]
            if bad:
                raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {','.join(map(str, allowed))}")
        return values
    return parse


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=csv(int), default=[1], help="thread counts, e.g. 1 or 1,2")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (median reported; ≥ 5 advised)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before timing")
    parser.add_argument("--only", type=csv(str, FAMILIES), default=FAMILIES, help="op families: matmul,conv2d,convt2d")
    parser.add_argument("--frameworks", type=csv(str, FRAMEWORKS), default=FRAMEWORKS, help="numpy,torch,onnxruntime")
    parser.add_argument("--directions", type=csv(str, DIRECTIONS), default=DIRECTIONS,
                        help="directions: fwd,bwd_data,bwd_weights (matmul: bwd_data = dC·Bᵀ, bwd_weights = Aᵀ·dC)")
    parser.add_argument("--matmul-sizes", type=csv(int), default=MATMUL_SIZES, help="square matmul sizes")
    parser.add_argument("--problem", action="append", default=[],
                        help="only this convolution problem string (repeatable; matmul: --matmul-sizes)")
    parser.add_argument("--dtypes", type=csv(str, list(DTYPES)), default=["f32"],
                        help="PyTorch storage types: f32,bf16,f16,f8e4m3,f8e5m2 (numpy / ONNX Runtime: f32 only)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.runs < 1 or any(t < 1 for t in args.threads):
        parser.error("--runs and --threads must be ≥ 1")

    if args.child:
        threads = args.threads[0]
        warm_allocator()
        if "numpy" in args.frameworks and "f32" in args.dtypes:
            bench_numpy(args, threads)
        if "torch" in args.frameworks:
            bench_torch(args, threads)
        if "onnxruntime" in args.frameworks and "f32" in args.dtypes:
            bench_onnxruntime(args, threads)
        return

    # One process per (thread count, framework): the thread count must be in the
    # environment before the BLAS loads, and one library's idle spinning workers must not
    # steal cycles from the other's timed runs.
    for threads in args.threads:
        for framework in args.frameworks:
            command = [sys.executable, os.path.abspath(__file__), "--child", "--threads", str(threads),
                       "--runs", str(args.runs), "--warmup", str(args.warmup),
                       "--only", ",".join(args.only), "--frameworks", framework,
                       "--directions", ",".join(args.directions), "--dtypes", ",".join(args.dtypes),
                       "--matmul-sizes", ",".join(map(str, args.matmul_sizes))]
            for problem in args.problem:
                command += ["--problem", problem]
            result = subprocess.run(command, env=child_environment(threads))
            if result.returncode != 0:
                sys.exit(result.returncode)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""ONNX Runtime's float32 CPU kernels as a KernelCheck worker (docs/worker-protocol.md).

    kernelcheck check --impl exec:'python3 tools/adapters/onnxruntime.py' --op conv --op conv_transpose \\
        --op matmul --op linear --direction fwd

Forward only: Conv (conv1d-3d), ConvTranspose (convt1d-3d), MatMul / Gemm (matmul) and Gemm
(linear), each a one-node graph (onnx_model.py) run by an InferenceSession whose
intra_op_num_threads is the case's `threads`. Padding is always explicit (`pads` = begins
then ends, as resolved by the fixture oracle); a transposed convolution's crop is its `pads`.
matmul with ta/tb: rank 2 uses Gemm's transA/transB; batched operands are transposed by
numpy first (a copy, not arithmetic) because MatMul has no transpose flags.
"""

import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np

# This file is named onnxruntime.py: its folder must not be on sys.path when the real
# onnxruntime is imported, only afterwards (for kcworker and onnx_model).
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
import onnxruntime as ort  # noqa: E402

sys.path.insert(0, str(HERE))
from kcworker import Unsupported, serve  # noqa: E402
from onnx_model import model  # noqa: E402

SUPPORTS = {op: ["fwd"] for op in ["conv1d", "conv2d", "conv3d", "convt1d", "convt2d", "convt3d", "matmul", "linear"]}


def conv_graph(case):
    spec, x = case.spec, case.inputs
    begin, end = spec.padding()
    attributes = {"kernel_shape": spec.k, "strides": spec.s, "dilations": spec.d, "group": spec.g,
                  "pads": list(begin) + list(end)}
    if spec.transposed:
        attributes["output_padding"] = spec.op_pad
    names = ["x", "w"] + (["b"] if spec.bias else [])
    feeds = {n: x[n] for n in names}
    op = "ConvTranspose" if spec.transposed else "Conv"
    return op, feeds, attributes, case.output_shape


def matmul_graph(case):
    f = case.fields
    ta, tb = f.bool("ta", False), f.bool("tb", False)
    a, b = case.inputs["a"], case.inputs["b"]
    if a.ndim == 2 and b.ndim == 2:
        return "Gemm", {"a": a, "b": b}, {"transA": int(ta), "transB": int(tb)}, case.output_shape
    if ta:
        a = np.ascontiguousarray(np.swapaxes(a, -1, -2))
    if tb:
        b = np.ascontiguousarray(np.swapaxes(b, -1, -2))
    return "MatMul", {"a": a, "b": b}, {}, case.output_shape


def linear_graph(case):
    # Gemm wants rank 2: x [..., in] is viewed as [rows, in] (a reshape, no copy).
    x, w = case.inputs["x"], case.inputs["w"]
    feeds = {"x": x.reshape(int(np.prod(x.shape[:-1])), w.shape[1]), "w": w}
    if "b" in case.inputs:
        feeds["b"] = case.inputs["b"]
    return "Gemm", feeds, {"transB": 1}, [feeds["x"].shape[0], w.shape[0]]


GRAPHS = {"conv": conv_graph, "convt": conv_graph, "matmul": matmul_graph, "linear": linear_graph}
QUIET = ort.RunOptions()
QUIET.log_severity_level = 4
sessions: "OrderedDict[tuple, ort.InferenceSession]" = OrderedDict()


def session(key, op, feeds, attributes, output_shape, threads):
    """The session of one problem and thread count; the last 16 are kept (the determinism
    check repeats each case)."""
    if key in sessions:
        sessions.move_to_end(key)
        return sessions[key]
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 4  # errors come back to the harness as answers, not log lines
    graph = model(op, {n: list(v.shape) for n, v in feeds.items()}, output_shape, attributes)
    try:
        s = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    except Exception as e:
        if type(e).__name__ == "NotImplemented":
            raise Unsupported(f"onnxruntime: {str(e).splitlines()[0]}") from e
        raise
    sessions[key] = s
    if len(sessions) > 16:
        sessions.popitem(last=False)
    return s


def compute(case):
    if case.direction != "fwd":
        raise Unsupported(f"{case.op} {case.direction}: this adapter runs forward passes only")
    family = case.op.rstrip("123d") if case.op.startswith("conv") else case.op
    op, feeds, attributes, output_shape = GRAPHS[family](case)
    s = session((case.problem, case.threads), op, feeds, attributes, output_shape, case.threads)
    (y,) = s.run(None, feeds, QUIET)
    return y.reshape(case.output_shape)


if __name__ == "__main__":
    sys.exit(serve(f"onnxruntime {ort.__version__} cpu float32", compute, honours_threads=True, supports=SUPPORTS))

"""The ONNX Runtime peer's one-node graphs compute the ops they are timed as: each graph's
output equals a hand-derived value or a naive numpy loop on small inputs."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import bench_peers  # noqa: E402

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def run(model, **feeds):
    return bench_peers.ort_session(model, threads=1).run(None, feeds)[0]


def test_matmul_graph_multiplies():
    x = np.array([[1, 2], [3, 4]], dtype=np.float32)
    w = np.array([[5, 6], [7, 8]], dtype=np.float32)
    y = run(bench_peers.ort_model("MatMul", [(2, 2), (2, 2)]), x=x, w=w)
    assert y.tolist() == [[19, 22], [43, 50]]


def test_conv_graph_is_cross_correlation_with_stride_and_padding():
    rng = np.random.default_rng(1)
    x = rng.integers(-3, 4, (1, 2, 5, 5)).astype(np.float32)
    w = rng.integers(-3, 4, (3, 2, 3, 3)).astype(np.float32)
    attributes = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}
    y = run(bench_peers.ort_model("Conv", [x.shape, w.shape], attributes), x=x, w=w)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = bench_peers.conv_out(5, 3, 2, 1)
    expected = np.zeros((1, 3, out, out), dtype=np.float32)
    for o in range(3):
        for i in range(out):
            for j in range(out):
                expected[0, o, i, j] = np.sum(padded[0, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3] * w[o])
    assert np.array_equal(y, expected)


def test_conv_transpose_graph_scatters_each_input():
    # x = [1 2], w = [1 10], stride 2: each input writes x[i]·w[k] at 2i + k.
    x = np.array([1, 2], dtype=np.float32).reshape(1, 1, 1, 2)
    w = np.array([1, 10], dtype=np.float32).reshape(1, 1, 1, 2)
    attributes = {"kernel_shape": [1, 2], "strides": [1, 2], "pads": [0, 0, 0, 0]}
    y = run(bench_peers.ort_model("ConvTranspose", [x.shape, w.shape], attributes), x=x, w=w)
    assert y.reshape(-1).tolist() == [1, 10, 2, 20]


def test_dtype_suffix_is_the_canonical_problem_string():
    assert bench_peers.with_dtype("matmul a=8x8 b=8x8 ta=0 tb=0", "f32") == "matmul a=8x8 b=8x8 ta=0 tb=0"
    assert bench_peers.with_dtype("matmul a=8x8 b=8x8 ta=0 tb=0", "bf16") == "matmul a=8x8 b=8x8 ta=0 tb=0 dt=bf16"


def test_a_missing_torch_kernel_is_reported_with_its_reason_and_no_number(capsys):
    pytest.importorskip("torch")
    import argparse
    import json
    # PyTorch 2.13 has no CPU convolution for float8_e4m3fn (slow_conv2d_cpu refuses it).
    case = bench_peers.CONV2D_CASES[3]
    args = argparse.Namespace(only=["conv2d"], directions=["fwd"], runs=1, warmup=1, matmul_sizes=[],
                              problem=[bench_peers.conv_problem(*case)])
    bench_peers.bench_torch_dtype(args, threads=1, dtype="f8e4m3")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 1
    assert lines[0]["problem"] == bench_peers.conv_problem(*case) + " dt=f8e4m3"
    assert "Float8_e4m3fn" in lines[0]["unavailable"]
    assert "gflops" not in lines[0] and "median_s" not in lines[0]


def test_time_runs_reports_the_cores_it_kept_busy():
    # A pure-Python loop on one thread: one timed sample per run, and CPU time that advanced
    # while it ran (cores_used > 0; at most about one core plus interpreter threads).
    samples = bench_peers.time_runs(lambda: sum(range(20000)), runs=3, warmup=1)
    assert isinstance(samples, list) and len(samples) == 3
    assert samples.cores_used is not None and 0 < samples.cores_used < 4

"""Tests of the fixture oracle (tools/oracle.py). Run: python3 -m pytest tools/test_oracle.py

Expected values here come from hand derivations (worked out in the comments), from naive
numpy loops written from the formulas of docs/design.md, or from central finite differences — never
from the oracle itself.
"""

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
ORACLE = TOOLS / "oracle.py"
sys.path.insert(0, str(TOOLS))
import oracle  # noqa: E402


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

def write_case(path, problem, inputs, mode="a"):
    """Writes one case group with float32 inputs, as the Swift side does."""
    with h5py.File(path, mode) as f:
        f.attrs["schema_version"] = np.int64(1)
        g = f.create_group(problem)
        g.attrs["problem"] = problem
        g.attrs["schema_version"] = np.int64(1)
        g.attrs["seed"] = np.int64(0)
        g.attrs["fill"] = "normal(0,1)"
        for role, value in inputs.items():
            g.create_dataset(role, data=np.asarray(value, dtype=np.float32))


def run_oracle(*args, env=None):
    """Runs `python3 tools/oracle.py ARGS` as a subprocess (the interface the Swift side uses)."""
    return subprocess.run([sys.executable, str(ORACLE), *args], capture_output=True, text=True, env=env)


def call_oracle(*args):
    """Runs oracle.main in this process (importing torch once keeps the suite fast); returns
    the same (returncode, stdout, stderr) triple as a subprocess."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = oracle.main(list(args))
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def fill_one(tmp_path, problem, inputs):
    """Writes one case, runs `oracle.py fill`, returns the group's datasets and attributes."""
    path = tmp_path / "case.h5"
    write_case(path, problem, inputs, mode="w")
    r = call_oracle("fill", str(path))
    assert r.returncode == 0, r.stderr
    with h5py.File(path) as f:
        g = f[problem]
        data = {k: g[k][()] for k in g}
        attrs = {k: g.attrs[k] for k in g.attrs}
    return data, attrs


def random_inputs(problem_text, rng):
    p = oracle.parse_problem(problem_text)
    out = {}
    for role, shape in p.input_shapes().items():
        v = rng.standard_normal(shape)
        if role == "var":
            v = rng.uniform(0.5, 2.0, shape)  # running variance is non-negative
        out[role] = np.asarray(v, dtype=np.float32)
    return out


# --------------------------------------------------------------------------------------------
# hand-checked values
# --------------------------------------------------------------------------------------------

def test_conv2d_2x2_kernel_stride2_pad1_by_hand(tmp_path):
    # x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,2],[3,4]], stride 2, pad 1 on every side.
    # Padded 5x5 input: rows 0 and 4 and columns 0 and 4 are zero. out = ⌊(3+2−2)/2⌋+1 = 2.
    # y[i,j] = Σ_ab w[a,b]·xp[2i+a, 2j+b]:
    #   y00 = w11·1 = 4;  y01 = w10·2 + w11·3 = 6+12 = 18;  y10 = w01·4 + w11·7 = 8+28 = 36;
    #   y11 = 1·5 + 2·6 + 3·8 + 4·9 = 77.
    # With dy = 1: each input pixel (padded row r = i+1) lies in exactly one window, at tap
    # r mod 2, so dx[i,j] = w[(i+1)%2, (j+1)%2] = [[4,3,4],[2,1,2],[4,3,4]];
    # dw[a,b] = Σ_ij xp[2i+a, 2j+b]: dw00 = 5, dw01 = 4+6 = 10, dw10 = 2+8 = 10, dw11 = 1+3+7+9 = 20.
    problem = "conv2d n=1 ic=1 oc=1 g=1 in=3x3 k=2x2 s=2x2 d=1x1 p=1x1:1x1 bias=0"
    x = np.arange(1, 10).reshape(1, 1, 3, 3)
    w = np.array([[1, 2], [3, 4]]).reshape(1, 1, 2, 2)
    data, attrs = fill_one(tmp_path, problem, {"x": x, "w": w, "dy": np.ones((1, 1, 2, 2))})
    assert data["y"].dtype == np.float64
    np.testing.assert_array_equal(data["y"].reshape(2, 2), [[4, 18], [36, 77]])
    np.testing.assert_array_equal(data["dx"].reshape(3, 3), [[4, 3, 4], [2, 1, 2], [4, 3, 4]])
    np.testing.assert_array_equal(data["dw"].reshape(2, 2), [[5, 10], [10, 20]])
    assert "db" not in data
    assert attrs["directions"] == "fwd,bwd_data,bwd_weights"
    assert attrs["oracle"] == oracle.oracle_string()


@pytest.mark.parametrize("mode,expected", [
    # in 4, k 2, s 1: total = (4−1)·1 + 1·(2−1) + 1 − 4 = 1.
    # same (SAME_UPPER) pads 0:1 -> y[i] = x[i] + 10·x[i+1] with x[4] = 0.
    ("same", [21, 32, 43, 4]),
    # same_lower pads 1:0 -> y[i] = x[i−1] + 10·x[i] with x[−1] = 0.
    ("same_lower", [10, 21, 32, 43]),
    # explicit 2:0 -> y[i] = x[i−2] + 10·x[i−1], out = 4 + 2 − 1 = 5.
    ("2:0", [0, 10, 21, 32, 43]),
])
def test_conv1d_padding_modes_by_hand(tmp_path, mode, expected):
    problem = f"conv1d n=1 ic=1 oc=1 g=1 in=4 k=2 s=1 d=1 p={mode} bias=0"
    x = np.array([1, 2, 3, 4]).reshape(1, 1, 4)
    w = np.array([1, 10]).reshape(1, 1, 2)
    dy = np.ones((1, 1, len(expected)))
    data, _ = fill_one(tmp_path, problem, {"x": x, "w": w, "dy": dy})
    np.testing.assert_array_equal(data["y"].ravel(), expected)


def test_conv_transpose_same_k4_s2_16_to_32(tmp_path):
    # Transposed 'same' with k4 s2: total crop d·(k−1) + 1 + op − s = 3 + 1 − 2 = 2 -> 1 and 1,
    # out = (16−1)·2 + 3 + 1 − 2 = 32 = in·s (the GAN generator's 16 -> 32).
    # With x = 1 and w = 1 the full output counts the pairs (i, k) with 2i + k = p,
    # i ∈ [0, 15], k ∈ [0, 3]: 1 at p = 0, 1, 32, 33 and 2 in between. After the crop
    # (p = 1 … 32) each axis profile is [1, 2, …, 2, 1]; in 2-D the count is the product.
    problem = "convt2d n=1 ic=1 oc=1 g=1 in=16x16 k=4x4 s=2x2 d=1x1 p=same op=0x0 bias=1"
    profile = np.array([1] + [2] * 30 + [1], dtype=np.float64)
    b = 0.5
    data, attrs = fill_one(tmp_path, problem, {
        "x": np.ones((1, 1, 16, 16)), "w": np.ones((1, 1, 4, 4)), "b": [b], "dy": np.ones((1, 1, 32, 32))})
    assert data["y"].shape == (1, 1, 32, 32)
    np.testing.assert_array_equal(data["y"][0, 0], np.outer(profile, profile) + b)
    # db = Σ dy = 32·32; every input pixel touches 4·4 = 16 kept outputs except where the
    # crop removes some: dx[i] profile = 3 at i = 0 and 15 (one tap cropped), 4 elsewhere.
    np.testing.assert_array_equal(data["db"], [1024])
    dx_profile = np.array([3] + [4] * 14 + [3], dtype=np.float64)
    np.testing.assert_array_equal(data["dx"][0, 0], np.outer(dx_profile, dx_profile))
    assert attrs["directions"] == "fwd,bwd_data,bwd_weights,bwd_bias"


def test_convt1d_same_by_hand(tmp_path):
    # in 2, k4, s2: full output (2−1)·2 + 4 = 6: full[p] = Σ_i x[i]·w[p − 2i]
    # = [1·1, 1·2, 1·3 + 2·1, 1·4 + 2·2, 2·3, 2·4] = [1, 2, 5, 8, 6, 8];
    # same crops 1 and 1 -> [2, 5, 8, 6]; same_lower: total 2 is even -> identical.
    problem = "convt1d n=1 ic=1 oc=1 g=1 in=2 k=4 s=2 d=1 p=same op=0 bias=0"
    data, _ = fill_one(tmp_path, problem, {
        "x": np.array([1, 2]).reshape(1, 1, 2), "w": np.array([1, 2, 3, 4]).reshape(1, 1, 4),
        "dy": np.array([1, 0, 0, 0]).reshape(1, 1, 4)})
    np.testing.assert_array_equal(data["y"].ravel(), [2, 5, 8, 6])
    # dy selects y[0] = full[1] = x[0]·w[1]: dx = [w[1], 0] = [2, 0]; dw = [0, x[0], 0, 0].
    np.testing.assert_array_equal(data["dx"].ravel(), [2, 0])
    np.testing.assert_array_equal(data["dw"].ravel(), [0, 1, 0, 0])


@pytest.mark.parametrize("geometry,w,expected", [
    # k3 s2 op1: total crop d·(k−1) + 1 + op − s = 2 + 1 + 1 − 2 = 2 -> 1:1. Full output with
    # the output-padding slot: [1·1, 1·2, 1·3 + 2·1, 2·2, 2·3, 0] = [1, 2, 5, 4, 6, 0] -> [2, 5, 4, 6].
    ("k=3 s=2 d=1 p=same op=1", [1, 2, 3], [2, 5, 4, 6]),
    # k4 s2 op1: total 3 + 1 + 1 − 2 = 3. Full: [1, 2, 3 + 2, 4 + 4, 6, 8, 0] = [1, 2, 5, 8, 6, 8, 0];
    # same crops 1:2 -> [2, 5, 8, 6]; same_lower crops 2:1 -> [5, 8, 6, 8].
    ("k=4 s=2 d=1 p=same op=1", [1, 2, 3, 4], [2, 5, 8, 6]),
    ("k=4 s=2 d=1 p=same_lower op=1", [1, 2, 3, 4], [5, 8, 6, 8]),
])
def test_convt1d_same_with_output_padding_by_hand(tmp_path, geometry, w, expected):
    problem = f"convt1d n=1 ic=1 oc=1 g=1 in=2 {geometry} bias=0"
    data, _ = fill_one(tmp_path, problem, {
        "x": np.array([1, 2]).reshape(1, 1, 2), "w": np.array(w).reshape(1, 1, -1), "dy": np.ones((1, 1, 4))})
    np.testing.assert_array_equal(data["y"].ravel(), expected)


def test_convt1d_output_padding_is_added_at_the_end(tmp_path):
    # in 2, k2, s3, op 2: full (2−1)·3 + 2 = 5, plus 2 output-padding positions at the end
    # that receive only the bias: y = [x0·w0, x0·w1, 0, x1·w0, x1·w1, 0, 0] + b.
    problem = "convt1d n=1 ic=1 oc=1 g=1 in=2 k=2 s=3 d=1 p=valid op=2 bias=1"
    data, _ = fill_one(tmp_path, problem, {
        "x": np.array([2, 3]).reshape(1, 1, 2), "w": np.array([5, 7]).reshape(1, 1, 2), "b": [1],
        "dy": np.ones((1, 1, 7))})
    np.testing.assert_array_equal(data["y"].ravel(), [11, 15, 1, 16, 22, 1, 1])


def test_padproj_a_pad_123_before7_after6(tmp_path):
    # pad([1, 2, 3], [7, 6]) = [0]*7 + [1, 2, 3] + [0]*6: 3 channels -> 16.
    problem = "padproj_a n=1 c=3 in=1 s=1 before=7 after=6"
    dy = np.arange(16).reshape(1, 16, 1)
    data, attrs = fill_one(tmp_path, problem, {"x": np.array([1, 2, 3]).reshape(1, 3, 1), "dy": dy})
    np.testing.assert_array_equal(data["y"].ravel(), [0] * 7 + [1, 2, 3] + [0] * 6)
    # dx picks the upstream gradient of the three copied channels: dy[7], dy[8], dy[9].
    np.testing.assert_array_equal(data["dx"].ravel(), [7, 8, 9])
    assert attrs["directions"] == "fwd,bwd_data"


def test_padproj_a_subsamples_then_pads(tmp_path):
    # y[:, 7:10] = x[:, :, ::2, ::2], zeros elsewhere; in 7 with s 2 -> out ⌈7/2⌉ = 4.
    problem = "padproj_a n=2 c=3 in=7x7 s=2x2 before=7 after=6"
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 7)).astype(np.float32)
    dy = rng.standard_normal((2, 16, 4, 4)).astype(np.float32)
    data, _ = fill_one(tmp_path, problem, {"x": x, "dy": dy})
    expected = np.zeros((2, 16, 4, 4))
    expected[:, 7:10] = x[:, :, ::2, ::2]
    np.testing.assert_array_equal(data["y"], expected)
    dx = np.zeros((2, 3, 7, 7))
    dx[:, :, ::2, ::2] = dy[:, 7:10]
    np.testing.assert_array_equal(data["dx"], dx)


def test_padproj_b_by_hand(tmp_path):
    # One input channel, one output channel, 1x1 weight 2, stride 2 on in=3 -> picks x[0], x[2].
    # z = 2·x = [2, 6] for x = [1, ·, 3]; BN: a = γ/√(σ²+ε) with γ = 3, σ² = 4 − ε -> a = 1.5;
    # y = a·(z − μ) + β with μ = 1, β = 0.5 -> [2, 8]. dβ = Σ dy = 2 (dy = 1);
    # dγ = Σ dy·(z − μ)/√(σ²+ε) = (1 + 5)/2 = 3; dx = w·a·dy at the sampled pixels = [3, 0, 3];
    # dw = Σ a·dy·x = 1.5·(1 + 3) = 6.
    eps = 0.25
    problem = f"padproj_b n=1 ic=1 oc=1 in=3 s=2 eps={oracle.format_number(eps)}"
    data, attrs = fill_one(tmp_path, problem, {
        "x": np.array([1, 100, 3]).reshape(1, 1, 3), "w": np.array([2]).reshape(1, 1, 1),
        "gamma": [3], "beta": [0.5], "mean": [1], "var": [4 - eps], "dy": np.ones((1, 1, 2))})
    np.testing.assert_allclose(data["y"].ravel(), [2, 8], rtol=0, atol=1e-14)
    np.testing.assert_allclose(data["dbeta"], [2], atol=1e-14)
    np.testing.assert_allclose(data["dgamma"], [3], atol=1e-14)
    np.testing.assert_allclose(data["dx"].ravel(), [3, 0, 3], atol=1e-14)
    np.testing.assert_allclose(data["dw"].ravel(), [6], atol=1e-14)
    assert attrs["directions"] == "fwd,bwd_data,bwd_weights,bwd_gamma,bwd_beta"


def test_matmul_broadcast_and_transposes_by_hand(tmp_path):
    # a is 2x1x2 stored transposed (ta=1: op(a) = aᵀ per batch), b is 2x2x1... (tb = 1).
    # Batch: a has 1 batch of 2 (rank-3 batch [2]); b has batch [] -> broadcast [2].
    # op(a)[β] = a[β]ᵀ is 1x... keep it small: a[β] = [[1, 2]] (1x2) -> op(a)[β] = [[1],[2]] (2x1),
    # b = [[3]] (1x1) with tb -> op(b) = [[3]]: y[β] = [[3],[6]] for both β.
    # da[β] = (dy[β]·op(b)ᵀ)ᵀ = (ones(2,1)·3)ᵀ = [[3, 3]];  db = Σ_β (op(a)ᵀ·dy)ᵀ = 2·(1+2) = 6.
    problem = "matmul a=2x1x2 b=1x1 ta=1 tb=1"
    a = np.array([[[1, 2]], [[1, 2]]])
    data, _ = fill_one(tmp_path, problem, {"a": a, "b": [[3]], "dy": np.ones((2, 2, 1))})
    np.testing.assert_array_equal(data["y"], [[[3], [6]], [[3], [6]]])
    np.testing.assert_array_equal(data["da"], [[[3, 3]], [[3, 3]]])
    np.testing.assert_array_equal(data["db"], [[6]])


def test_relu_and_leaky_relu_gradient_at_zero(tmp_path):
    # PyTorch: relu'(0) = 0; leaky_relu'(0) = slope.
    x = np.array([-2, 0, 3]).reshape(1, 3)
    dy = np.array([5, 7, 11]).reshape(1, 3)
    data, _ = fill_one(tmp_path, "relu shape=1x3", {"x": x, "dy": dy})
    np.testing.assert_array_equal(data["y"].ravel(), [0, 0, 3])
    np.testing.assert_array_equal(data["dx"].ravel(), [0, 0, 11])
    data, _ = fill_one(tmp_path, "leaky_relu shape=1x3 slope=0.5", {"x": x, "dy": dy})
    np.testing.assert_array_equal(data["y"].ravel(), [-1, 0, 3])
    np.testing.assert_array_equal(data["dx"].ravel(), [2.5, 3.5, 11])


def test_sigmoid_tanh_at_zero(tmp_path):
    # σ(0) = 1/2, σ′(0) = 1/4; tanh(0) = 0, tanh′(0) = 1.
    data, _ = fill_one(tmp_path, "sigmoid shape=scalar", {"x": np.float32(0), "dy": np.float32(2)})
    assert data["y"].shape == () and data["y"] == 0.5 and data["dx"] == 0.5
    data, _ = fill_one(tmp_path, "tanh shape=2", {"x": [0, 0], "dy": [3, -1]})
    np.testing.assert_array_equal(data["dx"], [3, -1])


def test_losses_by_hand(tmp_path):
    # x − t = [1, −2, 3, 0]: Σ² = 14; mse = 14/4 = 3.5; with dy = 2:
    # sumsq dx = 2·2·(x − t) = [4, −8, 12, 0]; mse dx = 2·(2/4)·(x − t) = [1, −2, 3, 0].
    x, t = np.array([[2, 0], [5, 1]]), np.array([[1, 2], [2, 1]])
    data, _ = fill_one(tmp_path, "sumsq shape=2x2", {"x": x, "target": t, "dy": np.float32(2)})
    assert data["y"].shape == () and data["y"] == 14
    np.testing.assert_array_equal(data["dx"], [[4, -8], [12, 0]])
    data, _ = fill_one(tmp_path, "mse shape=2x2", {"x": x, "target": t, "dy": np.float32(2)})
    assert data["y"] == 3.5
    np.testing.assert_array_equal(data["dx"], [[1, -2], [3, 0]])


def test_mlp_2_7_2_linear_layers_against_numpy(tmp_path):
    # The user question's MLP: the backward of Z2 = A1·W2 (W2 stored as nn.Linear's 2x7)
    # gives dA1 = dZ2·W2 (the answer's `dZ2 * A1` is wrong) and dW2 = dZ2ᵀ·A1.
    rng = np.random.default_rng(3)
    a1 = rng.standard_normal((1, 7)).astype(np.float32)
    w2 = rng.standard_normal((2, 7)).astype(np.float32)
    b2 = rng.standard_normal(2).astype(np.float32)
    dz2 = rng.standard_normal((1, 2)).astype(np.float32)
    data, _ = fill_one(tmp_path, "linear x=1x7 out=2 bias=1", {"x": a1, "w": w2, "b": b2, "dy": dz2})
    f8 = lambda v: v.astype(np.float64)
    np.testing.assert_allclose(data["y"], f8(a1) @ f8(w2).T + f8(b2), rtol=1e-14)
    np.testing.assert_allclose(data["dx"], f8(dz2) @ f8(w2), rtol=1e-14)
    np.testing.assert_allclose(data["dw"], f8(dz2).T @ f8(a1), rtol=1e-14)
    np.testing.assert_allclose(data["db"], f8(dz2).sum(0), rtol=1e-14)


# --------------------------------------------------------------------------------------------
# naive loops from docs/design.md's formulas (independent of torch's padding conventions)
# --------------------------------------------------------------------------------------------

def _naive(x, w, b, s, d, pb, groups, OH, OW):
    """y[n,co,o] = b[co] + Σ_{ci∈group(co), k} w[co,ci,k]·x[n, ci, o·s − pb + k·d], zero outside x."""
    n, ic, H, W = x.shape
    oc, icg, KH, KW = w.shape
    ocg = oc // groups
    y = np.zeros((n, oc, OH, OW))
    for nn in range(n):
        for co in range(oc):
            g = co // ocg
            for oh in range(OH):
                for ow in range(OW):
                    acc = b[co] if b is not None else 0.0
                    for ci in range(icg):
                        for kh in range(KH):
                            ih = oh * s[0] - pb[0] + kh * d[0]
                            if not 0 <= ih < H:
                                continue
                            for kw in range(KW):
                                iw = ow * s[1] - pb[1] + kw * d[1]
                                if 0 <= iw < W:
                                    acc += w[co, ci, kh, kw] * x[nn, g * icg + ci, ih, iw]
                    y[nn, co, oh, ow] = acc
    return y


@pytest.mark.parametrize("problem,pb", [
    # explicit asymmetric, anisotropic: begin (2, 0), end (0, 3)
    ("conv2d n=1 ic=3 oc=2 g=1 in=6x5 k=3x2 s=2x1 d=1x1 p=2x0:0x3 bias=1", (2, 0)),
    # same with d2 s2 on 10x9: totals 3 and 4 -> begin (1, 2); same_lower -> begin (2, 2)
    ("conv2d n=1 ic=2 oc=3 g=1 in=10x9 k=3x3 s=2x2 d=2x2 p=same bias=1", (1, 2)),
    ("conv2d n=1 ic=2 oc=3 g=1 in=10x9 k=3x3 s=2x2 d=2x2 p=same_lower bias=1", (2, 2)),
    # groups with stride and same: in 6, s 2, k 3: total 1 -> begin 0
    ("conv2d n=2 ic=6 oc=9 g=3 in=6x6 k=3x3 s=2x2 d=1x1 p=same bias=0", (0, 0)),
])
def test_conv2d_forward_matches_naive_loops(tmp_path, problem, pb):
    rng = np.random.default_rng(5)
    inputs = random_inputs(problem, rng)
    data, _ = fill_one(tmp_path, problem, inputs)
    p = oracle.parse_problem(problem)
    assert tuple(p.padding()[0]) == pb
    f8 = {k: v.astype(np.float64) for k, v in inputs.items()}
    y = _naive(f8["x"], f8["w"], f8.get("b"), p.s, p.d, pb, p.g, *data["y"].shape[2:])
    np.testing.assert_allclose(data["y"], y, rtol=1e-12, atol=1e-12)


def test_conv_transpose_is_the_adjoint_of_conv(tmp_path):
    # ⟨convt(x), v⟩ = ⟨x, conv(v)⟩ where conv has the same geometry (groups, stride,
    # dilation, padding = the crop) and the weight is shared; asymmetric crop and output
    # padding make the identity sensitive to every convention.
    problem = "convt2d n=2 ic=4 oc=6 g=2 in=3x4 k=3x2 s=2x3 d=1x1 p=1x0:0x1 op=1x2 bias=0"
    p = oracle.parse_problem(problem)
    rng = np.random.default_rng(7)
    inputs = random_inputs(problem, rng)
    data, _ = fill_one(tmp_path, problem, inputs)
    x, w = inputs["x"].astype(np.float64), inputs["w"].astype(np.float64)
    oh, ow = data["y"].shape[2:]
    v = rng.standard_normal((2, 6, oh, ow))
    # conv weight for the adjoint: oc' = ic = 4, ic' = oc = 6, per-group ic'/g = 3:
    # w has shape [ic, oc/g, k] = [4, 3, 3, 2], exactly conv's [oc', ic'/g, k].
    conv_v = _naive(v, w, None, p.s, p.d, p.padding()[0], 2, 3, 4)
    lhs = float((data["y"] * v).sum())
    rhs = float((x * conv_v).sum())
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs))


# --------------------------------------------------------------------------------------------
# gradients against central finite differences (float64, in-process)
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("problem", [
    "conv2d n=2 ic=4 oc=6 g=2 in=5x6 k=3x2 s=2x1 d=1x2 p=0x1:2x0 bias=1",
    "conv3d n=1 ic=2 oc=2 g=1 in=4x3x4 k=2x2x3 s=1x2x1 d=2x1x1 p=same_lower bias=1",
    "convt2d n=1 ic=2 oc=4 g=2 in=3x3 k=3x3 s=2x2 d=2x1 p=same op=1x1 bias=1",
    "padproj_a n=2 c=3 in=5x5 s=2x2 before=2 after=3",
    "padproj_b n=2 ic=3 oc=4 in=5x4 s=2x2 eps=0.001",
    "matmul a=2x1x4x3 b=3x5x4 ta=1 tb=1",
    "linear x=2x3x5 out=4 bias=1",
    "sigmoid shape=3x4",
    "tanh shape=7",
    "leaky_relu shape=2x5 slope=0.2",
    "mse shape=3x4",
    "sumsq shape=5",
])
def test_gradients_match_finite_differences(problem):
    import torch

    p = oracle.parse_problem(problem)
    rng = np.random.default_rng(11)
    base = {k: torch.from_numpy(v.astype(np.float64)) for k, v in random_inputs(problem, rng).items()}
    dy = base["dy"]
    grads = p.compute({k: v.clone() for k, v in base.items()})
    # L(inputs) = ⟨y(inputs), dy⟩; its gradient w.r.t. each differentiable input is the oracle's
    # output for that role. Check the directional derivative along a random direction.
    grad_role = {"x": "dx", "w": "dw", "b": "db", "a": "da", "gamma": "dgamma", "beta": "dbeta"}
    if p.family == "activation" or p.family == "loss":
        grad_role = {"x": "dx"}
    h = 1e-6
    checked = 0
    for role, out_role in grad_role.items():
        if role not in base or out_role not in grads:
            continue
        direction = torch.from_numpy(rng.standard_normal(tuple(base[role].shape)))

        def loss(sign):
            t = {k: v.clone() for k, v in base.items()}
            t[role] = t[role] + sign * h * direction
            return float((p.compute(t)["y"] * dy).sum())

        fd = (loss(+1) - loss(-1)) / (2 * h)
        analytic = float((grads[out_role] * direction).sum())
        assert abs(fd - analytic) <= 1e-6 * max(1.0, abs(analytic)), (role, fd, analytic)
        checked += 1
    assert checked >= 1


# --------------------------------------------------------------------------------------------
# error paths and the command-line interface
# --------------------------------------------------------------------------------------------

CONV = "conv2d n=1 ic=1 oc=2 g=1 in=4x4 k=3x3 s=1x1 d=1x1 p=valid bias=1"


def conv_inputs():
    return {"x": np.ones((1, 1, 4, 4)), "w": np.ones((2, 1, 3, 3)), "b": np.ones(2), "dy": np.ones((1, 2, 2, 2))}


def assert_one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_missing_role_exits_2_and_leaves_the_file_untouched(tmp_path):
    path = tmp_path / "f.h5"
    write_case(path, "relu shape=2", {"x": [1, -1], "dy": [1, 1]}, mode="w")  # a valid case first
    inputs = conv_inputs()
    del inputs["b"]
    write_case(path, CONV, inputs)
    r = call_oracle("fill", str(path))
    assert_one_line_error(r, str(path), CONV, "missing input dataset 'b'")
    with h5py.File(path) as f:
        assert "y" not in f["relu shape=2"] and "oracle" not in f["relu shape=2"].attrs


def test_shape_mismatch_exits_2(tmp_path):
    path = tmp_path / "f.h5"
    inputs = conv_inputs()
    inputs["dy"] = np.ones((1, 2, 3, 3))
    write_case(path, CONV, inputs, mode="w")
    assert_one_line_error(call_oracle("fill", str(path)), CONV, "'dy' has shape 1x2x3x3", "1x2x2x2")


def test_unknown_op_and_bad_problem_exit_2(tmp_path):
    path = tmp_path / "f.h5"
    write_case(path, "softmax shape=3", {"x": [1, 2, 3]}, mode="w")
    assert_one_line_error(call_oracle("fill", str(path)), "softmax shape=3", "unknown op 'softmax'")
    write_case(path, "conv2d n=1 ic=3 oc=2 g=2 in=4x4 k=3x3", {}, mode="w")
    assert_one_line_error(call_oracle("fill", str(path)), "groups 2 do not divide ic=3")
    write_case(path, "relu shape=2 slope=3", {}, mode="w")
    assert_one_line_error(call_oracle("fill", str(path)), "unknown key 'slope'")


def test_float64_input_and_negative_variance_exit_2(tmp_path):
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("relu shape=2")
        g.attrs["problem"] = "relu shape=2"
        g.create_dataset("x", data=np.ones(2, dtype=np.float64))
        g.create_dataset("dy", data=np.ones(2, dtype=np.float32))
    assert_one_line_error(call_oracle("fill", str(path)), "input 'x' is float64")
    problem = "padproj_b n=1 ic=1 oc=1 in=2 s=1 eps=1e-05"
    write_case(path, problem, {"x": [[[1, 2]]], "w": [[[1]]], "gamma": [1], "beta": [0], "mean": [0],
                               "var": [-1], "dy": [[[1, 1]]]}, mode="w")
    assert_one_line_error(call_oracle("fill", str(path)), "var has negative entries")


def test_group_name_must_match_problem_and_unreadable_file(tmp_path):
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as f:
        f.create_group("case1").attrs["problem"] = "relu shape=2"
    assert_one_line_error(call_oracle("fill", str(path)), "case1", "differs from its problem attribute")
    bad = tmp_path / "not.h5"
    bad.write_text("plain text")
    assert_one_line_error(call_oracle("fill", str(bad)), str(bad), "cannot open")


def test_missing_torch_exits_3_with_install_hint(tmp_path):
    fake = tmp_path / "fake" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('torch is not installed')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "fake"))
    r = run_oracle("--version", env=env)
    assert r.returncode == 3
    assert len(r.stderr.strip().splitlines()) == 1
    assert "pip install -r tools/requirements-oracle.txt" in r.stderr and "+cpu" in r.stderr


def test_version_string():
    r = run_oracle("--version")
    assert r.returncode == 0
    import torch
    assert r.stdout.strip() == f"torch {torch.__version__} float64"


def test_fill_is_idempotent_and_keeps_fixed_length_string_attributes(tmp_path):
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("tanh shape=3")
        g.attrs["problem"] = np.bytes_(b"tanh shape=3")  # a writer using fixed-length strings
        g.create_dataset("x", data=np.array([0.5, -1, 2], dtype=np.float32))
        g.create_dataset("dy", data=np.array([1, 2, 3], dtype=np.float32))
    assert call_oracle("fill", str(path)).returncode == 0
    with h5py.File(path) as f:
        first = f["tanh shape=3/dx"][()]
        assert isinstance(f["tanh shape=3"].attrs["directions"], np.bytes_)
    assert call_oracle("fill", str(path)).returncode == 0
    with h5py.File(path) as f:
        np.testing.assert_array_equal(f["tanh shape=3/dx"][()], first)


def test_schema_example_is_make_example_case():
    # fixtures/SCHEMA.md shows tools/make_example_case.py verbatim (minus its docstring).
    import re

    doc = (ROOT / "fixtures" / "SCHEMA.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    script = (TOOLS / "make_example_case.py").read_text(encoding="utf-8").split('"""', 2)[2].lstrip("\n")
    assert block == script


def test_example_case_matches_the_oracle(tmp_path):
    # tools/make_example_case.py computes its conv2d with numpy; the oracle must agree.
    example = tmp_path / "my_case.h5"
    subprocess.run([sys.executable, str(TOOLS / "make_example_case.py"), str(example)], check=True)
    with h5py.File(example) as f:
        (name,) = list(f)
        g = f[name]
        assert g.attrs["problem"] == name and g.attrs["directions"] == "fwd"
        assert f.attrs["schema_version"] == 1 and g.attrs["schema_version"] == 1
        inputs = {k: g[k][()] for k in ("x", "w", "b")}
        assert all(v.dtype == np.float32 for v in inputs.values()) and g["y"].dtype == np.float64
        y_example = g["y"][()]
    inputs["dy"] = np.zeros(y_example.shape, dtype=np.float32)
    data, _ = fill_one(tmp_path, name, inputs)
    np.testing.assert_allclose(data["y"], y_example, rtol=1e-13, atol=1e-13)


# --------------------------------------------------------------------------------------------
# the manifest: every case parses canonically and computes; the fixtures fit in 20 MB
# --------------------------------------------------------------------------------------------

def test_manifest_cases_all_compute_and_fit_the_size_budget(tmp_path):
    cases = oracle.read_manifest(str(ROOT / "fixtures" / "manifest.txt"))
    assert len(cases) >= 150
    rng = np.random.default_rng(13)
    paths = {}
    for c in cases:
        path = tmp_path / f"{c.family}.h5"
        write_case(path, c.problem, random_inputs(c.problem, rng), mode="a" if path.exists() else "w")
        paths[c.family] = path
    assert sorted(paths) == sorted(oracle.FAMILIES)
    r = run_oracle("fill", *[str(p) for p in paths.values()])
    assert r.returncode == 0, r.stderr
    for c in cases:
        p = oracle.parse_problem(c.problem)
        with h5py.File(paths[c.family]) as f:
            g = f[c.problem]
            assert g.attrs["directions"] == ",".join(p.directions())
            for direction in p.directions():
                role, shape = p.output_shapes()[direction]
                assert g[role].dtype == np.float64 and list(g[role].shape) == shape
                assert np.isfinite(g[role][()]).all(), (c.problem, role)
    total = sum(os.path.getsize(p) for p in paths.values())
    print(f"fixture files for {len(cases)} cases: {total:,} bytes")
    assert total < 20 * 2**20


def test_manifest_errors_name_the_line(tmp_path):
    m = tmp_path / "manifest.txt"
    m.write_text("# comment\nconv | conv2d n=1 ic=1 oc=1 in=3x3 k=2x2 | seed=1 | fill=normal(0,1)\n")
    r = call_oracle("manifest", str(m))
    assert_one_line_error(r, "manifest.txt:2", "not canonical")
    m.write_text("loss | relu shape=2 | seed=1 | fill=normal(0,1)\n")
    assert_one_line_error(call_oracle("manifest", str(m)), "manifest.txt:1", "belongs to family activation")
    m.write_text("activation | relu shape=2 | seed=1 | fill=gauss(0,1)\n")
    assert_one_line_error(call_oracle("manifest", str(m)), "fill 'gauss(0,1)'")

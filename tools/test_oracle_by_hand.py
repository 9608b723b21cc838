"""Hand-checked values: each expected output is derived in the comments beside it, for
every op family (conv, transposed conv, pad-projections, matmul, activations, losses, linear).

Run: python3 -m pytest tools/test_oracle_by_hand.py
"""

import numpy as np
import pytest

from kcoracle.fields import format_number
from kcoracle.hdf5io import oracle_string
from oracle_test_helpers import fill_one


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
    assert attrs["oracle"] == oracle_string()


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
    problem = f"padproj_b n=1 ic=1 oc=1 in=3 s=2 eps={format_number(eps)}"
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

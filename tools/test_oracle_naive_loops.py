"""Naive loops from docs/design.md's formulas (independent of torch's padding conventions):
conv2d's forward pass, and transposed conv as the adjoint of conv.

Run: python3 -m pytest tools/test_oracle_naive_loops.py
"""

import numpy as np
import pytest

from kcoracle.problems import parse_problem
from oracle_test_helpers import fill_one, random_inputs


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
    p = parse_problem(problem)
    assert tuple(p.padding()[0]) == pb
    f8 = {k: v.astype(np.float64) for k, v in inputs.items()}
    y = _naive(f8["x"], f8["w"], f8.get("b"), p.s, p.d, pb, p.g, *data["y"].shape[2:])
    np.testing.assert_allclose(data["y"], y, rtol=1e-12, atol=1e-12)


def test_conv_transpose_is_the_adjoint_of_conv(tmp_path):
    # ⟨convt(x), v⟩ = ⟨x, conv(v)⟩ where conv has the same geometry (groups, stride,
    # dilation, padding = the crop) and the weight is shared; asymmetric crop and output
    # padding make the identity sensitive to every convention.
    problem = "convt2d n=2 ic=4 oc=6 g=2 in=3x4 k=3x2 s=2x3 d=1x1 p=1x0:0x1 op=1x2 bias=0"
    p = parse_problem(problem)
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

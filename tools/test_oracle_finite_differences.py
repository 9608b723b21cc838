"""Gradients against central finite differences (float64, in-process), one problem per op.

Run: python3 -m pytest tools/test_oracle_finite_differences.py
"""

import numpy as np
import pytest

from kcoracle.problems import parse_problem
from oracle_test_helpers import random_inputs


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

    p = parse_problem(problem)
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

#!/usr/bin/env python3
"""Writes my_case.h5: one conv2d case computed by "your framework" (numpy here) in the
KernelCheck fixture schema (fixtures/SCHEMA.md). Verify it: swift run kernelcheck verify my_case.h5"""
import sys

import h5py
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

problem = "conv2d n=1 ic=2 oc=3 g=1 in=5x5 k=3x3 s=1x1 d=1x1 p=1x1:1x1 bias=1"
rng = np.random.default_rng(0)
x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)  # inputs are stored as float32
w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
b = rng.standard_normal(3).astype(np.float32)
# Expected output: from the float32 inputs, computed in float64 (your kernel goes here).
xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
windows = sliding_window_view(xp, (3, 3), axis=(2, 3))  # n, c, out_h, out_w, k_h, k_w
y = np.einsum("nchwij,ocij->nohw", windows, w.astype(np.float64)) + b.astype(np.float64)[:, None, None]

with h5py.File(sys.argv[1] if len(sys.argv) > 1 else "my_case.h5", "w") as f:
    f.attrs["schema_version"] = np.int64(1)
    g = f.create_group(problem)  # one group per case, named by its canonical problem string
    g.attrs.update(problem=problem, schema_version=np.int64(1), seed=np.int64(0), fill="normal(0,1)",
                   oracle=f"numpy {np.__version__} float64", directions="fwd")
    for role, value in {"x": x, "w": w, "b": b}.items():
        g.create_dataset(role, data=value)  # float32 inputs
    g.create_dataset("y", data=y.astype(np.float64))  # float64 expected output

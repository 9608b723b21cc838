"""The command-line interface beyond errors: the install hint (exit 3), --version, repeated
fills, and tools/make_example_case.py (the example of fixtures/SCHEMA.md) against the oracle.

Run: python3 -m pytest tools/test_oracle_cli.py
"""

import os
import subprocess
import sys

import h5py
import numpy as np

from oracle_test_helpers import ROOT, TOOLS, call_oracle, fill_one, run_oracle


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

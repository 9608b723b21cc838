"""Helpers shared by the fixture oracle's tests, tools/test_oracle_*.py.

Run: python3 -m pytest tools   (the oracle's tests and tools/test_merge_bench.py)

Expected values in those tests come from hand derivations (worked out in the comments), from
naive numpy loops written from the formulas of docs/design.md, or from central finite
differences — never from the oracle itself.
"""

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

import oracle
from kcoracle.errors import OracleError
from kcoracle.problems import parse_problem

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
ORACLE = TOOLS / "oracle.py"


def stored_input(value, dt):
    """`value` rounded to the input type `dt` (torch's round to nearest even) in its storage:
    float32, float16, or bf16 / fp8 bit patterns (uint16 / uint8) with the dtype tag."""
    import torch

    from kcoracle.precision import STORAGE

    stored, tag, torch_name = STORAGE[dt]
    if dt in ("f32", "f16"):
        return np.asarray(value, dtype=np.float32).astype(stored), None
    rounded = torch.from_numpy(np.asarray(value, dtype=np.float32).copy()).to(getattr(torch, torch_name))
    bits = rounded.view(torch.int16 if stored == "uint16" else torch.int8).numpy()
    return bits.view(stored), tag


def write_case(path, problem, inputs, mode="a"):
    """Writes one case group with its inputs in the problem's dt, as the Swift side does
    (float32 when the problem does not parse: the error tests write such cases on purpose)."""
    try:
        dt = parse_problem(problem).precision.dt
    except OracleError:
        dt = "f32"
    with h5py.File(path, mode) as f:
        f.attrs["schema_version"] = np.int64(1)
        g = f.create_group(problem)
        g.attrs["problem"] = problem
        g.attrs["schema_version"] = np.int64(1)
        g.attrs["seed"] = np.int64(0)
        g.attrs["fill"] = "normal(0,1)"
        for role, value in inputs.items():
            data, tag = stored_input(value, dt)
            ds = g.create_dataset(role, data=data)
            if tag is not None:
                ds.attrs["dtype"] = tag


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
    p = parse_problem(problem_text)
    out = {}
    for role, shape in p.input_shapes().items():
        v = rng.standard_normal(shape)
        if role == "var":
            v = rng.uniform(0.5, 2.0, shape)  # running variance is non-negative
        out[role] = np.asarray(v, dtype=np.float32)
    return out


def assert_one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])

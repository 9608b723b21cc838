"""The manifest: every case parses canonically and computes; the fixtures fit in 20 MB.

Run: python3 -m pytest tools/test_oracle_manifest.py
"""

import os

import h5py
import numpy as np

from kcoracle.manifest import read_manifest
from kcoracle.problems import FAMILIES, parse_problem
from oracle_test_helpers import ROOT, assert_one_line_error, call_oracle, random_inputs, run_oracle, write_case


def test_manifest_cases_all_compute_and_fit_the_size_budget(tmp_path):
    cases = read_manifest(str(ROOT / "fixtures" / "manifest.txt"))
    assert len(cases) >= 150
    rng = np.random.default_rng(13)
    paths = {}
    for c in cases:
        path = tmp_path / f"{c.family}.h5"
        write_case(path, c.problem, random_inputs(c.problem, rng), mode="a" if path.exists() else "w")
        paths[c.family] = path
    assert sorted(paths) == sorted(FAMILIES)
    r = run_oracle("fill", *[str(p) for p in paths.values()])
    assert r.returncode == 0, r.stderr
    for c in cases:
        p = parse_problem(c.problem)
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

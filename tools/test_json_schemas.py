"""Every JSON document KernelCheck writes validates against its schema in schemas/.

Runs the built kernelcheck binary (.build/debug/kernelcheck, or $KERNELCHECK_BIN; built
with `swift build --product kernelcheck` when missing) to produce a REAL document of each
kind -- verify, check, check_problem, bench, nightly_report (nightly, report merge) and
report_diff -- and validates it with jsonschema (draft 2020-12). docs/json.md describes
the format.

Run: python3 -m pytest tools/test_json_schemas.py
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
KINDS = sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json") if p.name != "common.schema.json")


def binary() -> Path:
    given = os.environ.get("KERNELCHECK_BIN")
    path = Path(given) if given else ROOT / ".build" / "debug" / "kernelcheck"
    if not path.exists() and not given:
        if shutil.which("swift") is None:
            pytest.skip("no kernelcheck binary and no swift toolchain to build it")
        subprocess.run(["swift", "build", "--product", "kernelcheck"], cwd=ROOT, check=True)
    return path


def registry() -> Registry:
    resources = []
    for p in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(p.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def validate(document: dict, kind: str) -> None:
    assert document.get("kind") == kind, f"kind {document.get('kind')!r}, expected {kind!r}"
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    errors = sorted(Draft202012Validator(schema, registry=registry()).iter_errors(document), key=str)
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])
    t = document["totals"]
    assert t["checks"] == t["passed"] + t["failed"] + t["mistrusted"] + t["skipped"]


def run(args, expect, cwd, env=None):
    r = subprocess.run(
        [str(binary()), *args], cwd=cwd, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, **(env or {})))
    assert r.returncode == expect, f"kernelcheck {' '.join(args)}: exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return r


# Two mutants over two detectors: one killed by exact alone, one survivor.
KILL_MATRIX = {
    "kind": "kill_matrix", "schema_version": 1, "planned": 2, "date": "2026-12-06 03:10 UTC", "cpu": "cpu",
    "command": "tools/mutants.sh --out mutants", "detectors": ["verify", "exact"],
    "mutants": [
        {"id": "m1", "description": "d1", "path": "dual", "direction": "fwd", "class": "c", "status": "killed",
         "results": {"verify": {"status": "survived", "seconds": 1.0, "exit": 0},
                     "exact": {"status": "killed", "seconds": 2.5, "exit": 1, "shrunk": "relu shape=1 [fwd]",
                               "checked": 10, "failures": 1}}},
        {"id": "m2", "description": "d2", "path": "direct", "direction": "fwd", "class": "c", "status": "survived",
         "results": {"verify": {"status": "survived", "seconds": 1.0, "exit": 0},
                     "exact": {"status": "survived", "seconds": 2.0, "exit": 0}}},
    ],
    "summary": "1 killed, 1 survived",
}


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """One or more real documents of every kind, from small runs of each command."""
    tmp = tmp_path_factory.mktemp("json")
    docs = {kind: [] for kind in KINDS}

    def stdout(kind, args, expect=0, env=None):
        docs[kind].append(json.loads(run(args, expect, tmp, env).stdout))

    activation = str(ROOT / "fixtures" / "activation.h5")
    stdout("verify", ["verify", activation, "--case", "relu", "--format", "json"])
    stdout("check", ["check", "--op", "activation", "--cases", "4", "--seed", "1", "--no-failure-db", "--format", "json"])
    # A deliberately broken kernel: failures, shrunk outcomes and replay lines.
    stdout("check", ["check", "--op", "activation", "--cases", "2", "--seed", "1", "--no-failure-db", "--format", "json"],
           expect=1, env={"KERNELCHECK_INJECT_FAULT": "activation"})
    # A kernel that crashes (SIGSEGV): crash failures, run in the isolated child and shrunk there.
    stdout("check", ["check", "--op", "activation", "--cases", "2", "--seed", "1", "--no-failure-db", "--format", "json"],
           expect=1, env={"KERNELCHECK_INJECT_FAULT": "activation:crash"})
    stdout("check_problem", ["check", "--problem", "relu shape=2x3", "--seed", "1", "--format", "json"])
    stdout("bench", ["bench", "--only", "matmul 256", "--direction", "fwd", "--threads", "1", "--runs", "1",
                     "--no-peers", "--no-reference", "--format", "json"])
    nightly = ["nightly", "--seed", "5", "--budget", "30s", "--phase", "fixtures", "--phase", "sweep", "--phase",
               "gradients", "--cases", "6", "--medium-cases", "0", "--gradient-cases", "2", "--fixtures", activation]
    run(nightly + ["--out", str(tmp / "s0"), "--shard", "0/2"], 0, tmp)
    run(nightly + ["--out", str(tmp / "s1"), "--shard", "1/2"], 0, tmp)
    run(["report", "merge", str(tmp / "s0/report.json"), str(tmp / "s1/report.json"), "--out", str(tmp / "m")], 0, tmp)
    run(nightly + ["--out", str(tmp / "n"), "--baseline", str(tmp / "m/report.json")], 0, tmp)
    # The mutation section: a kill matrix as the mutation driver writes it, then its absence.
    sys.path.insert(0, str(ROOT / "tools" / "mutants"))
    import driver

    driver.write_matrix(KILL_MATRIX, tmp / "mutants")
    shards = [str(tmp / "s0/report.json"), str(tmp / "s1/report.json")]
    run(["report", "merge", *shards, "--out", str(tmp / "k"), "--kill-matrix", str(tmp / "mutants/kill-matrix.json")],
        0, tmp)
    run(["report", "merge", *shards, "--out", str(tmp / "k0"), "--kill-matrix-missing", "no kill matrix this week"], 0, tmp)
    for d in ["s0", "m", "n", "k", "k0"]:
        docs["nightly_report"].append(json.loads((tmp / d / "report.json").read_text()))
    stdout("report_diff", ["report", "diff", str(tmp / "s0/report.json"), str(tmp / "m/report.json"), "--format", "json"])
    return docs


def test_every_kind_has_a_schema():
    assert KINDS == ["bench", "check", "check_problem", "nightly_report", "report_diff", "verify"]


@pytest.mark.parametrize("kind", KINDS)
def test_real_output_validates(documents, kind):
    assert documents[kind], f"no {kind} document was produced"
    for d in documents[kind]:
        validate(d, kind)


def test_outcomes_carry_their_identity(documents):
    verify = documents["verify"][0]
    assert verify["totals"]["checks"] == len(verify["outcomes"]) > 0
    assert all(o["file"].endswith("activation.h5") for o in verify["outcomes"])
    failing = documents["check"][1]
    assert failing["totals"]["failed"] > 0 and failing["failures"]
    assert failing["failures"][0]["shrunk"]["replay"].startswith("kernelcheck check --problem ")
    assert documents["nightly_report"][2]["diff"] is not None
    crashed = documents["check"][2]
    assert crashed["totals"]["failed"] == len(crashed["failures"]) > 0
    for f in crashed["failures"]:
        assert f["original"]["findings"][0].startswith("crash: killed by SIGSEGV"), f["original"]["findings"]
        assert "comparison" not in f["original"]
        assert f["shrunk"]["replay"].startswith("kernelcheck check --problem ")


def test_the_kill_matrix_section_has_the_driver_matrix_counts(documents):
    km = documents["nightly_report"][3]["mutation_testing"]["kill_matrix"]
    assert km["totals"] == {"mutants": 2, "killed": 1, "survived": 1, "timeout": 0, "error": 0, "stillborn": 0,
                            "inapplicable": 0}
    assert km["detector_kills"] == [{"detector": "verify", "kills": 0, "sole_kills": 0},
                                    {"detector": "exact", "kills": 1, "sole_kills": 1}]
    assert documents["nightly_report"][4]["mutation_testing"] == {"missing": "no kill matrix this week"}


def test_a_schema_rejects_a_document_of_another_kind(documents):
    schema = json.loads((SCHEMAS / "verify.schema.json").read_text())
    validator = Draft202012Validator(schema, registry=registry())
    assert not validator.is_valid(documents["check_problem"][0])

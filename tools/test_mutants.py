"""Tests of the mutation driver's pure parts: the library, selection, edits, verdicts and
the kill matrix files. Expected values are written out by hand."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "mutants"))
import driver  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_library_has_40_distinct_mutants_with_every_field():
    mutants = driver.load_library()
    assert len(mutants) >= 40
    assert len({m.id for m in mutants}) == len(mutants)
    for m in mutants:
        assert m.description and m.path and m.direction and m.kind and m.edits


def test_every_mutant_applies_to_the_current_tree_exactly_once():
    for m in driver.load_library():
        for edit in m.edits:
            text = (ROOT / edit.file).read_text()
            assert text.count(edit.find) == 1, (m.id, edit.file)


def test_library_covers_the_named_bug_classes():
    kinds = " ".join(m.kind for m in driver.load_library())
    for wanted in ["K tail dropped", "edge mask", "padding sides swapped", "dilation ignored in backward-weights",
                   "group offset dropped in phase-split", "output padding ignored", "phase start off by one",
                   "unflipped kernel", "accumulators not zeroed", "bias gradient missing the batch",
                   "thread-dependent order", "write one past a row", "broadcast gradients not summed",
                   "BatchNorm eps outside the sqrt", "before/after swapped", "leaky-relu'(0)", "sigmoid' of x",
                   "overwrite", "band one row short", "panel backward-weights", "12 bits", "size threshold"]:
        assert wanted in kinds, wanted


def write_library(tmp_path, body):
    path = tmp_path / "library.toml"
    path.write_text(body)
    return path


ENTRY = """
[[mutant]]
id = "{id}"
description = "d"
path = "p"
direction = "fwd"
class = "c"
[[mutant.edit]]
file = "{file}"
find = "a"
replace = "b"
"""


def test_duplicate_ids_and_files_outside_the_tiled_module_are_rejected(tmp_path):
    tiled = "Sources/KernelCheckTiled/X.swift"
    with pytest.raises(driver.LibraryError, match="duplicate"):
        driver.load_library(write_library(tmp_path, ENTRY.format(id="x", file=tiled) * 2))
    with pytest.raises(driver.LibraryError, match="outside"):
        driver.load_library(write_library(tmp_path, ENTRY.format(id="x", file="Sources/Other/X.swift")))


def test_selection_by_ids_keeps_library_order_and_a_sample_is_seeded():
    mutants = [driver.Mutant(str(i), "", "", "", "") for i in range(10)]
    assert [m.id for m in driver.select(mutants, ["7", "2"], None, 1)] == ["2", "7"]
    first = [m.id for m in driver.select(mutants, None, 3, 5)]
    assert len(first) == 3 and first == [m.id for m in driver.select(mutants, None, 3, 5)]
    with pytest.raises(driver.LibraryError):
        driver.select(mutants, ["nope"], None, 1)


def test_apply_and_revert_restore_the_file_and_an_ambiguous_find_changes_nothing(tmp_path):
    f = tmp_path / "Sources/KernelCheckTiled/A.swift"
    f.parent.mkdir(parents=True)
    f.write_text("let x = a + b\nlet y = c\n")
    m = driver.Mutant("m", "", "", "", "", [driver.Edit("Sources/KernelCheckTiled/A.swift", "a + b", "a - b")])
    originals = driver.apply(m, tmp_path)
    assert f.read_text() == "let x = a - b\nlet y = c\n"
    driver.revert(originals)
    assert f.read_text() == "let x = a + b\nlet y = c\n"
    twice = driver.Mutant("t", "", "", "", "", [driver.Edit("Sources/KernelCheckTiled/A.swift", "let", "var")])
    with pytest.raises(driver.LibraryError, match="2 times"):
        driver.apply(twice, tmp_path)
    assert f.read_text() == "let x = a + b\nlet y = c\n"


def test_exit_statuses_map_to_kill_verdicts():
    assert driver.classify(0) == "survived"
    assert driver.classify(1) == "killed"
    assert driver.classify(-11) == "killed"  # a crash is a detection
    assert driver.classify(2) == "error"  # bad input is not a kill
    assert driver.classify(None) == "timeout"
    assert driver.verdict({"a": {"status": "survived"}, "b": {"status": "killed"}}) == "killed"
    assert driver.verdict({"a": {"status": "survived"}, "b": {"status": "timeout"}}) == "undecided"
    assert driver.verdict({"a": {"status": "survived"}}) == "survived"


def test_first_failure_reads_the_shrunk_problem_and_tolerates_other_output():
    doc = {"failures": [{"original": {"problem": "big", "direction": "fwd"},
                         "shrunk": {"problem": "relu shape=1", "direction": "bwd_data"}}]}
    assert driver.first_failure(json.dumps(doc)) == "relu shape=1 [bwd_data]"
    assert driver.first_failure(json.dumps({"failures": [{"problem": "p", "direction": "fwd"}]})) == "p [fwd]"
    assert driver.first_failure("not json") is None
    assert driver.first_failure(json.dumps({"failures": []})) is None


def test_matrix_is_written_as_json_and_markdown_without_temporaries(tmp_path):
    matrix = {"date": "2026-01-01 00:00 UTC", "cpu": "cpu", "summary": "1 killed, 1 stillborn",
              "detectors": ["verify", "exact"], "mutants": [
                  {"id": "m1", "path": "dual", "class": "c|d", "status": "killed",
                   "results": {"verify": {"status": "survived", "seconds": 1.0},
                               "exact": {"status": "killed", "seconds": 2.5, "shrunk": "conv1d a|b [fwd]"}}},
                  {"id": "m2", "path": "p", "class": "c", "status": "stillborn", "results": {}}]}
    driver.write_matrix(matrix, tmp_path)
    assert json.loads((tmp_path / "kill-matrix.json").read_text()) == matrix
    md = (tmp_path / "kill-matrix.md").read_text().splitlines()
    assert md[4] == "| `m1` | dual | c\\|d | killed | survived 1.0 s | ✗ killed 2.5 s | conv1d a\\|b [fwd] |"
    assert md[5] == "| `m2` | p | c | stillborn | – | – |  |"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kill-matrix.json", "kill-matrix.md"]
    assert driver.summarize(matrix["mutants"]) == "1 killed, 1 stillborn"


def test_detectors_carry_the_seed_and_targeted_problems_add_one_detector_each():
    found = driver.detectors(100, 10, 7, 5.0, False, ["relu shape=3"])
    assert list(found) == ["verify", "exact", "bound", "medium-exact", "medium-bound", "problem-1"]
    assert found["exact"][found["exact"].index("--seed") + 1] == "7"
    assert found["medium-bound"][found["medium-bound"].index("--size") + 1] == "medium"
    assert found["problem-1"][-2:] == ["--problem", "relu shape=3"]
    assert "tight" in driver.detectors(100, 10, 7, 5.0, True)


def test_the_large_detector_has_its_own_budget_and_time_limit():
    found = driver.detectors(100, 10, 7, 10.0, False, large_cases=400, large_budget=150.0)
    large = found["large-exact"]
    assert large[large.index("--budget") + 1] == "150.0"
    assert large[large.index("--cases") + 1] == "400"
    assert driver.time_limit(large, 10.0) == 510.0  # 3 × 150 + 60
    assert driver.time_limit(found["exact"], 10.0) == 90.0
    assert driver.time_limit(found["verify"], 10.0) == 90.0  # no --budget: the default's
    same = driver.detectors(100, 10, 7, 10.0, False, large_cases=400)["large-exact"]
    assert same[same.index("--budget") + 1] == "10.0"


def test_counts_give_the_kill_rate_of_a_sweep_and_nothing_for_other_output():
    doc = {"problems_checked": 40, "failures": [{"shrunk": {}}, {"shrunk": {}}]}
    assert driver.counts(json.dumps(doc)) == {"checked": 40, "failures": 2}
    assert driver.counts(json.dumps({"outcomes": []})) == {}
    assert driver.counts("") == {}

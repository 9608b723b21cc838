"""Error paths of `oracle.py fill`: exit status 2, one line on stderr naming the file, group
and reason, and the file left untouched.

Run: python3 -m pytest tools/test_oracle_errors.py
"""

import h5py
import numpy as np

from oracle_test_helpers import assert_one_line_error, call_oracle, write_case


CONV = "conv2d n=1 ic=1 oc=2 g=1 in=4x4 k=3x3 s=1x1 d=1x1 p=valid bias=1"


def conv_inputs():
    return {"x": np.ones((1, 1, 4, 4)), "w": np.ones((2, 1, 3, 3)), "b": np.ones(2), "dy": np.ones((1, 2, 2, 2))}


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

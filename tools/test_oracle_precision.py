"""Low-precision cases in the oracle: `dt=` / `acc=` / `odt=` in problem strings, inputs stored
as IEEE half, bf16 and fp8 bit patterns, and their typed errors.

Bit patterns and products below are worked out by hand (comments), never by the oracle:
  bf16 0x3FC0 = 1.5 (sign 0, exponent 127, mantissa .1), 0xC000 = -2, 0x3F80 = 1
  e4m3 (bias 7, 3 mantissa bits): 0x38 = 1.0, 0x44 = 3.0 (exp 8, 1.1b), 0x7E = 448, 0x7F = NaN
  e5m2 (bias 15, 2 mantissa bits): 0x3C = 1.0, 0x42 = 3.0 (exp 16, 1.1b), 0xBC = -1.0

Run: python3 -m pytest tools/test_oracle_precision.py
"""

import h5py
import numpy as np
import pytest

from kcoracle.errors import OracleError
from kcoracle.problems import parse_problem
from oracle_test_helpers import assert_one_line_error, call_oracle

MATMUL = "matmul a=1x2 b=2x1 ta=0 tb=0"


def write_narrow(path, problem, inputs, attribute=None, mode="w"):
    """One case whose inputs are the given numpy arrays as they are (dtype kept), each with
    the `dtype` attribute `attribute` when given."""
    with h5py.File(path, mode) as f:
        f.attrs["schema_version"] = np.int64(1)
        g = f.create_group(problem)
        g.attrs.update(problem=problem, schema_version=np.int64(1), seed=np.int64(0), fill="normal(0,1)")
        for role, value in inputs.items():
            ds = g.create_dataset(role, data=value)
            if attribute is not None:
                ds.attrs["dtype"] = attribute


@pytest.mark.parametrize("text, canonical", [
    ("conv1d n=1 ic=1 oc=1 in=3 k=2 dt=bf16", "conv1d n=1 ic=1 oc=1 g=1 in=3 k=2 s=1 d=1 p=valid bias=0 dt=bf16"),
    ("matmul a=2x3 b=3x4 dt=f16 acc=f16 odt=f32", "matmul a=2x3 b=3x4 ta=0 tb=0 dt=f16 acc=f16 odt=f32"),
    ("linear x=4x5 out=3 bias=1 dt=f8e4m3 odt=f32", "linear x=4x5 out=3 bias=1 dt=f8e4m3 odt=f32"),
    ("matmul a=2x3 b=3x4 dt=f8e5m2 out=f32", "matmul a=2x3 b=3x4 ta=0 tb=0 dt=f8e5m2 odt=f32"),
    ("matmul a=2x3 b=3x4 dt=f16 acc=f16", "matmul a=2x3 b=3x4 ta=0 tb=0 dt=f16 acc=f16"),
    ("matmul a=2x3 b=3x4 dt=f32 odt=f32", "matmul a=2x3 b=3x4 ta=0 tb=0"),
    ("relu shape=3 dt=f32", "relu shape=3"),
])
def test_precision_fields_parse_to_the_canonical_suffix(text, canonical):
    assert parse_problem(text).canonical() == canonical


@pytest.mark.parametrize("text, needle", [
    ("relu shape=3 dt=bf16", "relu: invalid dt"),
    ("padproj_a n=1 c=1 in=2x2 before=1 after=1 acc=f16", "padproj_a: invalid acc"),
    ("matmul a=2x3 b=3x4 dt=bf16 acc=f16", "acc=f16 needs dt=f16"),
    ("matmul a=2x3 b=3x4 acc=bf16", "not an accumulator type"),
    ("linear x=4x5 out=3 dt=bf16 odt=f16", "invalid odt"),
    ("conv2d n=1 ic=1 oc=1 in=3 k=2 dt=f64", "'f64' is not a type"),
    ("matmul a=2x3 b=3x4 out=f32 odt=f32", "odt and out both"),
])
def test_invalid_precisions_name_the_field(text, needle):
    with pytest.raises(OracleError, match=needle):
        parse_problem(text)


@pytest.mark.parametrize("dt, stored, attribute, a_bits, b_bits", [
    # a = [1.5, -2], b = [1, 1] -> y = -0.5 (bf16 patterns, see the module comment)
    ("bf16", np.uint16, "bfloat16", [0x3FC0, 0xC000], [0x3F80, 0x3F80]),
    # a = [1, 3], b = [448, 1] -> y = 451 (e4m3)
    ("f8e4m3", np.uint8, "float8_e4m3fn", [0x38, 0x44], [0x7E, 0x38]),
    # a = [1, 3], b = [-1, 1] -> y = 2 (e5m2)
    ("f8e5m2", np.uint8, "float8_e5m2", [0x3C, 0x42], [0xBC, 0x3C]),
])
def test_bit_pattern_inputs_upcast_exactly(tmp_path, dt, stored, attribute, a_bits, b_bits):
    expected = {"bf16": -0.5, "f8e4m3": 451.0, "f8e5m2": 2.0}[dt]
    problem = f"{MATMUL} dt={dt}"
    path = tmp_path / "case.h5"
    one = {"bf16": 0x3F80, "f8e4m3": 0x38, "f8e5m2": 0x3C}[dt]
    write_narrow(path, problem, {"a": np.array([a_bits], dtype=stored), "b": np.array([[b_bits[0]], [b_bits[1]]],
                 dtype=stored), "dy": np.array([[one]], dtype=stored)}, attribute)
    r = call_oracle("fill", str(path))
    assert r.returncode == 0, r.stderr
    with h5py.File(path) as f:
        g = f[problem]
        assert g["y"].dtype == np.float64 and g["y"][()].tolist() == [[expected]]
        assert g.attrs["directions"] == "fwd,bwd_data,bwd_weights"


def test_float16_inputs_are_ieee_half(tmp_path):
    # 2049 is not an f16 number; 2048 and 0.5 are: y = 2048·0.5 + 0.25·4 = 1025
    problem = f"{MATMUL} dt=f16 acc=f16 odt=f32"
    path = tmp_path / "case.h5"
    write_narrow(path, problem, {"a": np.array([[2048, 0.25]], dtype=np.float16),
                                 "b": np.array([[0.5], [4]], dtype=np.float16), "dy": np.ones((1, 1), np.float16)})
    r = call_oracle("fill", str(path))
    assert r.returncode == 0, r.stderr
    with h5py.File(path) as f:
        assert f[problem]["y"][()].tolist() == [[1025.0]]


def test_float32_dataset_in_a_bf16_case_is_a_type_mismatch(tmp_path):
    problem = f"{MATMUL} dt=bf16"
    path = tmp_path / "case.h5"
    write_narrow(path, problem, {r: np.ones(s, np.float32) for r, s in (("a", (1, 2)), ("b", (2, 1)), ("dy", (1, 1)))})
    assert_one_line_error(call_oracle("fill", str(path)), problem, "input 'a' is float32",
                          "uint16 with attribute dtype='bfloat16'")


def test_uint16_without_the_dtype_attribute_is_refused(tmp_path):
    problem = f"{MATMUL} dt=bf16"
    path = tmp_path / "case.h5"
    write_narrow(path, problem, {r: np.full(s, 0x3F80, np.uint16) for r, s in (("a", (1, 2)), ("b", (2, 1)),
                                                                               ("dy", (1, 1)))})
    assert_one_line_error(call_oracle("fill", str(path)), "input 'a' is uint16;", "dtype='bfloat16'")


def test_e4m3_nan_pattern_names_the_first_index(tmp_path):
    problem = f"{MATMUL} dt=f8e4m3"
    path = tmp_path / "case.h5"
    write_narrow(path, problem, {"a": np.array([[0x38, 0x38]], np.uint8), "b": np.array([[0x38], [0xFF]], np.uint8),
                                 "dy": np.array([[0x38]], np.uint8)}, "float8_e4m3fn")
    assert_one_line_error(call_oracle("fill", str(path)), "input 'b' holds nan at flat index 1", "0xFF")


def test_half_infinity_names_the_first_index(tmp_path):
    problem = f"{MATMUL} dt=f16"
    path = tmp_path / "case.h5"
    write_narrow(path, problem, {"a": np.array([[1, np.inf]], np.float16), "b": np.ones((2, 1), np.float16),
                                 "dy": np.ones((1, 1), np.float16)})
    assert_one_line_error(call_oracle("fill", str(path)), "input 'a' holds inf at flat index 1")


def decode(ds):
    """A stored input decoded by ml_dtypes (not by torch, which the oracle uses)."""
    import ml_dtypes

    tag = ds.attrs.get("dtype")
    raw = ds[()]
    if tag is None:
        return raw.astype(np.float64)
    return raw.view({"bfloat16": ml_dtypes.bfloat16, "float8_e4m3fn": ml_dtypes.float8_e4m3fn,
                     "float8_e5m2": ml_dtypes.float8_e5m2}[tag]).astype(np.float64)


def test_committed_low_precision_dense_cases_match_numpy_on_the_decoded_inputs():
    """Every committed matmul / linear case with dt=: y, and both gradients, recomputed with
    numpy in float64 from inputs decoded by ml_dtypes, equal the stored expected values."""
    from oracle_test_helpers import ROOT

    checked = 0
    for family in ("matmul", "linear"):
        with h5py.File(ROOT / "fixtures" / f"{family}.h5") as f:
            for name in f:
                if " dt=" not in name:
                    continue
                g, p = f[name], parse_problem(name)
                if family == "matmul":
                    a, b, dy = decode(g["a"]), decode(g["b"]), decode(g["dy"])
                    oa = np.swapaxes(a, -1, -2) if p.ta else a
                    ob = np.swapaxes(b, -1, -2) if p.tb else b
                    y = np.matmul(oa, ob)
                else:
                    x, w, dy = decode(g["x"]), decode(g["w"]), decode(g["dy"])
                    y = x @ w.T + (decode(g["b"]) if p.bias else 0)
                    dx, dw = dy @ w, np.tensordot(dy, x, axes=(list(range(x.ndim - 1)),) * 2)
                    np.testing.assert_allclose(g["dx"][()], dx, rtol=1e-12, atol=1e-12, err_msg=name)
                    np.testing.assert_allclose(g["dw"][()], dw, rtol=1e-12, atol=1e-12, err_msg=name)
                np.testing.assert_allclose(g["y"][()], y, rtol=1e-12, atol=1e-12, err_msg=name)
                checked += 1
    assert checked >= 30

#!/usr/bin/env python3
"""Interop checks between KernelCheckHDF5 (Swift, libhdf5) and h5py.

Usage:
  python3 tools/h5py_roundtrip.py write <path>   write the h5py sample file
  python3 tools/h5py_roundtrip.py check <path>   verify a file written by the Swift test
  python3 tools/h5py_roundtrip.py write-narrow <path>  write the float16 / bf16 / fp8 sample
  python3 tools/h5py_roundtrip.py check-narrow <path>  verify the narrow file the Swift test writes

`write` produces the sample that Tests/KernelCheckHDF5Tests reads. The committed copy,
fixtures/testdata/h5py_sample.h5, was made with

  python3 tools/h5py_roundtrip.py write fixtures/testdata/h5py_sample.h5

so the reading test runs even where h5py is missing; the tests also run `write` afresh when
python3 and h5py are available. Every value below is written out literally, and the Swift
test compares against its own literals, so neither side derives the other's expectations.

`check` reads the file the Swift test `swiftWrittenFileReadsBackInH5py` writes and verifies
dtype, shape, values and attributes with h5py and NumPy (the index pattern is recomputed
here from numpy.indices, independently of the Swift loop). It prints one line per check and
exits 1 on the first mismatch, 2 on bad usage.
"""
import sys

import h5py
import numpy as np


def write_sample(path):
    # libver upper bound v110: the file must open with libhdf5 1.10 (what Swift links),
    # whatever newer HDF5 h5py bundles.
    with h5py.File(path, "w", libver=("earliest", "v110")) as f:
        f.attrs["title"] = "h5py sample for KernelCheckHDF5"           # variable-length UTF-8
        f.attrs["unicode"] = "σ(x)·∂y/∂x"                              # non-ASCII UTF-8
        f.attrs["fixed_ascii"] = np.bytes_(b"fixed-len")               # fixed-length (S9) ASCII
        f.attrs["schema_version"] = np.int64(1)
        f.attrs["epsilon"] = np.float64(1e-5)
        f.attrs["scale32"] = np.float32(1.5)                           # float32 attribute
        f.attrs["shape"] = np.array([2, 3], dtype=np.int64)
        f.attrs["weights"] = np.array([0.25, -2.0], dtype=np.float64)
        f.attrs["names"] = ["x", "w"]                                  # array of vlen strings
        f.attrs["flag"] = True                                         # HDF5 enum: unsupported

        case = f.create_group("case/conv")                             # nested, intermediate "case"
        case.attrs["problem"] = "conv2d n1 c1 h2 w3"
        x = case.create_dataset("x", data=np.array([[0.5, -1.0, 2.25],
                                                    [3.0, -4.5, 6.125]], dtype=np.float32))
        x.attrs["role"] = "input"
        x.attrs["seed"] = np.int64(7)
        case.create_dataset("y", data=np.array([[[0.1, 0.2, 0.3]],
                                                [[-1e-300, 1e300, 2.5]]], dtype=np.float64))
        case.create_dataset("idx", data=np.array([-3, 0, 7, 2**40 + 1], dtype=np.int64))
        case.create_dataset("scalar", data=np.float64(2.5))          # rank 0
        case.create_dataset("counts_i32", data=np.array([1, -2, 3], dtype=np.int32))
        case.create_dataset("rank5", data=np.array(
            [[[[[-3.0, -2.5, -2.0], [-1.5, -1.0, -0.5]]],
              [[[0.0, 0.5, 1.0], [1.5, 2.0, 2.5]]]]], dtype=np.float32))  # shape 1x2x1x2x3
        case.create_dataset("note", data="hello")                      # string dataset
        f.create_group("empty_group")
        # Declares 2^20 x 2^20 x 2^10 float32 (4 PiB) but stores nothing (chunks are allocated
        # on first write): reading it must be refused before any allocation.
        f.create_dataset("huge", shape=(1 << 20, 1 << 20, 1 << 10), dtype="<f4", chunks=(1, 1, 1 << 10))
    print(f"wrote {path}")


# --- check ---------------------------------------------------------------------------------

PATTERN_SHAPE = (2, 3, 4, 5, 3)        # rank r uses the first r extents
PATTERN_DTYPES = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8"), "int64": np.dtype("<i8")}
PATTERN_OFFSET = {"float32": 0.5, "float64": 0.25, "int64": 10**12}


class Mismatch(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Mismatch(message)
    print(f"ok   {message}")


def pattern(dtype_name, rank):
    """value[i0, …, i(r-1)] = Σ_k i_k·10^(r-1-k) + offset: every index is a decimal digit."""
    shape = PATTERN_SHAPE[:rank]
    idx = np.indices(shape, dtype=np.int64)
    weights = [10 ** (rank - 1 - k) for k in range(rank)]
    digits = sum((idx[k] * weights[k] for k in range(rank)), np.zeros(shape, dtype=np.int64))
    return (digits + PATTERN_OFFSET[dtype_name]).astype(PATTERN_DTYPES[dtype_name])


def check_string_attr(obj, name, expected):
    attr_id = obj.attrs.get_id(name)
    t = attr_id.get_type()
    expect(isinstance(t, h5py.h5t.TypeStringID) and t.is_variable_str()
           and t.get_cset() == h5py.h5t.CSET_UTF8 and attr_id.shape == (),
           f"{obj.name} attr {name!r} is a scalar variable-length UTF-8 string")
    expect(obj.attrs[name] == expected, f"{obj.name} attr {name!r} == {expected!r} (got {obj.attrs[name]!r})")


def check_number_attr(obj, name, expected, dtype):
    value = obj.attrs[name]
    expect(np.asarray(value).dtype == np.dtype(dtype) and np.shape(value) == np.shape(expected)
           and np.array_equal(value, expected),
           f"{obj.name} attr {name!r} == {expected!r} as {dtype} (got {value!r}, {np.asarray(value).dtype})")


def check(path):
    with h5py.File(path, "r") as f:
        expect(sorted(f.keys()) == list(f.keys()) == ["a", "big_int64", "patterns"],
               f"root members {list(f.keys())}")
        check_string_attr(f, "writer", "KernelCheckHDF5")
        check_string_attr(f, "unicode", "∂L/∂W · µ")
        check_number_attr(f, "schema_version", 1, "<i8")
        check_number_attr(f, "tolerance", 0.125, "<f8")
        check_number_attr(f, "shape", np.array([2, 3, 4]), "<i8")
        check_number_attr(f, "weights", np.array([0.5, -1.25]), "<f8")
        tags = f.attrs["tags"]
        expect(list(tags) == ["fwd", "bwd_data"] and f.attrs.get_id("tags").get_type().is_variable_str(),
               f"root attr 'tags' == ['fwd', 'bwd_data'] (got {tags!r})")
        expect(sorted(f.attrs.keys()) == ["schema_version", "shape", "tags", "tolerance", "unicode",
                                          "weights", "writer"], f"root attribute names {sorted(f.attrs.keys())}")

        expect(isinstance(f["a/b/c"], h5py.Group) and len(f["a/b/c"]) == 0, "/a/b/c is an empty group")
        check_number_attr(f["a/b/c"], "depth", 3, "<i8")

        big = f["big_int64"]
        expect(big.dtype == np.dtype("<i8") and big.shape == (4,)
               and big[()].tolist() == [2**62 + 1, -(2**62) - 3, 0, -1],
               f"/big_int64 == [2**62+1, -2**62-3, 0, -1] (got {big[()].tolist()})")

        for dtype_name in PATTERN_DTYPES:
            expect(sorted(f[f"patterns/{dtype_name}"].keys()) == [f"rank{r}" for r in range(6)],
                   f"/patterns/{dtype_name} holds rank0…rank5")
            for rank in range(6):
                ds = f[f"patterns/{dtype_name}/rank{rank}"]
                want = pattern(dtype_name, rank)
                expect(ds.dtype == PATTERN_DTYPES[dtype_name], f"{ds.name} dtype {ds.dtype}")
                expect(ds.shape == PATTERN_SHAPE[:rank], f"{ds.name} shape {ds.shape}")
                got = ds[()]
                expect(np.array_equal(got, want), f"{ds.name} values match the index pattern"
                       + ("" if np.array_equal(got, want) else f": got {got!r}, want {want!r}"))

        x = f["patterns/float32/rank2"]
        check_string_attr(x, "role", "input")
        check_number_attr(x, "seed", 7, "<i8")
    print("all checks passed")


# --- narrow types: float16, bfloat16 and float8 ------------------------------------------------
#
# The same literal bit patterns on both sides (Tests/KernelCheckHDF5Tests/HDF5NarrowTypeTests
# writes and expects exactly these). Each value was worked out by hand from the formats:
#   half   0x3C00 1, 0xC100 -2.5, 0x7BFF 65504 (largest), 0x0001 2^-24 (smallest subnormal),
#          0x8000 -0, 0x3555 0.333251953125 (2^-2 · 1365/1024)
#   bf16   0x3F80 1, 0xC020 -2.5, 0x7F7F (2 - 2^-7)·2^127 (largest), 0x0001 2^-133, 0x8000 -0
#   e4m3   0x38 1, 0xC4 -3, 0x7E 448 (largest), 0x01 2^-9
#   e5m2   0x3C 1, 0xC2 -3, 0x7B 57344 (largest), 0x01 2^-16
NARROW = {
    "half": ("<f2", None, (2, 3), [0x3C00, 0xC100, 0x7BFF, 0x0001, 0x8000, 0x3555],
             [1.0, -2.5, 65504.0, 2.0**-24, -0.0, 0.333251953125]),
    "bf16": ("<u2", "bfloat16", (5,), [0x3F80, 0xC020, 0x7F7F, 0x0001, 0x8000],
             [1.0, -2.5, (2 - 2.0**-7) * 2.0**127, 2.0**-133, -0.0]),
    "e4m3": ("u1", "float8_e4m3fn", (2, 2), [0x38, 0xC4, 0x7E, 0x01], [1.0, -3.0, 448.0, 2.0**-9]),
    "e5m2": ("u1", "float8_e5m2", (4,), [0x3C, 0xC2, 0x7B, 0x01], [1.0, -3.0, 57344.0, 2.0**-16]),
}


def write_narrow(path):
    """The narrow sample as h5py writes it, plus a big-endian half dataset (`half_be`)."""
    with h5py.File(path, "w", libver=("earliest", "v110")) as f:
        for name, (dtype, tag, shape, bits, _) in NARROW.items():
            raw = np.array(bits, dtype=np.uint16 if dtype != "u1" else np.uint8)
            data = raw.view(np.float16) if name == "half" else raw
            ds = f.create_dataset(name, data=data.reshape(shape).astype(dtype))
            if tag:
                ds.attrs["dtype"] = tag
        f.create_dataset("half_be", data=np.array(NARROW["half"][3], np.uint16).view(np.float16).astype(">f2"))
    print(f"wrote {path}")


def check_narrow(path):
    """Checks the narrow sample written by the Swift test: types, shapes, patterns, values
    (decoded by ml_dtypes, not by KernelCheck) and the dtype attributes."""
    import ml_dtypes

    decoders = {"half": np.float16, "bf16": ml_dtypes.bfloat16, "e4m3": ml_dtypes.float8_e4m3fn,
                "e5m2": ml_dtypes.float8_e5m2}
    with h5py.File(path, "r") as f:
        expect(sorted(f.keys()) == sorted(NARROW), f"root members {sorted(f.keys())}")
        for name, (dtype, tag, shape, bits, values) in NARROW.items():
            ds = f[name]
            expect(ds.dtype == np.dtype(dtype) and ds.shape == shape, f"/{name} is {ds.dtype} {ds.shape}")
            raw = ds[()].reshape(-1)
            as_bits = raw.view(np.uint16) if name == "half" else raw
            expect(as_bits.tolist() == bits, f"/{name} bit patterns {[hex(b) for b in as_bits.tolist()]}")
            decoded = raw.view(decoders[name]).astype(np.float64)
            expect(decoded.tolist() == values and list(np.signbit(decoded)) == list(np.signbit(values)),
                   f"/{name} decodes to {decoded.tolist()}")
            got = ds.attrs.get("dtype")
            expect(got == tag, f"/{name} attr 'dtype' == {tag!r} (got {got!r})")
    print("all checks passed")


def main(argv):
    commands = {"write": write_sample, "write-narrow": write_narrow, "check": check, "check-narrow": check_narrow}
    if len(argv) != 3 or argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1].startswith("write"):
        commands[argv[1]](argv[2])
        return 0
    try:
        commands[argv[1]](argv[2])
    except Mismatch as mismatch:
        print(f"FAIL {mismatch}")
        return 1
    except (KeyError, OSError) as error:
        print(f"FAIL {type(error).__name__}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

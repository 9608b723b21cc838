"""Writes the hostile HDF5 files that KernelCheck's reader must refuse (or mistrust), each the
exact input that once got through: used by the Swift tests and for measuring by hand.

    python3 tools/craft_hostile_inputs.py KIND OUT.h5 [COUNT]

KIND:
  external-link     the case group is an external link into OUT.h5.target.h5 (a valid case)
  external-storage  dataset x keeps its bytes in an external raw file (/etc/passwd)
  virtual           dataset x is a virtual dataset mapped from OUT.h5.source.h5
  broken-soft-link  dataset y is a soft link to /nowhere
  many-groups       COUNT (default 5000) empty root groups, libver v110 (dense link storage)
  sparse-huge       relu shape=1000000000: chunked x and y, never written (a 13 KB file)
  sparse-ignored    a valid relu shape=3 case beside a chunked, never written 10⁹-element dataset
  repeated-directions  directions = "fwd," repeated COUNT (default 50000) times
  name-mismatch     group "tanh shape=3" whose problem attribute is "relu shape=3"
  duplicate-problem "leaky_relu shape=3" and "leaky_relu shape=3 slope=0.01": one problem twice
  empty-output      relu shape=0x3: x and y hold 0 elements
  unavailable-filter  dataset x is stored through HDF5 filter 32001 (Blosc), which libhdf5 lacks
Low-precision cases (`matmul a=1x2 b=2x1 ta=0 tb=0 dt=…`: inputs a, b, dy; outputs float64):
  lowp-float32-values  dt=bf16, a stored as float32 [1, 0.1]: 0.1 is not a bf16 number (index 1)
  lowp-float32-exact   dt=bf16, a stored as float32 [1, 0.5]: bf16 numbers, still the wrong type
  lowp-missing-dtype   dt=bf16, a stored as uint16 patterns without the dtype attribute
  lowp-wrong-dtype     dt=f8e4m3, b stored as uint8 tagged dtype='float8_e5m2'
  lowp-e4m3-nan        dt=f8e4m3, b = [0x38, 0x7F]: 0x7F is NaN in e4m3 (index 1)
  lowp-half-inf        dt=f16, a = [1, inf] as IEEE half (index 1)
Every case except those damaged is otherwise schema-valid (relu of [1, -2, 3]; the matmul
cases: a valid pattern for every other input).
"""

import sys

import h5py
import numpy as np


def attributes(group, problem, directions="fwd"):
    group.attrs.update(problem=problem, schema_version=np.int64(1), seed=np.int64(1), fill="normal(0,1)",
                       oracle="hand", directions=directions)


def relu_case(f, name="relu shape=3", problem=None, directions="fwd", x=True, y=True):
    g = f.create_group(name)
    attributes(g, problem or name, directions)
    if x:
        g.create_dataset("x", data=np.array([1, -2, 3], dtype=np.float32))
    if y:
        g.create_dataset("y", data=np.array([1, 0, 3], dtype=np.float64))
    return g


LOWP_TAGS = {"bf16": ("<u2", "bfloat16", 0x3F80), "f8e4m3": ("u1", "float8_e4m3fn", 0x38),
             "f16": ("<f2", None, 1.0)}


def lowp_case(f, dt, **damaged):
    """matmul a=1x2 b=2x1 in dt with every input 1 (a valid pattern), except `damaged` roles,
    given as finished numpy arrays (and (array, tag) pairs for a tagged pattern)."""
    problem = f"matmul a=1x2 b=2x1 ta=0 tb=0 dt={dt}"
    g = f.create_group(problem)
    attributes(g, problem, "fwd,bwd_data,bwd_weights")
    dtype, tag, one = LOWP_TAGS[dt]
    for role, shape in (("a", (1, 2)), ("b", (2, 1)), ("dy", (1, 1))):
        value = damaged.get(role)
        value, own_tag = value if isinstance(value, tuple) else (value, tag)
        ds = g.create_dataset(role, data=np.full(shape, one).astype(dtype) if value is None else value)
        if own_tag is not None:
            ds.attrs["dtype"] = own_tag
    for role, shape in (("y", (1, 1)), ("da", (1, 2)), ("db", (2, 1))):
        g.create_dataset(role, data=np.ones(shape))


def main(kind, out, count):
    with h5py.File(out, "w", libver=("v110", "v110")) as f:
        f.attrs["schema_version"] = np.int64(1)
        if kind == "external-link":
            with h5py.File(out + ".target.h5", "w") as target:
                relu_case(target)
            f["relu shape=3"] = h5py.ExternalLink(out + ".target.h5", "/relu shape=3")
        elif kind == "external-storage":
            g = relu_case(f, x=False)
            g.create_dataset("x", shape=(3,), dtype=np.float32, external=[("/etc/passwd", 0, 12)])
        elif kind == "virtual":
            with h5py.File(out + ".source.h5", "w") as source:
                source.create_dataset("x", data=np.array([1, -2, 3], dtype=np.float32))
            g = relu_case(f, x=False)
            layout = h5py.VirtualLayout(shape=(3,), dtype=np.float32)
            layout[:] = h5py.VirtualSource(out + ".source.h5", "x", shape=(3,))
            g.create_virtual_dataset("x", layout)
        elif kind == "broken-soft-link":
            g = relu_case(f, y=False)
            g["y"] = h5py.SoftLink("/nowhere")
        elif kind == "many-groups":
            for i in range(count or 5000):
                f.create_group(f"g{i:06d}")
        elif kind == "sparse-huge":
            g = f.create_group("relu shape=1000000000")
            attributes(g, "relu shape=1000000000")
            g.create_dataset("x", shape=(10**9,), dtype=np.float32, chunks=(1 << 20,))
            g.create_dataset("y", shape=(10**9,), dtype=np.float64, chunks=(1 << 20,))
        elif kind == "sparse-ignored":
            relu_case(f)
            f.create_dataset("junk", shape=(10**9,), dtype=np.float32, chunks=(1 << 20,))
        elif kind == "repeated-directions":
            relu_case(f, directions="fwd," * (count or 50000))
        elif kind == "name-mismatch":
            relu_case(f, name="tanh shape=3", problem="relu shape=3")
        elif kind == "duplicate-problem":
            for name in ["leaky_relu shape=3", "leaky_relu shape=3 slope=0.01"]:
                relu_case(f, name=name)
        elif kind == "empty-output":
            g = f.create_group("relu shape=0x3")
            attributes(g, "relu shape=0x3")
            g.create_dataset("x", shape=(0, 3), dtype=np.float32)
            g.create_dataset("y", shape=(0, 3), dtype=np.float64)
        elif kind == "unavailable-filter":
            g = relu_case(f, x=False)
            x = g.create_dataset("x", shape=(3,), dtype=np.float32, chunks=(3,), compression=32001,
                                 allow_unknown_filter=True)
            x.id.write_direct_chunk((0,), np.array([1, -2, 3], dtype=np.float32).tobytes())
        elif kind == "lowp-float32-values":
            lowp_case(f, "bf16", a=(np.array([[1, 0.1]], np.float32), None))
        elif kind == "lowp-float32-exact":
            lowp_case(f, "bf16", a=(np.array([[1, 0.5]], np.float32), None))
        elif kind == "lowp-missing-dtype":
            lowp_case(f, "bf16", a=(np.array([[0x3F80, 0x3F80]], np.uint16), None))
        elif kind == "lowp-wrong-dtype":
            lowp_case(f, "f8e4m3", b=(np.array([[0x38], [0x38]], np.uint8), "float8_e5m2"))
        elif kind == "lowp-e4m3-nan":
            lowp_case(f, "f8e4m3", b=np.array([[0x38], [0x7F]], np.uint8))
        elif kind == "lowp-half-inf":
            lowp_case(f, "f16", a=np.array([[1, np.inf]], np.float16))
        else:
            sys.exit(f"unknown kind {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)

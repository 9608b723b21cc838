"""`fill`: computes the expected outputs of every case in an HDF5 file.

compute_case reads one case group's inputs (stored in the problem's dt) and runs its op in float64; fill_file
writes the outputs of every group of a file, or nothing when any group fails.
"""

from __future__ import annotations

from .errors import OracleError
from .fields import format_dims
from .precision import read_input
from .problems import parse_problem

SCHEMA_VERSION = 1


def oracle_string() -> str:
    import torch

    return f"torch {torch.__version__} float64"


def _string_attr(value: str, like):
    """Writes strings the way the file's writer wrote `problem` (fixed-length or variable)."""
    import numpy as np

    if isinstance(like, (bytes, np.bytes_)):
        return np.bytes_(value.encode("utf-8"))
    return value


def _attr_text(v) -> str:
    import numpy as np

    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v).decode("utf-8")
    if isinstance(v, np.ndarray) and v.shape == ():
        return _attr_text(v[()])
    return str(v)


def _attr_int(v) -> int:
    import numpy as np

    return int(np.asarray(v).reshape(-1)[0])


def compute_case(group):
    """Reads one case group's inputs, returns (problem, {role: float64 ndarray}, directions)."""
    import numpy as np
    import torch
    import h5py

    if "problem" not in group.attrs:
        raise OracleError("no 'problem' attribute")
    text = _attr_text(group.attrs["problem"])
    name = group.name.lstrip("/")
    if name != text:
        raise OracleError(f"group name differs from its problem attribute '{text}'")
    if "schema_version" in group.attrs and _attr_int(group.attrs["schema_version"]) != SCHEMA_VERSION:
        raise OracleError(f"schema_version {group.attrs['schema_version']} is not {SCHEMA_VERSION}")
    problem = parse_problem(text)
    tensors = {}
    for role, shape in problem.input_shapes().items():
        if role not in group:
            raise OracleError(f"missing input dataset '{role}' (the op needs {', '.join(problem.input_shapes())})")
        ds = group[role]
        if not isinstance(ds, h5py.Dataset):
            raise OracleError(f"'{role}' is not a dataset")
        if list(ds.shape) != list(shape):
            raise OracleError(f"input '{role}' has shape {format_dims(list(ds.shape))}, "
                              f"the problem needs {format_dims(shape)}")
        try:
            # exact upcast of the stored float32 / float16 / bf16 / fp8 values
            values = read_input(ds, problem.precision.dt)
        except OracleError as e:
            raise OracleError(f"input '{role}' {e}") from None
        tensors[role] = torch.from_numpy(np.array(values, dtype=np.float64, copy=True).reshape(shape))
    results = problem.compute(tensors)
    outputs = {}
    for direction in problem.directions():
        role, shape = problem.output_shapes()[direction]
        value = results[role].detach().numpy().astype(np.float64)
        if list(value.shape) != list(shape):
            raise OracleError(f"oracle computed '{role}' with shape {format_dims(list(value.shape))}, "
                              f"the problem string implies {format_dims(shape)}")
        outputs[role] = value
    return problem, outputs, problem.directions()


def fill_file(path: str):
    """Fills every case of one file; writes nothing unless every case computes."""
    import h5py

    try:
        f = h5py.File(path, "r+")
    except OSError as e:
        raise OracleError(f"{path}: cannot open as HDF5 for writing ({e})") from None
    with f:
        if "schema_version" in f.attrs and _attr_int(f.attrs["schema_version"]) != SCHEMA_VERSION:
            raise OracleError(f"{path}: root schema_version {f.attrs['schema_version']} is not {SCHEMA_VERSION}")
        planned = []
        for name in f:
            obj = f[name]
            if not isinstance(obj, h5py.Group):
                raise OracleError(f"{path}: root object '{name}' is not a case group")
            try:
                planned.append((obj, *compute_case(obj)))
            except OracleError as e:
                raise OracleError(f"{path}: group '{name}': {e}") from None
            except Exception as e:  # torch rejecting a geometry the parser let through
                raise OracleError(f"{path}: group '{name}': {type(e).__name__}: {' '.join(str(e).split())}") from None
        oracle = oracle_string()
        for group, _problem, outputs, directions in planned:
            for role, value in outputs.items():
                if role in group:
                    del group[role]
                group.create_dataset(role, data=value, dtype="f8")
            like = group.attrs["problem"]
            group.attrs["oracle"] = _string_attr(oracle, like)
            group.attrs["directions"] = _string_attr(",".join(directions), like)
    return len(planned)

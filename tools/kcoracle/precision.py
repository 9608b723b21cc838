"""Number formats of a problem: `dt=` (input storage), `acc=` (accumulation), `odt=` (output).

Written from the rules in fixtures/SCHEMA.md, not from the Swift `Precision`:
  dt   f32 | bf16 | f16 | f8e4m3 | f8e5m2 (every input role, gradients included)
  acc  f32, or f16 when dt is f16, f8e4m3 or f8e5m2
  odt  dt (default) or f32; also f16 when acc=f16
Only conv, convt, matmul and linear take non-f32 values; the canonical string appends the
non-default fields at the end (` dt=bf16`, ` dt=f16 acc=f16 odt=f32`).

Storage in a fixture file (the `dtype` attribute names the type like ml_dtypes / PyTorch do):
  f32     float32 dataset
  f16     IEEE half dataset (numpy float16)
  bf16    uint16 dataset of bfloat16 bit patterns, attribute dtype="bfloat16"
  f8e4m3  uint8 dataset of bit patterns, attribute dtype="float8_e4m3fn"
  f8e5m2  uint8 dataset of bit patterns, attribute dtype="float8_e5m2"
The oracle upcasts the stored values exactly to float64 and computes as for float32 inputs:
the expected values are those of the exact inputs (the output rounding is the bound's).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import OracleError

TYPES = ["f32", "bf16", "f16", "f8e4m3", "f8e5m2"]
# dt -> (numpy dtype name of the dataset, value of its `dtype` attribute or None, torch dtype name)
STORAGE = {
    "f32": ("float32", None, "float32"),
    "f16": ("float16", None, "float16"),
    "bf16": ("uint16", "bfloat16", "bfloat16"),
    "f8e4m3": ("uint8", "float8_e4m3fn", "float8_e4m3fn"),
    "f8e5m2": ("uint8", "float8_e5m2", "float8_e5m2"),
}


@dataclass(frozen=True)
class Precision:
    dt: str = "f32"
    acc: str = "f32"
    odt: str = "f32"

    def fields(self) -> str:
        """The canonical suffix: each non-default field with a leading space."""
        text = f" dt={self.dt}" if self.dt != "f32" else ""
        text += f" acc={self.acc}" if self.acc != "f32" else ""
        return text + (f" odt={self.odt}" if self.odt != self.dt else "")


def parse_precision(f, supported: bool = True, output_alias: bool = True) -> Precision:
    """Reads dt/acc/odt from Fields `f` (and `out=` as odt where `output_alias`: conv and
    matmul, whose `out` key is free; linear's `out` is its feature count)."""

    def typ(key):
        if not f.has(key):
            return None
        v = f.raw(key)
        if v not in TYPES:
            raise OracleError(f"{f.op}: invalid {key}: '{v}' is not a type; known: {', '.join(TYPES)}")
        return v

    dt = typ("dt") or "f32"
    acc = typ("acc") or "f32"
    odt = typ("odt")
    if output_alias:
        alias = typ("out")
        if alias is not None:
            if odt is not None:
                raise OracleError(f"{f.op}: odt and out both give the output type")
            odt = alias
    p = Precision(dt, acc, odt or dt)
    if not supported and p != Precision():
        key = "dt" if dt != "f32" else "acc" if acc != "f32" else "odt"
        raise OracleError(f"{f.op}: invalid {key}: {f.op} is float32 only; bf16, f16 and fp8 cover conv, "
                          f"conv_transpose, matmul and linear")
    if acc not in ("f32", "f16"):
        raise OracleError(f"{f.op}: invalid acc: '{acc}' is not an accumulator type (f32 or f16)")
    if acc == "f16" and dt not in ("f16", "f8e4m3", "f8e5m2"):
        raise OracleError(f"{f.op}: invalid acc: acc=f16 needs dt=f16, f8e4m3 or f8e5m2")
    allowed = {dt, "f32"} | ({"f16"} if acc == "f16" else set())
    if p.odt not in allowed:
        raise OracleError(f"{f.op}: invalid odt: odt={p.odt} with dt={dt} acc={acc}; allowed: "
                          + ", ".join(t for t in TYPES if t in allowed))
    return p


def read_input(ds, dt: str):
    """The values of input dataset `ds` of a case with input type `dt`, exactly as float64
    (numpy). Raises OracleError naming the stored type, or the first non-finite index."""
    import numpy as np
    import torch

    stored, attribute, torch_name = STORAGE[dt]
    found = str(ds.dtype)
    tag = ds.attrs.get("dtype")
    if isinstance(tag, (bytes, np.bytes_)):
        tag = bytes(tag).decode("utf-8")
    if found != stored or (attribute is not None and tag != attribute):
        want = stored + (f" with attribute dtype='{attribute}'" if attribute else "")
        got = found + (f" with attribute dtype='{tag}'" if tag is not None else "")
        raise OracleError(f"is {got}; a dt={dt} case stores its inputs as {want}")
    raw = np.ascontiguousarray(ds[()])
    if attribute is None:
        values = raw.astype(np.float64)  # float32 and float16 widen exactly
    else:
        bits = torch.from_numpy(raw.reshape(-1).view(np.int16 if raw.dtype == np.uint16 else np.int8).copy())
        values = bits.view(getattr(torch, torch_name)).to(torch.float64).numpy().reshape(raw.shape)
    bad = np.flatnonzero(~np.isfinite(values.reshape(-1)))
    if bad.size:
        i = int(bad[0])
        pattern = f" (bit pattern 0x{int(raw.reshape(-1)[i]):0{raw.itemsize * 2}X})" if attribute else ""
        raise OracleError(f"holds {values.reshape(-1)[i]} at flat index {i}{pattern}; inputs must be finite")
    return values

"""`manifest`: `<family> | <problem> | seed=<n> | fill=<fill>` per line.

read_manifest checks every line (parses, canonical, family, fill, unique); manifest_report
prints the case counts per family and direction and the raw data size.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import OracleError
from .fields import INTEGER
from .problems import FAMILIES, parse_problem

ALL_DIRECTIONS = ["fwd", "bwd_data", "bwd_weights", "bwd_bias", "bwd_gamma", "bwd_beta"]


def parse_fill(text: str) -> str:
    """Checks a fill string (`normal(m,s)`, `uniform(a,b)`, `int(k,density)`); returns it."""
    m = re.fullmatch(r"(normal|uniform|int)\(([^,()]+),([^,()]+)\)", text)
    if not m:
        raise OracleError(f"fill '{text}' is not normal(m,s), uniform(a,b) or int(k,density)")
    kind, p, q = m.groups()
    try:
        if kind == "int":
            k, dens = int(p), float(q)
            ok = 0 <= k <= 1 << 20 and 0 <= dens <= 1
        else:
            a, b = float(p), float(q)
            ok = math.isfinite(a) and math.isfinite(b) and (a <= b if kind == "uniform" else b >= 0)
    except ValueError:
        ok = False
    if not ok:
        raise OracleError(f"fill '{text}' has invalid parameters")
    return text


@dataclass
class ManifestCase:
    line: int
    family: str
    problem: str
    seed: int
    fill: str


def read_manifest(path: str) -> list[ManifestCase]:
    cases = []
    seen = set()
    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{path}:{number}"
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 4 or not parts[2].startswith("seed=") or not parts[3].startswith("fill="):
                raise OracleError(f"{where}: expected '<family> | <problem> | seed=<n> | fill=<fill>'")
            family, text = parts[0], parts[1]
            if not INTEGER.match(parts[2][5:]) or int(parts[2][5:]) < 0:
                raise OracleError(f"{where}: seed '{parts[2][5:]}' is not a non-negative integer")
            try:
                p = parse_problem(text)
                parse_fill(parts[3][5:])
            except OracleError as e:
                raise OracleError(f"{where}: {e}") from None
            if p.family != family:
                raise OracleError(f"{where}: op '{p.op}' belongs to family {p.family}, not {family}")
            if p.canonical() != text:
                raise OracleError(f"{where}: not canonical; write '{p.canonical()}'")
            if (family, text) in seen:
                raise OracleError(f"{where}: duplicate case (one group per problem string in {family}.h5)")
            seen.add((family, text))
            cases.append(ManifestCase(number, family, text, int(parts[2][5:]), parts[3][5:]))
    return cases


def case_bytes(problem) -> tuple[int, int]:
    """Raw data bytes of a case: inputs in the problem's dt (4, 2 or 1 bytes), float64 outputs."""
    count = lambda s: math.prod(s) if s else 1
    width = {"f32": 4, "bf16": 2, "f16": 2, "f8e4m3": 1, "f8e5m2": 1}[problem.precision.dt]
    inputs = sum(count(s) for s in problem.input_shapes().values()) * width
    outputs = sum(count(s) for _, s in problem.output_shapes().values()) * 8
    return inputs, outputs


def manifest_report(path: str) -> str:
    cases = read_manifest(path)
    lines = [f"{len(cases)} cases in {path}"]
    header = f"{'family':<15}{'cases':>6}  " + "".join(f"{d:>12}" for d in ALL_DIRECTIONS) + f"{'data bytes':>14}"
    lines.append(header)
    total = 0
    for fam in FAMILIES:
        mine = [c for c in cases if c.family == fam]
        per_dir = {d: 0 for d in ALL_DIRECTIONS}
        data = 0
        for c in mine:
            p = parse_problem(c.problem)
            for d in p.directions():
                per_dir[d] += 1
            i, o = case_bytes(p)
            data += i + o
        total += data
        lines.append(f"{fam:<15}{len(mine):>6}  " + "".join(f"{per_dir[d]:>12}" for d in ALL_DIRECTIONS) + f"{data:>14,}")
    lines.append(f"raw tensor data: {total:,} bytes ({total / 2**20:.2f} MiB), before HDF5 metadata")
    return "\n".join(lines)

"""Problem strings: `<op> key=value key=value …` (see fixtures/SCHEMA.md).

Fields tokenizes one string and hands out its values by type, strictly (unknown or repeated
keys are errors); Padding parses `p=`; the helpers format shapes and numbers the canonical
way and resolve `same` padding.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .errors import OracleError

INTEGER = re.compile(r"^-?[0-9]+$")


def format_dims(dims) -> str:
    """[2, 3, 4] -> "2x3x4"; the empty shape (a scalar) is "scalar"."""
    return "scalar" if len(dims) == 0 else "x".join(str(d) for d in dims)


def format_number(v: float) -> str:
    """Integers print without a fraction, other values in shortest round-trip form (1e-05)."""
    return str(int(v)) if v == round(v) and abs(v) < 1e15 else repr(float(v))


def parse_dims(text: str, what: str) -> list[int]:
    if text == "scalar":
        return []
    parts = text.split("x")
    if text == "" or not all(INTEGER.match(p) for p in parts):
        raise OracleError(f"{what}='{text}' is not a list like 3x3")
    return [int(p) for p in parts]


class Fields:
    """Tokenized problem string; strict: unknown or repeated keys are errors."""

    def __init__(self, text: str):
        self.text = text
        tokens = text.split()
        if not tokens:
            raise OracleError("empty problem string")
        self.op = tokens[0]
        self.values: dict[str, str] = {}
        for tok in tokens[1:]:
            key, eq, value = tok.partition("=")
            if not eq or not key:
                raise OracleError(f"token '{tok}' in '{text}' is not key=value")
            if key in self.values:
                raise OracleError(f"key '{key}' given twice in '{text}'")
            self.values[key] = value
        self.consumed: set[str] = set()

    def has(self, key: str) -> bool:
        return key in self.values

    def raw(self, key: str, default=None):
        self.consumed.add(key)
        if key in self.values:
            return self.values[key]
        if default is None:
            raise OracleError(f"missing key '{key}' in '{self.text}'")
        return default

    def int(self, key: str, default=None) -> int:
        v = self.raw(key, None if default is None else str(default))
        if not INTEGER.match(v):
            raise OracleError(f"{key}='{v}' is not an integer")
        return int(v)

    def float(self, key: str, default=None) -> float:
        v = self.raw(key, None if default is None else repr(default))
        try:
            x = float(v)
        except ValueError:
            raise OracleError(f"{key}='{v}' is not a number") from None
        if not math.isfinite(x):
            raise OracleError(f"{key}='{v}' is not a finite number")
        return x

    def bool(self, key: str, default=None) -> bool:
        v = self.raw(key, None if default is None else ("1" if default else "0"))
        if v in ("1", "true"):
            return True
        if v in ("0", "false"):
            return False
        raise OracleError(f"{key}='{v}' is not 0 or 1")

    def dims(self, key: str, rank: int | None = None, default=None) -> list[int]:
        if key not in self.values and default is not None:
            self.consumed.add(key)
            return list(default)
        d = parse_dims(self.raw(key), key)
        if rank is not None:
            if len(d) == 1 and rank > 1:
                d = d * rank
            if len(d) != rank:
                raise OracleError(f"{key}='{self.values[key]}' has {len(d)} entries, the op needs {rank}")
        return d

    def finish(self):
        for key in self.values:
            if key not in self.consumed:
                raise OracleError(f"unknown key '{key}' for op '{self.op}'")


@dataclass
class Padding:
    """`same`, `same_lower`, `valid` or explicit (begin, end) lists."""

    mode: str  # "same" | "same_lower" | "valid" | "explicit"
    begin: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)

    @staticmethod
    def parse(text: str, rank: int) -> "Padding":
        if text in ("same", "same_lower", "valid"):
            return Padding(text)
        parts = text.split(":")
        if len(parts) > 2:
            raise OracleError(f"p='{text}' is not same, same_lower, valid or B:E")

        def lst(s):
            d = parse_dims(s, "p")
            if len(d) == 1 and rank > 1:
                d = d * rank
            if len(d) != rank:
                raise OracleError(f"p='{text}' has {len(d)} entries, the op needs {rank}")
            return d

        b = lst(parts[0])
        e = lst(parts[1]) if len(parts) == 2 else list(b)
        return Padding("explicit", b, e)

    def __str__(self):
        return self.mode if self.mode != "explicit" else f"{format_dims(self.begin)}:{format_dims(self.end)}"


def split_total(total: int, lower_first: bool) -> tuple[int, int]:
    """SAME_UPPER puts the smaller half first (begin = total // 2); SAME_LOWER the larger."""
    small = total // 2
    return (total - small, small) if lower_first else (small, total - small)


def subsampled(inp, s):
    """Spatial size after taking every s-th element: ceil(in / s) per dimension."""
    return [-(-i // k) for i, k in zip(inp, s)]

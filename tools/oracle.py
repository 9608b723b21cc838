#!/usr/bin/env python3
"""The independent oracle of KernelCheck's golden fixtures.

KernelCheck's own Swift code writes the INPUT tensors of every case (float32, drawn from its
seeded RNG); this script fills in the EXPECTED outputs of every direction with PyTorch on
the CPU in float64, so that expected values never come from the code under test.

    python3 tools/oracle.py fill FILE.h5 [FILE.h5 ...]   fill expected outputs (float64)
    python3 tools/oracle.py manifest fixtures/manifest.txt  check the manifest, print counts
                                                           and the fixture size estimate
    python3 tools/oracle.py --version                     print the oracle string

It has its own parser of the canonical problem strings (see fixtures/SCHEMA.md) and its own
resolution of padding modes, written from docs/design.md, not from the Swift descriptors.

Exit status: 0 success; 2 a problem with a file, group, problem string or manifest line
(one line on stderr names the file, group and reason; a file is left untouched when any of
its groups fails); 3 torch or h5py is missing.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field

SCHEMA_VERSION = 1
INSTALL_HINT = (
    "oracle.py: torch and h5py are required: pip install -r tools/requirements-oracle.txt "
    "(torch must be the CPU wheel, torch==2.13.0+cpu; a plain `pip install torch` pulls GPU packages)"
)

ALL_DIRECTIONS = ["fwd", "bwd_data", "bwd_weights", "bwd_bias", "bwd_gamma", "bwd_beta"]


class OracleError(Exception):
    """A problem with the input the oracle was given (exit status 2)."""


# --------------------------------------------------------------------------------------------
# Problem strings: `<op> key=value key=value …`
# --------------------------------------------------------------------------------------------

_INT = re.compile(r"^-?[0-9]+$")


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
    if text == "" or not all(_INT.match(p) for p in parts):
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
        if not _INT.match(v):
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


def _require(ok: bool, op: str, key: str, reason: str):
    if not ok:
        raise OracleError(f"{op}: invalid {key}: {reason}")


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


def _require_sizes_and_strides(op: str, inp, s):
    _require(all(v >= 1 for v in inp), op, "in", "spatial sizes must be >= 1")
    _require(all(v >= 1 for v in s), op, "s", "strides must be >= 1")


def gradients(t, roles, forward):
    """y = forward(*inputs) with the input tensors `roles` as autograd leaves. Returns "y" and,
    for the upstream gradient t["dy"], the gradient "d<role>" of each of them."""
    import torch

    leaves = [t[r].requires_grad_() for r in roles]
    y = forward(*leaves)
    grads = torch.autograd.grad(y, leaves, grad_outputs=t["dy"])
    return {"y": y.detach(), **{"d" + r: g for r, g in zip(roles, grads)}}


class WeightedLayer:
    """Ops with data x, weights w, an optional bias b and output y (conv, transposed conv,
    linear): forward x, w, (b) -> y; bwd_data -> dx; bwd_weights -> dw; bwd_bias -> db.
    Subclasses give `bias`, `shapes()` -> (x, w, y) and `bias_shape()`."""

    def directions(self):
        return ["fwd", "bwd_data", "bwd_weights"] + (["bwd_bias"] if self.bias else [])

    def input_shapes(self):
        x, w, y = self.shapes()
        shapes = {"x": x, "w": w, "dy": y}
        if self.bias:
            shapes["b"] = self.bias_shape()
        return shapes

    def output_shapes(self):
        x, w, y = self.shapes()
        out = {"fwd": ("y", y), "bwd_data": ("dx", x), "bwd_weights": ("dw", w)}
        if self.bias:
            out["bwd_bias"] = ("db", self.bias_shape())
        return out

    def layer_gradients(self, t, forward):
        """gradients() of forward(x, w, b) (b None without a bias): y, dx, dw (and db)."""
        return gradients(t, ["x", "w"] + (["b"] if self.bias else []), forward)


# Role names of the expected outputs, per direction, and per op family which directions exist.
# Each problem class below gives: `family`, `canonical()`, `directions`, `input_shapes()`
# (role -> shape, union over all directions), `output_shapes()` (direction -> (role, shape))
# and `compute(inputs)` (role -> float64 tensor; returns role -> float64 tensor).


class ConvBase(WeightedLayer):
    transposed = False

    def __init__(self, f: Fields):
        op = f.op
        self.op = op
        self.rank = int(op[-2])
        r = self.rank
        self.n = f.int("n")
        self.ic = f.int("ic")
        self.oc = f.int("oc")
        self.g = f.int("g", 1)
        self.inp = f.dims("in", r)
        self.k = f.dims("k", r)
        self.s = f.dims("s", r, [1] * r)
        self.d = f.dims("d", r, [1] * r)
        self.pad = Padding.parse(f.raw("p", "valid"), r)
        if self.transposed:
            self.op_pad = f.dims("op", r, [0] * r)
        self.bias = f.bool("bias", False)
        f.finish()
        self.validate()

    def validate(self):
        op = self.op
        _require(self.n >= 1, op, "n", f"batch must be >= 1, got {self.n}")
        _require(self.ic >= 1 and self.oc >= 1, op, "ic/oc", "channels must be >= 1")
        _require(self.g >= 1, op, "g", f"groups must be >= 1, got {self.g}")
        _require(self.ic % self.g == 0, op, "g", f"groups {self.g} do not divide ic={self.ic}")
        _require(self.oc % self.g == 0, op, "g", f"groups {self.g} do not divide oc={self.oc}")
        _require(all(v >= 1 for v in self.inp), op, "in", "spatial sizes must be >= 1")
        _require(all(v >= 1 for v in self.k), op, "k", "kernel sizes must be >= 1")
        _require(all(v >= 1 for v in self.s), op, "s", "strides must be >= 1")
        _require(all(v >= 1 for v in self.d), op, "d", "dilations must be >= 1")
        if self.pad.mode == "explicit":
            _require(all(v >= 0 for v in self.pad.begin + self.pad.end), op, "p", "padding must be >= 0")

    def bias_shape(self):
        return [self.oc]

    def padding(self):
        """(begin, end) per dimension; same / same_lower split `same_total(i)`."""
        r = self.rank
        if self.pad.mode == "explicit":
            return self.pad.begin, self.pad.end
        if self.pad.mode == "valid":
            return [0] * r, [0] * r
        b, e = [], []
        for i in range(r):
            pb, pe = split_total(self.same_total(i), self.pad.mode == "same_lower")
            b.append(pb)
            e.append(pe)
        return b, e

    def canonical(self):
        op_pad = f" op={format_dims(self.op_pad)}" if self.transposed else ""
        return (f"{self.op} n={self.n} ic={self.ic} oc={self.oc} g={self.g} in={format_dims(self.inp)} "
                f"k={format_dims(self.k)} s={format_dims(self.s)} d={format_dims(self.d)} p={self.pad}{op_pad} "
                f"bias={int(self.bias)}")

    def shapes(self):
        return [self.n, self.ic] + self.inp, self.weight_shape(), [self.n, self.oc] + self.out_size()


class Conv(ConvBase):
    """conv{1,2,3}d: y = b + Σ w·x over the padded input; same = SAME_UPPER."""

    family = "conv"

    def same_total(self, i):
        n, s, d, k = self.inp[i], self.s[i], self.d[i], self.k[i]
        out = -(-n // s)  # ceil(in / s)
        return max((out - 1) * s + d * (k - 1) + 1 - n, 0)

    def validate(self):
        super().validate()
        pb, pe = self.padding()
        for i in range(self.rank):
            eff = self.d[i] * (self.k[i] - 1) + 1
            padded = self.inp[i] + pb[i] + pe[i]
            _require(eff <= padded, self.op, "k",
                     f"dilated kernel {eff} is larger than the padded input {padded} in dimension {i}")

    def out_size(self):
        pb, pe = self.padding()
        return [(self.inp[i] + pb[i] + pe[i] - self.d[i] * (self.k[i] - 1) - 1) // self.s[i] + 1
                for i in range(self.rank)]

    def weight_shape(self):
        return [self.oc, self.ic // self.g] + self.k

    def compute(self, t):
        import torch.nn.functional as F

        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[self.rank]
        pb, pe = self.padding()
        # F.pad lists (begin, end) pairs starting from the LAST dimension; asymmetric padding
        # is applied to the input so the convolution itself runs unpadded.
        pads = []
        for i in reversed(range(self.rank)):
            pads += [pb[i], pe[i]]
        return self.layer_gradients(t, lambda x, w, b=None: conv(F.pad(x, pads), w, b, stride=self.s, padding=0,
                                                                  dilation=self.d, groups=self.g))


class ConvTranspose(ConvBase):
    """convt{1,2,3}d: the adjoint of conv; the full output is cropped by (begin, end)."""

    family = "conv_transpose"
    transposed = True

    def same_total(self, i):
        # Keras / ONNX SAME_UPPER for transposed conv: output in·s, total crop
        # d·(k−1) + 1 + output_padding − s.
        return self.d[i] * (self.k[i] - 1) + 1 + self.op_pad[i] - self.s[i]

    def full_size(self):
        """Uncropped output size, output_padding included (added at the end)."""
        return [(self.inp[i] - 1) * self.s[i] + self.d[i] * (self.k[i] - 1) + self.op_pad[i] + 1
                for i in range(self.rank)]

    def validate(self):
        super().validate()
        op = self.op
        for i in range(self.rank):
            lim = max(self.s[i], self.d[i])
            _require(0 <= self.op_pad[i] < lim, op, "op",
                     f"output_padding {self.op_pad[i]} must be in [0, max(s, d)) = [0, {lim})")
        if self.pad.mode in ("same", "same_lower"):
            for i in range(self.rank):
                total = self.d[i] * (self.k[i] - 1) + 1 + self.op_pad[i] - self.s[i]
                _require(total >= 0, op, "p", f"same needs d·(k−1)+1+op >= s in dimension {i}")
        pb, pe = self.padding()
        full = self.full_size()
        for i in range(self.rank):
            _require(pb[i] + pe[i] < full[i], op, "p",
                     f"cropping {pb[i] + pe[i]} removes the whole output of size {full[i]} in dimension {i}")

    def out_size(self):
        pb, pe = self.padding()
        return [f - pb[i] - pe[i] for i, f in enumerate(self.full_size())]

    def weight_shape(self):
        return [self.ic, self.oc // self.g] + self.k

    def compute(self, t):
        import torch.nn.functional as F

        convt = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[self.rank]
        pb, pe = self.padding()

        def forward(x, w, b=None):
            # Unpadded transposed conv with output_padding gives the full output (the extra
            # output_padding positions at the end receive only the bias); then crop (begin, end).
            full = convt(x, w, b, stride=self.s, padding=0, output_padding=self.op_pad,
                         groups=self.g, dilation=self.d)
            index = [slice(None), slice(None)] + [slice(pb[i], full.shape[2 + i] - pe[i]) for i in range(self.rank)]
            return full[tuple(index)]

        return self.layer_gradients(t, forward)


class PadProjA:
    """padproj_a: y = zero-pad-channels(x[:, :, ::s, …], before, after)."""

    family = "padproj_a"

    def __init__(self, f: Fields):
        self.op = f.op
        self.inp = f.dims("in")
        r = len(self.inp)
        self.n = f.int("n")
        self.c = f.int("c")
        self.s = f.dims("s", r, [1] * r)
        if f.has("oc"):
            if f.has("before") or f.has("after"):
                raise OracleError("give either oc or before/after, not both")
            oc = f.int("oc")
            _require(oc >= self.c, "padproj_a", "oc", f"option A can only add channels: oc={oc} < c={self.c}")
            gap = oc - self.c
            self.before, self.after = gap // 2, gap - gap // 2
        else:
            self.before, self.after = f.int("before"), f.int("after")
        f.finish()
        op = "padproj_a"
        _require(1 <= r <= 3, op, "in", f"spatial rank must be 1, 2 or 3, got {r}")
        _require(self.n >= 1 and self.c >= 1, op, "n/c", "batch and channels must be >= 1")
        _require(self.before >= 0 and self.after >= 0, op, "before/after", "option A can only add channels")
        _require_sizes_and_strides(op, self.inp, self.s)

    def directions(self):
        return ["fwd", "bwd_data"]

    def canonical(self):
        return (f"padproj_a n={self.n} c={self.c} in={format_dims(self.inp)} s={format_dims(self.s)} "
                f"before={self.before} after={self.after}")

    def shapes(self):
        return [self.n, self.c] + self.inp, [self.n, self.c + self.before + self.after] + subsampled(self.inp, self.s)

    def input_shapes(self):
        x, y = self.shapes()
        return {"x": x, "dy": y}

    def output_shapes(self):
        x, y = self.shapes()
        return {"fwd": ("y", y), "bwd_data": ("dx", x)}

    def compute(self, t):
        import torch.nn.functional as F

        def forward(x):
            sub = x[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in self.s)]
            return F.pad(sub, [0, 0] * len(self.inp) + [self.before, self.after])

        return gradients(t, ["x"], forward)


class PadProjB:
    """padproj_b: y = BatchNorm_inference(conv1x1_stride_s(x)), no conv bias."""

    family = "padproj_b"

    def __init__(self, f: Fields):
        self.op = f.op
        self.inp = f.dims("in")
        r = len(self.inp)
        self.n = f.int("n")
        self.ic = f.int("ic")
        self.oc = f.int("oc")
        self.s = f.dims("s", r, [1] * r)
        self.eps = f.float("eps", 1e-5)
        f.finish()
        op = "padproj_b"
        _require(1 <= r <= 3, op, "in", f"spatial rank must be 1, 2 or 3, got {r}")
        _require(self.n >= 1 and self.ic >= 1 and self.oc >= 1, op, "n/ic/oc", "sizes must be >= 1")
        _require_sizes_and_strides(op, self.inp, self.s)
        _require(self.eps > 0, op, "eps", f"BatchNorm eps must be > 0, got {self.eps}")

    def directions(self):
        return ["fwd", "bwd_data", "bwd_weights", "bwd_gamma", "bwd_beta"]

    def canonical(self):
        return (f"padproj_b n={self.n} ic={self.ic} oc={self.oc} in={format_dims(self.inp)} "
                f"s={format_dims(self.s)} eps={format_number(self.eps)}")

    def shapes(self):
        x = [self.n, self.ic] + self.inp
        w = [self.oc, self.ic] + [1] * len(self.inp)
        y = [self.n, self.oc] + subsampled(self.inp, self.s)
        return x, w, y

    def input_shapes(self):
        x, w, y = self.shapes()
        c = [self.oc]
        return {"x": x, "w": w, "gamma": c, "beta": c, "mean": c, "var": c, "dy": y}

    def output_shapes(self):
        x, w, y = self.shapes()
        c = [self.oc]
        return {"fwd": ("y", y), "bwd_data": ("dx", x), "bwd_weights": ("dw", w),
                "bwd_gamma": ("dgamma", c), "bwd_beta": ("dbeta", c)}

    def compute(self, t):
        import torch.nn.functional as F

        if bool((t["var"] < 0).any()):
            raise OracleError("var has negative entries; a BatchNorm running variance must be >= 0")
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(self.inp)]

        def forward(x, w, gamma, beta):
            z = conv(x, w, None, stride=self.s)
            return F.batch_norm(z, t["mean"], t["var"], weight=gamma, bias=beta, training=False, eps=self.eps)

        return gradients(t, ["x", "w", "gamma", "beta"], forward)


class Matmul:
    """matmul: y = op(a)·op(b), batch dims broadcast like torch.matmul."""

    family = "matmul"

    def __init__(self, f: Fields):
        self.op = f.op
        self.a = f.dims("a")
        self.b = f.dims("b")
        self.ta = f.bool("ta", False)
        self.tb = f.bool("tb", False)
        f.finish()
        _require(len(self.a) >= 2, "matmul", "a", "needs rank >= 2")
        _require(len(self.b) >= 2, "matmul", "b", "needs rank >= 2")
        _require(all(v >= 1 for v in self.a + self.b), "matmul", "a/b", "dimensions must be >= 1")
        m, k = (self.a[-1], self.a[-2]) if self.ta else (self.a[-2], self.a[-1])
        kb, n = (self.b[-1], self.b[-2]) if self.tb else (self.b[-2], self.b[-1])
        _require(k == kb, "matmul", "b", f"inner dimensions differ: op(A) is {m}x{k}, op(B) is {kb}x{n}")
        self.m, self.n, self.k = m, n, k
        ba, bb = self.a[:-2], self.b[:-2]
        r = max(len(ba), len(bb))
        ba, bb = [1] * (r - len(ba)) + ba, [1] * (r - len(bb)) + bb
        batch = []
        for p, q in zip(ba, bb):
            _require(p == q or p == 1 or q == 1, "matmul", "b",
                     f"batch dims {format_dims(self.a[:-2])} and {format_dims(self.b[:-2])} do not broadcast")
            batch.append(max(p, q))
        self.batch = batch

    def directions(self):
        return ["fwd", "bwd_data", "bwd_weights"]

    def canonical(self):
        return f"matmul a={format_dims(self.a)} b={format_dims(self.b)} ta={int(self.ta)} tb={int(self.tb)}"

    def input_shapes(self):
        return {"a": self.a, "b": self.b, "dy": self.batch + [self.m, self.n]}

    def output_shapes(self):
        return {"fwd": ("y", self.batch + [self.m, self.n]), "bwd_data": ("da", self.a), "bwd_weights": ("db", self.b)}

    def compute(self, t):
        import torch

        def forward(a, b):
            return torch.matmul(a.transpose(-1, -2) if self.ta else a, b.transpose(-1, -2) if self.tb else b)

        return gradients(t, ["a", "b"], forward)


class Linear(WeightedLayer):
    """linear: y = x·Wᵀ + b (nn.Linear)."""

    family = "linear"

    def __init__(self, f: Fields):
        self.op = f.op
        self.x = f.dims("x")
        self.out = f.int("out")
        self.bias = f.bool("bias", False)
        f.finish()
        _require(len(self.x) >= 1, "linear", "x", "needs rank >= 1")
        _require(all(v >= 1 for v in self.x), "linear", "x", "dimensions must be >= 1")
        _require(self.out >= 1, "linear", "out", "must be >= 1")

    def canonical(self):
        return f"linear x={format_dims(self.x)} out={self.out} bias={int(self.bias)}"

    def shapes(self):
        return self.x, [self.out, self.x[-1]], self.x[:-1] + [self.out]

    def bias_shape(self):
        return [self.out]

    def compute(self, t):
        import torch.nn.functional as F

        return self.layer_gradients(t, F.linear)


class Activation:
    """relu, leaky_relu (slope), sigmoid, tanh, elementwise; dx = f′(x)·dy."""

    family = "activation"

    def __init__(self, f: Fields):
        self.op = f.op
        self.shape = f.dims("shape")
        self.slope = f.float("slope", 0.01) if self.op == "leaky_relu" else None
        f.finish()
        _require(all(v >= 1 for v in self.shape), self.op, "shape", "dimensions must be >= 1")

    def directions(self):
        return ["fwd", "bwd_data"]

    def canonical(self):
        s = f"{self.op} shape={format_dims(self.shape)}"
        return s + (f" slope={format_number(self.slope)}" if self.op == "leaky_relu" else "")

    def input_shapes(self):
        return {"x": self.shape, "dy": self.shape}

    def output_shapes(self):
        return {"fwd": ("y", self.shape), "bwd_data": ("dx", self.shape)}

    def compute(self, t):
        import torch
        import torch.nn.functional as F

        if self.op == "relu":
            forward = F.relu  # PyTorch's relu gradient is 0 at x = 0
        elif self.op == "leaky_relu":
            def forward(x):
                return F.leaky_relu(x, negative_slope=self.slope)  # gradient `slope` at x = 0
        elif self.op == "sigmoid":
            forward = torch.sigmoid
        else:
            forward = torch.tanh
        return gradients(t, ["x"], forward)


class Loss:
    """mse (mean of squared differences) and sumsq (their sum); y is a scalar."""

    family = "loss"

    def __init__(self, f: Fields):
        self.op = f.op
        self.shape = f.dims("shape")
        f.finish()
        _require(all(v >= 1 for v in self.shape), self.op, "shape", "dimensions must be >= 1")

    def directions(self):
        return ["fwd", "bwd_data"]

    def canonical(self):
        return f"{self.op} shape={format_dims(self.shape)}"

    def input_shapes(self):
        return {"x": self.shape, "target": self.shape, "dy": []}

    def output_shapes(self):
        return {"fwd": ("y", []), "bwd_data": ("dx", self.shape)}

    def compute(self, t):
        import torch.nn.functional as F

        return gradients(t, ["x"], lambda x: F.mse_loss(x, t["target"], reduction="mean" if self.op == "mse" else "sum"))


OPS = {
    "conv1d": Conv, "conv2d": Conv, "conv3d": Conv,
    "convt1d": ConvTranspose, "convt2d": ConvTranspose, "convt3d": ConvTranspose,
    "padproj_a": PadProjA, "padproj_b": PadProjB,
    "matmul": Matmul, "linear": Linear,
    "relu": Activation, "leaky_relu": Activation, "sigmoid": Activation, "tanh": Activation,
    "mse": Loss, "sumsq": Loss,
}
FAMILIES = ["conv", "conv_transpose", "padproj_a", "padproj_b", "matmul", "linear", "activation", "loss"]


def parse_problem(text: str):
    """Parses and validates a problem string; raises OracleError naming the fault."""
    f = Fields(text)
    cls = OPS.get(f.op)
    if cls is None:
        raise OracleError(f"unknown op '{f.op}'; known: {', '.join(OPS)}")
    return cls(f)


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


# --------------------------------------------------------------------------------------------
# fill: compute the expected outputs of every case in an HDF5 file
# --------------------------------------------------------------------------------------------

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
        if ds.dtype != np.float32:
            raise OracleError(f"input '{role}' is {ds.dtype}, the schema stores inputs as float32")
        if list(ds.shape) != list(shape):
            raise OracleError(f"input '{role}' has shape {format_dims(list(ds.shape))}, "
                              f"the problem needs {format_dims(shape)}")
        values = np.asarray(ds[()], dtype=np.float64)  # exact upcast of the stored float32
        if not np.isfinite(values).all():
            raise OracleError(f"input '{role}' holds non-finite values")
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


# --------------------------------------------------------------------------------------------
# manifest: `<family> | <problem> | seed=<n> | fill=<fill>`
# --------------------------------------------------------------------------------------------

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
            if not _INT.match(parts[2][5:]) or int(parts[2][5:]) < 0:
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
    """Raw data bytes of a case: float32 inputs, float64 outputs."""
    count = lambda s: math.prod(s) if s else 1
    inputs = sum(count(s) for s in problem.input_shapes().values()) * 4
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


# --------------------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    usage = ("usage: oracle.py fill FILE.h5 [FILE.h5 ...] | oracle.py manifest MANIFEST | oracle.py --version")
    if not argv or argv[0] in ("-h", "--help"):
        print(usage)
        print(__doc__.strip().split("\n\n")[0])
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    if command == "manifest":
        if len(args) != 1:
            print(usage, file=sys.stderr)
            return 2
        try:
            print(manifest_report(args[0]))
        except (OracleError, OSError) as e:
            print(f"oracle.py: {e}", file=sys.stderr)
            return 2
        return 0
    if command not in ("fill", "--version"):
        print(f"oracle.py: unknown command '{command}'; {usage}", file=sys.stderr)
        return 2
    try:
        import h5py  # noqa: F401
        import numpy  # noqa: F401
        import torch
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 3
    if command == "--version":
        print(oracle_string())
        return 0
    if not args:
        print(usage, file=sys.stderr)
        return 2
    torch.set_num_threads(1)  # deterministic reduction order: regenerated files do not churn
    for path in args:
        try:
            fill_file(path)
        except OracleError as e:
            print(f"oracle.py: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""matmul and linear: the dense products."""

from __future__ import annotations

from .errors import require
from .fields import Fields, format_dims
from .layers import WeightedLayer, gradients
from .precision import parse_precision


class Matmul:
    """matmul: y = op(a)·op(b), batch dims broadcast like torch.matmul."""

    family = "matmul"

    def __init__(self, f: Fields):
        self.op = f.op
        self.a = f.dims("a")
        self.b = f.dims("b")
        self.ta = f.bool("ta", False)
        self.tb = f.bool("tb", False)
        self.precision = parse_precision(f)
        f.finish()
        require(len(self.a) >= 1, "matmul", "a", "needs rank >= 1")
        require(len(self.b) >= 1, "matmul", "b", "needs rank >= 1")
        # torch.matmul's vectors: a 1-D a is the row vector 1xK, a 1-D b the column vector
        # Kx1, and that dimension is dropped from y. torch has no transpose of a vector.
        require(not (len(self.a) == 1 and self.ta), "matmul", "ta", "a 1-D a has no transpose")
        require(not (len(self.b) == 1 and self.tb), "matmul", "tb", "a 1-D b has no transpose")
        require(all(v >= 1 for v in self.a + self.b), "matmul", "a/b", "dimensions must be >= 1")
        a2 = [1] + self.a if len(self.a) == 1 else self.a
        b2 = self.b + [1] if len(self.b) == 1 else self.b
        m, k = (a2[-1], a2[-2]) if self.ta else (a2[-2], a2[-1])
        kb, n = (b2[-1], b2[-2]) if self.tb else (b2[-2], b2[-1])
        require(k == kb, "matmul", "b", f"inner dimensions differ: op(A) is {m}x{k}, op(B) is {kb}x{n}")
        self.m, self.n, self.k = m, n, k
        ba, bb = a2[:-2], b2[:-2]
        r = max(len(ba), len(bb))
        ba, bb = [1] * (r - len(ba)) + ba, [1] * (r - len(bb)) + bb
        batch = []
        for p, q in zip(ba, bb):
            require(p == q or p == 1 or q == 1, "matmul", "b",
                    f"batch dims {format_dims(a2[:-2])} and {format_dims(b2[:-2])} do not broadcast")
            batch.append(max(p, q))
        self.batch = batch
        self.y = batch + ([self.m] if len(self.a) >= 2 else []) + ([self.n] if len(self.b) >= 2 else [])

    def directions(self):
        return ["fwd", "bwd_data", "bwd_weights"]

    def canonical(self):
        return (f"matmul a={format_dims(self.a)} b={format_dims(self.b)} ta={int(self.ta)} tb={int(self.tb)}"
                f"{self.precision.fields()}")

    def input_shapes(self):
        return {"a": self.a, "b": self.b, "dy": self.y}

    def output_shapes(self):
        return {"fwd": ("y", self.y), "bwd_data": ("da", self.a), "bwd_weights": ("db", self.b)}

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
        # linear's `out` is its feature count, so the output type is only `odt`.
        self.precision = parse_precision(f, output_alias=False)
        f.finish()
        require(len(self.x) >= 1, "linear", "x", "needs rank >= 1")
        require(all(v >= 1 for v in self.x), "linear", "x", "dimensions must be >= 1")
        require(self.out >= 1, "linear", "out", "must be >= 1")

    def canonical(self):
        return f"linear x={format_dims(self.x)} out={self.out} bias={int(self.bias)}{self.precision.fields()}"

    def shapes(self):
        return self.x, [self.out, self.x[-1]], self.x[:-1] + [self.out]

    def bias_shape(self):
        return [self.out]

    def compute(self, t):
        import torch.nn.functional as F

        return self.layer_gradients(t, F.linear)

"""padproj_a and padproj_b: the two ResNet shortcut projections (docs/design.md)."""

from __future__ import annotations

from .errors import OracleError, require
from .fields import Fields, format_dims, format_number, subsampled
from .layers import gradients
from .precision import parse_precision


def _require_sizes_and_strides(op: str, inp, s):
    require(all(v >= 1 for v in inp), op, "in", "spatial sizes must be >= 1")
    require(all(v >= 1 for v in s), op, "s", "strides must be >= 1")


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
            require(oc >= self.c, "padproj_a", "oc", f"option A can only add channels: oc={oc} < c={self.c}")
            gap = oc - self.c
            self.before, self.after = gap // 2, gap - gap // 2
        else:
            self.before, self.after = f.int("before"), f.int("after")
        self.precision = parse_precision(f, supported=False)  # float32 only: refuses dt/acc/odt
        f.finish()
        op = "padproj_a"
        require(1 <= r <= 3, op, "in", f"spatial rank must be 1, 2 or 3, got {r}")
        require(self.n >= 1 and self.c >= 1, op, "n/c", "batch and channels must be >= 1")
        require(self.before >= 0 and self.after >= 0, op, "before/after", "option A can only add channels")
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
        self.precision = parse_precision(f, supported=False)  # float32 only: refuses dt/acc/odt
        f.finish()
        op = "padproj_b"
        require(1 <= r <= 3, op, "in", f"spatial rank must be 1, 2 or 3, got {r}")
        require(self.n >= 1 and self.ic >= 1 and self.oc >= 1, op, "n/ic/oc", "sizes must be >= 1")
        _require_sizes_and_strides(op, self.inp, self.s)
        require(self.eps > 0, op, "eps", f"BatchNorm eps must be > 0, got {self.eps}")

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

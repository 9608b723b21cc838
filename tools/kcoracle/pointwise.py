"""The elementwise ops: activations (relu, leaky_relu, sigmoid, tanh) and losses (mse, sumsq)."""

from __future__ import annotations

from .errors import require
from .fields import Fields, format_dims, format_number
from .layers import gradients
from .precision import parse_precision


class Activation:
    """relu, leaky_relu (slope), sigmoid, tanh, elementwise; dx = f′(x)·dy."""

    family = "activation"

    def __init__(self, f: Fields):
        self.op = f.op
        self.shape = f.dims("shape")
        self.slope = f.float("slope", 0.01) if self.op == "leaky_relu" else None
        self.precision = parse_precision(f, supported=False)  # float32 only: refuses dt/acc/odt
        f.finish()
        require(all(v >= 1 for v in self.shape), self.op, "shape", "dimensions must be >= 1")

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
        self.precision = parse_precision(f, supported=False)  # float32 only: refuses dt/acc/odt
        f.finish()
        require(all(v >= 1 for v in self.shape), self.op, "shape", "dimensions must be >= 1")

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

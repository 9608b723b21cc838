"""The op table: which class parses each op name, the families, and parse_problem."""

from __future__ import annotations

from .conv import Conv, ConvTranspose
from .dense import Linear, Matmul
from .errors import OracleError
from .fields import Fields
from .padproj import PadProjA, PadProjB
from .pointwise import Activation, Loss

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

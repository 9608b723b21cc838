#!/usr/bin/env python3
"""PyTorch's float32 CPU kernels as a KernelCheck worker (docs/worker-protocol.md).

    kernelcheck check --impl exec:'python3 tools/adapters/torch_cpu.py' --cases 2000
    kernelcheck verify --impl exec:'python3 tools/adapters/torch_cpu.py'

Every op and direction: the forward is the fixture oracle's (tools/kcoracle: conv and
transposed conv with asymmetric padding through F.pad and cropping, matmul, linear, the
ResNet projections, activations, losses) run on float32 tensors (the forward direction
without autograd), and every backward direction is autograd of it. torch.set_num_threads follows each case's `threads`.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kcworker import serve  # noqa: E402

import kcoracle.layers  # noqa: E402
import kcoracle.dense  # noqa: E402
import kcoracle.padproj  # noqa: E402
import kcoracle.pointwise  # noqa: E402
import torch  # noqa: E402

# The modules that call the autograd helper `gradients` (kcoracle/layers.py) by name.
OP_MODULES = [kcoracle.layers, kcoracle.dense, kcoracle.padproj, kcoracle.pointwise]
AUTOGRAD = {m: m.gradients for m in OP_MODULES}


def forward_only(t, roles, forward):
    """`gradients` without the backward pass, for the forward direction."""
    with torch.no_grad():
        return {"y": forward(*[t[r] for r in roles])}

OUTPUT_OF = {"fwd": "y"}  # the other directions' outputs are named in the request


def set_threads(threads: int):
    want = threads if threads > 0 else (os.cpu_count() or 1)
    if torch.get_num_threads() != want:
        torch.set_num_threads(want)


def compute(case):
    set_threads(case.threads)
    spec = case.spec
    # Autograd needs every leaf of the forward; a role this direction does not send cannot
    # change its output (the gradient of a linear map w.r.t. x does not depend on x), so it
    # is zero-filled.
    shapes = spec.input_shapes()
    tensors = {role: torch.zeros(shape, dtype=torch.float32) for role, shape in shapes.items()}
    for role, value in case.inputs.items():
        tensors[role] = torch.from_numpy(value)
    # The forward runs without autograd: kcoracle's ops call `gradients` (forward and every
    # backward); for this direction each op module's `gradients` is the forward alone.
    try:
        for m in OP_MODULES:
            m.gradients = forward_only if case.direction == "fwd" else AUTOGRAD[m]
        results = spec.compute(tensors)
    finally:
        for m in OP_MODULES:
            m.gradients = AUTOGRAD[m]
    return results[case.output_role].detach().numpy()


if __name__ == "__main__":
    sys.exit(serve(f"torch {torch.__version__} cpu float32", compute, honours_threads=True))

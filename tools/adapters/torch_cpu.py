#!/usr/bin/env python3
"""PyTorch's float32 CPU kernels as a KernelCheck worker (docs/worker-protocol.md).

    kernelcheck check --impl exec:'python3 tools/adapters/torch_cpu.py' --cases 2000
    kernelcheck verify --impl exec:'python3 tools/adapters/torch_cpu.py'

Every op and direction: the forward is the fixture oracle's (tools/kcoracle: conv and
transposed conv with asymmetric padding through F.pad and cropping, matmul, linear, the
ResNet projections, activations, losses) run on float32 tensors, and every backward
direction is autograd of it. torch.set_num_threads follows each case's `threads`.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kcworker import serve  # noqa: E402

import torch  # noqa: E402

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
    # is zero-filled. The forward has no upstream gradient: a zero dy costs one backward.
    shapes = spec.input_shapes()
    tensors = {role: torch.zeros(shape, dtype=torch.float32) for role, shape in shapes.items()}
    for role, value in case.inputs.items():
        tensors[role] = torch.from_numpy(value)
    results = spec.compute(tensors)
    return results[case.output_role].detach().numpy()


if __name__ == "__main__":
    sys.exit(serve(f"torch {torch.__version__} cpu float32", compute, honours_threads=True))

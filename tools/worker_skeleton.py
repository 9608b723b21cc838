#!/usr/bin/env python3
"""A minimal KernelCheck worker: numpy relu (fwd, bwd_data) and matmul (fwd).

Copy this file (and tools/adapters/kcworker.py, which speaks the protocol of
docs/worker-protocol.md, with tools/kcoracle/, its problem-string parser), replace the
kernels by calls into yours, and check them:

    kernelcheck check --impl exec:'python3 tools/worker_skeleton.py' --op activation --op matmul

The harness starts this program once and sends it one case after another. `compute` gets a
`Case`: `case.problem` (the canonical problem string), `case.fields` (its key=value fields, e.g.
`case.fields.bool("ta", False)`), `case.spec` (kcoracle's parsed problem: shapes, padding), `case.direction`, `case.threads`, `case.inputs` (role -> float32 array)
and `case.output_shape`; it returns the output array. Raise `Unsupported` for a case you do
not implement (it is reported as skipped); any other exception is reported as an error of
that case. Do not print to standard output: it carries the protocol (kcworker sends print()
to standard error).

Low-precision problems (`dt=bf16|f16|f8e4m3|f8e5m2` at the end of the problem string) arrive
with float32 inputs that are exactly numbers of `dt`; pass `stored_inputs=True` to `serve` to
get their bit patterns as well (`case.stored[role]`). Round the output to the output type
(`odt`, default `dt`) before returning it (docs/worker-protocol.md).
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "adapters"))
from kcworker import Unsupported, serve  # noqa: E402


def relu(case):
    x = case.inputs["x"]
    if case.direction == "fwd":
        return np.maximum(x, 0)
    # bwd_data: dx = relu'(x)·dy, with relu'(0) = 0 (PyTorch's convention, docs/design.md).
    return np.where(x > 0, case.inputs["dy"], np.float32(0))


def matmul(case):
    # y = op(a)·op(b); ta / tb transpose the last two dimensions; batch dimensions broadcast.
    a, b = case.inputs["a"], case.inputs["b"]
    fields = case.fields
    if fields.bool("ta", False):
        a = np.swapaxes(a, -1, -2)
    if fields.bool("tb", False):
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


KERNELS = {("relu", "fwd"): relu, ("relu", "bwd_data"): relu, ("matmul", "fwd"): matmul}


def compute(case):
    kernel = KERNELS.get((case.op, case.direction))
    if kernel is None:
        raise Unsupported(f"{case.op} {case.direction}")
    return kernel(case)


if __name__ == "__main__":
    # numpy chooses its own threads, so this worker says it does not honour `threads`: the
    # harness then reports the 1-thread determinism comparison as not applicable. The
    # `supports` table lets the harness skip other ops without sending them.
    sys.exit(serve("numpy-skeleton", compute, honours_threads=False,
                   supports={"relu": ["fwd", "bwd_data"], "matmul": ["fwd"]}))

"""The worker side of KernelCheck's worker protocol, version 1 (docs/worker-protocol.md).

A worker is any program that `kernelcheck … --impl exec:'COMMAND'` starts once and keeps
running. It reads requests on standard input and answers on standard output:

    harness -> worker   {"kernelcheck_protocol":1}\\n
    worker  -> harness  {"kernelcheck_protocol":1,"name":…,"honours_threads":…,"supports":{…}}\\n
    harness -> worker   {"id":…,"problem":…,"direction":…,"threads":…,"inputs":[…],"output":{…}}\\n
                        then the raw little-endian float32 bytes of each input, in order
    worker  -> harness  {"id":…,"status":"ok","bytes":N}\\n then N bytes of output
                     or {"id":…,"status":"unsupported"|"error","message":…}\\n

`serve(name, compute, …)` does all of that; `compute(case)` only computes one output.
The problem string is parsed with the fixture oracle's parser (tools/kcoracle), so a worker
sees the same fields, shapes and padding resolution as the oracle.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tools/, for kcoracle

import kcoracle.conv  # noqa: E402
import kcoracle.dense  # noqa: E402
import kcoracle.padproj  # noqa: E402
import kcoracle.pointwise  # noqa: E402
from kcoracle.errors import OracleError  # noqa: E402
from kcoracle.fields import Fields  # noqa: E402
from kcoracle.problems import parse_problem  # noqa: E402

PROTOCOL = 1


class Unsupported(Exception):
    """Raised by `compute` for a case this worker does not implement (reported as skipped)."""


class ProtocolError(Exception):
    """The harness sent something this worker cannot read; the worker exits."""


class Case:
    """One request: `problem` (the canonical string), `fields` (its key=value tokens,
    e.g. `case.fields.bool("ta")`), `spec` (kcoracle's parsed and validated problem: shapes,
    padding resolved; it refuses zero-sized dimensions), `direction`, `threads` (0: as many as you like), `inputs` (role -> float32 ndarray of its
    shape, writable), `stored` (role -> the bit patterns of a narrow-typed problem's inputs, with
    `serve(..., stored_inputs=True)`), `output_role` and `output_shape`."""

    def __init__(self, header: dict, inputs: dict):
        self.id = header["id"]
        self.problem = header["problem"]
        self.direction = header["direction"]
        self.threads = int(header.get("threads", 0))
        self.inputs = inputs
        # Narrow-typed inputs' bit patterns (uint16 / uint8) when the worker asked for stored inputs.
        self.stored = {}
        self.output_role = header["output"]["role"]
        self.output_shape = tuple(header["output"]["shape"])
        self._spec = None

    @property
    def spec(self):
        if self._spec is None:
            self._spec = parse_allowing_empty(self.problem)
        return self._spec

    @property
    def fields(self) -> Fields:
        return Fields(self.problem)

    @property
    def op(self) -> str:
        return self.problem.split(" ", 1)[0]


def parse_allowing_empty(text: str):
    """kcoracle's parse_problem, except that zero-sized dimensions pass.

    The harness checks empty tensors (an empty batch, zero channels, an empty inner
    dimension); the fixture oracle refuses them (a fixture of an empty tensor checks
    nothing). Its `require` says "must be >= 1" for exactly those; only for the length of
    this parse, the op modules' `require` lets those through. The harness has validated the
    problem already, so no size here is negative.
    """
    try:
        return parse_problem(text)
    except OracleError as e:
        if ">= 1" not in str(e):
            raise
    modules = [kcoracle.conv, kcoracle.dense, kcoracle.padproj, kcoracle.pointwise]
    strict = [m.require for m in modules]

    def lenient(ok, op, key, reason):
        if not ok and ">= 1" not in reason:
            strict[0](ok, op, key, reason)

    try:
        for m in modules:
            m.require = lenient
        return parse_problem(text)
    finally:
        for m, r in zip(modules, strict):
            m.require = r


def _read_exactly(stream, n: int) -> bytearray:
    data = bytearray(n)
    view, got = memoryview(data), 0
    while got < n:
        k = stream.readinto(view[got:])
        if not k:
            raise ProtocolError(f"standard input ended after {got} of {n} bytes")
        got += k
    return data


def read_case(stream):
    """The next request from `stream` (binary), or None at end of input."""
    import numpy as np

    line = stream.readline()
    if not line:
        return None
    try:
        header = json.loads(line)
        specs = header["inputs"]
        output = header["output"]
    except (ValueError, KeyError, TypeError) as e:
        raise ProtocolError(f"unreadable request line {line[:80]!r}: {e}") from e
    inputs = {}
    stored = {}
    for spec in specs:
        shape = tuple(spec["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        dtype = spec.get("dtype", "f32")
        if dtype not in STORED_DTYPES:
            raise ProtocolError(f"input {spec['role']}: unknown dtype {dtype!r}")
        width = STORED_DTYPES[dtype]
        if spec["bytes"] != width * count:
            raise ProtocolError(f"input {spec['role']}: {spec['bytes']} bytes for shape {list(shape)} of {dtype}")
        buf = _read_exactly(stream, spec["bytes"])
        if dtype == "f32":
            inputs[spec["role"]] = np.frombuffer(buf, dtype="<f4").reshape(shape)
        else:
            # The bit patterns, and their exact float32 values (every bf16 / f16 / fp8 number is one).
            bits = np.frombuffer(buf, dtype="<u2" if width == 2 else "u1").reshape(shape)
            stored[spec["role"]] = bits
            inputs[spec["role"]] = decode_stored(bits, dtype)
    if output["bytes"] != 4 * int(np.prod(output["shape"], dtype=np.int64)):
        raise ProtocolError(f"output: {output['bytes']} bytes for shape {output['shape']}")
    case = Case(header, inputs)
    case.stored = stored
    return case


# Bytes per element of each input dtype the harness may send (docs/worker-protocol.md).
STORED_DTYPES = {"f32": 4, "bf16": 2, "f16": 2, "f8e4m3": 1, "f8e5m2": 1}


def decode_stored(bits, dtype: str):
    """float32 values of little-endian bit patterns of `dtype` (bf16, f16, f8e4m3, f8e5m2)."""
    import numpy as np

    if dtype == "bf16":
        return (bits.astype(np.uint32) << 16).view(np.float32)
    if dtype == "f16":
        return bits.view(np.float16).astype(np.float32)
    import ml_dtypes  # fp8: the OCP formats (e4m3 "fn": no infinities), as PyTorch's float8 types

    kind = ml_dtypes.float8_e4m3fn if dtype == "f8e4m3" else ml_dtypes.float8_e5m2
    return bits.view(kind).astype(np.float32)


def answer(stream, case_id, status: str, message: str | None = None, payload: bytes = b""):
    """Writes one status line (and, for "ok", the payload) and flushes."""
    reply = {"id": case_id, "status": status}
    if message is not None:
        reply["message"] = message
    if status == "ok":
        reply["bytes"] = len(payload)
    stream.write(json.dumps(reply, separators=(",", ":")).encode() + b"\n" + payload)
    stream.flush()


def run_case(case: Case, compute):
    """(status, message, payload) of one case: compute's output checked against the header."""
    import numpy as np

    try:
        result = compute(case)
    except Unsupported as e:
        return "unsupported", str(e) or f"{case.op} {case.direction}", b""
    except OracleError as e:  # kcoracle refuses what the harness allows
        return "unsupported", f"the oracle's parser refuses it: {e}", b""
    except Exception as e:  # a failing kernel is a result for the harness, not a crash
        text = str(e).strip().splitlines()
        return "error", f"{type(e).__name__}: {text[0] if text else ''}", b""
    out = np.asarray(result, dtype="<f4")  # not ascontiguousarray: it makes a 0-d array 1-d
    if out.shape != case.output_shape:
        return "error", f"computed shape {list(out.shape)}, expected {list(case.output_shape)}", b""
    return "ok", None, out.tobytes()


def serve(name: str, compute, honours_threads: bool, supports: dict | None = None,
          stdin=None, stdout=None, stored_inputs: bool = False) -> int:
    """Runs the protocol until standard input ends; returns the exit status.

    `supports` maps op names (the first token of a problem string) to the directions this
    worker offers; None offers everything (`compute` raises Unsupported case by case).
    With `stored_inputs` the harness sends a narrow-typed problem's inputs as their bit
    patterns: `case.stored[role]` holds them (uint16 / uint8), `case.inputs[role]` their
    float32 values either way.
    """
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    # Standard output carries the protocol: a stray print() from the kernel must go elsewhere.
    sys.stdout = sys.stderr
    hello = stdin.readline()
    try:
        version = json.loads(hello)["kernelcheck_protocol"]
    except (ValueError, KeyError, TypeError):
        print(f"{name}: expected the handshake line, got {hello[:80]!r}", file=sys.stderr)
        return 2
    reply = {"kernelcheck_protocol": PROTOCOL, "name": name, "honours_threads": honours_threads}
    if supports is not None:
        reply["supports"] = supports
    if stored_inputs:
        reply["stored_inputs"] = True
    stdout.write(json.dumps(reply).encode() + b"\n")
    stdout.flush()
    if version != PROTOCOL:
        return 2
    while True:
        try:
            case = read_case(stdin)
        except ProtocolError as e:
            print(f"{name}: {e}", file=sys.stderr)
            return 2
        if case is None:
            return 0
        answer(stdout, case.id, *run_case(case, compute))

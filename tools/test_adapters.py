"""The worker protocol's Python side: kcworker's framing, the hand-written ONNX models, and
the skeleton worker over real pipes (docs/worker-protocol.md).

Run: python3 -m pytest tools/test_adapters.py
"""

import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# adapters/ holds onnxruntime.py: on sys.path only while importing these two, so that
# `import onnxruntime` below finds the real package.
ADAPTERS = str(Path(__file__).resolve().parent / "adapters")
sys.path.insert(0, ADAPTERS)
import kcworker  # noqa: E402
import onnx_model  # noqa: E402

sys.path.remove(ADAPTERS)

TOOLS = Path(__file__).resolve().parent
HELLO = b'{"kernelcheck_protocol":1}\n'


def request(case_id, problem, direction, inputs, output_role, output_shape):
    """One request: the header line and the float32 bytes of `inputs` (role -> list/array)."""
    specs, payload = [], b""
    for role, value in inputs.items():
        a = np.asarray(value, dtype="<f4")
        specs.append({"role": role, "shape": list(a.shape), "bytes": a.nbytes})
        payload += a.tobytes()
    count = int(np.prod(output_shape, dtype=np.int64))
    header = {"id": case_id, "problem": problem, "direction": direction, "threads": 1, "inputs": specs,
              "output": {"role": output_role, "shape": list(output_shape), "bytes": 4 * count}}
    return json.dumps(header).encode() + b"\n" + payload


def answers(data: bytes):
    """Splits a worker's output into (handshake, [(status, payload)])."""
    stream = io.BytesIO(data)
    handshake = json.loads(stream.readline())
    out = []
    while line := stream.readline():
        status = json.loads(line)
        out.append((status, stream.read(status.get("bytes", 0))))
    return handshake, out


def serve_in_process(monkeypatch, data: bytes, compute, **kwargs):
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # serve() redirects print(); undo it afterwards
    out = io.BytesIO()
    status = kcworker.serve("test", compute, honours_threads=True, stdin=io.BytesIO(data), stdout=out, **kwargs)
    return status, out.getvalue()


def relu_or_refuse(case):
    if case.op != "relu":
        raise kcworker.Unsupported("only relu")
    if case.inputs["x"].size == 4:
        raise RuntimeError("four is unlucky\nsecond line")
    return np.maximum(case.inputs["x"], 0)


def test_handshake_and_one_case_per_answer(monkeypatch):
    data = (HELLO + request(1, "relu shape=3", "fwd", {"x": [-1, 0, 2.5]}, "y", [3])
            + request(2, "sigmoid shape=3", "fwd", {"x": [1, 2, 3]}, "y", [3])
            + request(3, "relu shape=4", "fwd", {"x": [1, 2, 3, 4]}, "y", [4])
            + request(4, "relu shape=scalar", "fwd", {"x": np.float32(-2)}, "y", []))
    status, out = serve_in_process(monkeypatch, data, relu_or_refuse, supports={"relu": ["fwd"]})
    assert status == 0
    handshake, replies = answers(out)
    assert handshake == {"kernelcheck_protocol": 1, "name": "test", "honours_threads": True,
                         "supports": {"relu": ["fwd"]}}
    assert [r[0]["id"] for r in replies] == [1, 2, 3, 4]
    assert replies[0] == ({"id": 1, "status": "ok", "bytes": 12}, struct.pack("<3f", 0, 0, 2.5))
    assert replies[1][0] == {"id": 2, "status": "unsupported", "message": "only relu"}
    assert replies[2][0] == {"id": 3, "status": "error", "message": "RuntimeError: four is unlucky"}
    assert replies[3] == ({"id": 4, "status": "ok", "bytes": 4}, struct.pack("<f", 0))


def test_wrong_output_shape_is_an_error_answer(monkeypatch):
    data = HELLO + request(7, "relu shape=2x2", "fwd", {"x": [[1, 2], [3, 4]]}, "y", [2, 2])
    _, out = serve_in_process(monkeypatch, data, lambda case: np.zeros(4))
    assert answers(out)[1][0][0] == {"id": 7, "status": "error", "message": "computed shape [4], expected [2, 2]"}


def test_zero_sized_dimensions_parse_and_other_oracle_refusals_are_unsupported(monkeypatch):
    data = (HELLO + request(1, "matmul a=2x0 b=0x3 ta=0 tb=0", "fwd", {"a": np.zeros((2, 0)), "b": np.zeros((0, 3))},
                            "y", [2, 3])
            + request(2, "conv2d n=1 ic=3 oc=8 g=2 in=5x5 k=3x3", "fwd", {}, "y", [0]))
    _, out = serve_in_process(monkeypatch, data, lambda case: np.full((case.spec.m, case.spec.n), case.spec.k))
    empty, refused = answers(out)[1]
    assert empty == ({"id": 1, "status": "ok", "bytes": 24}, np.zeros(6, "<f4").tobytes())  # k = 0
    assert refused[0]["status"] == "unsupported" and "groups 2 do not divide ic=3" in refused[0]["message"]
    with pytest.raises(kcworker.OracleError):  # the oracle's own parser is strict again
        kcworker.parse_problem("matmul a=2x0 b=0x3")


@pytest.mark.parametrize("tail, phrase", [
    (b'{"id":1,"problem":"relu shape=3","direction":"fwd","threads":1,'
     b'"inputs":[{"role":"x","shape":[3],"bytes":12}],"output":{"role":"y","shape":[3],"bytes":12}}\n\0\0',
     "ended after 2 of 12 bytes"),
    (b"not json\n", "unreadable request line"),
    (b'{"id":1,"problem":"relu shape=3","direction":"fwd","inputs":[{"role":"x","shape":[3],"bytes":8}],'
     b'"output":{"role":"y","shape":[3],"bytes":12}}\n', "8 bytes for shape [3]"),
])
def test_unreadable_request_exits_2_naming_it(monkeypatch, capsys, tail, phrase):
    status, _ = serve_in_process(monkeypatch, HELLO + tail, relu_or_refuse)
    assert status == 2
    assert phrase in capsys.readouterr().err


def test_other_protocol_version_gets_our_version_and_exit_2(monkeypatch):
    status, out = serve_in_process(monkeypatch, b'{"kernelcheck_protocol":2}\n', relu_or_refuse)
    assert status == 2 and json.loads(out)["kernelcheck_protocol"] == 1


def test_varints_by_hand():
    assert onnx_model._varint(0) == b"\x00"
    assert onnx_model._varint(300) == b"\xac\x02"  # the protobuf documentation's example
    assert onnx_model._varint(-1) == b"\xff" * 9 + b"\x01"


def test_hand_written_conv_model_runs_in_onnxruntime():
    ort = pytest.importorskip("onnxruntime")
    # y[j] = x[j] + 2·x[j+1] with one zero of padding at the end: [1+4, 2+6, 3+0].
    graph = onnx_model.model("Conv", {"x": [1, 1, 3], "w": [1, 1, 2]}, [1, 1, 3],
                             {"kernel_shape": [2], "strides": [1], "dilations": [1], "group": 1, "pads": [0, 1]})
    s = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
    (y,) = s.run(None, {"x": np.array([[[1, 2, 3]]], np.float32), "w": np.array([[[1, 2]]], np.float32)})
    assert y.tolist() == [[[5, 8, 3]]]


def test_skeleton_worker_over_pipes():
    data = (HELLO + request(1, "matmul a=2x3 b=2x3 ta=0 tb=1", "fwd",
                            {"a": [[1, 2, 3], [4, 5, 6]], "b": [[1, 0, 0], [0, 1, 1]]}, "y", [2, 2])
            + request(2, "relu shape=2", "bwd_data", {"x": [0, 1], "dy": [5, 6]}, "dx", [2]))
    r = subprocess.run([sys.executable, str(TOOLS / "worker_skeleton.py")], input=data, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    handshake, replies = answers(r.stdout)
    assert handshake["name"] == "numpy-skeleton" and handshake["honours_threads"] is False
    assert replies[0][1] == struct.pack("<4f", 1, 5, 4, 11)  # a·bᵀ by hand
    assert replies[1][1] == struct.pack("<2f", 0, 6)  # relu'(0) = 0

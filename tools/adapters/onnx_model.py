"""One-node ONNX models, written as protobuf bytes by hand (no `onnx` package needed).

Only what a one-node float32 graph needs: ModelProto (ir_version, opset_import, graph),
GraphProto (node, input, output), NodeProto (input, output, op_type, attribute),
AttributeProto (INT, INTS) and ValueInfoProto with a fixed float32 shape. Field numbers are
those of onnx/onnx.proto; repeated integers are written unpacked (proto2), which every
protobuf reader accepts.
"""

from __future__ import annotations

IR_VERSION = 8
OPSET = 17
FLOAT = 1  # TensorProto.DataType.FLOAT
ATTRIBUTE_INT, ATTRIBUTE_INTS = 2, 7  # AttributeProto.AttributeType


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64  # int64 fields: two's complement, ten bytes
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _int(field: int, n: int) -> bytes:
    return _varint(field << 3) + _varint(n)


def _bytes(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _text(field: int, text: str) -> bytes:
    return _bytes(field, text.encode())


def attribute(name: str, value) -> bytes:
    """An INT attribute for an int, an INTS attribute for a list."""
    if isinstance(value, int):
        return _text(1, name) + _int(3, value) + _int(20, ATTRIBUTE_INT)
    return _text(1, name) + b"".join(_int(8, v) for v in value) + _int(20, ATTRIBUTE_INTS)


def value_info(name: str, shape) -> bytes:
    dims = b"".join(_bytes(1, _int(1, d)) for d in shape)  # TensorShapeProto.dim.dim_value
    tensor_type = _int(1, FLOAT) + _bytes(2, dims)  # TypeProto.Tensor: elem_type, shape
    return _text(1, name) + _bytes(2, _bytes(1, tensor_type))  # ValueInfoProto.type.tensor_type


def model(op_type: str, inputs: dict, output_shape, attributes: dict) -> bytes:
    """A model computing `y = op_type(*inputs)`; `inputs` maps names to shapes, in order."""
    node = (b"".join(_text(1, n) for n in inputs) + _text(2, "y") + _text(4, op_type)
            + b"".join(_bytes(5, attribute(k, v)) for k, v in attributes.items()))
    graph = (_bytes(1, node) + _text(2, "kernelcheck")
             + b"".join(_bytes(11, value_info(n, s)) for n, s in inputs.items())
             + _bytes(12, value_info("y", output_shape)))
    opset = _text(1, "") + _int(2, OPSET)
    return _int(1, IR_VERSION) + _text(2, "kernelcheck") + _bytes(7, graph) + _bytes(8, opset)

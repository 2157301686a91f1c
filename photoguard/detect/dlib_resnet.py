"""dlib's face-recognition ResNet run in onnxruntime, converted from the ``.dat`` it ships in.

The ``dlib-bin`` wheel has no BLAS: its ResNet takes ~95 ms per face and holds the GIL. The same
network (``dlib_face_recognition_resnet_model_v1.dat`` from ``face_recognition_models``) is read
here, its weights taken out of dlib's serialization, and written as an ONNX graph that
onnxruntime runs in a few ms per face. Alignment stays dlib's (5-point shape, ``get_face_chip``);
only the network on the 150x150 chip changes. tests/test_encoder.py checks the descriptors
against dlib's own on real faces.

:mod:`photoguard.detect.face_encoder` runs the conversion once per user and caches it. dlib
serializes a network inner layer first, so the layers
appear in the file in forward order: :func:`read_layers` finds them by their version strings
and :func:`_blocks` checks that they form the expected ResNet before anything is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from photoguard.detect import protobuf as pb
from photoguard.errors import DetectorError

if TYPE_CHECKING:
    import numpy as np

CONVERTER_VERSION = 1
"""Part of the cached file's name: bump it when the graph this module writes changes."""
CHIP_SIDE = 150
_LAYER = re.compile(
    rb"\x01(\x05con_4|\x07affine_|\x05relu_|\x0amax_pool_2|\x0aavg_pool_2|\x09add_prev_"
    rb"|\x04fc_2|\x15input_rgb_image_sized)"
)


# -- reading dlib's serialization ----------------------------------------------------------------


class _Reader:
    """dlib's serialize.h formats: packed ints, float_details, tensors of little-endian float32."""

    def __init__(self, data: bytes, at: int) -> None:
        self.data, self.at = data, at

    def int(self) -> int:
        head = self.data[self.at]
        size = head & 0x0F
        value = int.from_bytes(self.data[self.at + 1 : self.at + 1 + size], "little")
        self.at += 1 + size
        return -value if head & 0x80 else value

    def float(self) -> float:
        mantissa = self.int()
        exponent = self.int()
        return float(mantissa) * 2.0**exponent

    def string(self) -> str:
        n = self.int()
        self.at += n
        return self.data[self.at - n : self.at].decode("ascii")

    def tensor(self) -> np.ndarray:
        import numpy as np

        if self.int() != 2:
            raise DetectorError("dlib model: unexpected tensor version")
        shape = [self.int() for _ in range(4)]
        count = shape[0] * shape[1] * shape[2] * shape[3]
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.at)
        self.at += 4 * count
        return values.astype(np.float32)


@dataclass
class Layer:
    """One dlib layer: its kind and the numbers the graph needs."""

    kind: str
    ints: tuple[int, ...] = ()
    weights: np.ndarray | None = None
    floats: tuple[float, ...] = ()
    extra: dict = field(default_factory=dict)


def _read_layer(data: bytes, at: int) -> Layer:
    r = _Reader(data, at)
    kind = r.string()
    if kind == "input_rgb_image_sized":
        return Layer(kind, floats=(r.float(), r.float(), r.float()), ints=(r.int(), r.int()))
    if kind == "con_4":  # params (filters then biases), filters, rows, cols, strides, paddings
        params = r.tensor()
        return Layer("con", ints=tuple(r.int() for _ in range(7)), weights=params)
    if kind == "affine_":  # params, gamma alias, beta alias, mode
        return Layer("affine", weights=r.tensor())
    if kind in ("max_pool_2", "avg_pool_2"):  # rows, cols, strides, paddings
        return Layer(kind[:-2], ints=tuple(r.int() for _ in range(6)))
    if kind == "fc_2":  # outputs, inputs, params (inputs x outputs, row-major)
        outputs, inputs = r.int(), r.int()
        return Layer("fc", ints=(outputs, inputs), weights=r.tensor())
    return Layer(kind.rstrip("_"))  # relu_, add_prev_: no parameters


def read_layers(data: bytes) -> list[Layer]:
    """Every layer of a dlib network file, in forward order (input first)."""
    return [_read_layer(data, m.start()) for m in _LAYER.finditer(data)]


# -- the graph -----------------------------------------------------------------------------------


def _blocks(layers: list[Layer]) -> list[list[Layer]]:
    """Split the layers into stem, residual blocks and head, or raise if the layout is not the
    face-recognition ResNet's (input, con-affine-relu-max_pool, blocks, avg_pool-everything, fc).

    Raises:
        DetectorError: any other layout.
    """
    kinds = [layer.kind for layer in layers]
    stem = ["input_rgb_image_sized", "con", "affine", "relu", "max_pool"]
    if kinds[:5] != stem or kinds[-2:] != ["avg_pool", "fc"] or layers[-2].ints[:2] != (0, 0):
        raise DetectorError("dlib model: not the expected face-recognition ResNet layout")
    blocks, i = [], 5
    plain = ["con", "affine", "relu", "con", "affine", "add_prev", "relu"]
    down = ["con", "affine", "relu", "con", "affine", "avg_pool", "add_prev", "relu"]
    while i < len(layers) - 2:
        for pattern in (plain, down):
            if kinds[i : i + len(pattern)] == pattern:
                blocks.append(layers[i : i + len(pattern)])
                i += len(pattern)
                break
        else:
            raise DetectorError(f"dlib model: unexpected layer {kinds[i]!r} at {i}")
    return [layers[:5], *blocks, layers[-2:]]


class _Graph:
    """ONNX nodes and initializers, with the static shape of every value (for zero padding)."""

    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.weights: list[bytes] = []
        self.shapes: dict[str, tuple[int, int, int]] = {}

    def node(
        self, op: str, inputs: list[str], shape: tuple, out: str = "", **attrs: int | list[int]
    ) -> str:
        out = out or f"v{len(self.nodes)}"
        attributes = []
        for name, value in attrs.items():
            if isinstance(value, list):
                body = [pb.varint_field(8, v) for v in value]
                attributes.append(pb.message(pb.bytes_field(1, name), body, pb.varint_field(20, 7)))
            else:
                attributes.append(
                    pb.message(
                        pb.bytes_field(1, name), pb.varint_field(3, value), pb.varint_field(20, 2)
                    )
                )
        self.nodes.append(
            pb.message(
                [pb.bytes_field(1, i) for i in inputs],
                pb.bytes_field(2, out),
                pb.bytes_field(3, out),
                pb.bytes_field(4, op),
                [pb.bytes_field(5, a) for a in attributes],
            )
        )
        self.shapes[out] = shape
        return out

    def constant(self, values: np.ndarray, elem_type: int = 1) -> str:
        name = f"w{len(self.weights)}"
        self.weights.append(
            pb.message(
                [pb.varint_field(1, d) for d in values.shape],
                pb.varint_field(2, elem_type),
                pb.bytes_field(8, name),
                pb.bytes_field(9, values.tobytes()),
            )
        )
        return name

    def conv(self, x: str, con: Layer, affine: Layer) -> str:
        import numpy as np

        filters, rows, cols, stride, _, pad, _ = con.ints
        k, h, w = self.shapes[x]
        if (
            con.weights.size != filters * (k * rows * cols + 1)
            or affine.weights.size != 2 * filters
        ):
            raise DetectorError("dlib model: convolution sizes do not match")
        kernel = con.weights[: filters * k * rows * cols].reshape(filters, k, rows, cols)
        bias = con.weights[filters * k * rows * cols :]
        gamma, beta = affine.weights[:filters], affine.weights[filters:]
        # affine(conv(x)) = gamma * (W x + b) + beta: one convolution.
        kernel = (kernel * gamma[:, None, None, None]).astype(np.float32)
        bias = (bias * gamma + beta).astype(np.float32)
        shape = (filters, (h + 2 * pad - rows) // stride + 1, (w + 2 * pad - cols) // stride + 1)
        inputs = [x, self.constant(kernel), self.constant(bias)]
        return self.node(
            "Conv", inputs, shape, kernel_shape=[rows, cols], strides=[stride] * 2, pads=[pad] * 4
        )

    def pool(self, op: str, x: str, layer: Layer) -> str:
        rows, cols, stride, _, pad, _ = layer.ints
        k, h, w = self.shapes[x]
        shape = (k, (h + 2 * pad - rows) // stride + 1, (w + 2 * pad - cols) // stride + 1)
        return self.node(
            op, [x], shape, kernel_shape=[rows, cols], strides=[stride] * 2, pads=[pad] * 4
        )

    def add(self, a: str, b: str) -> str:
        """dlib's add_prev: the larger shape, the smaller tensor zero-padded at its end."""
        import numpy as np

        shape = tuple(max(p, q) for p, q in zip(self.shapes[a], self.shapes[b], strict=True))
        padded = []
        for x in (a, b):
            if self.shapes[x] != shape:
                ends = [0, *(s - t for s, t in zip(shape, self.shapes[x], strict=True))]
                pads = self.constant(np.array([0, 0, 0, 0, *ends], dtype=np.int64), elem_type=7)
                x = self.node("Pad", [x, pads], shape)
            padded.append(x)
        return self.node("Add", padded, shape)


def _value_info(name: str, dims: list[int | str]) -> bytes:
    shape = pb.message(
        [
            pb.bytes_field(1, pb.bytes_field(2, d) if isinstance(d, str) else pb.varint_field(1, d))
            for d in dims
        ]
    )
    tensor_type = pb.message(pb.varint_field(1, 1), pb.bytes_field(2, shape))
    return pb.message(pb.bytes_field(1, name), pb.bytes_field(2, pb.bytes_field(1, tensor_type)))


def build_onnx(layers: list[Layer]) -> bytes:
    """The ONNX model (opset 13) of a face-recognition ResNet read by :func:`read_layers`.

    Input ``chips``: ``(N, 3, 150, 150)`` float32, already normalised as dlib does
    (``(pixel - mean) / 256``, see :func:`input_means`); output ``descriptors``: ``(N, 128)``.

    Raises:
        DetectorError: the layers are not the expected ResNet.
    """
    stem, *blocks, (_, fc) = _blocks(layers)
    g = _Graph()
    g.shapes["chips"] = (3, *stem[0].ints)
    x = g.conv("chips", stem[1], stem[2])
    x = g.node("Relu", [x], g.shapes[x])
    x = g.pool("MaxPool", x, stem[4])
    for block in blocks:
        y = g.conv(x, block[0], block[1])
        y = g.node("Relu", [y], g.shapes[y])
        y = g.conv(y, block[3], block[4])
        skip = g.pool("AveragePool", x, block[5]) if block[5].kind == "avg_pool" else x
        x = g.add(y, skip)
        x = g.node("Relu", [x], g.shapes[x])
    k = g.shapes[x][0]
    outputs, inputs = fc.ints
    if inputs != k or fc.weights.size != inputs * outputs:
        raise DetectorError("dlib model: fully connected sizes do not match")
    x = g.node("GlobalAveragePool", [x], (k, 1, 1))
    x = g.node("Flatten", [x], (k,), axis=1)
    weights = g.constant(fc.weights.reshape(inputs, outputs))
    g.node("MatMul", [x, weights], (outputs,), out="descriptors")
    graph = pb.message(
        [pb.bytes_field(1, n) for n in g.nodes],
        pb.bytes_field(2, "dlib_face_recognition_resnet_model_v1"),
        [pb.bytes_field(5, w) for w in g.weights],
        pb.bytes_field(11, _value_info("chips", ["n", 3, CHIP_SIDE, CHIP_SIDE])),
        pb.bytes_field(12, _value_info("descriptors", ["n", outputs])),
    )
    opset = pb.message(pb.bytes_field(1, ""), pb.varint_field(2, 13))
    return pb.message(
        pb.varint_field(1, 7),  # IR version 7 (opset 13)
        pb.bytes_field(2, "photoguard"),
        pb.bytes_field(7, graph),
        pb.bytes_field(8, opset),
    )


def input_means(dat: bytes) -> tuple[float, float, float]:
    """The mean red, green and blue that dlib's input layer subtracts (before dividing by 256),
    read from the first layer of a ``.dat`` (no weights parsed).

    Raises:
        DetectorError: the file has no input layer.
    """
    match = _LAYER.search(dat)
    layer = _read_layer(dat, match.start()) if match else None
    if layer is None or layer.kind != "input_rgb_image_sized":
        raise DetectorError("dlib model: no input layer")
    red, green, blue = layer.floats
    return red, green, blue

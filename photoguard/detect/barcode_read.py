"""zxing-cpp reads of one view of an image, mapped back to input pixels (``barcodes`` uses it).

A decoded 1-D code is reported by zxing as a thin scan band: it is widened across its bars; a
2-D symbol is grown by its quiet zone. QR and DataMatrix symbols that zxing saw but could not
decode count only with their finder patterns intact (most such reports on a photo are noise).
Decoded content stays in memory (``repr=False``) and is never logged or reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from photoguard.errors import DetectorError, EnvironmentProblem
from photoguard.types import Box

if TYPE_CHECKING:
    import numpy as np

TWO_D = {
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
QR_FORMATS = {"QRCode", "MicroQRCode", "RMQRCode", "QRCodeModel1", "QRCodeModel2"}
QUIET_2D = 0.1
"""Share of a 2-D symbol's side its box is grown by on each side (QR's quiet zone is 4 modules,
2-19 % of its side)."""
ALL, LINEAR, MATRIX = "AllReadable", "AllLinear", "AllMatrix"
"""zxing-cpp format groups ``read`` may look for: every symbology, 1-D only, 2-D only."""


@dataclass(frozen=True, slots=True)
class BarcodeHit:
    """One located code: its corner polygon and box in input pixels, format and content."""

    format: str
    polygon: tuple[tuple[int, int], ...]
    box: Box
    content: str = field(repr=False)
    valid: bool = True


def read(
    image: np.ndarray, inv, w: int, h: int, errors: bool = False, formats: str = ALL
) -> list[BarcodeHit]:
    """zxing-cpp on one view; hits mapped back to input pixels by ``inv``.

    With ``errors``, QR symbols zxing saw but could not decode are returned too (``valid=False``)
    when their finder patterns are there (most such reports on a photo are noise). ``formats``
    (``ALL``, ``LINEAR`` or ``MATRIX``) limits the symbologies looked for: zxing's 2-D
    detectors are most of its cost on a large photo, its 1-D row scans a tenth of it.
    """
    import cv2
    import numpy as np

    from photoguard.detect.barcode_finders import has_finders, has_l_finder

    try:
        import zxingcpp
    except ImportError as err:
        raise EnvironmentProblem("zxing-cpp is not installed: uv sync") from err
    try:
        found = zxingcpp.read_barcodes(
            np.ascontiguousarray(image),
            formats=getattr(zxingcpp.BarcodeFormat, formats),
            return_errors=errors,
        )
    except (RuntimeError, ValueError) as err:
        raise DetectorError(f"zxing-cpp failed: {type(err).__name__}") from None
    hits = [hit for hit in (_to_hit(code, inv, w, h) for code in found) if hit is not None]
    fwd = cv2.invertAffineTransform(np.asarray(inv, np.float64))
    return [
        _quiet_zone(hit, w, h) if hit.format in TWO_D else hit
        for hit in hits
        if hit.valid
        or (hit.format in QR_FORMATS and has_finders(image, _mapped(hit.polygon, fwd)))
        or (hit.format == "DataMatrix" and has_l_finder(image, _mapped(hit.polygon, fwd)))
    ]


def _mapped(polygon, m) -> list[tuple[float, float]]:
    return [
        (m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2])
        for x, y in polygon
    ]


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
    if fmt not in TWO_D:
        pts = _thicken(pts)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    box = Box.from_float(min(xs), min(ys), max(xs) + 1, max(ys) + 1).clamp(w, h)
    if box.area == 0:
        return None
    polygon = tuple((round(x), round(y)) for x, y in pts)
    return BarcodeHit(fmt, polygon, box, code.text, valid=bool(code.valid))


def _quiet_zone(hit: BarcodeHit, w: int, h: int) -> BarcodeHit:
    """A 2-D symbol grown by ``QUIET_2D`` of its size on every side: its quiet zone is part of
    the code (a redaction covers it; a text line seen on a kept code's edge is the code)."""
    pts = hit.polygon
    cx, cy = sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
    k = 1 + 2 * QUIET_2D
    grown = [(cx + k * (x - cx), cy + k * (y - cy)) for x, y in pts]
    xs, ys = [p[0] for p in grown], [p[1] for p in grown]
    box = Box.from_float(min(xs), min(ys), max(xs) + 1, max(ys) + 1).clamp(w, h)
    polygon = tuple((round(x), round(y)) for x, y in grown)
    return BarcodeHit(hit.format, polygon, box, hit.content, hit.valid)


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

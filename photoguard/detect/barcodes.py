"""Barcodes and QR codes: located whether or not they decode, then classified by an allow-list.

Wristbands repeat the MRN/FIN/DOB in 1-D and 2-D codes, so every barcode is PHI unless its
decoded content fully matches an allow-list pattern (the organisation's own URL, say). Codes are
located by zxing-cpp and, independently of decoding, by OpenCV's 1-D and QR detectors and by a
bar-field search (``barcode_locate``); a located code that does not decode (too small, blurred,
damaged, a checksum error) is labelled ``unreadable`` and redacted: its content is unknown, so it
can never be allow-listed. Places a 2-D code too small for the whole-photo read may be
(``module_blobs``) are read again enlarged; they count only when zxing sees a symbol there.
Decoded content stays in memory (``repr=False``) and is never logged or reported.
``BarcodeDetector`` puts this behind the detector protocol as ``"barcodes"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from photoguard.detect.barcode_read import (
    ALL,
    LINEAR,
    MATRIX,
    QR_FORMATS,
    QUIET_2D,
    TWO_D,
    BarcodeHit,
    read,
)
from photoguard.detect.base import register
from photoguard.errors import DetectorError, EnvironmentProblem
from photoguard.types import Box, Detection, RegionKind

if TYPE_CHECKING:
    import numpy as np

NAME = "barcodes"
VERSION = "9"
ALLOWED = "allowed"
"""Label of a barcode whose content is allow-listed: returned (action keep), not omitted."""

_SMALL_SIDE = 1200  # below this long side, a 2x upscaled pass finds small codes
DECODE_TRIES = 48
"""Located candidates read per image; the rest are redacted unread (a cost bound that hides
nothing: an unread code is redacted, never allow-listed)."""
UNREADABLE = "unreadable"
"""Label of a code that was located but could not be decoded."""


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
    """Locate every 1-D and 2-D code in an image, decoding those that can be read.

    zxing-cpp reads the whole grayscale image (it tries rotations, downscales and inverted
    colours; small images also 2x upscaled; on a photo larger than the bar search's work side,
    1-D codes at full resolution and 2-D codes on that work copy, where zxing's 2-D detectors
    cost a third: a small 2-D code is read from full-resolution crops of the places
    ``module_blobs`` and OpenCV's QR detector point at). Thin-barred 1-D codes are looked for
    enlarged in those places (``fine_candidates``). Then every located candidate that
    zxing did not already read - OpenCV's 1-D detector, OpenCV's QR detector, striped bar
    fields - is cut out upright and upscaled and read again; one that still does not decode is
    returned with ``valid=False`` (format ``Undecoded1D``/``Undecoded2D``) so that it is
    redacted. There is no cap on candidates: past ``DECODE_TRIES`` per image they are no longer
    read, only located, and so redacted (never allow-listed).

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB array (or ``(H, W)`` grayscale).

    Returns:
        The hits, boxes clamped to the image.

    Raises:
        EnvironmentProblem: zxing-cpp is not installed.
        DetectorError: zxing-cpp or OpenCV failed on the image.
    """
    import cv2
    import numpy as np

    from photoguard.detect.barcode_bars import upright
    from photoguard.detect.barcode_fine import fine_candidates
    from photoguard.detect.barcode_locate import MAYBE_2D, WORK_SIDE, locate
    from photoguard.detect.imageops import downscale

    gray = rgb if rgb.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    work = downscale(gray, WORK_SIDE)
    passes: list[tuple[np.ndarray, float, str]] = [(gray, 1.0, ALL)]
    if work[1] < 1:
        passes = [(gray, 1.0, LINEAR), (work[0], work[1], MATRIX)]
    elif max(h, w) < _SMALL_SIDE:
        passes.append((cv2.resize(gray, (w * 2, h * 2), interpolation=cv2.INTER_CUBIC), 2.0, ALL))
    inverse = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    hits: list[BarcodeHit] = []
    for image, scale, formats in passes:
        _add(hits, read(image, inverse / scale, w, h, errors=scale <= 1.0, formats=formats))
    try:
        candidates = locate(gray, work)
        candidates += fine_candidates(gray, candidates)
    except cv2.error as err:
        raise DetectorError(f"OpenCV failed locating codes: {type(err).__name__}") from None
    hits = [_grown(_reread(gray, hit, w, h), candidates, w, h) for hit in hits]
    maybe = [rect for rect, hint in candidates if hint == MAYBE_2D]
    candidates = [c for c in candidates if c[1] != MAYBE_2D]
    candidates.sort(key=lambda c: -c[0][1][0] * c[0][1][1])
    tries = 0
    for rect, hint in candidates:
        box = _rect_box(rect).clamp(w, h)
        if not box.area or any(box.intersection(o.box) > 0.5 * box.area for o in hits):
            continue
        found: list[BarcodeHit] = []
        if tries < DECODE_TRIES:
            tries += 1
            found = [x for x in read(*upright(gray, rect), w, h) if x.box.intersection(box)]
        if not _add(hits, found):
            polygon = tuple((round(float(x)), round(float(y))) for x, y in cv2.boxPoints(rect))
            hits.append(BarcodeHit(f"Undecoded{hint}", polygon, box, "", valid=False))
    for rect in maybe:
        box = _rect_box(rect).clamp(w, h)
        if box.area and not any(box.intersection(o.box) > 0.5 * box.area for o in hits):
            _add(hits, _read_small_2d(gray, rect, w, h))
    return hits


_ENLARGE = (2.0,)  # 4x too finds a few more codes, at ~5x the cost on a crowd photo's texture


def _read_small_2d(gray: np.ndarray, rect, w: int, h: int) -> list[BarcodeHit]:
    """A place that may hold a small 2-D code, read enlarged (``_ENLARGE``); only 2-D symbols
    that decode, or that zxing saw with their finder patterns intact, count, and a QR code that
    zxing does not see but whose three finder patterns are there (``qr_finders``)."""
    import cv2
    import numpy as np

    from photoguard.detect.barcode_bars import TWO_TONE, two_tone
    from photoguard.detect.barcode_finders import qr_finders

    (cx, cy), (rw, rh), _ = rect
    half = max(rw, rh) * 0.8 + 4
    x0, y0 = max(0, round(cx - half)), max(0, round(cy - half))
    x1, y1 = min(w, round(cx + half)), min(h, round(cy + half))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return []
    crop = gray[y0:y1, x0:x1]
    if two_tone(crop) < TWO_TONE:
        return []
    for k in _ENLARGE:
        view = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
        inv = np.array([[1 / k, 0, x0], [0, 1 / k, y0]])
        found = read(view, inv, w, h, errors=True, formats=MATRIX)
        found = [x for x in found if x.format in TWO_D]
        if found:
            return found
    if qr_finders(gray, rect):  # too soft or small for zxing, its three finders still there
        (cx, cy), (rw, rh), ang = rect
        grown = ((cx, cy), (rw * (1 + 3 * QUIET_2D), rh * (1 + 3 * QUIET_2D)), ang)
        polygon = tuple((round(float(x)), round(float(y))) for x, y in cv2.boxPoints(grown))
        return [BarcodeHit("Undecoded2D", polygon, _rect_box(grown).clamp(w, h), "", False)]
    return []


def _reread(gray: np.ndarray, hit: BarcodeHit, w: int, h: int) -> BarcodeHit:
    """A symbol zxing saw but could not decode, read again cut out upright and upscaled (a
    small or soft code often decodes then, and one that is allow-listed can be kept)."""
    import cv2
    import numpy as np

    from photoguard.detect.barcode_bars import upright

    if hit.valid:
        return hit
    rect = cv2.minAreaRect(np.array(hit.polygon, np.float32))
    found = [x for x in read(*upright(gray, rect), w, h) if x.valid and x.box.intersection(hit.box)]
    return found[0] if found else hit


def _add(hits: list[BarcodeHit], new: list[BarcodeHit]) -> bool:
    """Append the hits of ``new`` that are not already known; True if ``new`` had any."""
    for hit in new:
        if not any(hit.box.iou(o.box) > 0.3 for o in hits):
            hits.append(hit)
    return bool(new)


def _grown(hit: BarcodeHit, candidates, w: int, h: int) -> BarcodeHit:
    """Grow a decoded 1-D code to the located field it sits in (zxing reports a scan band)."""
    import cv2
    import numpy as np

    if hit.format in TWO_D:
        return hit
    pts = [np.array(hit.polygon, np.float32)]
    for rect, hint in candidates:
        fb = _rect_box(rect)
        if hint == "1D" and fb.intersection(hit.box) > 0.3 * min(fb.area, hit.box.area):
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


def classify_barcodes(
    hits: Iterable[BarcodeHit], allow_patterns: Iterable[str] = ()
) -> list[Detection]:
    """One BARCODE detection per hit.

    Args:
        hits: what ``find_barcodes`` returned.
        allow_patterns: regexes; a code whose decoded content *fully* matches one is labelled
            ``"allowed"`` (returned so the report can show it kept); undecoded codes never match.

    Returns:
        Detections labelled ``"unreadable"`` (located, not decoded), ``"qr"`` (QR family),
        ``"barcode"`` (all other formats) or ``"allowed"``.
    """
    compiled = [re.compile(p) for p in allow_patterns]
    out = []
    for hit in hits:
        allowed = hit.valid and any(rx.fullmatch(hit.content) for rx in compiled)
        if allowed:
            label = ALLOWED
        elif not hit.valid:
            label = UNREADABLE
        else:
            label = "qr" if hit.format in QR_FORMATS else "barcode"
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


class BarcodeDetector:
    """The detector protocol over ``find_barcodes``; ``detect`` allow-lists nothing.

    The pipeline calls ``find`` and classifies with the policy's allow-list itself, so that a
    cached detector never carries one run's policy into another.
    """

    name = NAME
    kind = RegionKind.BARCODE

    def __init__(self) -> None:
        import cv2

        self.version = f"{VERSION} (zxing-cpp {zxing_version()}, opencv {cv2.__version__})"

    def find(self, image: np.ndarray) -> list[BarcodeHit]:
        return find_barcodes(image)

    def detect(self, image: np.ndarray) -> list[Detection]:
        return classify_barcodes(self.find(image))


@register(NAME)
def _barcodes() -> BarcodeDetector:
    return BarcodeDetector()

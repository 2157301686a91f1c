"""OCR adapter: find text regions in a photo, read them with Tesseract, return word boxes.

Full-page Tesseract on a 12 MP photo is slow and reads tilted or vertical text poorly. Instead:

1. find glyphs on a copy downscaled to 1600 px (adaptive thresholds in both polarities, kept
   when glyph-sized), join them into lines (closing along rows, and along columns for vertical
   text, then collinear merging), each line a rotated rectangle; blocks of several lines take
   the direction their glyphs' nearest neighbours run in;
2. cut every region out of the full-resolution image, rotate it upright, split blocks into
   lines, scale each line to ~30 px, fix contrast and polarity (dark on light), whiten the
   background, drop strips with no glyph-sized ink, and stack the rest into one mosaic;
3. run Tesseract once per mosaic (bounded work per photo) and map every word box back through
   its row's scale and rotation into the input array's pixel space (a Box and a rotated quad).

Vertical regions go into the mosaic twice (read upwards and downwards) and the better-read
orientation wins. Upside-down text is not handled. The text lives only in memory: nothing here
logs or stores it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from photoguard.errors import DetectorError, EnvironmentProblem
from photoguard.types import Box

if TYPE_CHECKING:
    import numpy as np

NAME = "tesseract-regions"
VERSION = "1"
_MISSING = "Tesseract is not installed: apt-get install tesseract-ocr"

_WORK_SIDE = 1600  # long side of the copy used to find regions
_LINE_PX = 30  # text-line height Tesseract reads best (its sweet spot is ~30 px capitals)
_MOSAIC_MAX_W = 2600
_GAP = 14  # white rows between mosaic rows, so Tesseract never joins two regions


@dataclass(frozen=True, slots=True)
class OcrWord:
    """One word read by OCR; ``conf`` in 0..100; ``box`` in input pixels; ``quad`` its four
    corners (clockwise from top-left of the upright word), tighter than ``box`` for tilted text."""

    text: str = field(repr=False)
    conf: float
    box: Box
    quad: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class OcrLine:
    """Words of one text region in reading order, and their union box."""

    words: tuple[OcrWord, ...]
    box: Box

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True, slots=True)
class _Region:
    """A rotated rectangle in full-resolution pixels: centre, (long, short) size, angle in deg,
    and the estimated height of one text line in it (``thickness`` when it holds one line)."""

    cx: float
    cy: float
    length: float
    thickness: float
    angle: float
    line: float
    provisional: bool = False  # made of short blobs only (angle uncertain)
    # the glyph blobs (labels of the work copy's glyph mask) this region was built from
    ink: frozenset[int] = field(default=frozenset(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class _Row:
    """A region placed in the mosaic: its y offset and the affine map mosaic-row -> input."""

    region: tuple[int, int]  # (region index, orientation index)
    y0: int
    height: int
    width: int
    inverse: np.ndarray  # 2x3, maps row-local (x, y) to input pixels


def tesseract_version() -> str:
    """The installed Tesseract version, e.g. ``"5.3.0"``.

    Raises:
        EnvironmentProblem: the ``tesseract`` binary is missing.
    """
    return _tesseract_version()


@lru_cache(maxsize=1)
def _tesseract_version() -> str:
    import pytesseract

    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        raise EnvironmentProblem(_MISSING)
    try:
        return str(pytesseract.get_tesseract_version())
    except pytesseract.TesseractNotFoundError as err:
        raise EnvironmentProblem(_MISSING) from err


def read_text(rgb: np.ndarray, *, max_regions: int = 150, lang: str = "eng") -> list[OcrLine]:
    """Read the text of a photo, region by region.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB array (a grayscale ``(H, W)`` array is accepted too).
        max_regions: at most this many regions are read (the largest first), bounding the work.
        lang: Tesseract language.

    Returns:
        One ``OcrLine`` per region that produced words, boxes in ``rgb``'s pixel space.

    Raises:
        EnvironmentProblem: Tesseract is not installed.
        DetectorError: Tesseract failed on the image.
    """
    import cv2
    import numpy as np

    tesseract_version()
    # Tesseract's OpenMP threads fight each other on shared cores (3x slower here); the
    # pipeline parallelises across files instead. Inherited by the tesseract subprocess.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    gray = rgb if rgb.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    regions = find_text_regions(gray)[:max_regions]
    if not regions:
        return []
    patches: list[tuple[tuple[int, int], np.ndarray, np.ndarray]] = []
    for i, reg in enumerate(regions):
        for t, turn in enumerate(_turns(reg)):
            for patch, inverse in _line_patches(gray, reg, turn):
                patches.append(((i, t), patch, inverse))
    lines: list[tuple[tuple[int, int], OcrLine]] = []
    for chunk in _chunks(patches):
        mosaic, rows = _build_mosaic(chunk)
        lines.extend(_read_mosaic(mosaic, rows, lang, gray.shape))
    return _best_orientation(lines)


def find_text_regions(gray: np.ndarray) -> list[_Region]:
    """Line-shaped candidate regions, largest first, in full-resolution pixels."""
    import cv2
    import numpy as np

    h, w = gray.shape
    s = min(1.0, _WORK_SIDE / max(h, w))
    work = (
        cv2.resize(gray, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        if s < 1
        else gray
    )
    bw, glyphs = _glyph_mask(work)
    n_blobs, blobs, blob_stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    blob_area = blob_stats[:, cv2.CC_STAT_AREA]
    blob_px = np.empty(n_blobs, np.intp)  # one pixel of each glyph blob (flat index)
    blob_px[blobs.ravel()] = np.arange(blobs.size)
    found: list[tuple[_Region, Box]] = []
    for kernel, vertical in (((11, 1), False), ((1, 11), True)):
        closed = cv2.morphologyEx(
            bw, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, kernel)
        )
        # which glyph blobs each closed blob (so each contour) is made of
        _, joined = cv2.connectedComponents(closed, connectivity=8)
        members: dict[int, list[int]] = {}
        for blob, own in enumerate(joined.ravel()[blob_px[1:]].tolist(), start=1):
            members.setdefault(own, []).append(blob)
        contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            reg = _region_from_contour(c, glyphs, vertical)
            if reg is not None:
                (cx, cy), length, thick, ang, line, provisional = reg
                x0, y0 = c[0, 0]
                ink = frozenset(members.get(int(joined[y0, x0]), ()))
                region = _Region(
                    cx / s, cy / s, length / s, thick / s, ang, line / s, provisional, ink
                )
                found.append((region, _region_box(region)))
    merged = _merge_collinear(_borrow_angles(_merge_collinear([r for r, _ in found])))
    found = [(r, _region_box(r)) for r in merged]
    found.sort(key=lambda rb: -rb[0].length * rb[0].thickness)
    kept: list[_Region] = []
    for reg, _ in found:
        if reg.length < 1.1 * min(reg.thickness, reg.line):
            continue  # a lone glyph
        if reg.provisional and reg.length > 1.6 * reg.thickness:
            continue  # short blobs joined only to each other: glyphs across vertical lines
        area = reg.length * reg.thickness
        if any(
            _overlap(reg, k) >= 0.7 * min(area, k.length * k.thickness)
            and _same_glyphs(reg, k, blob_area)
            for k in kept
        ):
            continue
        # columns cut across the horizontal lines of a paragraph are not vertical text
        flat = (
            sum(_overlap(reg, k) for k in kept if abs(k.angle) <= 45) if abs(reg.angle) > 45 else 0
        )
        if flat > 0.3 * area:
            continue
        kept.append(reg)
    return kept


def _same_glyphs(a: _Region, b: _Region, blob_area) -> bool:
    """Whether two overlapping regions read the same text: most of the smaller one's glyph ink
    is also in the other. A rectangle overlap alone is not enough: the rotated rectangle of
    clutter next to a card (a dark, textured background) can cover text lines near the card's
    edge without holding any of their glyphs, and must not hide them."""
    if not a.ink or not b.ink:
        return True
    ink_a = sum(int(blob_area[i]) for i in a.ink)
    ink_b = sum(int(blob_area[i]) for i in b.ink)
    shared = sum(int(blob_area[i]) for i in a.ink & b.ink)
    return shared >= 0.5 * min(ink_a, ink_b)


def _borrow_angles(regions: list[_Region]) -> list[_Region]:
    """Short words (``Age:``, ``90``) get the angle of the nearest long line: a minAreaRect
    around two or three glyphs is a poor estimate of the text direction."""
    import math

    long_ = [r for r in regions if r.length >= 4 * r.thickness]
    out = []
    for r in regions:
        if r.length < 4 * r.thickness and long_:
            near = min(long_, key=lambda q: math.hypot(q.cx - r.cx, q.cy - r.cy))
            diff = abs(_norm_angle(near.angle - r.angle))
            if (
                math.hypot(near.cx - r.cx, near.cy - r.cy) < near.length / 2 + 6 * r.line
                and diff < 20
            ):
                r = _Region(
                    r.cx, r.cy, r.length, r.thickness, near.angle, r.line, r.provisional, r.ink
                )
        out.append(r)
    return out


def _overlap(a: _Region, b: _Region) -> float:
    """Area shared by two rotated rectangles."""
    import math

    import cv2

    # rectangles whose circumscribed circles are apart share nothing (most pairs: cheap exit)
    reach = (math.hypot(a.length, a.thickness) + math.hypot(b.length, b.thickness)) / 2
    if math.hypot(a.cx - b.cx, a.cy - b.cy) >= reach:
        return 0.0
    ra = ((a.cx, a.cy), (a.length, a.thickness), a.angle)
    rb = ((b.cx, b.cy), (b.length, b.thickness), b.angle)
    kind, pts = cv2.rotatedRectangleIntersection(ra, rb)
    if kind == cv2.INTERSECT_NONE or pts is None or len(pts) < 3:
        return 0.0
    return float(cv2.contourArea(cv2.convexHull(pts)))


def _glyph_mask(work: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of glyph-sized blobs, dark-on-light and light-on-dark, from adaptive thresholds.

    Card edges, drawn lines, barcodes bars and large shapes fail the size/aspect/fill tests, so
    text touching them is still found (a gradient mask would weld it to the card's outline).
    Also returns each kept glyph's centre and size, ``(N, 3)``.
    """
    import cv2
    import numpy as np

    mask = np.zeros_like(work)
    glyphs = []
    for mode, c in ((cv2.THRESH_BINARY_INV, 12), (cv2.THRESH_BINARY, -12)):
        bw = cv2.adaptiveThreshold(work, 255, cv2.ADAPTIVE_THRESH_MEAN_C, mode, 31, c)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
        w, h, area = (
            stats[:, cv2.CC_STAT_WIDTH],
            stats[:, cv2.CC_STAT_HEIGHT],
            stats[:, cv2.CC_STAT_AREA],
        )
        lo, hi = np.minimum(w, h), np.maximum(w, h)
        fill = area / np.maximum(1, w * h)
        keep = (
            (hi >= 5)
            & (hi <= 150)
            & (lo >= 2)
            & (area >= 10)
            & (hi <= 8 * lo)
            & (fill >= 0.08)
            & ~((fill > 0.9) & (lo > 6))
        )
        keep[0] = False
        mask |= (keep[labels] * 255).astype(np.uint8)
        left, top = stats[keep, cv2.CC_STAT_LEFT], stats[keep, cv2.CC_STAT_TOP]
        glyphs.append(np.stack([left + w[keep] / 2, top + h[keep] / 2, hi[keep]], 1))
    return mask, np.concatenate(glyphs).astype(np.float32)


def _region_from_contour(contour, glyphs, vertical: bool):
    """Rotated rectangle of a text-like blob (centre, length, thickness, angle, line height),
    or None. Blocks of several lines are re-aligned to the direction their glyphs run in."""
    import cv2
    import numpy as np

    (cx, cy), (rw, rh), ang = cv2.minAreaRect(contour)
    length, thick = (rw, rh) if rw >= rh else (rh, rw)
    ang = _norm_angle(ang + (90.0 if rw < rh else 0.0))
    area = cv2.contourArea(contour)
    if thick < 5 or length < 10:
        return None
    x, y, bw, bh = cv2.boundingRect(contour)
    inside = glyphs[
        (glyphs[:, 0] >= x)
        & (glyphs[:, 0] < x + bw)
        & (glyphs[:, 1] >= y)
        & (glyphs[:, 1] < y + bh)
    ]
    line = thick
    if len(inside) >= 2:
        glyph = float(np.median(inside[:, 2]))
        line = min(thick, 1.3 * glyph)
        if len(inside) >= 6 and thick > 1.7 * glyph:
            run = _dominant_angle(inside)
            if run is not None:
                (cx, cy), length, thick = _reproject(contour.reshape(-1, 2).astype(np.float64), run)
                ang = run
    # a block of ragged lines fills its rectangle less than one line does
    if area < (0.15 if thick > 1.6 * line else 0.45) * length * thick:
        return None
    # single glyphs (an initial, a digit) stay until merging: alone they are dropped later
    if thick > 600 or length < 0.5 * min(thick, line):
        return None
    if thick < 1.6 * line and thick > 150:
        return None
    provisional = False
    few = len(inside) <= 6 and (len(inside) < 2 or thick < 1.7 * float(np.median(inside[:, 2])))
    if length < 1.5 * thick and not vertical and few:
        # too short for minAreaRect's angle: two or more glyphs give it by their centres; a
        # lone glyph (an initial) waits for _borrow_angles and a merge, or is dropped
        if len(inside) >= 2:
            d = inside[:, :2] - inside[:, :2].mean(0)
            _, _, vt = np.linalg.svd(d.astype(np.float64), full_matrices=False)
            ang = _norm_angle(float(np.degrees(np.arctan2(vt[0, 1], vt[0, 0]))))
            (cx, cy), length, thick = _reproject(contour.reshape(-1, 2).astype(np.float64), ang)
        else:
            ang = 0.0
        provisional = True
    is_vertical = abs(ang) > 45
    if is_vertical != vertical and abs(abs(ang) - 45) > 5:
        return None  # the other pass owns this orientation
    return (cx, cy), length, thick, ang, line, provisional


def _norm_angle(a: float) -> float:
    return ((a + 90.0) % 180.0) - 90.0


def _dominant_angle(glyphs) -> float | None:
    """Direction (deg, image axes) in which glyphs have their nearest same-size neighbour."""
    import numpy as np

    pts, size = glyphs[:, :2].astype(np.float64), glyphs[:, 2].astype(np.float64)
    d = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
    ratio = size[:, None] / size[None, :]
    d[(ratio > 1.6) | (ratio < 1 / 1.6)] = np.inf
    np.fill_diagonal(d, np.inf)
    nn = d.argmin(1)
    ok = np.isfinite(d[np.arange(len(d)), nn]) & (d[np.arange(len(d)), nn] < 2.0 * size)
    if ok.sum() < 4:
        return None
    v = pts[nn[ok]] - pts[ok]
    doubled = 2 * np.arctan2(v[:, 1], v[:, 0])
    hist, edges = np.histogram(doubled, bins=72, range=(-np.pi, np.pi))
    hist = hist + np.roll(hist, 1) + np.roll(hist, -1)
    mode = edges[hist.argmax()] + np.pi / 72
    close = np.abs(np.angle(np.exp(1j * (doubled - mode)))) < np.radians(20)
    mean = np.angle(np.exp(1j * doubled[close]).mean())
    return _norm_angle(float(np.degrees(mean / 2)))


def _reproject(points, angle: float):
    """Centre, length and thickness of ``points`` measured along / across ``angle``."""
    import math

    import numpy as np

    u = np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
    n = np.array([-u[1], u[0]])
    a, b = points @ u, points @ n
    mid_a, mid_b = (a.min() + a.max()) / 2, (b.min() + b.max()) / 2
    centre = mid_a * u + mid_b * n
    return (float(centre[0]), float(centre[1])), float(a.max() - a.min()), float(b.max() - b.min())


def _merge_collinear(regions: list[_Region]) -> list[_Region]:
    """Join word-sized regions into lines: same angle and height, on one axis, small gap."""
    import cv2
    import numpy as np

    n = len(regions)
    if n < 2:
        return regions
    cx, cy, ln, th, an, li = (
        np.array([getattr(r, f) for r in regions])
        for f in ("cx", "cy", "length", "thickness", "angle", "line")
    )
    rad = np.radians(an)
    ux, uy = np.cos(rad), np.sin(rad)
    dx, dy = cx[None, :] - cx[:, None], cy[None, :] - cy[:, None]
    along = np.abs(dx * ux[:, None] + dy * uy[:, None])
    across = np.abs(-dx * uy[:, None] + dy * ux[:, None])
    t = np.maximum(li[:, None], li[None, :])
    dang = np.abs(an[:, None] - an[None, :])
    dang = np.minimum(dang, 180 - dang)
    ok = (
        (dang <= 12)
        & (np.minimum(li[:, None], li[None, :]) >= t / 1.8)
        & (np.abs(th[:, None] - th[None, :]) <= 0.5 * t)
        & (across <= 0.45 * t)
        & (along - (ln[:, None] + ln[None, :]) / 2 <= 1.4 * t)
    )
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(ok & ok.T, 1)), strict=True):
        parent[find(int(i))] = find(int(j))
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    out = []
    for members in groups.values():
        if len(members) == 1:
            out.append(regions[members[0]])
            continue
        pts = np.concatenate([_corners(regions[m]) for m in members]).astype(np.float32)
        (gx, gy), (w, h), ang = cv2.minAreaRect(pts)
        length, thick = (w, h) if w >= h else (h, w)
        ang = ang + 90.0 if w < h else ang
        ang = ((ang + 90.0) % 180.0) - 90.0
        provisional = all(regions[m].provisional for m in members)
        out.append(
            _Region(
                gx,
                gy,
                length,
                max(thick, float(th[members].max())),
                ang,
                float(li[members].max()),
                provisional,
                frozenset().union(*(regions[m].ink for m in members)),
            )
        )
    return out


def _corners(reg: _Region):
    import cv2

    return cv2.boxPoints(((reg.cx, reg.cy), (reg.length, reg.thickness), reg.angle))


def _region_box(reg: _Region) -> Box:
    import math

    c, s = abs(math.cos(math.radians(reg.angle))), abs(math.sin(math.radians(reg.angle)))
    hw = (reg.length * c + reg.thickness * s) / 2
    hh = (reg.length * s + reg.thickness * c) / 2
    return Box.from_float(reg.cx - hw, reg.cy - hh, reg.cx + hw, reg.cy + hh)


def _turns(reg: _Region) -> tuple[float, ...]:
    """Rotations (deg) that make the region upright; vertical text is read both ways."""
    if abs(reg.angle) <= 45:
        return (reg.angle,)
    base = reg.angle - 90.0 if reg.angle > 0 else reg.angle + 90.0
    return (base + 90.0, base - 90.0)


def _line_patches(
    gray: np.ndarray, reg: _Region, turn: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cut ``reg`` out, rotate by ``turn`` so its text runs left to right, scale lines to
    _LINE_PX and split a block into one patch per line. Returns (patch, patch->input map)s."""
    import cv2
    import numpy as np

    pad = 0.25 * reg.line + 3
    along, across = reg.length + 2 * pad, reg.thickness + 2 * pad
    scale = float(np.clip(_LINE_PX / max(reg.line, 1.0), 0.35, 4.0))
    if along * scale > _MOSAIC_MAX_W:
        scale = _MOSAIC_MAX_W / along
    out_w, out_h = round(along * scale), round(across * scale)
    if out_w < 8 or out_h < 8:
        return []
    fwd = cv2.getRotationMatrix2D((reg.cx, reg.cy), turn, scale)
    fwd[0, 2] += out_w / 2 - reg.cx
    fwd[1, 2] += out_h / 2 - reg.cy
    patch = cv2.warpAffine(
        gray,
        fwd,
        (out_w, out_h),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=_background(gray, reg),
    )
    patch, inverse = _normalise(patch, scale * reg.line), cv2.invertAffineTransform(fwd)
    out = []
    for y0, y1, ink_h in _bands(patch, scale * reg.line):
        # the line estimate can be off (edges, noise): rescale each band from its own ink height
        f = float(np.clip(_LINE_PX / max(ink_h, 1), 0.5, 4.0))
        band = patch[y0:y1]
        if not 0.8 < f < 1.25 and band.shape[1] * f <= _MOSAIC_MAX_W:
            band = cv2.resize(
                band,
                (round(band.shape[1] * f), round(band.shape[0] * f)),
                interpolation=cv2.INTER_CUBIC,
            )
        else:
            f = 1.0
        band = _clean(band, _LINE_PX if f != 1.0 else ink_h)
        if band is not None:
            back = np.array([[1 / f, 0, 0], [0, 1 / f, y0], [0, 0, 1.0]])
            out.append((band, inverse @ back))
    return out


def _clean(band: np.ndarray, line: float) -> np.ndarray | None:
    """Whiten the background of a line patch; None when it holds no glyph-like ink.

    Tesseract's layout analysis gives up on a whole mosaic when noisy or stroke-only patches
    sit among the text, so those are dropped here (they hold no text anyway).
    """
    import cv2

    if _glyph_count(band, line) < 2:
        return None
    _, ink = cv2.threshold(band, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    out = band.copy()
    out[ink == 0] = 255
    return out


def _bands(patch: np.ndarray, line: float) -> list[tuple[int, int, int]]:
    """Padded row ranges of the text lines in an upright patch, from its ink profile, with
    each line's ink height."""
    import cv2
    import numpy as np

    _, ink = cv2.threshold(patch, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    rows = ink.mean(axis=1) > 0.01
    edges = np.flatnonzero(np.diff(np.r_[0, rows.astype(np.int8), 0]))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] < 0.12 * line:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        if b - a >= 0.25 * line:
            pad = max(3, round(0.3 * (b - a)))
            out.append((max(0, a - pad), min(len(rows), b + pad), b - a))
    return out


def _background(gray, reg: _Region) -> int:
    """The region's most common grey (its background), to pad the image edge with."""
    import numpy as np

    b = _region_box(reg).clamp(gray.shape[1], gray.shape[0])
    crop = gray[b.y0 : b.y1, b.x0 : b.x1]
    if crop.size == 0:
        return 255
    return int(np.argmax(np.bincount(crop.ravel() // 8, minlength=32)) * 8 + 4)


def _normalise(patch: np.ndarray, line: float) -> np.ndarray:
    """Stretch contrast and make the text dark on light: the polarity whose ink breaks into
    more glyph-sized pieces wins (ink-is-the-minority fails on bold text in tight crops)."""
    import cv2

    stretched = cv2.normalize(patch, None, 0, 255, cv2.NORM_MINMAX)
    inverted = 255 - stretched
    return inverted if _glyph_count(inverted, line) > _glyph_count(stretched, line) else stretched


def _glyph_count(patch: np.ndarray, line: float) -> int:
    """Dark connected components of glyph size in a patch whose text line is ``line`` tall."""
    import cv2

    _, ink = cv2.threshold(patch, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    return int(((h >= 0.3 * line) & (h <= 1.1 * line) & (w <= 8 * line)).sum())


def _chunks(patches, max_h: int = 9000):
    """Split the patches so that no mosaic gets taller than ``max_h`` pixels."""
    chunk, height = [], 0
    for p in patches:
        if chunk and height + p[1].shape[0] + _GAP > max_h:
            yield chunk
            chunk, height = [], 0
        chunk.append(p)
        height += p[1].shape[0] + _GAP
    if chunk:
        yield chunk


def _build_mosaic(chunk):
    import numpy as np

    width = max(p.shape[1] for _, p, _ in chunk) + 2 * _GAP
    height = sum(p.shape[0] + _GAP for _, p, _ in chunk) + _GAP
    mosaic = np.full((height, width), 255, np.uint8)
    rows, y = [], _GAP
    for region, patch, inverse in chunk:
        ph, pw = patch.shape
        mosaic[y : y + ph, _GAP : _GAP + pw] = patch
        rows.append(_Row(region, y, ph, pw, inverse))
        y += ph + _GAP
    return mosaic, rows


def _read_mosaic(
    mosaic, rows: list[_Row], lang: str, shape
) -> list[tuple[tuple[int, int], OcrLine]]:
    import pytesseract

    try:
        data = pytesseract.image_to_data(
            mosaic,
            lang=lang,
            config="--oem 1 --psm 6 -c tessedit_do_invert=0",
            output_type=pytesseract.Output.DICT,
        )
    except pytesseract.TesseractNotFoundError as err:
        raise EnvironmentProblem(_MISSING) from err
    except (pytesseract.TesseractError, RuntimeError, OSError) as err:
        raise DetectorError(f"Tesseract failed: {type(err).__name__}") from None
    by_row: dict[int, list[OcrWord]] = {}
    for i, text in enumerate(data["text"]):
        text = text.strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
        k = _row_of(rows, y + h / 2)
        if k is None:
            continue
        row = rows[k]
        box, quad = _map_box(row, x - _GAP, y - row.y0, w, h, shape)
        if box.area:
            by_row.setdefault(k, []).append(OcrWord(text, conf, box, quad))
    lines = []
    for k, words in sorted(by_row.items()):
        lines.append((rows[k].region, OcrLine(tuple(words), _union(w.box for w in words))))
    return lines


def _row_of(rows: list[_Row], yc: float) -> int | None:
    for k, row in enumerate(rows):
        if row.y0 - _GAP / 2 <= yc < row.y0 + row.height + _GAP / 2:
            return k
    return None


def _map_box(row: _Row, x: float, y: float, w: float, h: float, shape):
    """A mosaic word box mapped to input pixels: its bounding Box and its rotated quad."""
    import numpy as np

    corners = np.array([[x, y, 1], [x + w, y, 1], [x + w, y + h, 1], [x, y + h, 1]], float)
    pts = corners @ row.inverse.T
    box = Box.from_float(pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
    quad = tuple((round(float(px), 1), round(float(py), 1)) for px, py in pts)
    return box.clamp(shape[1], shape[0]), quad


def _union(boxes) -> Box:
    boxes = list(boxes)
    return Box(
        min(b.x0 for b in boxes),
        min(b.y0 for b in boxes),
        max(b.x1 for b in boxes),
        max(b.y1 for b in boxes),
    )


def _best_orientation(lines) -> list[OcrLine]:
    """Keep, per region, the reading (orientation) with the highest summed confidence."""
    by_key: dict[tuple[int, int], list[OcrLine]] = {}
    for key, line in lines:
        by_key.setdefault(key, []).append(line)
    best: dict[int, tuple[float, list[OcrLine]]] = {}
    for (region, _), group in by_key.items():
        score = sum(_score(line) for line in group)
        if region not in best or score > best[region][0]:
            best[region] = (score, group)
    return [line for k in sorted(best) for line in best[k][1]]


def _score(line: OcrLine) -> float:
    return sum(max(w.conf, 0) * sum(c.isalnum() for c in w.text) for w in line.words)

"""Glyph finder: line-shaped text candidates from glyph-sized blobs, without a model.

On a copy downscaled to 1600 px: adaptive thresholds in both polarities, kept when
glyph-sized; joined into lines (closing along rows, and along columns for vertical text, then
collinear merging), each line a rotated rectangle; blocks of several lines take the direction
their glyphs' nearest neighbours run in. It finds small and low-contrast text the learned
detector misses, and also texture that looks like glyphs: ``detect.text`` asks the learned
detector's probability map (and the recogniser) to confirm its candidates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from photoguard.detect.imageops import downscale
from photoguard.detect.ocr_ppocr import mod180
from photoguard.types import Box

if TYPE_CHECKING:
    import numpy as np

_WORK_SIDE = 1600  # long side of the copy used to find regions
_NN_ROWS = 512  # glyphs whose nearest neighbours are found at once (see _nearest)
_NN_CELL = 128.0  # side (work px) of the cells glyphs are grouped in for that


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


def find_text_regions(gray: np.ndarray) -> list[_Region]:
    """Line-shaped candidate regions, largest first, in full-resolution pixels."""
    import math

    import cv2
    import numpy as np

    work, s = downscale(gray, _WORK_SIDE)
    bw, glyphs = _glyph_mask(work)
    index = _Glyphs(glyphs)
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
            reg = _region_from_contour(c, index, vertical)
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
    # centres and circumscribed radii of the kept regions: only those that can touch a
    # candidate are intersected with it (``_overlap`` is 0 for the others, and they are most)
    at = np.empty((len(found), 3))
    for reg, _ in found:
        if reg.length < 1.1 * min(reg.thickness, reg.line):
            continue  # a lone glyph
        if reg.provisional and reg.length > 1.6 * reg.thickness:
            continue  # short blobs joined only to each other: glyphs across vertical lines
        area = reg.length * reg.thickness
        n = len(kept)
        reach = at[:n, 2] + math.hypot(reg.length, reg.thickness) / 2
        gap = np.hypot(at[:n, 0] - reg.cx, at[:n, 1] - reg.cy)
        near = [kept[i] for i in np.flatnonzero(gap < reach + 1.0).tolist()]  # kept order
        if any(
            _overlap(reg, k) >= 0.7 * min(area, k.length * k.thickness)
            and _same_glyphs(reg, k, blob_area)
            for k in near
        ):
            continue
        # columns cut across the horizontal lines of a paragraph are not vertical text
        flat = (
            sum(_overlap(reg, k) for k in near if abs(k.angle) <= 45) if abs(reg.angle) > 45 else 0
        )
        if flat > 0.3 * area:
            continue
        at[n] = reg.cx, reg.cy, math.hypot(reg.length, reg.thickness) / 2
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
            diff = abs(mod180(near.angle - r.angle))
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


class _Glyphs:
    """The glyphs (``(N, 3)``: centre x, y, size) sorted by x once, so that those inside a
    rectangle are found by bisection, not by comparing every glyph of the photo (a contour
    each: thousands on a 12 MP photo)."""

    def __init__(self, glyphs: np.ndarray) -> None:
        import numpy as np

        self.glyphs = glyphs
        self.order = np.argsort(glyphs[:, 0], kind="stable")
        self.xs = glyphs[self.order, 0]

    def within(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """The glyphs with ``x0 <= x < x1`` and ``y0 <= y < y1``, in their original order."""
        import numpy as np

        a, b = np.searchsorted(self.xs, [x0, x1], "left")
        idx = self.order[a:b]
        y = self.glyphs[idx, 1]
        return self.glyphs[np.sort(idx[(y >= y0) & (y < y1)])]


def _region_from_contour(contour, glyphs: _Glyphs, vertical: bool):
    """Rotated rectangle of a text-like blob (centre, length, thickness, angle, line height),
    or None. Blocks of several lines are re-aligned to the direction their glyphs run in."""
    import cv2
    import numpy as np

    (cx, cy), (rw, rh), ang = cv2.minAreaRect(contour)
    length, thick = (rw, rh) if rw >= rh else (rh, rw)
    ang = mod180(ang + (90.0 if rw < rh else 0.0))
    area = cv2.contourArea(contour)
    if thick < 5 or length < 10:
        return None
    x, y, bw, bh = cv2.boundingRect(contour)
    inside = glyphs.within(x, y, x + bw, y + bh)
    line, glyph = thick, 0.0
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
    few = len(inside) <= 6 and (len(inside) < 2 or thick < 1.7 * glyph)
    if length < 1.5 * thick and not vertical and few:
        # too short for minAreaRect's angle: two or more glyphs give it by their centres; a
        # lone glyph (an initial) waits for _borrow_angles and a merge, or is dropped
        if len(inside) >= 2:
            d = inside[:, :2] - inside[:, :2].mean(0)
            _, _, vt = np.linalg.svd(d.astype(np.float64), full_matrices=False)
            ang = mod180(float(np.degrees(np.arctan2(vt[0, 1], vt[0, 0]))))
            (cx, cy), length, thick = _reproject(contour.reshape(-1, 2).astype(np.float64), ang)
        else:
            ang = 0.0
        provisional = True
    is_vertical = abs(ang) > 45
    if is_vertical != vertical and abs(abs(ang) - 45) > 5:
        return None  # the other pass owns this orientation
    return (cx, cy), length, thick, ang, line, provisional


def _dominant_angle(glyphs) -> float | None:
    """Direction (deg, image axes) in which glyphs have their nearest same-size neighbour."""
    import numpy as np

    pts, size = glyphs[:, :2].astype(np.float64), glyphs[:, 2].astype(np.float64)
    nn, dist = _nearest(pts, size)
    ok = np.isfinite(dist) & (dist < 2.0 * size)
    if ok.sum() < 4:
        return None
    v = pts[nn[ok]] - pts[ok]
    doubled = 2 * np.arctan2(v[:, 1], v[:, 0])
    hist, edges = np.histogram(doubled, bins=72, range=(-np.pi, np.pi))
    hist = hist + np.roll(hist, 1) + np.roll(hist, -1)
    mode = edges[hist.argmax()] + np.pi / 72
    close = np.abs(np.angle(np.exp(1j * (doubled - mode)))) < np.radians(20)
    mean = np.angle(np.exp(1j * doubled[close]).mean())
    return mod180(float(np.degrees(mean / 2)))


def _nearest(pts, size):
    """Per glyph, its nearest other glyph of a similar size (ratio within 1.6) and the distance
    to it, where that distance is under twice its size (the only neighbours ``_dominant_angle``
    uses); ``inf`` elsewhere (and then any index). Ties go to the lower index, as one argmin
    over all glyphs would.

    Up to ``_NN_ROWS`` glyphs (a block's, most often) are one distance matrix. More are taken
    by cells of ``_NN_CELL`` px (at most ``_NN_ROWS`` at a time), each group against the glyphs
    within its reach only: a block of small text on a 12 MP photo holds tens of thousands of
    glyphs, and their full distance matrix cost 27 s (and, at once, more memory than the
    machine had)."""
    import numpy as np

    n = len(pts)
    reach = 2.0 * size
    if n <= _NN_ROWS:  # a block's glyphs, most often: one distance matrix, no cells
        d = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
        ratio = size[:, None] / size[None, :]
        d[(ratio > 1.6) | (ratio < 1 / 1.6)] = np.inf
        np.fill_diagonal(d, np.inf)
        best = d.argmin(1)
        near = d[np.arange(n), best]
        near[near >= reach] = np.inf
        return best, near
    nn, dist = np.zeros(n, np.intp), np.full(n, np.inf)
    order = np.argsort(pts[:, 0], kind="stable")
    xs = pts[order, 0]
    cells = np.floor(pts / _NN_CELL).astype(np.int64)
    key = cells[:, 0] * (int(cells[:, 1].max()) + 1) + cells[:, 1] - int(cells[:, 1].min())
    by_cell = np.argsort(key, kind="stable")
    edges = np.flatnonzero(np.diff(key[by_cell])) + 1
    for cell in np.split(by_cell, edges):
        cell = cell[np.argsort(reach[cell], kind="stable")]
        a = 0
        while a < len(cell):  # rows of about one size: each block reaches only as far as they do
            b = min(a + _NN_ROWS, int(np.searchsorted(reach[cell], 2 * reach[cell[a]], "right")))
            rows, a = cell[a:b], b
            r = float(reach[rows].max()) + 1.0
            (x0, y0), (x1, y1) = pts[rows].min(0) - r, pts[rows].max(0) + r
            small, big = size[rows].min() / 1.7, size[rows].max() * 1.7
            cols = order[np.searchsorted(xs, x0, "left") : np.searchsorted(xs, x1, "right")]
            inside = (pts[cols, 1] >= y0) & (pts[cols, 1] <= y1)
            cols = np.sort(cols[inside & (size[cols] >= small) & (size[cols] <= big)])
            d = np.hypot(
                pts[rows, None, 0] - pts[None, cols, 0], pts[rows, None, 1] - pts[None, cols, 1]
            )
            ratio = size[rows, None] / size[None, cols]
            d[(ratio > 1.6) | (ratio < 1 / 1.6) | (rows[:, None] == cols[None, :])] = np.inf
            best = d.argmin(1)
            near = d[np.arange(len(rows)), best]
            near[near >= reach[rows]] = np.inf
            nn[rows], dist[rows] = cols[best], near
    return nn, dist


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
        ang = mod180(ang)
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

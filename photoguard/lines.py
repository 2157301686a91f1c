"""Where a redacted text line's fill may stop: short of a published line beside it.

A text line's outline (a DB line's quad, grown by the unclip step) is about twice as thick as
its text, and the renderer pads it further; on a tightly set card or wristband the fill of a
PHI line then reaches over the line below it, which the first pass read with confidence and
published (issue #11, decoys kept). The fill keeps the line's own text band - the central
``CORE`` of its thickness, more than its text fills - and gives up only margin beyond it, and
only where a published line's own text band would otherwise be covered.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from photoguard.types import Action, Box, Detection, Region, RegionKind

CORE = 1 / 1.6
"""Share of a line outline's thickness that its text fills (ocr_ppocr.UNCLIP grows a DB line's
kernel by about 0.8 of its thickness on each side; on the hard set the text is 0.45-0.6 of the
outline)."""
PARALLEL = math.sin(math.radians(10))
"""A published line is beside a redacted one when their directions differ by less than this."""
GAP = 1
"""Pixels kept between a line's text band and the edge of its trimmed outline."""


def clear_of_read(region: Region, read: Sequence[Detection], padding: int) -> Region:
    """``region`` with its outline trimmed, across the line, off the published lines' text.

    Only a redacted PHI text line with a four-corner outline is trimmed, only by published
    lines parallel to it and beside it along its length, and never into its own text band
    (``CORE``) nor by a published line whose text band meets that band: the fill still covers
    the whole text band of the line plus ``GAP`` and the renderer's ``padding``.
    """
    if (
        region.kind is not RegionKind.TEXT
        or region.action is not Action.REDACT
        or region.label in ("unreadable", "")
        or not region.polygon
        or len(region.polygon) != 4
    ):
        return region
    quad = np.array(region.polygon, dtype=float)
    u, n = _axes(quad)
    along, across = quad @ u, quad @ n
    lo, hi = float(across.min()), float(across.max())
    middle, half = (lo + hi) / 2, (hi - lo) * CORE / 2
    new_lo, new_hi = lo, hi
    for other in read:
        if other.frame != region.frame or not other.polygon or len(other.polygon) != 4:
            continue
        points = np.array(other.polygon, dtype=float)
        if abs(_axes(points)[0] @ n) > PARALLEL:
            continue  # not parallel
        o_along = points @ u
        if min(o_along.max(), along.max()) <= max(o_along.min(), along.min()):
            continue  # not beside it along its length
        o_across = points @ n
        o_middle = (o_across.min() + o_across.max()) / 2
        o_half = (o_across.max() - o_across.min()) * CORE / 2
        if o_middle - o_half > middle + half:  # beside it, on the high side
            new_hi = min(new_hi, max(middle + half + GAP, o_middle - o_half - padding - GAP))
        elif o_middle + o_half < middle - half:  # on the low side
            new_lo = max(new_lo, min(middle - half - GAP, o_middle + o_half + padding + GAP))
        # text bands that meet: the same text read twice, or lines set too tight: keep all
    if new_lo == lo and new_hi == hi:
        return region
    moved = [
        p + ((new_lo if a - lo < hi - a else new_hi) - a) * n
        for p, a in zip(quad, across, strict=True)
    ]
    polygon = tuple((round(x), round(y)) for x, y in moved)
    xs, ys = [x for x, _ in polygon], [y for _, y in polygon]
    return replace(region, polygon=polygon, box=Box(min(xs), min(ys), max(xs) + 1, max(ys) + 1))


def beside_only(read: Sequence[Detection], regions: Sequence[Region]) -> list[Detection]:
    """The published lines that may trim a fill: those whose text band meets no redacted text
    line's text band (a line read safe in one crop and as PHI or unreadable in another is
    that text, not a neighbour), and that cross no redacted line at an angle."""
    bands = [
        (r.frame, _band(np.array(r.polygon or _corners(r.box), dtype=float)))
        for r in regions
        if r.kind is RegionKind.TEXT and r.action is Action.REDACT
    ]
    out = []
    for d in read:
        if not d.polygon or len(d.polygon) != 4:
            continue
        mine = _band(np.array(d.polygon, dtype=float))
        if not any(frame == d.frame and _meet(mine, band) for frame, band in bands):
            out.append(d)
    return out


def _corners(box: Box) -> tuple[tuple[int, int], ...]:
    return ((box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1))


def _band(quad: np.ndarray):
    """(the quad's text band as a quad, its direction, its across-axis) of a line outline."""
    u, n = _axes(quad)
    across = quad @ n
    middle = (across.min() + across.max()) / 2
    core = np.array([p + (middle - a) * (1 - CORE) * n for p, a in zip(quad, across, strict=True)])
    return core, u, n


def _meet(a, b) -> bool:
    """Whether two text bands share pixels, or cross at an angle (any overlap then counts)."""
    (qa, ua, na), (qb, _ub, _nb) = a, b
    if abs(_axes(qb)[0] @ na) > PARALLEL:
        xa, ya, xb, yb = qa[:, 0], qa[:, 1], qb[:, 0], qb[:, 1]
        return min(xa.max(), xb.max()) > max(xa.min(), xb.min()) and min(ya.max(), yb.max()) > max(
            ya.min(), yb.min()
        )
    for axis in (ua, na):
        pa, pb = qa @ axis, qb @ axis
        if min(pa.max(), pb.max()) <= max(pa.min(), pb.min()):
            return False
    return True


def _axes(quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along a quad's longer side and across it."""
    first, second = quad[1] - quad[0], quad[2] - quad[1]
    u = first if np.hypot(*first) >= np.hypot(*second) else second
    u = u / max(1e-9, float(np.hypot(*u)))
    return u, np.array([-u[1], u[0]])

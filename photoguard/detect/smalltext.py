"""Text too small for the DB detector's scale, found coarse-to-fine.

The DB detector sees a 12 MP photo at 1600 px: a 9 px line of an EHR screen is then 3.6 px
high and invisible to it, and to the glyph finder (its glyphs fall below the blob size). Here
a cheap flag finds where such text may be, and the DB detector runs again on those places only,
at full resolution:

1. **Flag.** On a copy at twice the detector's scale (full resolution at most), glyph-sized blobs
   too small for the coarse pass (adaptive thresholds, both polarities) are closed along rows
   and along columns; a closed blob made of at least ``_MIN_GLYPHS`` similar glyphs, one glyph
   high and several long, is a candidate line.
2. **Tiles.** Each candidate, padded by a few line heights, becomes a tile; overlapping tiles are
   merged where that costs the DB run no more (``merge_tiles``), so text on one card is one tile.
3. **Confirm.** The DB detector reads each tile at full resolution (``ocr_ppocr.detect_tile``);
   its lines join the coarse ones (those the coarse lines already cover are dropped).

Texture (hair, foliage, fabric) raises some flags too: it costs a tile's DB run, never a
redaction, since DB does not call it text. Nothing is capped: every flagged tile is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from photoguard.detect.ocr_ppocr import LineBox

_FINE = 2.0  # the flag's copy is this many times the detector's scale (full resolution at most)
_DB_GLYPH = 6.0  # a glyph at least this high at the detector's scale is the coarse pass's
_SEEN = 12.0  # line height (px) a tile is scaled to for the detector
_MAX_UP = 3.0  # most a tile is enlarged
_MIN_GLYPH = 4  # smallest glyph height (px of the flag's copy) that can be told from noise
_MIN_GLYPHS = 4  # glyphs a candidate line is made of (a word blob counts as length/height)
_EDGE = 10  # grey levels a pixel differs from its 15 px surroundings to be ink
_INK = 30  # grey levels off that a quarter of a blob's pixels reach for it to be ink
_PAD = 2.5  # tile margin, in line heights
_MIN_TILE = 64  # smallest tile side (px, full resolution)


def small_text_tiles(gray: np.ndarray, det_scale: float) -> list[tuple[int, ...]]:
    """Rectangles ``(x0, y0, x1, y1)`` (full-resolution pixels) that may hold text too small
    for the DB detector at ``det_scale`` (its input size / the image's), each with the scale
    ``(x0, y0, x1, y1, scale)`` at which the detector should see it."""
    import cv2

    if _MIN_GLYPH * det_scale / min(1.0, _FINE * det_scale) >= _DB_GLYPH:
        return []  # the flag's copy cannot show a glyph the detector does not see
    h, w = gray.shape
    f = min(1.0, _FINE * det_scale)
    work = (
        cv2.resize(gray, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
        if f < 1
        else gray
    )
    top = _DB_GLYPH * f / det_scale  # glyph height (work px) the coarse pass sees
    boxes = [
        (x0 / f, y0 / f, x1 / f, y1 / f, line / f)
        for x0, y0, x1, y1, line in _candidate_lines(work, top)
    ]
    return _merge_tiles(boxes, w, h)


def _candidate_lines(work: np.ndarray, top: float) -> list[tuple[float, ...]]:
    """Bounding boxes (and line height) of row- or column-closed runs of small glyphs."""
    import cv2
    import numpy as np

    boxes = _small_glyphs(work, top)
    if len(boxes) == 0:
        return []
    # glyph boxes are joined on a half-size mask (glyphs are 4 px or more: 2 px there)
    half = boxes // 2
    mask = np.zeros((work.shape[0] // 2 + 1, work.shape[1] // 2 + 1), np.uint8)
    for x, y, bw, bh in half.tolist():
        mask[y : y + max(bh, 1), x : x + max(bw, 1)] = 255
    gx, gy = half[:, 0] + half[:, 2] // 2, half[:, 1] + half[:, 3] // 2
    k = max(2, round(0.4 * top))
    out = []
    for kernel in ((k, 1), (1, k)):
        closed = cv2.morphologyEx(
            mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, kernel)
        )
        m, joined, st, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
        lines = _line_shaped(joined[gy, gx], m, boxes / 2, st)
        out += [tuple(2 * v for v in line) for line in lines]
    return out


def _small_glyphs(work: np.ndarray, top: float) -> np.ndarray:
    """``(N, 4)`` boxes ``x, y, w, h`` of glyph-sized ink blobs no higher than ``top``, dark
    and light: pixels ``_EDGE`` grey levels off their 15 px surroundings, in blobs that hold
    enough pixels ``_INK`` off (JPEG noise on a plain wall crosses the first threshold in specks
    that hardly reach the second)."""
    import cv2
    import numpy as np

    mean = cv2.blur(work, (15, 15))
    out = []
    for depth in (cv2.subtract(mean, work), cv2.subtract(work, mean)):
        weak = cv2.threshold(depth, _EDGE, 1, cv2.THRESH_BINARY)[1]
        n, labels, st, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
        x, y, w, h, area = (st[:, i] for i in range(5))
        lo, hi = np.minimum(w, h), np.maximum(w, h)
        # a glyph, or a word whose glyphs ran together (small blurred text): its short side
        # is the text's height
        keep = (
            (lo >= _MIN_GLYPH - 1)
            & (hi >= _MIN_GLYPH)
            & (lo <= top)
            & (hi <= 15 * lo)
            & (area >= 6)
            & (area >= 0.1 * w * h)
        )
        keep[0] = False
        if not keep.any():
            continue
        strong = np.bincount(labels[depth > _INK], minlength=n)
        keep &= strong >= 0.25 * area
        out.append(st[keep, :4])
    return np.concatenate(out) if out else np.zeros((0, 4), np.int32)


def _line_shaped(owner, m: int, boxes, st) -> list[tuple[float, ...]]:
    """Closed blobs whose ink lies on one line: glyphs (or words whose glyphs ran together)
    of similar height, their boxes' second moments long along one axis and about one glyph
    thick across it."""
    import numpy as np

    x, y = boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2
    w, h = boxes[:, 2].astype(np.float64), boxes[:, 3].astype(np.float64)
    lo = np.minimum(w, h)
    wt = w * h

    def mean(v):
        return np.bincount(owner, weights=wt * v, minlength=m) / np.maximum(tw, 1e-9)

    tw = np.bincount(owner, weights=wt, minlength=m)
    glyphs = np.bincount(owner, weights=np.maximum(w, h) / lo, minlength=m)
    ml = mean(lo)
    sl = np.sqrt(np.maximum(mean(lo * lo) - ml * ml, 0))
    mx, my = mean(x), mean(y)
    vxx = mean(x * x + w * w / 12) - mx * mx
    vyy = mean(y * y + h * h / 12) - my * my
    vxy = mean(x * y) - mx * my
    half = np.sqrt(np.maximum(((vxx - vyy) / 2) ** 2 + vxy * vxy, 0))
    big, small = (vxx + vyy) / 2 + half, np.maximum((vxx + vyy) / 2 - half, 0)
    ok = (
        (glyphs >= _MIN_GLYPHS)
        & (sl <= 0.4 * ml)
        & (np.sqrt(small) <= 0.45 * ml)
        & (np.sqrt(12 * big) >= 3 * ml)
    )
    ok[0] = False
    return [
        (float(st[j, 0]), float(st[j, 1]), float(st[j, 0] + st[j, 2]), float(st[j, 1] + st[j, 3]))
        + (1.4 * float(ml[j]),)
        for j in np.flatnonzero(ok)
    ]


def _merge_tiles(boxes, w: int, h: int) -> list[tuple[int, ...]]:
    """Padded boxes, clipped to the image and merged into tiles (``merge_tiles``), each with
    the scale its smallest line needs."""
    rects, lines = [], []
    for x0, y0, x1, y1, line in boxes:
        lines.append(line)
        pad = _PAD * line
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hw = max((x1 - x0) / 2 + pad, _MIN_TILE / 2)
        hh = max((y1 - y0) / 2 + pad, _MIN_TILE / 2)
        rects.append(
            (
                max(0, int(cx - hw)),
                max(0, int(cy - hh)),
                min(w, int(cx + hw) + 1),
                min(h, int(cy + hh) + 1),
            )
        )
    return [
        (*tile, _tile_scale(min(lines[i] for i in members))) for tile, members in merge_tiles(rects)
    ]


def merge_tiles(rects) -> list[tuple[tuple[int, int, int, int], list[int]]]:
    """The tiles the DB detector reads for rectangles ``(x0, y0, x1, y1)`` (padded places that
    may hold text): two that overlap become one where their bounding rectangle is no larger than
    the two together, so text on one card is one tile, and places scattered over a texture never
    make one tile of the whole photo. Each tile comes with the indices of its rectangles.

    The one tiling of both finer looks (this module's flags and ``secondlook``'s seeds)."""
    tiles = [(tuple(r), [i]) for i, r in enumerate(rects)]
    merged = True
    while merged:
        merged = False
        i = 0
        while i < len(tiles):
            j = i + 1
            while j < len(tiles):
                a, b = tiles[i][0], tiles[j][0]
                if a[0] >= b[2] or b[0] >= a[2] or a[1] >= b[3] or b[1] >= a[3]:
                    j += 1
                    continue
                u = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                if _area(u) <= _area(a) + _area(b):
                    tiles[i] = (u, tiles[i][1] + tiles[j][1])
                    del tiles[j]
                    merged = True
                    j = i + 1  # the grown tile may now meet one it missed
                else:
                    j += 1
            i += 1
    return tiles


def _area(r) -> int:
    return (r[2] - r[0]) * (r[3] - r[1])


def _tile_scale(line: float) -> float:
    """The scale at which a line ``line`` px high is about ``_SEEN`` px high (never below 1)."""
    return float(min(_MAX_UP, max(1.0, _SEEN / max(line, 1.0))))


def fine_lines(rgb: np.ndarray, gray: np.ndarray, det_scale: float, coarse) -> list[LineBox]:
    """DB lines found at full resolution in the flagged tiles, minus those ``coarse`` already
    has (a coarse line about as thick covers most of it). A coarse blob much thicker than a
    fine line is not that line: at 1600 px the lines of a card of small text melt into one."""
    from photoguard.detect import ocr_ppocr as pp

    tiles = small_text_tiles(gray, det_scale)
    if not tiles:
        return []
    # a DB line of the coarse pass's size is the coarse pass's to find (here: an eye, a chin)
    top = 2.5 * _DB_GLYPH / det_scale
    out: list[LineBox] = []
    for x0, y0, x1, y1, scale in tiles:
        for b in pp.detect_tile(rgb[y0:y1, x0:x1], scale):
            box = type(b)(b.cx + x0, b.cy + y0, b.length, b.thickness, b.angle, b.score, "db")
            # a copy of a line already found in an overlapping tile is covered by it
            same = [c for c in (*coarse, *out) if c.thickness <= 2 * box.thickness]
            if box.thickness <= top and covered(same, box) < 0.5:
                out.append(box)
    return out


def covered(boxes, box: LineBox) -> float:
    """Share of ``box`` inside the union of ``boxes`` (full-resolution pixels)."""
    import cv2
    import numpy as np

    pts = box.corners()
    x0, y0 = np.floor(pts.min(0)).astype(int)
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 1
    near = [
        c
        for c in boxes
        if abs(c.cx - box.cx) < (c.length + c.thickness + box.length + box.thickness) / 2
        and abs(c.cy - box.cy) < (c.length + c.thickness + box.length + box.thickness) / 2
    ]
    if not near:
        return 0.0
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round(pts - (x0, y0)).astype(np.int32)], 1)
    other = np.zeros_like(mask)
    for c in near:
        cv2.fillPoly(other, [np.round(c.corners() - (x0, y0)).astype(np.int32)], 1)
    area = int(mask.sum())
    return float((mask & other).sum()) / area if area else 1.0

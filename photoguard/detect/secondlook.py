"""A second, finer look around the text the coarse pass found.

The DB detector sees a photo at 1600 px (``ocr_ppocr.DET_SIDE``): blurred or faint lines of 8-16
px (a form's handwritten values, the rows of a small card) are often below what it fires on at
that scale, a block of small lines melts into one blob, and a line next to the ones it finds
may not be found at all. Text rarely comes alone, so the places around what it found are read
again:

1. **Seeds.** Every coarse DB line, every coarse blob the detector is fairly sure of
   (``_BLOCK``: a card whose lines melted together), and every glyph-finder line the DB map
   confirms (``_SEED``, the support ``detect.text`` accepts it at). A line is padded by
   ``_REACH`` of its height on every side (a card's value column sits several line heights
   beside its labels), at most ``_MAX_PAD``; a blob by about its own height.
2. **Tiles.** Overlapping padded seeds merge where their bounding rectangle is no larger than
   the two (text on one card is one tile; seeds scattered over a texture stay apart).
3. **Finer scale.** The DB detector reads each tile at ``_FINER`` times the coarse scale, at
   least at full resolution (photos the detector saw at 1600 px or less are enlarged); its
   line-shaped lines join the coarse ones when no coarse line of about their size covers them.
4. **Turned.** The DB detector finds lines tilted up to about 15 degrees as they are; steeper
   ones (a form on its side, a wristband at 35 degrees) it misses or melts into one blob at every
   scale. Where a tile's seeds run steeply (``_directions``: their angles, each seed voting with
   its length), the tile is also read on a copy turned so that those lines run left to right,
   and the lines found there are mapped back (``turned_lines``).

A crowd photo has about one coarse line and few confirmed glyph lines, so this costs it little;
a photo full of text pays a few tile runs. Nothing is capped: every tile is read.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from photoguard.detect.ocr_ppocr import mod180

if TYPE_CHECKING:
    import numpy as np

    from photoguard.detect.ocr_ppocr import LineBox

_FINER = 1.5  # a tile is seen at this many times the coarse scale, at least at full resolution
_MAX_SCALE = 2.0  # and at most at this many times full resolution
_BLOCK = 0.6  # a coarse blob this sure (DB score) seeds a tile even when it is no line
_SEED = 0.02  # DB support from which a glyph-finder line is a seed (text.py's _SUPPORT)
_REACH = 4.0  # a seed is padded by this many of its heights on every side
_LINE = 2.0  # a finer line shorter than this many thicknesses is texture, not a line
_MAX_PAD = 160  # most a seed is padded by (px, full resolution)
_MIN_TILE = 96  # smallest tile side (px, full resolution)
_TILT = 15.0  # a tile whose seeds run at least this far off the horizontal is also seen turned
_BIN = 10.0  # seeds' directions are counted in bins of this many degrees
_SHARE = 0.3  # a direction holding this share of the strongest's seed length is looked along
_VOTE = 0.1  # DB support from which a glyph-finder seed has a say in the direction (hair: less)
_TURN_MAX = 0.1  # a seed thicker than this share of the photo's short side is not turned around
_ELONGATED = 1.3  # a seed this many thicknesses long has a direction (a rounder blob has none)


def finer_lines(
    rgb: np.ndarray, det_scale: float, coarse: list[LineBox], glyph_lines: list[LineBox]
) -> list[LineBox]:
    """DB lines found in tiles around the line-shaped ``coarse`` lines and the glyph-finder
    lines the DB map supports (``glyph_lines``, their ``score`` that support), read at a finer
    scale, minus those a coarse line of about their size already covers."""
    import numpy as np

    from photoguard.detect import ocr_ppocr as pp
    from photoguard.detect.smalltext import covered

    h, w = rgb.shape[:2]
    scale = min(_MAX_SCALE, max(1.0, _FINER * det_scale))
    # a blob thicker than a tenth of the short side is the map's response to texture or a map
    # saturated over most of the photo: its tile would swallow the lines seeded inside it and
    # be read at a scale where the map is saturated again (the lines' own tiles are not)
    blocks = [
        b
        for b in coarse
        if b.length >= _LINE * b.thickness
        or (b.score >= _BLOCK and b.thickness <= _TURN_MAX * min(w, h))
    ]
    seeds = [_seed(b) for b in blocks]
    seeds += [_seed_box(b.corners(), b.thickness) for b in glyph_lines if b.score >= _SEED]
    votes = list(blocks)
    votes += [b for b in glyph_lines if b.score >= _VOTE]
    out: list[LineBox] = []
    for x0, y0, x1, y1 in _tiles(seeds, w, h):
        tile = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        # where the seeds run steeply, the turned copies' lines come first: the upright run
        # finds pieces across such lines, which must not cover the true ones
        found = _turned(tile, votes, (x0, y0, x1, y1), scale, min(w, h))
        found += pp.detect_tile(tile, scale)
        for b in found:
            box = replace(b, cx=b.cx + x0, cy=b.cy + y0, source="db")
            same = [c for c in (*coarse, *out) if c.thickness <= 2 * box.thickness]
            if box.length >= _LINE * box.thickness and covered(same, box) < 0.5:
                out.append(box)
    return out


def _turned(
    tile: np.ndarray, votes: list[LineBox], rect, scale: float, short: int
) -> list[LineBox]:
    """The lines of ``tile`` (at ``rect``) found turned along each steep direction its seeds
    run in, each direction read only around its own seeds (padded as tiles are): a tile that
    covers most of a crowd photo is not turned whole for a few steep seeds on a sleeve."""
    import numpy as np

    x0, y0, x1, y1 = rect
    out: list[LineBox] = []
    for turn in _directions(votes, rect):
        along = [
            _seed_box(b.corners(), b.thickness)
            for b in votes
            if x0 <= b.cx < x1
            and y0 <= b.cy < y1
            and _off(b.angle, turn) <= _BIN
            and b.thickness <= _TURN_MAX * short
        ]
        for a0, b0, a1, b1 in _tiles(along, x1, y1):
            a0, b0 = max(a0, x0), max(b0, y0)
            part = np.ascontiguousarray(tile[b0 - y0 : b1 - y0, a0 - x0 : a1 - x0])
            for b in turned_lines(part, turn, scale):
                out.append(replace(b, cx=b.cx + a0 - x0, cy=b.cy + b0 - y0))
    return out


def _off(angle: float, turn: float) -> float:
    """Degrees between two line directions (mod 180)."""
    return abs(mod180(angle - turn))


def _directions(votes: list[LineBox], rect) -> list[float]:
    """The tilted directions text runs in inside ``rect``: the angles (deg, OpenCV's, mod 180)
    of the seeds whose centre lies in it, each voting with its length for its ``_BIN``-degree
    bin, where a bin holds at least ``_SHARE`` of the strongest's votes and is at least ``_TILT``
    off the horizontal (the DB detector finds near-horizontal lines as they are, and misses
    steeply tilted and vertical ones: a vertical form's lines melt into one blob)."""
    x0, y0, x1, y1 = rect
    bins: dict[int, list[float]] = {}
    for b in votes:
        if not (x0 <= b.cx < x1 and y0 <= b.cy < y1) or b.length < _ELONGATED * b.thickness:
            continue
        a = mod180(b.angle)
        k = round(a / _BIN) % round(180 / _BIN)
        bins.setdefault(k, []).append(a)
        bins[k].append(b.length)
    if not bins:
        return []
    weight = {k: sum(v[1::2]) for k, v in bins.items()}
    top = max(weight.values())
    out = []
    for k, v in bins.items():
        # angles measured from the bin's centre (-90 and 86 are 4 degrees apart)
        centre = k * _BIN
        off = [mod180(a - centre) for a in v[::2]]
        mean = centre + sum(a * n for a, n in zip(off, v[1::2], strict=True)) / weight[k]
        mean = mod180(mean)
        if weight[k] >= _SHARE * top and abs(mean) >= _TILT:
            out.append(mean)
    return sorted(out)


def turned_lines(tile: np.ndarray, turn: float, scale: float) -> list[LineBox]:
    """DB lines of ``tile`` found on a copy turned by ``turn`` degrees (OpenCV's sense: lines at
    that angle run left to right there) and running within ``_TILT`` of that direction, mapped
    back into the tile's pixels."""
    import cv2
    import numpy as np

    from photoguard.detect import ocr_ppocr as pp

    h, w = tile.shape[:2]
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), turn, 1.0)
    c, s = abs(rot[0, 0]), abs(rot[0, 1])
    tw, th = int(np.ceil(w * c + h * s)), int(np.ceil(w * s + h * c))
    rot[0, 2] += tw / 2 - w / 2
    rot[1, 2] += th / 2 - h / 2
    turned = cv2.warpAffine(
        tile, rot, (tw, th), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    back = cv2.invertAffineTransform(rot)
    out = []
    for b in pp.detect_tile(turned, scale):
        if abs(b.angle) > _TILT:
            continue  # a line across the turn is the upright run's (or another turn's) to find
        cx, cy = back @ (b.cx, b.cy, 1.0)
        angle = mod180(b.angle + turn)
        out.append(replace(b, cx=float(cx), cy=float(cy), angle=angle))
    return out


def _tiles(seeds, w: int, h: int) -> list[tuple[int, int, int, int]]:
    """Seeds padded by ``_REACH`` of their line height, clipped to the image, merged into tiles
    by ``smalltext.merge_tiles`` (a card is one tile; seeds scattered over a texture never make
    one tile of the whole photo)."""
    from photoguard.detect.smalltext import merge_tiles

    rects = []
    for x0, y0, x1, y1, line in seeds:
        pad = max(min(_REACH * line, _MAX_PAD), (_MIN_TILE - min(x1 - x0, y1 - y0)) / 2)
        rects.append(
            (
                max(0, int(x0 - pad)),
                max(0, int(y0 - pad)),
                min(w, int(x1 + pad) + 1),
                min(h, int(y1 + pad) + 1),
            )
        )
    return [tile for tile, _ in merge_tiles(rects)]


def _seed(b: LineBox) -> tuple[float, float, float, float, float]:
    """A coarse line as a seed; a blob as thick as it is long (a block of lines melted into one
    at the coarse scale, or texture) reaches only a line's height around itself."""
    line = b.thickness if b.length >= _LINE * b.thickness else b.thickness / _REACH
    return _seed_box(b.corners(), line)


def _seed_box(corners, line: float) -> tuple[float, float, float, float, float]:
    xs, ys = corners[:, 0], corners[:, 1]
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()), float(line)

"""How far a redacted text line's fill reaches: the whole string, not the piece the detector
outlined.

The DB detector often outlines only part of a long, blurred or tilted string (an e-mail
address outlined to its '@', a date without its time, an MRN whose last digits fade): the fill
of that outline then leaves the rest of the string readable (issue #11, partial fills: changed
0.2-0.6 of the string's pixels). A line that is redacted is therefore filled along its own
direction as far as its ink continues:

1. **Strip.** The line's text band (the central ``CORE`` of its thickness) is cut out turned so
   that the line runs left to right, reaching ``_REACH`` of its own length past each end (at
   least ``_MIN_REACH`` text heights: a short piece of a long string; at most ``_MAX_REACH``).
2. **Ink.** A column holds ink where the band's grey range across it is at least ``_INK`` of the
   line's own (the median over its outline's columns) and at least ``_MIN_INK`` grey levels:
   glyph strokes on a flat ground. The gaps between glyphs and words are bridged; a gap wider
   than ``_GAP`` text heights ends the string.
3. **Stops.** The walk also ends where the ground changes (the column's median grey more than
   ``_GROUND`` grey levels off the line's: the card's edge), at a redaction fill (solid black:
   the re-check of a copy), at the photo's edge, and where another line's text band begins
   (that line is its own detection: published or redacted by its own reading).

Pure geometry over the grey image: nothing is read, nothing stored.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from photoguard.detect.ocr_ppocr import LineBox

CORE = 1 / 1.6  # share of a line outline's thickness its text fills (lines.CORE)
_LINE = 1.8  # a box this many thicknesses long is a line with a direction (text's _ASPECT)
_REACH = 1.5  # the fill may grow by this many of the line's own lengths past each end
_MIN_REACH = 20.0  # and by at least this many text heights (a short piece of a long string)
_MAX_REACH = 30.0  # and by at most this many (a string of 40-odd characters)
_THICK = 0.1  # a line thicker than this share of the photo's short side is not grown
_MAX_THICK = 40.0
"""Nor one thicker than this (px; text over about 25 px high): the detector outlines large text
whole (the strings it cut short on the hard set are 5-23 px high), and on a whiteboard's
handwriting a thick line in the re-check of a copy grew over the next words round after round
(a copy that never converged)."""
_INK = 0.35  # a column is ink when its grey range is this share of the line's own
_MIN_INK = 14.0  # and at least this many grey levels (JPEG noise on paper: under 10)
_GAP = 1.5  # text heights without ink that end the string (a word space: under one)
_GROUND = 40.0  # grey levels the ground may drift from the line's before the walk stops
_BLACK = 12  # grey a redaction fill (black) reads at after JPEG (text._BLACK)
_MARGIN = 0.3  # text heights of margin kept past the last ink column


def reach(gray: np.ndarray, box: LineBox, others: list[LineBox]) -> LineBox:
    """``box`` grown along its length over the ink that continues it (see the module notes);
    ``box`` itself where nothing continues it. ``others``: the photo's other lines (stops)."""
    import cv2
    import numpy as np

    text_h = max(2.0, box.thickness * CORE)
    if box.length < _LINE * box.thickness or box.thickness > min(
        _MAX_THICK, _THICK * min(gray.shape[:2])
    ):
        return box  # a blob as thick as it is long (no direction), or text large enough
    ext = min(max(_REACH * box.length, _MIN_REACH * text_h), _MAX_REACH * text_h)
    w = int(round(box.length + 2 * ext))
    h = max(3, int(round(text_h)))
    tall = max(h + 2, int(round(box.thickness)))
    strip = _strip(gray, box, w, tall)
    inside = _strip(np.full(gray.shape, 255, np.uint8), box, w, tall, cv2.INTER_NEAREST)
    smooth = cv2.GaussianBlur(strip, (3, 3), 0).astype(np.float32)
    core = smooth[(tall - h) // 2 : (tall - h) // 2 + h]
    contrast = core.max(0) - core.min(0)
    # the ground: the outline's whole thickness, paper above and below the glyphs, over about
    # a glyph's width (a column through a stroke is mostly ink)
    ground = _running_median(np.median(smooth, axis=0), max(3, int(round(text_h)) | 1))
    lo, hi = int(round(ext)), int(round(ext + box.length))
    own = float(np.median(contrast[lo:hi]))
    bg = float(np.median(ground[lo:hi]))
    if own < _MIN_INK:
        return box  # no ink of its own to follow (a soft blob)
    ink = contrast >= max(_MIN_INK, _INK * own)
    rot = _rotation(box, w, h)
    # a redaction fill (black, solid beyond glyph strokes) ends the string: in the re-check of
    # a copy its edge has "ink" in every column
    black = cv2.morphologyEx((strip <= _BLACK).astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5)))
    stop = (np.abs(ground - bg) > _GROUND) | (inside.min(0) == 0) | (black.max(0) > 0)
    stop |= _others(others, box, rot, w, h)
    gap = _GAP * text_h
    margin = _MARGIN * text_h
    right = _walk(ink[hi:], stop[hi:], gap)
    left = _walk(ink[:lo][::-1], stop[:lo][::-1], gap)
    grow_r = right + margin if right > 0 else 0.0
    grow_l = left + margin if left > 0 else 0.0
    if grow_r == 0 and grow_l == 0:
        return box
    # the centre moves along the line's direction (the strip's x axis, back in the photo)
    shift = (grow_r - grow_l) / 2
    back = cv2.invertAffineTransform(rot)
    ux, uy = back[0, 0], back[1, 0]
    return replace(
        box,
        cx=box.cx + shift * ux,
        cy=box.cy + shift * uy,
        length=box.length + grow_l + grow_r,
    )


def _rotation(box: LineBox, w: int, h: int):
    """The affine map from the photo to a ``w`` x ``h`` strip centred on ``box``, along it."""
    import cv2

    rot = cv2.getRotationMatrix2D((box.cx, box.cy), box.angle, 1.0)
    rot[0, 2] += w / 2 - box.cx
    rot[1, 2] += h / 2 - box.cy
    return rot


def _strip(gray, box: LineBox, w: int, h: int, flags: int | None = None):
    import cv2

    flags = cv2.INTER_LINEAR if flags is None else flags
    return cv2.warpAffine(gray, _rotation(box, w, h), (w, h), flags=flags, borderValue=0)


def _running_median(v, k: int):
    """``v`` smoothed by a running median of ``k`` (odd) samples, edges repeated."""
    import numpy as np

    padded = np.pad(v, k // 2, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, k), axis=1)


def _walk(ink, stop, gap: float) -> int:
    """Columns from the start of ``ink`` to its last ink column before a gap wider than
    ``gap`` or a ``stop`` column (0: nothing continues the line)."""
    last = 0
    for i in range(len(ink)):
        if stop[i] or i - last > gap:
            break
        if ink[i]:
            last = i + 1
    return last


def _others(others: list[LineBox], box: LineBox, rot, w: int, h: int):
    """Columns of the strip where another line's text band covers half the strip's height."""
    import cv2
    import numpy as np

    mask = np.zeros((h, w), np.uint8)
    reach_r = (box.length + w) / 2 + box.thickness
    for o in others:
        if (
            o is box
            or abs(o.cx - box.cx) > reach_r + o.length
            or abs(o.cy - box.cy) > (reach_r + o.length)
        ):
            continue
        core = replace(o, thickness=o.thickness * CORE)
        corners = core.corners().astype(np.float32)
        if cv2.pointPolygonTest(corners, (float(box.cx), float(box.cy)), False) >= 0:
            continue  # the same text outlined again, or a blob around it: no neighbour
        pts = cv2.transform(corners[None], rot)[0]
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask.sum(0) >= h / 2

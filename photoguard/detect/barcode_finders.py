"""Finder patterns: the marks by which a 2-D code is told from text and texture.

A QR code has three finder patterns (a 7-module bullseye: a dark 3x3 core, a light ring, a dark
ring) at three corners of a square; a DataMatrix has a solid L and a clock track. zxing reports
symbols it saw but could not decode, and most such reports on a photo are noise: ``has_finders``
and ``has_l_finder`` keep those whose marks are there. ``qr_finders`` looks for the three
bullseyes itself, with blurred templates, where zxing sees nothing at all (a QR code too soft or
too small to decode still shows them): a code found that way is redacted unread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def has_finders(gray: np.ndarray, polygon) -> bool:
    """Do three corners of a quad hold a QR finder pattern (1:1:3:1 along the diagonal)?

    zxing-cpp reports where it saw a QR symbol even when the symbol does not decode; most such
    reports on a textured photo are noise. A damaged real code keeps its finder patterns.
    """
    import cv2
    import numpy as np

    size = 210
    src = np.array(polygon, np.float32)[:4]
    dst = np.array([(0, 0), (size - 1, 0), (size - 1, size - 1), (0, size - 1)], np.float32)
    square = cv2.warpPerspective(gray, cv2.getPerspectiveTransform(src, dst), (size, size))
    _, binary = cv2.threshold(square, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    steps = np.arange(int(size * 0.45))
    found = 0
    for (x0, y0), (dx, dy) in (
        ((0, 0), (1, 1)),
        ((size - 1, 0), (-1, 1)),
        ((0, size - 1), (1, -1)),
        ((size - 1, size - 1), (-1, -1)),
    ):
        dark = binary[y0 + dy * steps, x0 + dx * steps] == 0
        found += _finder_runs(dark)
    return found >= 3


def _finder_runs(dark) -> bool:
    import numpy as np

    start = int(np.argmax(dark)) if dark.any() else len(dark)
    if start > len(dark) // 6:
        return False
    edges = np.flatnonzero(np.diff(dark[start:].astype(np.int8))) + 1
    runs = np.diff(np.concatenate(([0], edges)))[:4]  # the ring's far side is cut at its corner
    if len(runs) < 4:
        return False
    module = runs.sum() / 6
    want = np.array([1, 1, 3, 1])
    return bool(np.all(np.abs(runs - want * module) <= 0.5 * module * np.maximum(want / 2, 1)))


def has_l_finder(gray: np.ndarray, polygon) -> bool:
    """Does a quad hold a DataMatrix's finder: two adjacent solid dark edges (the L) and two
    alternating ones (the clock track)? zxing reports DataMatrix symbols it could not decode;
    on text and texture most such reports are noise, a damaged real code keeps its L."""
    import cv2
    import numpy as np

    size = 120
    src = np.array(polygon, np.float32)[:4]
    dst = np.array([(0, 0), (size - 1, 0), (size - 1, size - 1), (0, size - 1)], np.float32)
    square = cv2.warpPerspective(gray, cv2.getPerspectiveTransform(src, dst), (size, size))
    _, dark = cv2.threshold(square, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    span = slice(size // 10, size - size // 10)
    solid, clock = [], []
    for edge in range(4):
        rows = [np.rot90(dark, edge)[k, span] for k in range(1, 8)]  # insets 1-7 px
        solid.append(max(float(r.mean()) for r in rows) >= 0.85)
        clock.append(max(int(np.count_nonzero(np.diff(r))) for r in rows) >= 4)
    return any(
        solid[k] and solid[(k + 1) % 4] and clock[(k + 2) % 4] and clock[(k + 3) % 4]
        for k in range(4)
    )


_MODULE = 2.0
"""Module size in px the candidate place is warped to, for each finder size tried."""
FINDER_MATCH = 0.6
"""Normalised correlation a bullseye must reach with the blurred finder template."""
_SMALLEST = 14
"""px: a smaller place is no QR code anyone could read (21 modules of under 0.7 px)."""
_FINDER_SHARES = (0.34, 0.26, 0.2, 0.17, 0.14, 0.12)
"""A finder's side as a share of the place's side (the place grown by a fifth): QR versions
1-10 when the place is the code, and versions 1-4 in a place up to twice the code's side (a
code's place merged with its sticker's edge). Over every small-2-D place of hard-set seeds
0-3 and 10-15 (8691) and the corpus (6440), the best third bullseye that is not a QR code's
scores 0.59 with the three smaller shares added, 0.54 without (``FINDER_MATCH`` 0.6)."""


def qr_finders(gray: np.ndarray, rect) -> bool:
    """Do three QR finder patterns sit at three corners of a square in ``rect``?

    The rotated rectangle ``((cx, cy), (w, h), angle)``, square within 1.5, at least
    ``_SMALLEST`` px, grown by a fifth
    (the place may cut the code's edge), is warped upright so that a finder of each size tried
    has ``_MODULE`` px modules, and matched in both polarities against a blurred bullseye; three
    matches, two of them equally far from the third at a right angle and no closer than two
    finders' widths, are a QR code. Text and texture rarely give one such bullseye and not
    three in that L.
    """
    import cv2
    import numpy as np

    (cx, cy), (rw, rh), ang = rect
    if max(rw, rh) > 1.5 * min(rw, rh) or min(rw, rh) < _SMALLEST:
        return False  # a QR code is square (the place a bit less so), and not too small
    side = max(rw, rh) * 1.2 + 4
    template = _finder_template(_MODULE)
    for share in _FINDER_SHARES:
        size = round(7 * _MODULE / share * 1.2)
        k = size / side
        m = cv2.getRotationMatrix2D((cx, cy), ang, k)
        m[0, 2] += size / 2 - cx
        m[1, 2] += size / 2 - cy
        flags = cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC
        patch = cv2.warpAffine(
            gray, m, (size, size), flags=flags, borderMode=cv2.BORDER_REPLICATE
        ).astype(np.float32)
        score = cv2.matchTemplate(patch, template, cv2.TM_CCOEFF_NORMED)
        # the other polarity: a normalised correlation with ``255 - patch`` is ``-score``
        for view in (score, -score):
            if np.count_nonzero(view >= FINDER_MATCH) < 3:
                continue  # no third bullseye can reach FINDER_MATCH (most places end here)
            peaks, best = _peaks(view, _MODULE)
            # three bullseyes (a fourth: an alignment pattern); a lattice of them is texture
            if 3 <= len(peaks) <= 4 and best[2] >= FINDER_MATCH and _l_of_three(peaks[:3]):
                return True
    return False


def _finder_template(module: float) -> np.ndarray:
    """A finder pattern with a 1-module light margin, ``module`` px per module, softened."""
    import cv2
    import numpy as np

    fine = np.ones((90, 90), np.float32)  # 9 modules of 10 px
    fine[10:80, 10:80] = 0
    fine[20:70, 20:70] = 1
    fine[30:60, 30:60] = 0
    side = max(7, round(9 * module))
    small = cv2.resize(fine, (side, side), interpolation=cv2.INTER_AREA) * 255
    return cv2.GaussianBlur(small, (0, 0), max(0.5, 0.4 * module))


def _peaks(score: np.ndarray, module: float) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` and score of the local maxima of ``score`` near ``FINDER_MATCH`` (0.1 below
    it, so that a lattice of bullseyes in a texture shows as more than three), best first, at
    most 8."""
    import cv2
    import numpy as np

    r = max(1, round(3 * module))
    local = cv2.dilate(score, np.ones((2 * r + 1, 2 * r + 1), np.uint8))
    ys, xs = np.nonzero((score >= local) & (score >= FINDER_MATCH - 0.1))
    order = np.argsort(-score[ys, xs])[:8]
    return np.stack([xs[order], ys[order]], 1).astype(np.float32), score[ys, xs][order]


def _l_of_three(points: np.ndarray) -> bool:
    """Is one of three points a right-angled corner of the two others, equally far from it
    (+-25 %) and at least 12 modules away (finder centres are 14 or more apart)?"""
    import numpy as np

    for a in range(3):
        u, v = (points[b] - points[a] for b in range(3) if b != a)
        lu, lv = float(np.hypot(*u)), float(np.hypot(*v))
        if min(lu, lv) < 12 * _MODULE or max(lu, lv) > 1.25 * min(lu, lv):
            continue
        if abs(float(u @ v)) / (lu * lv) < 0.2:
            return True
    return False

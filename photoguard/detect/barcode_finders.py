"""Finder patterns: the marks by which a 2-D code is told from text and texture.

A QR code has three finder patterns (a 7-module bullseye: a dark 3x3 core, a light ring, a dark
ring) at three corners of a square; a DataMatrix has a solid L and a clock track. zxing reports
symbols it saw but could not decode, and most such reports on a photo are noise: ``has_finders``
and ``has_l_finder`` keep those whose marks are there.
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

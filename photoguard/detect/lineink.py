"""Ink measures of a recognition line crop (RGB, ``ocr_ppocr.REC_H`` rows high): what of it is
glyph strokes and what is one flat grey, so that a reading can be judged against the ink it had
to read (``textread.whole``, ``text._is_text``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def flat_share(crop: np.ndarray) -> float:
    """Share of the crop's pixels within 3 grey levels of its commonest grey."""
    import cv2
    import numpy as np

    hist = np.bincount(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).ravel(), minlength=256)
    mode = int(hist.argmax())
    return float(hist[max(0, mode - 3) : mode + 4].sum() / max(1, hist.sum()))


def glyph_blobs(
    crop: np.ndarray,
) -> tuple[int, tuple[float, float], tuple[tuple[float, float, float, float, float], ...]]:
    """The glyph-sized blobs of a line crop (the polarity with more of them): how many, the
    rows they span, padded by a sixth of the crop height (0..its height when there are none), and
    their boxes and strokes ``(x0, x1, y0, y1, stroke)`` left to right, ``stroke`` the blob's
    largest distance to the background over its height (glyphs drawn in strokes: 0.05-0.15;
    a filled cell of a grid, or glyphs blurred into one blob: 0.3 and more)."""
    import cv2
    import numpy as np

    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    rec_h = crop.shape[0]  # ocr_ppocr.REC_H
    best: tuple[int, tuple[float, float], tuple[tuple[float, float, float, float, float], ...]]
    best = (0, (0.0, float(rec_h)), ())
    for mode in (cv2.THRESH_BINARY_INV, cv2.THRESH_BINARY):
        _, ink = cv2.threshold(gray, 0, 1, mode | cv2.THRESH_OTSU)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        left, top = stats[1:, cv2.CC_STAT_LEFT], stats[1:, cv2.CC_STAT_TOP]
        w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
        area = stats[1:, cv2.CC_STAT_AREA]
        solid = (area > 0.9 * w * h) & (np.minimum(w, h) > 6)  # a filled box, not a glyph
        ok = (h >= 6) & (h <= rec_h - 4) & (w <= 3 * h) & (area >= 12) & ~solid
        if ok.sum() <= best[0]:
            continue
        depth = np.zeros(n, np.float32)  # per blob: its largest distance to the background
        np.maximum.at(depth, labels.ravel(), cv2.distanceTransform(ink, cv2.DIST_L2, 3).ravel())
        stroke = depth[1:] / np.maximum(h, 1)
        pad = rec_h / 6
        y0, y1 = float(top[ok].min()) - pad, float((top[ok] + h[ok]).max()) + pad
        spans = sorted(
            (float(x), float(x + ww), float(y), float(y + hh), round(float(k), 3))
            for x, ww, y, hh, k in zip(left[ok], w[ok], top[ok], h[ok], stroke[ok], strict=True)
        )
        best = (int(ok.sum()), (max(0.0, y0), min(float(rec_h), y1)), tuple(spans))
    return best

"""Is a located field a 1-D code's bars? The tests every bar field and OpenCV 1-D candidate
passes before it is reported (``barcode_locate``): a code's dozens of unequal runs, the same all
along its bars, one stroke direction dominating it; a stripe texture, a pen stroke or a printed
text row fails one of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_ONE_D = 0.1  # share of a bar field's variance its profile across the bars must hold


def looks_like_bars(gray: np.ndarray, rect, strict: bool = False) -> bool:
    """Does a profile across the field show a code's bars: at least 10 runs of unequal widths?

    A 1-D code has dozens of bars of 1-4 module widths; a stripe texture (fabric, blinds, wood
    grain) is periodic (equal runs), a pen stroke gives a handful of runs. And a code is the
    same along its bars: the profile holds at least ``_ONE_D`` of the core's variance (codes on
    tuning seeds 0-3, curved and blurred ones too: 0.15-0.97; texture and grid fields that
    pass the run test: 0.01-0.07, the others 0.16-0.58). And one stroke direction dominates
    it (``bar_evidence``): a printed text row has a row of vertical strokes and
    unequal runs too, but its characters mix directions (it is left to the text stage, which
    reads it and redacts it unless it was read with confidence and is not PHI).
    """
    import numpy as np

    patch, _ = upright(gray, rect, margin=1.0)
    h, w = patch.shape
    core = patch[h // 4 : h - h // 4 or None, w // 4 : w - w // 4 or None].astype(np.float32)
    profiles = (core.mean(0), core.mean(1))  # across vertical bars / across horizontal bars
    profile = max(profiles, key=lambda p: float(p.var()))
    if profile.size < 8 or float(profile.var()) < _ONE_D * float(core.var()):
        return False
    high = profile > (profile.max() + profile.min()) / 2
    edges = np.flatnonzero(np.diff(high.astype(np.int8))) + 1
    runs = np.diff(np.concatenate(([0], edges, [profile.size])))[1:-1]
    if not (runs.size >= 10 and runs.std() >= 0.2 * runs.mean()):
        return False
    coherence, same = bar_evidence(patch)
    if strict:
        return coherence >= PIECE_BARS
    return coherence >= BARS or same >= SAME


BARS = 0.57
"""``bar_evidence``'s coherence from which a field is bars rather than a text row. Tuning codes:
0.59-1.0 (hard-set seeds 0-3 and 10-29: the lowest are fields that hold a wristband's text and
its code; 206 synthetic blurred, noisy, curved, rotated codes with digits and text beside them:
>= 0.78); printed text rows the bar search took for codes (corpus, rendered pages): 0.10-0.50;
a bold sign word on a card on a textured cloth (seed 1's "Cardiology", looked at since islands
count): 0.56; a code crossed by five scratches: 0.45."""
SAME = 0.6
"""``bar_evidence``'s share from which a field is bars whatever its coherence (the scratched
code: 0.78; the text rows: 0.18-0.53)."""
PIECE_BARS = 0.8
"""``bar_evidence``'s coherence a piece of a merged field needs (``strict``): printed text
rows cut into such pieces reach 0.50-0.55 (their words, rendered pages), a code's pieces
>= 0.9."""


def bar_evidence(patch: np.ndarray) -> tuple[float, float]:
    """How bar-like the field's most bar-like stretch is: ``(coherence, same)``, each 0-1.

    The field, cut out upright, is cut along its length into tiles twice as long as the field
    is thick (half a thickness apart), each seen over its middle half across (bar ends do not
    count). ``coherence``: how much one stroke direction dominates a tile (its summed
    structure tensor): a code's bars give one direction; a text row's characters (round
    letters, crossbars, serifs) mix directions at character size, however tall the text is.
    ``same``: the share of a tile's variance its profile along the field holds (a code is the
    same all along its bars, even where a scratch crosses them all; a text row's columns
    change from row to row). The most bar-like tile counts, so that a code inside a larger
    field (a wristband's text and code) keeps it.
    """
    import cv2
    import numpy as np

    p = cv2.GaussianBlur(patch.astype(np.float32), (0, 0), 1.0)
    if p.shape[0] > p.shape[1]:
        p = p.T
    t, n = p.shape
    p = p[t // 4 : t - t // 4]
    gx, gy = cv2.Sobel(p, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(p, cv2.CV_32F, 0, 1, ksize=3)
    xx, yy = gx * gx, gy * gy
    # Noise adds the same energy to both directions (Sobel x and y of white noise are
    # uncorrelated, of equal variance v): the median of min(gx^2, gy^2) is 0.1415 v there,
    # and bars and strokes, whose edges are straight, barely move it. It is taken off both
    # diagonal terms, so that a noisy code's bars are not mistaken for text.
    noise = float(np.median(np.minimum(xx, yy))) / 0.1415
    rows = p.shape[0]
    col = p.mean(0, dtype=np.float64)
    # cumulative column sums: each tile's sums are a difference of two of them
    jxx, jyy, jxy, c1, c2, v2 = (
        np.concatenate(([0.0], np.cumsum(v)))
        for v in (
            xx.sum(0, dtype=np.float64),
            yy.sum(0, dtype=np.float64),
            (gx * gy).sum(0, dtype=np.float64),
            col,
            col * col,
            (p * p).mean(0, dtype=np.float64),
        )
    )
    tile = min(n, 2 * t)
    coherence = same = 0.0
    for o in (*range(0, n - tile + 1, max(1, t // 2)), n - tile):  # the last tile ends at n
        e = o + tile
        floor = noise * rows * tile
        a, b = max(0.0, jxx[e] - jxx[o] - floor), max(0.0, jyy[e] - jyy[o] - floor)
        c = min((jxy[e] - jxy[o]) ** 2, a * b)  # the tensor stays positive semi-definite
        coherence = max(coherence, float(np.sqrt((a - b) ** 2 + 4 * c) / (a + b + 1e-6)))
        mean = (c1[e] - c1[o]) / tile
        profile = (c2[e] - c2[o]) / tile - mean * mean  # variance of the profile along
        total = (v2[e] - v2[o]) / tile - mean * mean  # variance of the tile
        same = max(same, float(profile / (total + 1e-6)))
    return coherence, same


def upright(gray: np.ndarray, rect, margin: float = 1.3) -> tuple[np.ndarray, np.ndarray]:
    """The rectangle (grown by ``margin`` for the quiet zone) cut out axis-aligned and scaled so
    that it is 400-900 px long (small codes are upscaled), and the map back to input pixels."""
    import cv2
    import numpy as np

    (cx, cy), (rw, rh), ang = rect
    out_w, out_h = rw * margin + 20, rh * margin + 20
    scale = float(np.clip(900 / max(out_w, out_h), 0.5, 4.0))
    out_w, out_h = round(out_w * scale), round(out_h * scale)
    fwd = cv2.getRotationMatrix2D((cx, cy), ang, scale)
    fwd[0, 2] += out_w / 2 - cx
    fwd[1, 2] += out_h / 2 - cy
    patch = cv2.warpAffine(
        gray, fwd, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return patch, cv2.invertAffineTransform(fwd)


TWO_TONE = 3.5
"""A printed code is dark modules or bars on a light ground: Otsu's two classes lie this many
pooled standard deviations apart (2-D codes on tuning seeds 0-3: 3.4-7.5, those read 4.2-6.6;
the places of thin-barred 1-D codes on hard-set seeds 0-3 and 10-15: 3.7-7.4; the places
texture gives on a crowd photo: median 3.3)."""


def two_tone(crop: np.ndarray) -> float:
    """How far apart Otsu's dark and light classes of ``crop`` lie, in pooled std devs."""
    import cv2
    import numpy as np

    t, _ = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # the classes' sizes, means and variances from the histogram (a uint8 crop's 256 bins),
    # not from copies of their pixels: most places a photo gives are tested only here
    hist = cv2.calcHist([crop], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    values = np.arange(256, dtype=np.float64)
    split = int(t) + 1
    classes = []
    for part, v in ((hist[:split], values[:split]), (hist[split:], values[split:])):
        n = float(part.sum())
        if not n:
            return 0.0
        mean = float(part @ v) / n
        classes.append((n, mean, float(part @ (v - mean) ** 2) / n))
    (n_lo, mean_lo, var_lo), (n_hi, mean_hi, var_hi) = classes
    pooled = np.sqrt((var_lo * n_lo + var_hi * n_hi) / (n_lo + n_hi))
    return float((mean_hi - mean_lo) / (pooled + 1.0))

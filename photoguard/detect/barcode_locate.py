"""Where codes are, whether or not they decode: OpenCV's 1-D and QR detectors and bar fields.

Every locator returns rotated rectangles ``((cx, cy), (w, h), angle)`` in input pixels with a
format hint (``"1D"`` or ``"2D"``). None of them needs the code to decode: a code too small,
blurred, damaged or low-contrast to read is still located, so that it is redacted. There is no
cap on how many candidates a photo may have (a cap would hide whatever ranks lower).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from photoguard.detect.imageops import downscale

if TYPE_CHECKING:
    import numpy as np

WORK_SIDE = 2400
"""Bar fields are looked for at this long side (a 12 MP photo at 0.6x)."""
QR_SIDE = 1600
"""OpenCV's QR detector runs at this long side at most (it costs seconds at 12 MP)."""


_ONE_D = 0.1  # share of a bar field's variance its profile across the bars must hold


MAYBE_2D = "2D?"
"""Hint of a place that may hold a small 2-D code (``module_blobs``): reported only if read."""


def locate(
    gray: np.ndarray, work: tuple[np.ndarray, float] | None = None
) -> list[tuple[tuple, str]]:
    """Every candidate code: OpenCV 1-D detector, OpenCV QR detector, striped bar fields, and
    places a small 2-D code may be (``MAYBE_2D``). ``work``: ``downscale(gray, WORK_SIDE)``
    when the caller has it already."""
    bars, blobs = code_fields(gray, work)
    striped = merge_collinear([r for r, striped in bars if striped])
    fields = [(grow(r), "1D") for r in striped if looks_like_bars(gray, r)]
    h, w = gray.shape
    linear = [(r, hint) for r, hint in linear_codes(gray) if _plausible(gray, r, h * w)]
    return linear + qr_codes(gray) + fields + [(r, MAYBE_2D) for r in blobs]


def _plausible(gray: np.ndarray, rect, area: float) -> bool:
    """Could OpenCV's 1-D candidate be a code: not a rule line (a code's bars are at least a
    twelfth of its length), not a quarter of the photo (zxing reads codes that large), and bars
    (``looks_like_bars``)? OpenCV's gradient detector also fires on screen rows and grids."""
    long_, short = max(rect[1]), min(rect[1])
    return long_ <= 12 * short and long_ * short <= area / 4 and looks_like_bars(gray, rect)


def merge_collinear(rects: list[tuple]) -> list[tuple]:
    """Bar fields that are pieces of one code joined into one field.

    A blurred, scratched, curved or half-covered code breaks into several fields along its axis
    (each too short to show a code's bars on its own). Two striped fields are one code when
    their long axes (the code's axis) agree within ``_MERGE_DEG``, they lie on one line (offset
    across under half the thicker one) and the gap between them is under the thicker one's
    thickness. Merged until nothing changes.
    """
    import cv2
    import numpy as np

    rects = list(rects)
    changed = True
    while changed:
        changed = False
        for i in range(len(rects)):
            for j in range(i + 1, len(rects)):
                if _collinear(rects[i], rects[j]):
                    pts = np.concatenate([cv2.boxPoints(rects[i]), cv2.boxPoints(rects[j])])
                    rects[i] = cv2.minAreaRect(pts)
                    del rects[j]
                    changed = True
                    break
            if changed:
                break
    return rects


_MERGE_DEG = 12.0


def _axis(rect):
    """Unit vector along a rectangle's long side, its length and its thickness."""
    import numpy as np

    (_, _), (rw, rh), ang = rect
    a = np.radians(ang if rw >= rh else ang + 90.0)
    return np.array([np.cos(a), np.sin(a)]), max(rw, rh), min(rw, rh)


def _collinear(a, b) -> bool:
    import numpy as np

    ua, la, ta = _axis(a)
    ub, lb, tb = _axis(b)
    if abs(float(ua @ ub)) < np.cos(np.radians(_MERGE_DEG)):
        return False
    d = np.subtract(b[0], a[0])
    along, across = abs(float(d @ ua)), abs(float(d @ np.array([-ua[1], ua[0]])))
    thick = max(ta, tb)
    return across < 0.5 * thick and along - (la + lb) / 2 < thick


def grow(rect, along: float = 0.1, across: float = 0.2) -> tuple:
    """A located 1-D field grown to the code's whole extent: its end bars and quiet zone (the
    field's edges are where the gradient energy fades, a bar or so inside the code)."""
    (cx, cy), (rw, rh), ang = rect
    if rw >= rh:
        return ((cx, cy), (rw * (1 + along), rh * (1 + across)), ang)
    return ((cx, cy), (rw * (1 + across), rh * (1 + along)), ang)


def _quad_rect(pts) -> tuple | None:
    import cv2
    import numpy as np

    pts = np.asarray(pts, np.float32).reshape(-1, 2)
    if len(pts) < 4 or not np.isfinite(pts).all():
        return None
    rect = cv2.minAreaRect(pts)
    return rect if min(rect[1]) >= 3 else None


def linear_codes(gray: np.ndarray) -> list[tuple[tuple, str]]:
    """1-D codes at any angle (OpenCV's gradient-based barcode detector; no decoding)."""
    import cv2

    ok, points = cv2.barcode.BarcodeDetector().detectMulti(gray)[:2]
    if not ok or points is None:
        return []
    return [(r, "1D") for r in (_quad_rect(p) for p in points) if r is not None]


def qr_codes(gray: np.ndarray) -> list[tuple[tuple, str]]:
    """QR codes by their finder patterns (OpenCV), on a downscale of at most ``QR_SIDE``."""
    import cv2

    work, s = downscale(gray, QR_SIDE)
    try:
        ok, points = cv2.QRCodeDetector().detectMulti(work)
    except cv2.error:  # OpenCV raises on some degenerate finder-pattern layouts: nothing found
        return []
    if not ok or points is None:
        return []
    return [
        (((cx / s, cy / s), (rw / s, rh / s), a), "2D")
        for (cx, cy), (rw, rh), a in (r for r in (_quad_rect(p) for p in points) if r is not None)
    ]


def bar_fields(gray: np.ndarray) -> list[tuple[tuple, bool]]:
    """``(rect, striped)`` for each field of parallel bars, largest first, all of them.

    Bars are found from the structure tensor: strong gradients that all point one way
    (coherence > 0.8 over a 7 px window, where text stays under ~0.7), with the gradient running
    along the field's long axis (an edge or a drawn line has it across). ``striped`` marks
    fields that look like a 1-D code, so that one too small or blurred to decode is still
    reported. Fields down to 6 px across are kept (a 1-D code on a specimen label).
    """
    return code_fields(gray)[0]


def code_fields(
    gray: np.ndarray, work: tuple[np.ndarray, float] | None = None
) -> tuple[list[tuple[tuple, bool]], list[tuple]]:
    """``bar_fields`` and ``module_blobs`` from one structure tensor (of ``work``, the
    ``WORK_SIDE`` downscale of ``gray``, made here when not given)."""
    import cv2
    import numpy as np

    h, w = gray.shape
    work, s = work if work is not None else downscale(gray, WORK_SIDE)
    g = work.astype(np.float32)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    jxx, jyy, jxy = (cv2.boxFilter(v, -1, (7, 7)) for v in (gx * gx, gy * gy, gx * gy))
    energy = jxx + jyy
    # coherence = sqrt((jxx - jyy)^2 + 4 jxy^2) / energy, compared squared (no sqrt, no
    # division over the whole image: most of this function's cost was those temporaries)
    spread = jxx - jyy
    spread *= spread
    spread += 4 * jxy * jxy
    power = energy + 1e-6
    power *= power
    blobs = module_blobs(energy > 100**2, spread < 0.6**2 * power, s)
    coherent = spread > 0.8**2 * power
    rects = []
    # Two energy levels: a faint, blurred code stands out on a plain card at the low one; a
    # code on a textured background merges with it there and stands out at the high one.
    for level in (100, 250):
        mask = ((energy > level**2) & coherent).astype(np.uint8) * 255
        rects += _fields(mask, (jxx, jyy, jxy), s, h * w * s * s)
    rects.sort(key=lambda r: -r[0][1][0] * r[0][1][1])
    return rects, blobs


def module_blobs(strong, calm, s: float) -> list[tuple]:
    """Compact patches of strong gradients pointing every way, with a calmer margin: where a
    2-D code (DataMatrix, QR, Aztec) too small for zxing on the whole photo may be.

    Text and texture give such patches too: they are only places to read again (upscaled),
    never reported by themselves. Patches up to ``_BLOB_MAX`` px, at most 3.5 times as long as
    wide, at least 30 % filled, whose margin (a frame ``m`` px wide around the patch's bounding
    box, summed from an integral image: a text page gives thousands of patches) is at most 70 %
    strong gradient.
    """
    import cv2
    import numpy as np

    strong = strong.astype(np.uint8)
    mask = cv2.morphologyEx(strong & calm, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    contours = outer_contours(mask)
    total = cv2.integral(strong)
    sh, sw = strong.shape
    out = []
    for c in contours:
        x, y, bw, bh = cv2.boundingRect(c)
        if bw * bh < 25 or max(bw, bh) > 1.5 * _BLOB_MAX * s:  # implied by the tests below
            continue
        (cx, cy), (rw, rh), ang = cv2.minAreaRect(c)
        lo, hi = min(rw, rh), max(rw, rh)
        if lo < 5 or hi > _BLOB_MAX * s or hi > 3.5 * lo or cv2.contourArea(c) < 0.3 * rw * rh:
            continue
        m = int(max(3, 0.3 * lo))
        x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(sw, x + bw + m), min(sh, y + bh + m)
        frame = (x1 - x0) * (y1 - y0) - bw * bh
        inner = _rect_sum(total, x, y, x + bw, y + bh)
        if frame > 0 and _rect_sum(total, x0, y0, x1, y1) - inner <= 0.7 * frame:
            out.append(((cx / s, cy / s), (rw / s, rh / s), ang))
    return out


def outer_contours(mask: np.ndarray) -> list:
    """The outer boundary of every patch of ``mask``, islands inside another patch's holes
    included (a code on a card that lies on a grid or striped cloth is such an island: the
    texture's patch surrounds the card, and ``RETR_EXTERNAL`` gives only the texture's outline)."""
    import cv2

    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    return [c for c, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True) if parent < 0]


def _rect_sum(integral, x0: int, y0: int, x1: int, y1: int) -> float:
    return float(integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0])


_BLOB_MAX = 200  # px in the input: a larger 2-D code is read by zxing on the whole photo


def _fields(mask, tensor, s: float, area: float) -> list[tuple[tuple, bool]]:
    """The bar fields of one mask, in input pixels (a field over a quarter of the image is the
    background's texture, not a code: zxing reads codes that large on the whole image)."""
    import cv2

    # closing bridges scratches across the bars (a scratched code is still one field)
    close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    mask = cv2.morphologyEx(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, close), cv2.MORPH_OPEN, kernel)
    contours = outer_contours(mask)
    rects = []
    for c in contours:
        _, _, bw, bh = cv2.boundingRect(c)
        if bw * bh < 150:  # implied by the tests below (a rotated rectangle is no larger)
            continue
        (cx, cy), (rw, rh), ang = cv2.minAreaRect(c)
        long_, short = max(rw, rh), min(rw, rh)
        if (
            short < 6
            or long_ * short < 150
            or long_ > 10 * short
            or rw * rh > area / 4
            or cv2.contourArea(c) < 0.5 * rw * rh
        ):
            continue
        striped = _striped(c, tensor, ((cx, cy), (rw, rh), ang))
        rects.append((((cx / s, cy / s), (rw / s, rh / s), ang), striped))
    return rects


def _striped(contour, tensor, rect) -> bool:
    """Does the dominant gradient (doubled-angle mean) run along the field's long axis?"""
    import cv2
    import numpy as np

    x, y, bw, bh = cv2.boundingRect(contour)
    jxx, jyy, jxy = (t[y : y + bh, x : x + bw] for t in tensor)
    field = np.zeros((bh, bw), np.uint8)
    cv2.drawContours(field, [contour - (x, y)], -1, 1, thickness=-1)
    sel = field.astype(bool)
    theta = 0.5 * np.arctan2(2 * jxy[sel].mean(), (jxx[sel] - jyy[sel]).mean())
    pts = cv2.boxPoints(rect)
    axis = max([pts[1] - pts[0], pts[2] - pts[1]], key=lambda e: float(np.hypot(*e)))
    along = abs(np.cos(theta) * axis[0] + np.sin(theta) * axis[1]) / (np.hypot(*axis) + 1e-6)
    long_, short = max(rect[1]), min(rect[1])
    return bool(along > 0.8 and long_ >= 1.3 * short)


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


def looks_like_bars(gray: np.ndarray, rect) -> bool:
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
    return coherence >= BARS or same >= SAME


BARS = 0.5
"""``bar_evidence``'s coherence from which a field is bars rather than a text row. Tuning codes:
0.59-1.0 (hard-set seeds 0-3 and 10-29: the lowest are fields that hold a wristband's text and
its code; 206 synthetic blurred, noisy, curved, rotated codes with digits and text beside them:
>= 0.78); printed text rows the bar search took for codes (corpus, rendered pages): 0.10-0.50;
a code crossed by five scratches: 0.45."""
SAME = 0.6
"""``bar_evidence``'s share from which a field is bars whatever its coherence (the scratched
code: 0.78; the text rows: 0.18-0.53)."""


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

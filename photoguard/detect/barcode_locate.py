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


MAYBE_2D = "2D?"
"""Hint of a place that may hold a small 2-D code (``module_blobs``): reported only if read."""


def locate(
    gray: np.ndarray, work: tuple[np.ndarray, float] | None = None
) -> list[tuple[tuple, str]]:
    """Every candidate code: OpenCV 1-D detector, OpenCV QR detector, striped bar fields, and
    places a small 2-D code may be (``MAYBE_2D``; ``barcode_fine.fine_candidates`` looks in
    them for thin-barred 1-D codes). ``work``: ``downscale(gray, WORK_SIDE)`` when the caller
    has it already."""
    work = work if work is not None else downscale(gray, WORK_SIDE)
    bars, blobs = code_fields(gray, work)
    fields = [(grow(r), "1D") for r in code_bars(gray, [r for r, striped in bars if striped])]
    h, w = gray.shape
    linear = [(r, hint) for r, hint in linear_codes(gray, work) if _plausible(gray, r, h * w)]
    return linear + qr_codes(gray, work) + fields + [(r, MAYBE_2D) for r in blobs]


def code_bars(gray: np.ndarray, striped: list[tuple]) -> list[tuple]:
    """The striped fields that show a code's bars (``looks_like_bars``), pieces of one code
    merged (``merge_collinear``). A merged field that shows none may still hold pieces that do,
    each on its own: a curved code's pieces merged with a wristband's edge or a texture's
    stripes beside it (on hard-set seed 15 a 330 px Code 39 was lost so). Those pieces are
    merged again among themselves."""
    import cv2
    import numpy as np

    from photoguard.detect.barcode_bars import looks_like_bars

    fields, lost = [], []
    for r in merge_collinear(striped):
        (fields if looks_like_bars(gray, r) else lost).append(r)
    if not lost:
        return fields
    outlines = [cv2.boxPoints(r) for r in lost]
    corners = np.asarray(outlines, np.float64)
    bounds = (corners.min(1) - 1e-3, corners.max(1) + 1e-3)
    pieces = [
        r
        for r in striped
        if _inside_any(r[0], outlines, bounds) and looks_like_bars(gray, r, strict=True)
    ]
    return fields + merge_collinear(pieces)


def _inside_any(point, outlines: list, bounds) -> bool:
    """Is ``point`` inside (or on) any of the ``outlines`` (4-point polygons)? Only those whose
    bounding box (``bounds``: their corners' least and greatest x, y) holds it are tested."""
    import cv2
    import numpy as np

    pt = tuple(map(float, point))
    lo, hi = bounds
    near = np.flatnonzero(((lo <= pt) & (pt <= hi)).all(1))
    return any(cv2.pointPolygonTest(outlines[k], pt, False) >= 0 for k in near)


def _plausible(gray: np.ndarray, rect, area: float) -> bool:
    """Could OpenCV's 1-D candidate be a code: not a rule line (a code's bars are at least a
    twelfth of its length), not a quarter of the photo (zxing reads codes that large), and bars
    (``looks_like_bars``)? OpenCV's gradient detector also fires on screen rows and grids."""
    from photoguard.detect.barcode_bars import looks_like_bars

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

    rects = list(rects)
    # The first collinear pair in (i, j) order is merged into i, as a scan restarted from the
    # first pair after every merge would find it (the result depends on that order); but only
    # pairs with the changed field can have become collinear, so the scan does not restart:
    # fields before i are tried against the merged field, then row i goes on. A restarted scan
    # cost ~600k pair tests on a hard-set scene of a few hundred striped fields.
    i = 0
    while i < len(rects):
        j = _first_collinear(rects, i, range(i + 1, len(rects)))
        if j is None:
            i += 1
            continue
        rects[i] = _merged(rects[i], rects[j])
        del rects[j]
        while (a := _first_collinear(rects, i, range(i))) is not None:
            rects[a] = _merged(rects[a], rects[i])
            del rects[i]
            i = a
    return rects


def _merged(a, b) -> tuple:
    import cv2
    import numpy as np

    return cv2.minAreaRect(np.concatenate([cv2.boxPoints(a), cv2.boxPoints(b)]))


def _first_collinear(rects: list[tuple], i: int, others: range) -> int | None:
    """The first index of ``others`` whose field is collinear with field ``i``, or None. A
    vector test that ``_collinear`` implies (axes within a hair of ``_MERGE_DEG``, centres no
    farther apart than it allows) leaves few pairs to the exact test."""
    import numpy as np

    if not others:
        return None
    ua, la, ta = _axis(rects[i])
    cand = [rects[k] for k in others]
    centres = np.array([r[0] for r in cand], np.float64) - np.asarray(rects[i][0], np.float64)
    sides = np.array([r[1] for r in cand], np.float64)
    angles = np.radians(
        np.where(sides[:, 0] >= sides[:, 1], 0.0, 90.0) + np.array([r[2] for r in cand], float)
    )
    dots = np.abs(np.cos(angles) * ua[0] + np.sin(angles) * ua[1])
    thick = np.maximum(sides.min(1), ta)
    reach = (la + sides.max(1)) / 2 + thick
    near = (centres**2).sum(1) <= (reach**2 + (0.5 * thick) ** 2) * (1 + 1e-6) + 1e-6
    maybe = np.flatnonzero(near & (dots >= np.cos(np.radians(_MERGE_DEG)) - 1e-6))
    for k in maybe:
        if _collinear(rects[i], cand[k]) if others.start > i else _collinear(cand[k], rects[i]):
            return others[k]
    return None


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


def linear_codes(
    gray: np.ndarray, work: tuple[np.ndarray, float] | None = None
) -> list[tuple[tuple, str]]:
    """1-D codes at any angle (OpenCV's gradient-based barcode detector; no decoding), in
    ``gray``'s pixels. ``work``: a downscale of ``gray`` and its scale to run it on (OpenCV
    shrinks its input to 512 px on the short side first; from the work copy, not the 12 MP
    photo, that costs half as much)."""
    import cv2
    import numpy as np

    image, s = work if work is not None else (gray, 1.0)
    ok, points = cv2.barcode.BarcodeDetector().detectMulti(image)[:2]
    if not ok or points is None:
        return []
    return [(r, "1D") for r in (_quad_rect(np.asarray(p) / s) for p in points) if r is not None]


def qr_codes(
    gray: np.ndarray, work: tuple[np.ndarray, float] | None = None
) -> list[tuple[tuple, str]]:
    """QR codes by their finder patterns (OpenCV), on a downscale of at most ``QR_SIDE`` (of
    ``work``, a downscale of ``gray`` with its scale, when given: shrinking the work copy costs
    half of shrinking a 12 MP photo), in ``gray``'s pixels."""
    import cv2

    image, s0 = work if work is not None else (gray, 1.0)
    small, s1 = downscale(image, QR_SIDE)
    s = s0 * s1
    try:
        ok, points = cv2.QRCodeDetector().detectMulti(small)
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
    g = work if work.dtype == np.uint8 else work.astype(np.float32)  # Sobel takes uint8 as is
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    xy = np.multiply(gx, gy)
    jxy = cv2.boxFilter(xy, -1, (7, 7))
    jxx = cv2.boxFilter(np.multiply(gx, gx, out=gx), -1, (7, 7))
    jyy = cv2.boxFilter(np.multiply(gy, gy, out=gy), -1, (7, 7))
    # coherence = sqrt((jxx - jyy)^2 + 4 jxy^2) / energy, compared squared (no sqrt, no
    # division over the whole image). Every step writes into a buffer that is free by then:
    # a new array of a work copy's size costs more in page faults than its arithmetic.
    energy = np.add(jxx, jyy, out=gx)
    spread = np.subtract(jxx, jyy, out=gy)
    spread *= spread
    four = np.multiply(jxy, 4, out=xy)
    four *= jxy
    spread += four
    power = np.add(energy, 1e-6, out=four)
    power *= power
    strong = energy > 100**2
    scaled = np.multiply(power, 0.6**2, out=np.empty_like(power))
    blobs = module_blobs(strong, spread < scaled, s)
    coherent = spread > np.multiply(power, 0.8**2, out=scaled)
    rects = []
    # Two energy levels: a faint, blurred code stands out on a plain card at the low one; a
    # code on a textured background merges with it there and stands out at the high one.
    for level in (100, 250):
        mask = strong if level == 100 else energy > level**2
        mask &= coherent
        rects += _fields(mask.view(np.uint8) * np.uint8(255), (jxx, jyy, jxy), s, h * w * s * s)
    rects.sort(key=lambda r: -r[0][1][0] * r[0][1][1])
    return rects, blobs


def module_blobs(strong, calm, s: float) -> list[tuple]:
    """Compact patches of strong gradients pointing every way, with a calmer margin: where a
    2-D code (DataMatrix, QR, Aztec) too small for zxing on the whole photo may be.

    Text and texture give such patches too: they are only places to read again (upscaled),
    never reported by themselves. Patches up to ``_BLOB_MAX`` px, at most 3.5 times as long as
    wide, at least 30 % filled, whose margin (a frame ``m`` px wide around the patch's bounding
    box, counted in the strong mask: an integral image of the work copy cost more than the
    patches that reach this test, thousands on a text page) is at most 70 % strong gradient.
    """
    import cv2
    import numpy as np

    strong = strong.view(np.uint8) if strong.dtype == bool else strong.astype(np.uint8)
    mask = cv2.morphologyEx(strong & calm, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    contours = outer_contours(mask)
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
        inner = cv2.countNonZero(strong[y : y + bh, x : x + bw])
        if frame > 0 and cv2.countNonZero(strong[y0:y1, x0:x1]) - inner <= 0.7 * frame:
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

"""Thin-barred 1-D codes: bar fields looked for again, enlarged, in places of strong gradients.

The bar search (``barcode_locate.code_fields``) works on a copy of at most ``WORK_SIDE`` px with
a 3x3 Sobel: a code whose modules are about one pixel there (a specimen label's Code 128) shows
no coherent bars, since the Sobel's central difference does not see a one-pixel alternation. Its
place still shows strong gradients pointing every way: it is one of ``module_blobs``' places.
Each such place large enough to hold a 1-D code is cut out of the full-resolution image,
enlarged ``ENLARGE`` times and searched for bar fields once per gradient direction (a code's
bars and the edge of the label they touch point different ways: in one mask they weld into a
shape that is no field). A field found is judged by the bar tests of any field (``code_bars``:
``looks_like_bars``) and, since a small text word enlarged passes those too, by what text lacks:
a code's bars are straight and the same along their whole length (``straight``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

ENLARGE = 2.0
_BINS = 8
"""Gradient directions (mod 180) searched one at a time, each +-``_HALF`` degrees wide."""
_HALF = 16.0
_PLACE = (40, 10)
"""Smallest long and short side (input px) of a place that may hold a 1-D code."""
STRAIGHT = 0.8
"""``straight``'s share from which a fine field is bars. On hard-set seeds 0-3 and 10-15 the
fine fields on codes: 0.82-0.94 (one curved code's field 0.16); on text words (blurred 9-16 px
label text): 0.44-0.87, five of seven under 0.8; the corpus gives no fine field at all."""


def fine_candidates(gray: np.ndarray, candidates: list[tuple[tuple, str]]) -> list[tuple]:
    """``(rect, "1D")`` for the thin-barred fields in the ``MAYBE_2D`` places of ``locate``'s
    ``candidates`` that no 1-D candidate already covers, grown to the code's extent."""
    import cv2

    from photoguard.detect.barcode_locate import MAYBE_2D, grow

    known = [cv2.boxPoints(r) for r, hint in candidates if hint == "1D"]
    places = [
        r
        for r, hint in candidates
        if hint == MAYBE_2D
        and not any(cv2.pointPolygonTest(o, tuple(map(float, r[0])), False) >= 0 for o in known)
    ]
    return [(grow(r), "1D") for r in fine_fields(gray, places)]


def fine_fields(gray: np.ndarray, places: list[tuple]) -> list[tuple]:
    """The bar fields (rotated rectangles in input px) found in enlarged cuts of ``places``."""
    import cv2

    from photoguard.detect.barcode_bars import TWO_TONE, two_tone
    from photoguard.detect.barcode_locate import code_bars

    h, w = gray.shape
    out = []
    for (cx, cy), (rw, rh), ang in places:
        if max(rw, rh) < _PLACE[0] or min(rw, rh) < _PLACE[1]:
            continue
        pts = cv2.boxPoints(((cx, cy), (rw * 1.2 + 12, rh * 1.2 + 12), ang))
        x0, y0 = max(0, int(pts[:, 0].min())), max(0, int(pts[:, 1].min()))
        x1, y1 = min(w, int(pts[:, 0].max()) + 1), min(h, int(pts[:, 1].max()) + 1)
        crop = gray[y0:y1, x0:x1]
        if two_tone(crop) < TWO_TONE or pixel_scale(crop) < PIXEL_SCALE:
            continue  # no dark bars on a light ground, or none as thin as a pixel or two
        k = ENLARGE
        big = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
        for (fx, fy), (fw, fh), ang in code_bars(big, directed_fields(big)):
            rect = ((x0 + fx / k, y0 + fy / k), (fw / k, fh / k), ang)
            if straight(gray, rect) >= STRAIGHT:
                out.append(rect)
    return out


PIXEL_SCALE = 1.25
"""``pixel_scale`` from which a place may hold bars too thin for the coarse search. The places
of thin-barred codes on hard-set seeds 0-3 and 10-15: 1.33-2.48; a smooth photo's places (the
bench's 12 MP crowds, upscaled): 1.02-1.3. A sharp, noisy photo passes more places: it costs
time, never a code."""


def pixel_scale(crop: np.ndarray) -> float:
    """Gradient energy of one-pixel differences over that of two-pixel (central) ones: about 1
    where the finest detail spans several pixels, up to 4 where it alternates pixel by pixel (a
    code with modules of a pixel or so, which a 3x3 Sobel does not see)."""
    import numpy as np

    c = crop.astype(np.float32)
    one = float((np.diff(c, axis=1) ** 2).mean() + (np.diff(c, axis=0) ** 2).mean())
    two = float(((c[:, 2:] - c[:, :-2]) ** 2).mean() + ((c[2:] - c[:-2]) ** 2).mean()) / 4
    return one / (two + 1e-6)


def directed_fields(view: np.ndarray) -> list[tuple]:
    """Striped bar fields of ``view`` (its own pixels), one gradient direction at a time."""
    import cv2
    import numpy as np

    from photoguard.detect.barcode_locate import _fields

    g = view.astype(np.float32)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    jxx, jyy, jxy = (cv2.boxFilter(v, -1, (7, 7)) for v in (gx * gx, gy * gy, gx * gy))
    energy = jxx + jyy
    coherent = (np.sqrt((jxx - jyy) ** 2 + 4 * jxy * jxy) > 0.8 * energy) & (energy > 100**2)
    theta = np.degrees(0.5 * np.arctan2(2 * jxy, jxx - jyy))  # gradient direction, mod 180
    fields = []
    for b in range(_BINS):
        off = np.abs((theta - b * 180.0 / _BINS + 90.0) % 180.0 - 90.0)
        mask = (coherent & (off < _HALF)).astype(np.uint8) * 255
        if cv2.countNonZero(mask) < 150:  # no field of 150 px (``_fields``' least) in it
            continue
        fields += [r for r, striped in _fields(mask, (jxx, jyy, jxy), 1.0, g.size) if striped]
    return fields


_SHEAR = 0.12
"""Largest shear (tan of the bars' lean) tried per tile: a curved code's bars lean by up to
about 7 degrees against the field's axis over a tile."""


_THICK = 32.0
"""px: the field's thickness ``straight`` looks at it with (its upright cut is scaled down to
it when larger)."""


def straight(gray: np.ndarray, rect) -> float:
    """How straight and alike along their length the field's bars are: 0-1.

    The field, cut out upright (bars across its length), is cut along its length into tiles
    twice as long as it is thick; each tile is sheared (+-``_SHEAR``, the bars of a curved code
    lean) to where its column means hold most of its variance over the central 0.8 of the field's
    thickness. A code's bars run the whole height alike (0.8-0.95); a text word's strokes are
    joined by arches, bowls and bars and end at different heights. The median tile counts.
    """
    import cv2
    import numpy as np

    from photoguard.detect.barcode_bars import upright

    (_, _), (rw, rh), _ = rect
    scale = float(np.clip(900 / (max(rw, rh) + 20), 0.5, 4.0))  # as ``upright`` scales
    p = upright(gray, rect, margin=1.0)[0].astype(np.float32)
    if p.shape[0] > p.shape[1]:
        p = p.T
    thick = min(rw, rh) * scale
    if thick > _THICK:  # no finer than needed: a thin-barred field's module is then >= 2 px
        f = _THICK / thick
        p = cv2.resize(p, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        thick = _THICK
    t, n = p.shape
    r0, r1 = max(0, int(t / 2 - 0.4 * thick)), min(t, int(t / 2 + 0.4 * thick) + 1)
    tile = int(min(n, 2 * thick))
    if tile < 8 or r1 - r0 < 3:
        return 0.0
    c0, c1 = int(0.15 * tile), tile - int(0.15 * tile)
    shares = []
    for o in (*range(0, n - tile + 1, max(1, int(thick / 2))), n - tile):
        sub = p[:, o : o + tile]
        views = np.stack(
            [
                cv2.warpAffine(
                    sub,
                    np.float32([[1, sh, -sh * t / 2], [0, 1, 0]]),
                    (tile, t),
                    flags=cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE,
                )[r0:r1, c0:c1]
                for sh in np.linspace(-_SHEAR, _SHEAR, 17)
            ]
        )
        total = views.reshape(len(views), -1).var(1)
        along = views.mean(1).var(1)  # the variance of each view's column means
        ok = total >= 1.0
        shares.append(float((along[ok] / total[ok]).max()) if ok.any() else 0.0)
    return float(np.median(shares))

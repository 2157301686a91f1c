"""Tesseract as a reader of given text lines: one mosaic per photo, word boxes mapped back.

Every line is cut out of the full-resolution image, rotated upright, split into bands (a block
of lines), scaled to ~30 px, fixed for contrast and polarity (dark on light), its background
whitened; strips with no glyph-sized ink are dropped, and the rest are stacked into one mosaic.
Tesseract runs once per mosaic (``--psm 6``) and every word box is mapped back through its
row's scale and rotation into input pixels (a Box and a rotated quad). The mosaic goes to
Tesseract on stdin and its TSV comes back on stdout: no temporary files.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from photoguard.detect.textregions import _Region, _region_box
from photoguard.errors import DetectorError, EnvironmentProblem
from photoguard.types import Box, OcrLine, OcrWord

if TYPE_CHECKING:
    import numpy as np

NAME = "tesseract"
_MISSING = "Tesseract is not installed: apt-get install tesseract-ocr"
_LINE_PX = 30  # text-line height Tesseract reads best (its sweet spot is ~30 px capitals)
_MOSAIC_MAX_W = 2600
_GAP = 14  # white rows between mosaic rows, so Tesseract never joins two regions
_CONFIG = ("--oem", "1", "--psm", "6", "-c", "tessedit_do_invert=0")


@dataclass(frozen=True, slots=True)
class _Row:
    """A region placed in the mosaic: its y offset and the affine map mosaic-row -> input."""

    region: tuple[int, int]  # (region index, orientation index)
    y0: int
    height: int
    width: int
    inverse: np.ndarray  # 2x3, maps row-local (x, y) to input pixels


def tesseract_version() -> str:
    """The installed Tesseract version, e.g. ``"5.3.0"``.

    Raises:
        EnvironmentProblem: the ``tesseract`` binary is missing.
    """
    return _tesseract_version()


@lru_cache(maxsize=1)
def _tesseract_version() -> str:
    import pytesseract

    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        raise EnvironmentProblem(_MISSING)
    try:
        return str(pytesseract.get_tesseract_version())
    except pytesseract.TesseractNotFoundError as err:
        raise EnvironmentProblem(_MISSING) from err


def read_lines(
    gray: np.ndarray, lines: list[tuple[_Region, float, bool]], lang: str = "eng"
) -> list[list[OcrLine]]:
    """Read each ``(region, turn, single)`` with Tesseract: the region rotated by ``turn``
    degrees is upright; ``single`` (one line, as the DB detector gives) keeps only the text band
    through its middle. Every line is read (no cap): mosaics are split by height, never cut.

    Returns:
        Per input line, the OcrLines (one per text band) Tesseract produced words for.

    Raises:
        EnvironmentProblem: Tesseract is not installed.
        DetectorError: Tesseract failed.
    """
    tesseract_version()
    patches = []
    for i, (reg, turn, single) in enumerate(lines):
        for patch, inverse in _line_patches(gray, reg, turn, single):
            patches.append(((i, 0), patch, inverse))
    out: list[list[OcrLine]] = [[] for _ in lines]
    for chunk in _chunks(patches):
        mosaic, rows = _build_mosaic(chunk)
        for (i, _), line in _read_mosaic(mosaic, rows, lang, gray.shape):
            out[i].append(line)
    return out


def split_block(gray: np.ndarray, reg: _Region) -> list[_Region]:
    """A block of several text lines cut into one region per line (from its ink profile);
    a single line comes back as it is."""
    import cv2
    import numpy as np

    if reg.thickness < 1.6 * reg.line:
        return [reg]
    pad = 0.25 * reg.line + 3
    scale = float(np.clip(_LINE_PX / max(reg.line, 1.0), 0.1, 4.0))
    out_w = max(8, round((reg.length + 2 * pad) * scale))
    out_h = max(8, round((reg.thickness + 2 * pad) * scale))
    fwd = cv2.getRotationMatrix2D((reg.cx, reg.cy), reg.angle, scale)
    fwd[0, 2] += out_w / 2 - reg.cx
    fwd[1, 2] += out_h / 2 - reg.cy
    patch = cv2.warpAffine(gray, fwd, (out_w, out_h), flags=cv2.INTER_AREA)
    patch = _normalise(patch, scale * reg.line)
    inverse = cv2.invertAffineTransform(fwd)
    out = []
    for y0, y1, ink_h in _bands(patch, scale * reg.line) or [(0, out_h, out_h)]:
        cx, cy = inverse @ np.array([out_w / 2, (y0 + y1) / 2, 1.0])
        thick = (y1 - y0) / scale
        out.append(
            _Region(float(cx), float(cy), reg.length, thick, reg.angle, ink_h / scale, ink=reg.ink)
        )
    return out


def _run_tesseract(image: np.ndarray, lang: str) -> dict[str, list]:
    """Tesseract's TSV for one image, through stdin and stdout: no temporary files at all."""
    import subprocess

    import cv2
    import pytesseract

    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise DetectorError("Tesseract input could not be encoded")
    cmd = [pytesseract.pytesseract.tesseract_cmd, "stdin", "stdout", "-l", lang, *_CONFIG, "tsv"]
    # Tesseract's OpenMP threads fight each other on shared cores (3x slower here); the
    # pipeline parallelises across files instead.
    env = {**os.environ, "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")}
    try:
        done = subprocess.run(cmd, input=png.tobytes(), capture_output=True, env=env, check=False)
    except FileNotFoundError as err:
        raise EnvironmentProblem(_MISSING) from err
    except OSError as err:
        raise DetectorError(f"Tesseract failed: {type(err).__name__}") from None
    if done.returncode != 0:
        raise DetectorError(f"Tesseract failed with exit status {done.returncode}")
    rows = done.stdout.decode("utf-8", "replace").splitlines()
    if not rows:
        raise DetectorError("Tesseract returned no output")
    head = rows[0].split("\t")
    data: dict[str, list] = {k: [] for k in head}
    for row in rows[1:]:
        cells = row.split("\t")
        if len(cells) != len(head):
            continue
        for k, v in zip(head, cells, strict=True):
            data[k].append(v if k == "text" else float(v))
    return data


def _line_patches(
    gray: np.ndarray, reg: _Region, turn: float, single: bool = False
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cut ``reg`` out, rotate by ``turn`` so its text runs left to right, scale lines to
    _LINE_PX and split a block into one patch per line. Returns (patch, patch->input map)s."""
    import cv2
    import numpy as np

    pad = 0.25 * reg.line + 3
    along, across = reg.length + 2 * pad, reg.thickness + 2 * pad
    scale = float(np.clip(_LINE_PX / max(reg.line, 1.0), 0.35, 4.0))
    if along * scale > _MOSAIC_MAX_W:
        scale = _MOSAIC_MAX_W / along
    out_w, out_h = round(along * scale), round(across * scale)
    if out_w < 8 or out_h < 8:
        return []
    fwd = cv2.getRotationMatrix2D((reg.cx, reg.cy), turn, scale)
    fwd[0, 2] += out_w / 2 - reg.cx
    fwd[1, 2] += out_h / 2 - reg.cy
    patch = cv2.warpAffine(
        gray,
        fwd,
        (out_w, out_h),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=_background(gray, reg),
    )
    patch, inverse = _normalise(patch, scale * reg.line), cv2.invertAffineTransform(fwd)
    out = []
    bands = _bands(patch, scale * reg.line)
    if single and bands:
        mid = out_h / 2
        bands = [
            min(
                bands,
                key=lambda b: 0 if b[0] <= mid < b[1] else min(abs(b[0] - mid), abs(b[1] - mid)),
            )
        ]
    for y0, y1, ink_h in bands:
        # the line estimate can be off (edges, noise): rescale each band from its own ink height
        f = float(np.clip(_LINE_PX / max(ink_h, 1), 0.5, 4.0))
        band = patch[y0:y1]
        if not 0.8 < f < 1.25 and band.shape[1] * f <= _MOSAIC_MAX_W:
            band = cv2.resize(
                band,
                (round(band.shape[1] * f), round(band.shape[0] * f)),
                interpolation=cv2.INTER_CUBIC,
            )
        else:
            f = 1.0
        band = _clean(band, _LINE_PX if f != 1.0 else ink_h)
        if band is not None:
            back = np.array([[1 / f, 0, 0], [0, 1 / f, y0], [0, 0, 1.0]])
            out.append((band, inverse @ back))
    return out


def _clean(band: np.ndarray, line: float) -> np.ndarray | None:
    """Whiten the background of a line patch; None when it holds no glyph-like ink.

    Tesseract's layout analysis gives up on a whole mosaic when noisy or stroke-only patches
    sit among the text, so those are dropped here (they hold no text anyway).
    """
    import cv2

    if _glyph_count(band, line) < 2:
        return None
    _, ink = cv2.threshold(band, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    out = band.copy()
    out[ink == 0] = 255
    return out


def _bands(patch: np.ndarray, line: float) -> list[tuple[int, int, int]]:
    """Padded row ranges of the text lines in an upright patch, from its ink profile, with
    each line's ink height."""
    import cv2
    import numpy as np

    _, ink = cv2.threshold(patch, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    rows = ink.mean(axis=1) > 0.01
    edges = np.flatnonzero(np.diff(np.r_[0, rows.astype(np.int8), 0]))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] < 0.12 * line:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        if b - a >= 0.25 * line:
            pad = max(3, round(0.3 * (b - a)))
            out.append((max(0, a - pad), min(len(rows), b + pad), b - a))
    return out


def _background(gray, reg: _Region) -> int:
    """The region's most common grey (its background), to pad the image edge with."""
    import numpy as np

    b = _region_box(reg).clamp(gray.shape[1], gray.shape[0])
    crop = gray[b.y0 : b.y1, b.x0 : b.x1]
    if crop.size == 0:
        return 255
    return int(np.argmax(np.bincount(crop.ravel() // 8, minlength=32)) * 8 + 4)


def _normalise(patch: np.ndarray, line: float) -> np.ndarray:
    """Stretch contrast and make the text dark on light: the polarity whose ink breaks into
    more glyph-sized pieces wins (ink-is-the-minority fails on bold text in tight crops)."""
    import cv2

    stretched = cv2.normalize(patch, None, 0, 255, cv2.NORM_MINMAX)
    inverted = 255 - stretched
    return inverted if _glyph_count(inverted, line) > _glyph_count(stretched, line) else stretched


def _glyph_count(patch: np.ndarray, line: float) -> int:
    """Dark connected components of glyph size in a patch whose text line is ``line`` tall."""
    import cv2

    _, ink = cv2.threshold(patch, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    return int(((h >= 0.3 * line) & (h <= 1.1 * line) & (w <= 8 * line)).sum())


def _chunks(patches, max_h: int = 9000):
    """Split the patches so that no mosaic gets taller than ``max_h`` pixels."""
    chunk, height = [], 0
    for p in patches:
        if chunk and height + p[1].shape[0] + _GAP > max_h:
            yield chunk
            chunk, height = [], 0
        chunk.append(p)
        height += p[1].shape[0] + _GAP
    if chunk:
        yield chunk


def _build_mosaic(chunk):
    import numpy as np

    width = max(p.shape[1] for _, p, _ in chunk) + 2 * _GAP
    height = sum(p.shape[0] + _GAP for _, p, _ in chunk) + _GAP
    mosaic = np.full((height, width), 255, np.uint8)
    rows, y = [], _GAP
    for region, patch, inverse in chunk:
        ph, pw = patch.shape
        mosaic[y : y + ph, _GAP : _GAP + pw] = patch
        rows.append(_Row(region, y, ph, pw, inverse))
        y += ph + _GAP
    return mosaic, rows


def _read_mosaic(
    mosaic, rows: list[_Row], lang: str, shape
) -> list[tuple[tuple[int, int], OcrLine]]:
    data = _run_tesseract(mosaic, lang)
    by_row: dict[int, list[OcrWord]] = {}
    for i, text in enumerate(data["text"]):
        text = text.strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
        k = _row_of(rows, y + h / 2)
        if k is None:
            continue
        row = rows[k]
        box, quad = _map_box(row, x - _GAP, y - row.y0, w, h, shape)
        if box.area:
            by_row.setdefault(k, []).append(OcrWord(text, conf, box, quad))
    lines = []
    for k, words in sorted(by_row.items()):
        line = OcrLine(tuple(words), Box.union(w.box for w in words), NAME)
        lines.append((rows[k].region, line))
    return lines


def _row_of(rows: list[_Row], yc: float) -> int | None:
    for k, row in enumerate(rows):
        if row.y0 - _GAP / 2 <= yc < row.y0 + row.height + _GAP / 2:
            return k
    return None


def _map_box(row: _Row, x: float, y: float, w: float, h: float, shape):
    """A mosaic word box mapped to input pixels: its bounding Box and its rotated quad."""
    import numpy as np

    corners = np.array([[x, y, 1], [x + w, y, 1], [x + w, y + h, 1], [x, y + h, 1]], float)
    pts = corners @ row.inverse.T
    box = Box.from_float(pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
    quad = tuple((round(float(px), 1), round(float(py), 1)) for px, py in pts)
    return box.clamp(shape[1], shape[0]), quad

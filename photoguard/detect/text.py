"""The text stage: find text lines, read each with two readers, redact what is not shown safe.

1. **Where is text.** PP-OCR's DB detector (a learned scene-text model) finds lines; the glyph
   finder (``textregions``) adds candidates it missed, each kept only when the detector's
   probability map supports it (``_SUPPORT``): texture that merely looks like glyphs is
   dropped unread, so rule 3 does not paint over it.
2. **Two readers.** PP-OCR recognition reads every line (turned upright by its angle; the
   angle classifier, or a second reading half a turn round, settles upside-down and vertical
   text); Tesseract reads the same lines, upright in the orientation PP-OCR chose.
3. **Fail closed.** A line is published only when it was read with confidence and no reading
   of it classifies as PHI (``phi.classify`` on each reader's lines; either reader suffices).
   A line read with confidence by neither reader is redacted as ``unreadable`` ("text not read
   with confidence"), whatever it says.

"Read with confidence" has one threshold per reader (``PP_CONF``, ``TESS_CONF``), calibrated by
bench/textcal.py on labelled lines: each is the lowest at which at most 2 % of the readings
called confident are wrong (a line below them is redacted, so a threshold set too high costs
decoys, never a leak). No cap: every line found is read.
The text lives only in memory: nothing here logs or stores it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from photoguard.detect import base
from photoguard.detect import ocr_ppocr as pp
from photoguard.detect.ocr_tesseract import read_lines as tesseract_lines
from photoguard.detect.ocr_tesseract import split_block, tesseract_version
from photoguard.detect.smalltext import fine_lines
from photoguard.detect.textregions import _Region, find_text_regions
from photoguard.types import Detection, OcrLine, OcrWord, RegionKind, TextLine

if TYPE_CHECKING:
    import numpy as np

    from photoguard.detect.phi import PhiRules

__all__ = ["OcrLine", "OcrWord", "TextDetector", "read_lines", "read_text", "tesseract_version"]

NAME = "text"
VERSION = "3"
PP_CONF = 0.94
"""PP-OCR line confidence (mean character probability) from which a reading is trusted.
bench/textcal.py (450 labelled lines, hard-set seeds 0-3 + textset seed 0): 1.3 % of readings at
or above it are wrong (3/238), 2.5 % at 0.90."""
TESS_CONF = 75.0
"""Tesseract word confidence from which every word of a line must be read to be trusted.
bench/textcal.py (same 450 lines): 1.5 % of readings at or above it are wrong (2/136), 3.4 % at
70."""
_SUPPORT = 0.02
"""Mean DB probability that confirms a glyph-finder candidate as text. On dev seeds 0 and 1 the
glyph-only PHI lines (3 of 289: light-on-dark monitor text) score 0.08-0.17, and lines of an
out-of-focus band the DB detector misses 0.04-0.2; texture scores under 0.01 (a 12 MP crowd
photo: 238 of 239 candidates)."""
_WEAK = 0.002
"""Candidates between this and _SUPPORT count as text only when PP-OCR reads them with
confidence (a blurred decoy line); below it they are dropped unread."""
_ASPECT = 1.8  # an unconfident candidate shorter than this many thicknesses is not a line
_UNREAD_SUPPORT = 0.1  # DB support a glyph candidate read without confidence needs
_FLAT = 0.45  # a crop this much one grey is a filled box, not blurred text (see _is_text)
_COVERED = 0.5  # a glyph candidate this much inside DB lines is the same text
_THICKER = 1.2  # a line not read with confidence is read again from a crop this much thicker
_AGREE = 0.7  # how alike (difflib ratio, letters and digits) two readings of a line must be
_UNSURE = (0.2, 0.8)  # angle-classifier probabilities for which both turns are read


class TextDetector:
    """The text stage behind the detector protocol: DB + glyph finder, PP-OCR + Tesseract."""

    name = NAME
    kind = RegionKind.TEXT

    @property
    def version(self) -> str:
        from photoguard.detect import phi  # the PHI rules' version: a change re-renders copies

        return f"{VERSION}(ppocr-{pp.VERSION}+tesseract-{tesseract_version()}+phi-{phi.VERSION})"

    def load(self) -> None:
        """Fail now, not on the first file, when a model or Tesseract is missing."""
        tesseract_version()
        pp.load()

    def detect(self, image: np.ndarray, rules: PhiRules | None = None) -> list[Detection]:
        """PHI and unreadable text in ``image`` as TEXT detections (label = kind, never text)."""
        return classify_lines(read_lines(image), rules)


@base.register(NAME)
def _factory() -> TextDetector:
    detector = TextDetector()
    detector.load()
    return detector


def read_text(rgb: np.ndarray) -> list[OcrLine]:
    """Every reading of every text line (both readers), for inspection and benches."""
    return [r for line in read_lines(rgb) for r in line.readings]


def read_lines(rgb: np.ndarray) -> list[TextLine]:
    """Find the text lines of a photo and read each with both readers.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB (a grayscale ``(H, W)`` array is accepted too).

    Raises:
        EnvironmentProblem: Tesseract or a PP-OCR model is missing.
        DetectorError: a reader failed.
    """
    import cv2
    import numpy as np

    if rgb.ndim == 2:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB)
    rgb = np.ascontiguousarray(rgb)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    boxes, pm = pp.detect_lines(rgb)
    boxes += fine_lines(rgb, gray, pp.det_scale(rgb.shape), boxes)
    first = _recognise(rgb, boxes)
    # DB lines read with confidence cover the glyph finder's candidates; one read badly does
    # not (a DB blob can weld a line to a blank card beside it: the line is then read alone)
    sure = [b for b, (_, r, _) in zip(boxes, first, strict=True) if _confident_pp(r)]
    extra = _glyph_candidates(gray, sure, pm)
    candidates = [(b, None) for b in boxes] + extra
    readings = first + _recognise(rgb, [b for b, _ in extra])
    kept = [
        (box, reg, turn, reading, doubts)
        for (box, reg), (turn, reading, doubts) in zip(candidates, readings, strict=True)
        if _is_text(box, reading)
    ]
    second = tesseract_lines(
        gray,
        [(reg or _as_region(box), box.angle + turn, reg is None) for box, reg, turn, *_ in kept],
    )
    out = []
    for (box, _reg, _turn, reading, doubts), tess in zip(kept, second, strict=True):
        pp_lines = [pp.to_line(r, rgb.shape) for r in (reading, *doubts)]
        lines = tuple(line for line in pp_lines if line) + tuple(tess)
        quad = tuple((float(x), float(y)) for x, y in box.corners())
        size = (rgb.shape[1], rgb.shape[0])
        out.append(TextLine(quad, lines, _confident(reading, tess), box.source, size))
    return out


def _is_text(box: pp.LineBox, reading: pp.Reading) -> bool:
    """Whether a candidate line counts as text (and so is redacted unless read safe).

    Read with confidence: yes. Otherwise a DB line needs glyph-sized ink, or (blurred text,
    whose glyphs melt together) a crop not dominated by one flat grey: the DB detector also
    fires on solid rectangles (a redaction fill in the re-check of a copy) and their edges. A
    glyph-finder line needs, besides glyphs, the DB map's support."""
    if _confident_pp(reading):
        return True
    # one character, or a blob as tall as it is long (a cup's rim, an ear), is no line of text
    if sum(c.isalnum() for c in reading.chars) < 2 or box.length < _ASPECT * box.thickness:
        return False
    if box.source == "db":
        return reading.glyphs >= 2 or reading.flat < _FLAT
    # too soft for glyph blobs: then the DB map must be sure it is text
    return box.score >= (_UNREAD_SUPPORT if reading.glyphs >= 2 else 3 * _UNREAD_SUPPORT)


def _glyph_candidates(gray, boxes, pm) -> list[tuple[pp.LineBox, _Region]]:
    """Glyph-finder lines the DB detector did not already cover, kept where its probability
    map supports them (texture scores ~0 there and is dropped unread)."""
    import cv2
    import numpy as np

    covered = np.zeros(pm.prob.shape, np.float32)
    for b in boxes:
        cv2.fillPoly(covered, [np.round(b.corners() * (pm.sx, pm.sy)).astype(np.int32)], 1.0)
    db_mask = pp.ProbMap(covered, pm.sx, pm.sy)
    out = []
    for region in find_text_regions(gray):
        if pm.support(_padded(region)) < _WEAK:
            continue
        for reg in split_block(gray, region):
            box = _padded(reg)
            if db_mask.support(box) < _COVERED:
                out.append((replace(box, score=pm.support(box), source="glyphs"), reg))
    return out


def _padded(reg: _Region) -> pp.LineBox:
    pad = 0.25 * reg.line + 2
    return pp.LineBox(reg.cx, reg.cy, reg.length + 2 * pad, reg.thickness + 2 * pad, reg.angle)


def _as_region(box: pp.LineBox) -> _Region:
    # a DB line is padded by the unclip step: its text is about 1/1.6 of its thickness
    return _Region(box.cx, box.cy, box.length, box.thickness, box.angle, box.thickness / 1.6)


def _recognise(rgb, boxes: list[pp.LineBox]) -> list[tuple[float, pp.Reading, tuple]]:
    """Per line, the turn (0 or 180) it reads best at, PP-OCR's reading at that turn and the
    readings it replaced (see _second_crop).

    The angle classifier picks the turn; when it is unsure, or the reading is not confident,
    the other turn is read too and the more confident reading wins."""
    upright = [pp.crop(rgb, b) for b in boxes]
    flip = pp.upside_down([c for c, _ in upright])
    first = [180.0 if p > 0.5 else 0.0 for p in flip]
    crops = [pp.crop(rgb, b, t) if t else c for b, c, t in zip(boxes, upright, first, strict=True)]
    read = pp.recognise(crops)
    again = [
        i
        for i, (p, r) in enumerate(zip(flip, read, strict=True))
        if _UNSURE[0] < p < _UNSURE[1] or not _confident_pp(r)
    ]
    other = pp.recognise([pp.crop(rgb, boxes[i], 180.0 - first[i]) for i in again])
    out = list(zip(first, read, strict=True))
    for i, r in zip(again, other, strict=True):
        if _quality(r) > _quality(read[i]):
            out[i] = (180.0 - first[i], r)
    return _second_crop(rgb, boxes, out)


def _second_crop(rgb, boxes, read) -> list[tuple[float, pp.Reading, tuple]]:
    """Lines not read with confidence are read again from a crop ``_THICKER`` times as thick:
    recognition is sensitive to the margin a crop leaves (a sign read at 0.89 from the DB box
    of a re-encoded copy reads at 0.98 with a little more margin). The second reading replaces
    the first only when it is confident and says the same (``_AGREE``: a wider crop that
    reached a neighbouring line says something else), and only when the first shows no PHI
    (then the line stays unread, so redacted)."""
    import difflib

    from photoguard.detect.phi import classify

    again = [i for i, (_, r) in enumerate(read) if not _confident_pp(r)]
    wider = [replace(boxes[i], thickness=boxes[i].thickness * _THICKER) for i in again]
    other = pp.recognise([pp.crop(rgb, b, read[i][0]) for i, b in zip(again, wider, strict=True)])
    out = [(turn, r, ()) for turn, r in read]
    for i, r in zip(again, other, strict=True):
        turn, old = read[i]
        a, b = _alnum(old.text), _alnum(r.text)
        if not _confident_pp(r) or difflib.SequenceMatcher(None, a, b).ratio() < _AGREE:
            continue
        first = pp.to_line(old, rgb.shape)
        if first is None or not classify([first]):
            out[i] = (turn, r, ())
    return out


def _alnum(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _quality(r: pp.Reading) -> float:
    return r.confidence * min(1.0, sum(c.isalnum() for c in r.chars) / 3)


def _confident_pp(r: pp.Reading) -> bool:
    return r.confidence >= PP_CONF and sum(c.isalnum() for c in r.chars) >= 1


def _confident(reading: pp.Reading, tess: list[OcrLine]) -> bool:
    """Read with confidence: by PP-OCR (line confidence), or by Tesseract (every word, and
    about as many characters as PP-OCR saw, so a half-read line does not count)."""
    if _confident_pp(reading):
        return True
    words = [w for line in tess for w in line.words]
    chars = sum(sum(c.isalnum() for c in w.text) for w in words)
    seen = sum(c.isalnum() for c in reading.chars)
    return bool(words) and min(w.conf for w in words) >= TESS_CONF and chars >= 0.8 * seen


def classify_lines(lines: list[TextLine], rules: PhiRules | None = None) -> list[Detection]:
    """TEXT detections for read lines: PHI by kind (from either reader), and every line not
    read with confidence as ``unreadable``.

    A line with PHI in any reading is redacted whole (its quad, as well as the words' own
    boxes): a label left beside a filled value reads badly in the re-check of the copy, and a
    word box estimated from recognition columns may fall short of the glyphs.

    Args:
        lines: what ``read_lines`` returned.
        rules: deny/allow lists and policy switches.
    """
    from photoguard.detect.phi import PhiRules, classify

    rules = rules or PhiRules()
    found: list[Detection] = []
    for reader in ("ppocr", "tesseract"):
        mine = [r for line in lines for r in line.readings if r.reader == reader]
        found += classify(mine, rules)
    placed: set[int] = set()
    out: list[Detection] = []
    for line in lines:
        mine = [i for i, d in enumerate(found) if _centre_in(d, line.quad)]
        placed.update(mine)
        labels = {found[i].label for i in mine}
        if labels - {"unreadable"}:
            labels.discard("unreadable")  # PHI read in the line: reported by its kind
        elif not line.confident:
            labels = {"unreadable"}
        for label in sorted(labels):
            polygon = _outward(line.quad)
            out.append(
                Detection(RegionKind.TEXT, line.box, 0.0, NAME, label=label, polygon=polygon)
            )
    # words outside every line quad (a Tesseract word past the line's end) keep their own box
    return out + [d for i, d in enumerate(found) if i not in placed]


def _centre_in(d: Detection, quad) -> bool:
    import cv2
    import numpy as np

    pts = d.polygon or ((d.box.x0, d.box.y0), (d.box.x1, d.box.y1))
    cx = sum(p[0] for p in pts) / len(pts)
    cy = sum(p[1] for p in pts) / len(pts)
    return cv2.pointPolygonTest(np.array(quad, np.float32), (float(cx), float(cy)), False) >= 0


def _outward(quad) -> tuple[tuple[int, int], ...]:
    cx = sum(x for x, _ in quad) / len(quad)
    cy = sum(y for _, y in quad) / len(quad)
    return tuple(
        (round(x + (1 if x > cx else -1)), round(y + (1 if y > cy else -1))) for x, y in quad
    )

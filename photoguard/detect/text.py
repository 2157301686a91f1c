"""The text stage: find text lines, read each with two readers, redact what is not shown safe.

1. **Where is text.** PP-OCR's DB detector (a learned scene-text model) finds lines; the glyph
   finder (``textregions``) adds candidates it missed, each kept only when the detector's
   probability map supports it (``_SUPPORT``): texture that merely looks like glyphs is
   dropped unread, so rule 3 does not paint over it. Around what was found, the detector looks
   again at a finer scale (``secondlook``), and small text on large photos is found in tiles
   (``smalltext``).
2. **Two readers.** PP-OCR recognition reads every line in the turns ``textread`` chooses
   (the angle classifier's, the half turn where it is not sure, both quarter turns of a
   square box); Tesseract reads the same line as PP-OCR read it best.
3. **Fail closed.** A line is published only when it was read with confidence and no reading
   of it classifies as PHI (``phi.classify`` on each reader's lines, every turn and crop
   PP-OCR read; any one suffices). A line read with confidence by neither reader is redacted
   as ``unreadable`` ("text not read with confidence"), whatever it says (``textclassify``).

"Read with confidence" (``textread.confident``) is calibrated per reader and for the two readers
agreeing by bench/textcal.py on labelled lines. No cap: every line found is read.
The text lives only in memory: nothing here logs or stores it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from photoguard.detect import base, ocr_angle
from photoguard.detect import ocr_ppocr as pp
from photoguard.detect.linereach import reach
from photoguard.detect.ocr_tesseract import read_lines as tesseract_lines
from photoguard.detect.ocr_tesseract import split_block, tesseract_version
from photoguard.detect.secondlook import finer_lines
from photoguard.detect.smalltext import fine_lines
from photoguard.detect.textclassify import NAME, classify_lines
from photoguard.detect.textread import PP_CONF, TESS_CONF, confident, read_across, read_boxes
from photoguard.detect.textread import confident_pp as _confident_pp
from photoguard.detect.textregions import _Region, find_text_regions
from photoguard.types import Detection, OcrLine, OcrWord, RegionKind, TextLine

if TYPE_CHECKING:
    import numpy as np

    from photoguard.detect.phi import PhiRules

__all__ = [
    "PP_CONF",
    "TESS_CONF",
    "OcrLine",
    "OcrWord",
    "TextDetector",
    "read_lines",
    "read_text",
    "tesseract_version",
]

VERSION = "17"
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
_SURE = 0.9
"""DB support from which a glyph candidate is text even when recognition reads nothing of it
(blurred lines of a small form: DB 0.95-0.99, PP-OCR '' or one letter). At 0.5 it painted over
hair and clothes on corpus portraits (text regions on six of them 6 -> 39)."""
_HALF_READ = 0.5  # PP-OCR confidence from which four or more characters read make a DB line text
_FLAT = 0.45  # a crop this much one grey is a filled box, not blurred text (see _is_text)
_COVERED = 0.5  # a glyph candidate this much inside DB lines is the same text
_BLOB = 0.6
"""DB score from which a blob the detector found but no kept line covers is redacted (see
``_blobs``): the lines of a blurred, tilted or vertical card that melt into one blob at every
scale and turn (dev seeds 1-2: a vertical form's 8 strings, a monitor's vertical phone number)."""
_BLOB_GLYPHS = 4  # glyph-sized ink blobs such a blob needs at full resolution (see glyph_ink)
_BLACK = 12  # grey a redaction fill (black) reads at after JPEG
_FILLED = 0.02  # share of a blob black in 5x5 patches (a fill, not glyph strokes) that rules it out
_BLOB_FLAT = 0.25
"""Share of one grey (``Reading.flat``) such a blob needs: text is printed on paper, a label or a
screen, one flat grey between the glyphs; the blobs the map is sure of on portraits (an eye, a
logo on a textured backdrop: 9 on 117 corpus photos) are 0.07-0.17, melted cards 0.35-0.5."""
_BLOB_MAX = 0.25
"""A blob thicker than this share of the photo's short side is the map's response to texture at
the coarse scale (a crowd's clothes, a map saturated over the photo), not a card (a card on
a 1200 px photo: 171 px): never redacted whole."""


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
        ocr_angle.load()

    def detect(self, image: np.ndarray, rules: PhiRules | None = None) -> list[Detection]:
        """PHI and unreadable text in ``image`` as TEXT detections (label = kind, never text)."""
        return classify_lines(read_lines(image), rules)

    def detect_with_read(self, image: np.ndarray, rules: PhiRules | None = None):
        """``detect``'s detections, then the lines it publishes (read with confidence, no PHI)
        as TEXT detections labelled ``READ_SAFE``: boxes only, for the verification of a copy."""
        read: list[Detection] = []
        return classify_lines(read_lines(image), rules, read), read


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
    regions = find_text_regions(gray)
    scale = pp.det_scale(rgb.shape)
    glyph_lines = [replace(b, score=pm.support(b)) for b in map(_padded, regions)]
    boxes += finer_lines(rgb, scale, boxes, glyph_lines)
    boxes += fine_lines(rgb, gray, scale, boxes)
    first = read_boxes(rgb, boxes, across=False)
    # DB lines read with confidence cover the glyph finder's candidates; one read badly does
    # not (a DB blob can weld a line to a blank card beside it: the line is then read alone)
    sure = [b for b, lr in zip(boxes, first, strict=True) if _confident_pp(lr.reading)]
    extra = _glyph_candidates(gray, regions, sure, pm)
    candidates = [(b, None) for b in boxes] + extra
    reads = first + read_boxes(rgb, [b for b, _ in extra], across=False)
    # a line thicker than _BLOB_MAX of the short side, not read with confidence, is the map
    # saturated over the photo (the re-check of a copy: one "line" 1260 px thick), not text
    short = _BLOB_MAX * min(gray.shape)
    kept = [
        (box, reg, lr)
        for (box, reg), lr in zip(candidates, reads, strict=True)
        if _is_text(box, lr.reading) and (box.thickness <= short or _confident_pp(lr.reading))
    ]
    kept += _blobs(gray, candidates, reads, kept)
    # the quarter turns only add readings to classify: taken for the lines kept, not for every
    # candidate dropped (on a 12 MP crowd photo most glyph candidates are)
    across = read_across(rgb, [lr for _box, _reg, lr in kept])
    kept = [(box, reg, lr) for (box, reg, _), lr in zip(kept, across, strict=True)]
    # Tesseract reads each line as PP-OCR read it best (a quarter turn crosses the region)
    second = tesseract_lines(
        gray,
        [
            (
                reg if reg is not None and lr.box is box else _as_region(lr.box),
                lr.box.angle + lr.turn,
                reg is None,
            )
            for box, reg, lr in kept
        ],
    )
    out = []
    found = [box for box, _reg, _lr in kept]
    for (box, _reg, lr), tess in zip(kept, second, strict=True):
        pp_lines = [pp.to_line(r, rgb.shape) for r in (lr.reading, *lr.others)]
        lines = tuple(line for line in pp_lines if line) + tuple(tess)
        quad = tuple((float(x), float(y)) for x, y in box.corners())
        size = (rgb.shape[1], rgb.shape[0])
        sure = confident(lr.reading, tess)
        # a redacted line is filled as far as its string's ink goes (the outline may stop short)
        grown = reach(gray, box, found)
        fill = tuple((float(x), float(y)) for x, y in grown.corners()) if grown is not box else ()
        out.append(TextLine(quad, lines, sure, box.source, size, fill))
    return out


def _is_text(box: pp.LineBox, reading: pp.Reading) -> bool:
    """Whether a candidate line counts as text (and so is redacted unless read safe).

    Read with confidence: yes. Otherwise a DB line needs glyph-sized ink, or (blurred text,
    whose glyphs melt together) a crop not dominated by one flat grey: the DB detector also
    fires on solid rectangles (a redaction fill in the re-check of a copy) and their edges. A
    glyph-finder line needs, besides glyphs, the DB map's support; where that support is
    ``_SURE``, the line is text even when recognition reads nothing of it."""
    if _confident_pp(reading):
        return True
    inked = reading.glyphs >= 2 or reading.flat < _FLAT
    if box.source == "glyphs" and box.score >= _SURE and inked:
        return True  # glyphs where the DB map is sure of text: text, whatever was read of it
    # No such rule for a DB line alone: a sure DB line with ink, read as nothing, is also the
    # edge of a fill in the re-check of a copy (4 corpus portraits never converged with it).
    line = box.length >= _ASPECT * box.thickness
    # one character, or a blob as tall as it is long (a cup's rim, an ear), is no line of text
    if sum(c.isalnum() for c in reading.chars) < 2 or not line:
        return False
    if box.source == "db":
        # a blurred line on a card's margin: one melted glyph blob, much flat paper, and yet
        # read almost with confidence: text (a filled box reads as nothing of that length)
        read = reading.confidence >= _HALF_READ and sum(c.isalnum() for c in reading.chars) >= 4
        return inked or read
    # too soft for glyph blobs: then the DB map must be sure it is text
    return box.score >= (_UNREAD_SUPPORT if reading.glyphs >= 2 else 3 * _UNREAD_SUPPORT)


def _blobs(gray, candidates, reads, kept) -> list:
    """Fail closed on text the map is sure of but no line explains: DB detections dropped as
    no line of text (a blob as thick as it is long, read as nothing) that the DB map is sure of
    (``_BLOB``), on a flat ground (``_BLOB_FLAT``), holding glyph ink at full resolution
    (``_BLOB_GLYPHS``: the 48 px line crop shrinks a block of small lines below glyph size),
    that the kept lines do not already cover. Each is redacted whole as ``unreadable`` (it was
    not read with confidence, or it would be a line). A blob thicker than ``_BLOB_MAX`` of the
    short side is texture at the coarse scale."""
    from photoguard.detect.smalltext import covered

    lines = [box for box, _reg, _lr in kept]
    out = []
    for (box, reg), lr in zip(candidates, reads, strict=True):
        if (
            box.source == "db"
            and box.score >= _BLOB
            and box.thickness <= _BLOB_MAX * min(gray.shape)
            and lr.reading.flat >= _BLOB_FLAT
            and not _is_text(box, lr.reading)
            and covered(lines, box) < _COVERED
            and glyph_ink(gray, box) >= _BLOB_GLYPHS
        ):
            out.append((box, reg, lr))
    return out


def glyph_ink(gray: np.ndarray, box: pp.LineBox) -> int:
    """Glyph-sized ink blobs inside ``box`` at full resolution, in the polarity with more of
    them: Otsu ink blobs at least 3 px high and at most half the box thick (a line of a block;
    a fill's edge or the box's own outline is larger), not solid. 0 where a black fill lies in
    the box (``_FILLED``): in the re-check of a copy the DB map fires around the fills of the
    lines redacted, and those blobs grow with each round's fill."""
    import cv2
    import numpy as np

    w, h = max(8, round(box.length)), max(8, round(box.thickness))
    rot = cv2.getRotationMatrix2D((box.cx, box.cy), box.angle, 1.0)
    rot[0, 2] += w / 2 - box.cx
    rot[1, 2] += h / 2 - box.cy
    crop = cv2.warpAffine(gray, rot, (w, h), borderMode=cv2.BORDER_REPLICATE)
    black = cv2.morphologyEx((crop <= _BLACK).astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5)))
    if black.mean() >= _FILLED:
        return 0
    best = 0
    for mode in (cv2.THRESH_BINARY_INV, cv2.THRESH_BINARY):
        _, ink = cv2.threshold(crop, 0, 1, mode | cv2.THRESH_OTSU)
        _, _, st, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        bw, bh, area = st[1:, cv2.CC_STAT_WIDTH], st[1:, cv2.CC_STAT_HEIGHT], st[1:, 4]
        ok = (bh >= 3) & (bh <= h / 2) & (bw <= w / 2) & (area >= 6) & (area <= 0.9 * bw * bh)
        best = max(best, int(np.count_nonzero(ok)))
    return best


def _glyph_candidates(gray, regions, boxes, pm) -> list[tuple[pp.LineBox, _Region]]:
    """Glyph-finder lines the DB detector did not already cover, kept where its probability
    map supports them (texture scores ~0 there and is dropped unread)."""
    import cv2
    import numpy as np

    covered = np.zeros(pm.prob.shape, np.float32)
    for b in boxes:
        cv2.fillPoly(covered, [np.round(b.corners() * (pm.sx, pm.sy)).astype(np.int32)], 1.0)
    db_mask = pp.ProbMap(covered, pm.sx, pm.sy)
    out = []
    for region in regions:
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

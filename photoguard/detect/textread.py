"""How a detected text line is read and when it counts as read with confidence.

**Turns.** Each line is cut upright along its box (a rotated rectangle: tilted lines are cut
along their own axis, never from an axis-aligned box) and PP-OCR reads it in the turn the angle
classifier (``ocr_angle``) favours. The classifier is no proof (an upside-down "90" reads "06"
at 0.998 in both readers, and it is sure that an upside-down "6/9/69" is upright), so the half
turn is read too wherever the classifier is less sure than ``FLIP_SURE``, the first reading is
not confident, or it is made of characters that still read as characters upside down; a box
about as thick as it is long (``SQUARE``: a short word, upright or on its side) is read in both
quarter turns as well (``read_across``: only for the lines the text stage keeps). The most
confident reading of the two half turns decides "read with confidence" (a quarter turn's
reading is classified only); every reading taken is kept, and the line is PHI when any of
them classifies as PHI (``text.classify_lines``): fail closed.

**Read with confidence** (``confident``): PP-OCR's mean character probability at least
``PP_CONF``; or Tesseract's every word at least ``TESS_CONF`` (and about as many characters as
PP-OCR saw); or both readers saying the same string, exactly or but for one safe character
(``agreement.agree``, ``agreement.near``). Every threshold is calibrated by bench/textcal.py on
labelled lines (at most 2 % of the readings it accepts are wrong); a line below all of them is
redacted as unreadable, so a threshold set too high costs decoys, never a leak.

**Whole readings** (``whole``). However confident, a reading vouches for its line only when it
accounts for the line's glyphs: the glyph blobs of the crop where no character was read must
add up to less than ``UNREAD`` text heights ("99 y" read "y" at 0.97 left the nines unread: the
age was never classified). Tesseract alone vouches only where PP-OCR read about as many letters
and digits (``LENGTH``, both ways).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from photoguard.detect import ocr_angle
from photoguard.detect import ocr_ppocr as pp
from photoguard.detect.agreement import agree, near
from photoguard.types import OcrLine, OcrWord

if TYPE_CHECKING:
    import numpy as np

PP_CONF = 0.94
"""PP-OCR line confidence (mean character probability, spaces left out: ``line_confidence``)
from which a reading is trusted. bench/textcal.py (450 labelled lines, hard-set seeds 0-3 +
textset seed 0): 1.5 % of readings at or above it are wrong (4/260; with spaces counted 3/238),
2.2 % at 0.90."""
TESS_CONF = 75.0
"""Tesseract word confidence from which every word of a line must be read to be trusted.
bench/textcal.py (same 450 lines): 1.5 % of readings at or above it are wrong (2/136), 3.4 % at
70."""
FLIP_SURE = 0.8
"""Probability the angle classifier must give its turn for the half turn not to be read."""
SQUARE = 1.5
"""A box shorter than this many thicknesses is read in both quarter turns too: its text may
run across it (a 1-3 character word on its side)."""
UNREAD = 0.6
"""Glyph ink (its width, in text heights) at which no character was read that makes a reading
partial, so not read with confidence (``whole``): "99 y" read "y" at 0.97. bench/textcal.py (775
labelled lines): among the 399 readings at ``PP_CONF``, the one partial reading has 1.43, every
right one 0.19 or less."""
LENGTH = 0.8
"""Share of Tesseract's letters and digits PP-OCR must have read for Tesseract alone to vouch
for a line (and Tesseract at least 0.8 of PP-OCR's): on textcal a URL PP-OCR read as nothing
was read "al" at 87; every right Tesseract-only reading has PP-OCR at 0.85 of its length or more."""
STROKE = 0.25
"""A blob whose thickest point is over this share of its height across (``Reading.spans``) is
a filled shape, not glyph strokes (printed glyphs 0.05-0.15, a grid's cell 0.4): it counts as
unread text only within ``GAP`` of the glyphs read, where it is glyphs blurred into one blob
("99" beside "y")."""
GAP = 1.0
"""Text heights from the glyphs read within which a filled blob counts as unread text: a
monitor's text at 1.5 text heights from the grid cells of the wall behind it."""
_MARGIN = 8.0  # crop columns (one CTC step) a read character may sit off its glyph blob
_THICKER = 1.2  # a line not read with confidence is read again from a crop this much thicker
_AGREE = 0.7  # how alike (difflib ratio, letters and digits) two readings of a line must be


@dataclass(frozen=True, slots=True)
class LineRead:
    """PP-OCR's readings of one line: ``box`` and ``turn`` (0 or 180 on top of ``box.angle``)
    of the best ``reading``, and every ``other`` reading taken (other turns, other crops)."""

    box: pp.LineBox
    turn: float
    reading: pp.Reading
    others: tuple[pp.Reading, ...] = ()


def read_boxes(rgb: np.ndarray, boxes: list[pp.LineBox], across: bool = True) -> list[LineRead]:
    """Read every line box with PP-OCR in the turns described above; one LineRead per box.

    With ``across`` False the quarter turns of square boxes are left out: they only add readings
    to classify (never decide "read with confidence"), so ``detect.text`` takes them
    (``read_across``) for the lines it keeps, not for every candidate it drops."""
    upright = [pp.crop(rgb, b) for b in boxes]
    flip = ocr_angle.upside_down([c for c, _ in upright])
    tries: list[list[tuple[pp.LineBox, float]]] = [
        [(b, 180.0 if p > 0.5 else 0.0)] for b, p in zip(boxes, flip, strict=True)
    ]
    turns = [t[0][1] for t in tries]
    first = pp.recognise(
        [pp.crop(rgb, b, t) if t else c for b, t, c in zip(boxes, turns, upright, strict=True)]
    )
    more: list[tuple[int, pp.LineBox, float]] = []
    for i, (b, p, r) in enumerate(zip(boxes, flip, first, strict=True)):
        if max(p, 1.0 - p) < FLIP_SURE or not confident_pp(r) or _turns_into_text(r):
            more.append((i, b, 180.0 - tries[i][0][1]))
    extra = pp.recognise([pp.crop(rgb, b, t) for _, b, t in more])
    readings: list[list[pp.Reading]] = [[r] for r in first]
    for (i, b, t), r in zip(more, extra, strict=True):
        tries[i].append((b, t))
        readings[i].append(r)
    out = []
    for tried, read in zip(tries, readings, strict=True):
        k = max(range(len(tried)), key=lambda j: _quality(read[j]))  # ties: the classifier's turn
        others = tuple(r for j, r in enumerate(read) if j != k)
        out.append(LineRead(tried[k][0], tried[k][1], read[k], others))
    out = _second_crop(rgb, out)
    return read_across(rgb, out) if across else out


def read_across(rgb: np.ndarray, reads: list[LineRead]) -> list[LineRead]:
    """Each square box's line (shorter than ``SQUARE`` thicknesses) read in both quarter turns
    too, those readings added last to its others: a short word on its side runs across its box.
    They are only classified: confident garbage read across a line must not vouch for it."""
    more = [
        (
            i,
            replace(
                lr.box, length=lr.box.thickness, thickness=lr.box.length, angle=lr.box.angle + 90.0
            ),
            t,
        )  # fmt: skip
        for i, lr in enumerate(reads)
        if lr.box.length < SQUARE * lr.box.thickness
        for t in (0.0, 180.0)
    ]
    extra = pp.recognise([pp.crop(rgb, b, t) for _, b, t in more])
    out = list(reads)
    for (i, _, _), r in zip(more, extra, strict=True):
        out[i] = replace(out[i], others=(*out[i].others, r))
    return out


def _second_crop(rgb, read: list[LineRead]) -> list[LineRead]:
    """Lines not read with confidence are read again from a crop ``_THICKER`` times as thick:
    recognition is sensitive to the margin a crop leaves (a sign read at 0.89 from the DB box
    of a re-encoded copy reads at 0.98 with a little more margin). The second reading replaces
    the first only when it is confident and says the same (``_AGREE``: a wider crop that
    reached a neighbouring line says something else), and only when the first shows no PHI
    (then the line stays unread, so redacted). The reading it replaces stays among the others
    (classified for PHI). A line whose first reading has no letter or digit, or shows PHI, is
    not read again (``_may_take_second``): no second reading could replace it, and one not
    taken is dropped, so every line's readings are those of reading all of them."""
    again = [i for i, lr in enumerate(read) if _may_take_second(lr.reading, rgb.shape)]
    wider = [replace(read[i].box, thickness=read[i].box.thickness * _THICKER) for i in again]
    other = pp.recognise([pp.crop(rgb, b, read[i].turn) for i, b in zip(again, wider, strict=True)])
    out = list(read)
    for i, r in zip(again, other, strict=True):
        old = read[i].reading
        if confident_pp(r) and _alike(old, r):
            out[i] = replace(read[i], reading=r, others=(old, *read[i].others))
    return out


def _may_take_second(old: pp.Reading, shape) -> bool:
    """Whether a thicker crop's reading could replace ``old`` (``_second_crop``): checked
    before that crop is read, and a line it rules out is not read again. Every condition is
    one the replacement needs whatever the crop would read, so skipping changes nothing: ``old``
    is not confident; it has a letter or digit (a confident reading has one, and no string
    with one is ``_alike`` an empty one: ratio 0); it shows no PHI (a PHI line stays unread)."""
    from photoguard.detect.phi import classify

    if confident_pp(old) or not _alnum(old.text):
        return False
    first = pp.to_line(old, shape)
    return first is None or not classify([first])


def _alike(old: pp.Reading, new: pp.Reading) -> bool:
    """A second reading says the same as the first (``_AGREE``, letters and digits)."""
    a, b = _alnum(old.text), _alnum(new.text)
    return difflib.SequenceMatcher(None, a, b).ratio() >= _AGREE


_SYMMETRIC = frozenset("0125689HINOSXZsxoz/-.:,()# ")
"""Characters that read as characters half a turn round (6 and 9 swap, 0 1 8 H N O S X Z stay)."""


def _turns_into_text(r: pp.Reading) -> bool:
    """A reading made only of ``_SYMMETRIC`` characters reads as well upside down ("9/6/96" is
    "96/9/6"): whatever the classifier says, it does not show which turn is right."""
    return any(c.isalnum() for c in r.chars) and all(c in _SYMMETRIC for c in r.text)


def _alnum(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _quality(r: pp.Reading) -> float:
    return r.confidence * min(1.0, sum(c.isalnum() for c in r.chars) / 3)


def confident_pp(r: pp.Reading) -> bool:
    """PP-OCR's mean character probability, spaces included, at least ``PP_CONF`` (and a letter
    or digit): what decides which lines are read again (the half turn, a thicker crop) and which
    DB lines cover glyph candidates. Those extra readings are classified for PHI too, so this
    stays the plain mean: leaving spaces out here read fewer lines again, and a phone number's
    extra reading that had classified it was no longer taken (a verification block on seed 3)."""
    return r.confidence >= PP_CONF and sum(c.isalnum() for c in r.chars) >= 1


def confident_letters(r: pp.Reading) -> bool:
    """PP-OCR read the line with confidence: ``line_confidence`` at least ``PP_CONF`` (and a
    letter or digit). Decides "read with confidence" (``confident``) only."""
    return line_confidence(r) >= PP_CONF and sum(c.isalnum() for c in r.chars) >= 1


def line_confidence(r: pp.Reading) -> float:
    """PP-OCR's mean probability over the characters it read that are not spaces. A space is
    layout, not text: "Bed 28" read right at 0.98 a character but its space at 0.45 (mean 0.90)
    was redacted as unreadable. A space where a glyph stands is no escape: no character was
    read there, so its ink counts as unread (``whole``, which ``confident`` also requires).
    bench/textcal.py (450 labelled lines): at PP_CONF, 260 lines accepted, 4 wrong (1.5 %)
    against 3/238 with spaces counted; of the 5 lines it adds, none is read wrong, the 4 PHI
    lines among them classify as PHI."""
    probs = [p for c, p in zip(r.chars, r.probs, strict=False) if c != " "]
    return sum(probs) / len(probs) if probs else 0.0


def confident(reading: pp.Reading, tess: list[OcrLine]) -> bool:
    """Read with confidence, and whole: by PP-OCR (line confidence), by Tesseract (every word,
    and about as many characters as PP-OCR saw, both ways, so a half-read line does not
    count), or by both agreeing (exactly or ``near``ly); in every case the reading that vouches
    leaves no glyph ink unread (``whole``)."""
    read_all = whole(reading)
    if read_all and confident_letters(reading):
        return True
    words = [w for line in tess for w in line.words]
    chars = sum(sum(c.isalnum() for c in w.text) for w in words)
    seen = sum(c.isalnum() for c in reading.chars)
    tess_sure = bool(words) and min(w.conf for w in words) >= TESS_CONF
    if tess_sure and chars >= 0.8 * seen and seen >= LENGTH * chars and whole(reading, words):
        return True
    return read_all and (agree(reading, tess) or near(reading, tess))


def whole(reading: pp.Reading, words: list[OcrWord] | None = None) -> bool:
    """The reading accounts for the whole line: less than ``UNREAD`` text heights of glyph ink
    lie where no character was read (PP-OCR's character columns, or with ``words`` the
    extent of Tesseract's words). Blobs touching the crop's edge (a neighbouring line cut by
    the box, the card's edge), blobs off the line's band of text, and filled shapes
    (``STROKE``) more than ``GAP`` text heights from the glyphs read do not count."""
    return unread_ink(reading, words) < UNREAD


def unread_ink(reading: pp.Reading, words: list[OcrWord] | None = None) -> float:
    """Width of the glyph blobs no character was read at, in text heights (see ``whole``)."""
    w = reading.width
    blobs = [s for s in reading.spans if s[0] > 0.5 and s[1] < w - 0.5]
    blobs = [s for s in blobs if s[2] > 0.5 and s[3] < pp.REC_H - 0.5]
    if not blobs:
        return 0.0
    tops, bottoms = sorted(s[2] for s in blobs), sorted(s[3] for s in blobs)
    b0, b1 = tops[len(tops) // 2], bottoms[len(bottoms) // 2]
    height = max(b1 - b0, 1.0)
    if words is None:
        at = [(c, c) for c, ch in zip(reading.columns, reading.chars, strict=False) if ch.strip()]
    else:
        at = [_columns(reading, x) for x in words]
    # mostly above or below the line's band: a neighbour's descender, a mark
    blobs = [s for s in blobs if min(s[3], b1) - max(s[2], b0) >= 0.5 * min(s[3] - s[2], height)]
    read = [s for s in blobs if any(s[0] - _MARGIN <= b and a <= s[1] + _MARGIN for a, b in at)]
    unread = 0.0
    for s in blobs:
        if s in read:
            continue
        gap = min((max(r[0] - s[1], s[0] - r[1]) for r in read), default=float("inf"))
        if s[4] <= STROKE or gap <= GAP * height:
            unread += s[1] - s[0]
    return unread / height


def _columns(reading: pp.Reading, word: OcrWord) -> tuple[float, float]:
    """A Tesseract word's extent along the line in the columns of PP-OCR's crop."""
    import cv2
    import numpy as np

    fwd = cv2.invertAffineTransform(reading.inverse)
    b = word.box
    pts = np.asarray(word.quad or ((b.x0, b.y0), (b.x1, b.y0), (b.x1, b.y1), (b.x0, b.y1)))
    xs = pts.astype(np.float64) @ fwd[0, :2] + fwd[0, 2]
    return float(xs.min()), float(xs.max())

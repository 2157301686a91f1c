"""Two readers, or two crops, saying the same: when agreement vouches for a line's reading.

**Agreement** (``agree``): PP-OCR and Tesseract read the same string (``norm``: letters and
digits, O/0 and I/L/1 folded), each at its ``AGREE_*`` confidence at least, on a line of
``AGREE_MIN`` letters and digits or more. **Near agreement** (``near``): the same string but for
one character ("ROON" / "ROOM") where that character is in no number and nothing in its place
would make either reading PHI. Both are calibrated by bench/textcal.py on labelled lines; they
are two of the ways a line counts as read with confidence (``textread.confident``).

**Vouching** (``vouched``): a line not read with confidence that lies inside a published line
and whose reading is part of that line's is a second detection of the same text (the DB
detector and the glyph finder both find a sign; one crop reads it at 0.99, the other at 0.90).
"""

from __future__ import annotations

from dataclasses import replace

from photoguard.detect import ocr_ppocr as pp
from photoguard.types import Box, OcrLine, OcrWord, TextLine

AGREE_PP = 0.5
"""PP-OCR confidence from which a reading that Tesseract confirms is trusted (``agree``).
bench/textcal.py (same 450 lines): agreement at 0.5 / 30 adds 6 lines neither threshold accepts
(1 wrong, a decoy; 2 PHI lines, both right); all confident readings stay 1.1 % wrong (3/274)."""
AGREE_TESS = 30.0
"""Tesseract's lowest word confidence for the same (``agree``)."""
AGREE_MIN = 3
"""Letters and digits two agreeing readings must have (a lone "1" agrees by chance)."""
NEAR_PP = 0.8
"""PP-OCR confidence from which a reading Tesseract confirms but for one character is trusted
(``near``). bench/textcal.py (775 labelled lines, hard-set seeds 0-3 and 7-10 + textset seed 0):
near agreement at 0.8 / 0 / 8 adds 5 lines no other rule accepts, none wrong and no PHI among
them; at 0.5 it adds "Elevators" read "Bevstors" / "Bevators" (both wrong); at NEAR_MIN 4 a lone
"Priya" read "PRiya" / "PRiga" (PHI that no reading classifies). All confident readings: 1.1 %
wrong before (5/436) and after (5/441)."""
NEAR_TESS = 0.0
"""Tesseract's lowest word confidence for the same (``near``): on textcal no floor above 0 keeps
a wrong line out that NEAR_PP does not (Tesseract reads right words at 29)."""
NEAR_MIN = 8
"""Letters and digits the shorter of two nearly agreeing readings must have."""
INSIDE = 0.8
"""Share of a line not read with confidence that must lie inside a published line for that
line's reading to vouch for it (``vouched``). On the text stage's own lines of hard-set seeds
0-3 (32 scenes, read as the pipeline reads them, matched to the labels): at 0.7-0.8 it publishes
5 more lines (2 decoys' own lines, 2 unlabelled, 1 medication line PHI overlaps, its text read
alike by a confident line already published) and exposes no PHI string; at 0.9 only 1."""
VOUCH_MIN = 3
"""Letters and digits a vouched reading needs (a lone "1" is in any line)."""

_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1"})


def norm(text: str) -> str:
    """Letters and digits only, upper case, O/0 and I/L/1 folded: what two readers' habits
    (PP-OCR drops spaces, Tesseract keeps them; both confuse O/0 and I/L/1) leave comparable."""
    return "".join(c for c in text.upper().translate(_FOLD) if c.isalnum())


def agree(reading: pp.Reading, tess: list[OcrLine]) -> bool:
    """Both readers read the same string (``norm``), each at its ``AGREE_*`` confidence."""
    words = [w for line in tess for w in line.words]
    if not words or reading.confidence < AGREE_PP or min(w.conf for w in words) < AGREE_TESS:
        return False
    mine = norm(reading.text)
    return len(mine) >= AGREE_MIN and mine == norm("".join(w.text for w in words))


def near(reading: pp.Reading, tess: list[OcrLine]) -> bool:
    """Both readers read the same string but for one character (``norm``, one edit: "ROON"
    and "ROOM"), each at its ``NEAR_*`` confidence, on a line of ``NEAR_MIN`` letters and
    digits or more. Never where the difference is or could be PHI: in a word with a digit on
    either side (a date or a number read one digit off), or where any letter or digit in its
    place makes either reading PHI (``phi.classify``: "Marla Okafor" is "Maria Okafor" one
    letter on)."""
    words = [w for line in tess for w in line.words]
    if not words or reading.confidence < NEAR_PP or min(w.conf for w in words) < NEAR_TESS:
        return False
    return near_length(reading, words) >= NEAR_MIN


def near_length(reading: pp.Reading, words: list[OcrWord]) -> int:
    """The letters and digits of the shorter of two readings one safe edit apart (``near``,
    before its thresholds); 0 where they are not."""
    from photoguard.detect.phi import classify

    line = pp.to_line(reading, _BIG)
    if line is None or not words:
        return 0
    mine, theirs = [w.text for w in line.words], [w.text for w in words]
    a, b = norm("".join(mine)), norm("".join(theirs))
    at = _one_edit(a, b)
    if at is None:
        return 0
    for texts, n, other, ocr in ((mine, a, b, line), (theirs, b, a, _one_line(words))):
        spot = _spot(texts, at, len(n) < len(other))
        if spot is None:
            return 0
        if any(c.isdigit() for c in texts[spot[0]]):
            return 0  # a number read one character off may be another number
        if any(classify([v]) for v in _variants(ocr, spot, len(n) - len(other))):
            return 0
    return min(len(a), len(b))


def _one_edit(a: str, b: str) -> int | None:
    """Where ``a`` and ``b`` differ when they are exactly one edit apart (a character changed,
    or one more in the longer string, at that index); None otherwise."""
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    if len(a) == len(b) and at < len(a) and a[at + 1 :] == b[at + 1 :]:
        return at
    if abs(len(a) - len(b)) == 1 and (a[at + 1 :] == b[at:] or b[at + 1 :] == a[at:]):
        return at
    return None


def _spot(texts: list[str], at: int, insert: bool) -> tuple[int, int] | None:
    """(word, character) of the ``at``-th letter or digit of ``texts`` as ``norm`` counts them;
    where a character is missing (``insert``) past the last one, just after the last."""
    seen = 0
    last = (0, 0)
    for i, t in enumerate(texts):
        for j, c in enumerate(t):
            k = sum(x.isalnum() for x in c.upper().translate(_FOLD))
            if k and seen <= at < seen + k:
                return (i, j)
            seen += k
            last = (i, j + 1) if k else last
    return last if insert and seen == at else None


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_BIG = (1 << 30, 1 << 30)  # an image shape that clamps no word box


def _variants(line: OcrLine, spot: tuple[int, int], longer: int) -> list[OcrLine]:
    """``line`` with any letter or digit in place of the character at ``spot`` (and, where
    this reading has one more, without it; where it has one less, with one inserted there)."""
    i, j = spot
    text = line.words[i].text
    if longer < 0:
        texts = [text[:j] + c + text[j:] for c in _ALNUM]
    else:
        texts = [text[:j] + c + text[j + 1 :] for c in _ALNUM]
        texts += [text[:j] + text[j + 1 :]] if longer > 0 else []
    out = []
    for t in texts:
        words = list(line.words)
        words[i] = replace(words[i], text=t)
        out.append(replace(line, words=tuple(w for w in words if w.text)))
    return [v for v in out if v.words]


def _one_line(words: list[OcrWord]) -> OcrLine:
    return OcrLine(tuple(words), Box.union(w.box for w in words), "tesseract")


def vouched(line: TextLine, published: list[TextLine]) -> bool:
    """Whether a line not read with confidence is a second detection of text a published line
    already read: at least ``INSIDE`` of it lies inside one line read with confidence and
    classified not PHI (``published``), and its own best PP-OCR reading (``VOUCH_MIN`` letters
    and digits or more) is part of that line's (``norm``). The DB detector and the glyph finder
    often both find a sign ("Pediatrics" read at 0.99 on one crop, 0.90 on the other): the
    weaker crop adds no text the stronger did not read, and its readings were classified too
    (the caller publishes it only when none shows PHI)."""
    mine = _best_pp(line)
    if len(mine) < VOUCH_MIN:
        return False
    return any(
        mine in _best_pp(other) and _inside(line.quad, other.quad) >= INSIDE
        for other in published
        if other is not line
    )


def _best_pp(line: TextLine) -> str:
    """``norm`` of the line's first PP-OCR reading (the one that decided its confidence)."""
    return next((norm(r.text) for r in line.readings if r.reader == "ppocr"), "")


def _inside(quad, outer) -> float:
    """Share of the convex ``quad``'s area inside the convex ``outer``."""
    import cv2
    import numpy as np

    a = np.asarray(quad, np.float32)
    area = cv2.contourArea(a)
    if area <= 0:
        return 0.0
    inter, _ = cv2.intersectConvexConvex(a, np.asarray(outer, np.float32))
    return float(inter) / area

"""The text stage's verdict on read lines: PHI by kind, unreadable, or published.

A line is published only when it was read with confidence (``textread.confident``, or
``agreement.vouched`` by a published line it lies in) and no reading of it, by either reader,
classifies as PHI (``phi.classify``). Published lines are returned too, as boxes only (never
text), for the verification of a redacted copy (``verify``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from photoguard.detect.agreement import vouched
from photoguard.detect.phi_words import may_be_number
from photoguard.types import READ_SAFE, READ_SAFE_LETTERS, Box, Detection, RegionKind, TextLine

if TYPE_CHECKING:
    from photoguard.detect.phi import PhiRules

NAME = "text"


def classify_lines(
    lines: list[TextLine], rules: PhiRules | None = None, read: list[Detection] | None = None
) -> list[Detection]:
    """TEXT detections for read lines: PHI by kind (from either reader), and every line not
    read with confidence as ``unreadable``.

    A line with PHI in any reading is redacted whole (its quad, as well as the words' own
    boxes): a label left beside a filled value reads badly in the re-check of the copy, and a
    word box estimated from recognition columns may fall short of the glyphs.

    Args:
        lines: what ``read_lines`` returned.
        rules: deny/allow lists and policy switches.
        read: if given, receives each line that is published (read with confidence, no PHI)
            as a detection labelled ``READ_SAFE``, or ``READ_SAFE_LETTERS`` where no reading
            of it holds a digit (its box and outline, never its text).
    """
    from photoguard.detect.phi import PhiRules, classify

    rules = rules or PhiRules()
    found: list[Detection] = []
    for reader in ("ppocr", "tesseract"):
        mine = [r for line in lines for r in line.readings if r.reader == reader]
        found += classify(mine, rules)
    placed: set[int] = set()
    out: list[Detection] = []
    phi_in = []
    for line in lines:
        mine = [i for i, d in enumerate(found) if _centre_in(d, line.quad)]
        placed.update(mine)
        phi_in.append({found[i].label for i in mine} - {"unreadable"})
    safe = [ln for ln, phi in zip(lines, phi_in, strict=True) if ln.confident and not phi]
    for line, phi in zip(lines, phi_in, strict=True):
        labels = set(phi)  # PHI read in the line: reported by its kind
        if not phi and not line.confident and not vouched(line, safe):
            labels = {"unreadable"}
        elif not phi:
            # read with confidence and no reading shows PHI: the other reader's garbage words
            # beside PHI (phi's rule 4) do not outvote the trusted reading
            labels = set()
            if read is not None:
                digits = any(may_be_number(r.text) for r in line.readings)  # any reader
                kind = READ_SAFE if digits else READ_SAFE_LETTERS
                read.append(Detection(RegionKind.TEXT, line.box, 0.0, NAME, label=kind,
                                      polygon=_outward(line.quad)))  # fmt: skip
        for label in sorted(labels):
            polygon = _outward(line.fill or line.quad)
            out.append(
                Detection(RegionKind.TEXT, _fill_box(line), 0.0, NAME, label=label, polygon=polygon)
            )
    # words outside every line quad (a Tesseract word past the line's end) keep their own box
    return out + [d for i, d in enumerate(found) if i not in placed]


def _fill_box(line: TextLine) -> Box:
    """The box of what a redaction of ``line`` covers (its fill, clamped to the image)."""
    if not line.fill:
        return line.box
    return replace(line, quad=line.fill).box


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

"""When a line counts as read with confidence (textread.confident): the two readers' readings
as the pipeline gets them, built by hand (no models: the rule, not the readers, is tested)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from photoguard.detect import agreement, textread
from photoguard.detect import ocr_ppocr as pp
from photoguard.types import Box, OcrLine, OcrWord, TextLine


def reading(text: str, prob: float = 0.8) -> pp.Reading:
    """A PP-OCR reading of ``text`` at mean character probability ``prob`` (10 px a column)."""
    n = len(text)
    cols = tuple(10.0 * i + 5 for i in range(n))
    return pp.Reading(tuple(text), (prob,) * n, cols, 10 * n, np.array([[1.0, 0, 0], [0, 1.0, 0]]))


def tess(text: str, conf: float = 60.0) -> list[OcrLine]:
    """Tesseract's line: ``text``'s words at ``conf`` each."""
    words, x = [], 0
    for t in text.split():
        words.append(OcrWord(t, conf, Box(x, 0, x + 10 * len(t), 20)))
        x += 10 * len(t) + 10
    return [OcrLine(tuple(words), Box(0, 0, max(x - 10, 1), 20), "tesseract")]


@pytest.mark.parametrize(
    ("pp_text", "tess_text"),
    [
        ("WELCOME TO ROON", "WELCOME TO ROOM"),  # a letter changed
        ("Riverside Heath", "Riverside Health"),  # a letter dropped
        ("Resutts Review", "Results Review"),
        ("Goal: walk3x today", "Goat walk 3x today"),  # spaces and colons do not count
    ],
)
def test_two_readings_one_letter_apart_are_read_with_confidence(pp_text, tess_text):
    r, t = reading(pp_text), tess(tess_text)
    assert not textread.confident_pp(r) and not agreement.agree(r, t)
    assert textread.confident(r, t)


@pytest.mark.parametrize(
    ("pp_text", "tess_text"),
    [
        ("Marla Okafor", "Marja Okafor"),  # "Maria Okafor" is one letter away: could be PHI
        ("Ms Okafar", "Ms Okafer"),  # an honorific and a name whatever the letter
        ("Maria Okafor", "Maria Okafar"),  # PHI as read
        ("Room 7104", "Room 7164"),  # a number one digit off may be another number
        ("Bed 12A4", "Bed 12B4"),  # a letter inside a number: a record number, a date
        ("DOB 03/14/1962", "DOB 03/14/1968"),
        ("Lot 88123A", "Lot 88123"),
        ("ROON", "ROOM"),  # too short to rule out chance
        ("WELCOME TO ROON", "WELCOME TO RXXM"),  # two letters apart
    ],
)
def test_readings_one_character_apart_that_could_be_phi_are_not_trusted(pp_text, tess_text):
    assert not textread.confident(reading(pp_text), tess(tess_text))


def test_near_agreement_needs_pp_ocr_fairly_sure():
    t = tess("WELCOME TO ROOM")
    assert textread.confident(reading("WELCOME TO ROON", prob=agreement.NEAR_PP + 0.02), t)
    assert not textread.confident(reading("WELCOME TO ROON", prob=agreement.NEAR_PP - 0.05), t)


def blobs(
    *xs: tuple[float, float], stroke: float = 0.1
) -> tuple[tuple[float, float, float, float, float], ...]:
    """Glyph blobs at these crop columns, on a text band from row 10 to 38 (28 px high)."""
    return tuple((x0, x1, 10.0, 38.0, stroke) for x0, x1 in xs)


def test_a_confident_reading_that_leaves_glyphs_unread_is_not_confident():
    """ "99 y" read "y" at 0.97: the blob of the two nines (40 px, 1.4 text heights) has no
    character read at it, so the reading is partial whatever its confidence."""
    nines = blobs((9, 49), stroke=0.35)  # blurred into one filled blob
    r = replace(reading("y", prob=0.97), spans=nines + blobs((52, 73)), width=88)
    r = replace(r, columns=(60.0,))
    assert textread.confident_pp(r)
    assert not textread.whole(r) and not textread.confident(r, [])
    whole = replace(r, chars=("9", "9", "y"), probs=(0.97,) * 3, columns=(20.0, 40.0, 60.0))
    assert textread.whole(whole) and textread.confident(whole, [])


def test_ink_at_the_crop_edge_or_off_the_line_does_not_make_a_reading_partial():
    """A neighbouring line cut by the box (touching the crop's edge) or a mark above the
    band is not text the reading missed."""
    r = replace(reading("Exit", prob=0.97), width=80)  # characters at columns 5 .. 35
    edge = blobs((0, 3), (2, 12), (18, 28), (30, 40), (60, 80))  # the last two touch an edge
    assert textread.confident(replace(r, spans=edge), [])
    above = (*blobs((2, 12), (30, 40)), (50.0, 70.0, 1.0, 12.0, 0.1))
    assert textread.confident(replace(r, spans=above), [])


def test_a_filled_shape_away_from_the_text_read_does_not_make_it_partial():
    """A monitor's "SpO2 100" (a glyph line running on past the monitor's edge) and a grid
    cell of the wall 1.5 text heights on: a filled shape, no glyph strokes, not unread text.
    Glyph strokes there would be."""
    r = replace(reading("Exit", prob=0.97), width=120)  # characters at columns 5 .. 35
    text = blobs((2, 12), (14, 22), (24, 32), (33, 40))
    assert textread.confident(replace(r, spans=text + blobs((82, 110), stroke=0.4)), [])
    assert not textread.confident(replace(r, spans=text + blobs((82, 110))), [])


def test_tesseract_alone_vouches_only_for_about_as_many_characters_as_pp_ocr_read():
    """A URL PP-OCR read as nothing was read "al" at 87 by Tesseract: the two readers do not
    agree on how much text there is, so neither is trusted."""
    assert not textread.confident(reading("", prob=0.0), tess("al", 87.0))
    assert not textread.confident(reading("y", prob=0.5), tess("wy", 87.0))
    assert textread.confident(reading("ABERNATHY,NA", prob=0.71), tess("ABERNATHY,NOAH", 91.7))


def text_line(quad, text: str, confident: bool, reader: str = "ppocr") -> TextLine:
    """A text-stage line at ``quad`` whose only reading is ``text`` (one word per token)."""

    (x0, y0), (x1, y1) = quad[0], quad[2]
    words, x = [], x0
    for t in text.split():
        words.append(OcrWord(t, 95.0, Box(x, y0, x + 10 * len(t), y1)))
        x += 10 * len(t) + 10
    read = OcrLine(tuple(words), Box(x0, y0, x1, y1), reader)
    return TextLine(tuple((float(a), float(b)) for a, b in quad), (read,), confident, "db")


def rect(x0, y0, x1, y1):
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def test_a_second_detection_of_a_published_line_is_published_too():
    """The DB detector and the glyph finder both find a door sign: the one crop reads it at 0.99
    (published), the other at 0.90 (was redacted as unreadable over the published sign)."""
    from photoguard.detect.text import classify_lines

    sign = text_line(rect(100, 100, 300, 140), "Pediatrics", True)
    again = text_line(rect(105, 102, 290, 138), "Pediatrics", False)
    assert classify_lines([sign, again]) == []
    part = text_line(rect(105, 102, 200, 138), "Pedia", False)  # part of the sign read again
    assert classify_lines([sign, part]) == []
    # fail closed: a reading of more than the published line says, a line mostly outside it,
    # a published line that is PHI, or no published line at all
    more = text_line(rect(105, 102, 290, 138), "Pediatrics 4B", False)
    off = text_line(rect(105, 102, 420, 138), "Pediatrics", False)
    assert [d.label for d in classify_lines([sign, more])] == ["unreadable"]
    assert [d.label for d in classify_lines([sign, off])] == ["unreadable"]
    assert [d.label for d in classify_lines([again])] == ["unreadable"]
    name = text_line(rect(100, 100, 300, 140), "Priya Moreau", True)
    read_again = text_line(rect(105, 102, 290, 138), "Priya Moreau", False)
    assert {d.label for d in classify_lines([name, read_again])} == {"name"}


def test_a_space_read_unsure_does_not_make_a_line_unconfident():
    """PP-OCR read a monitor's "Bed 28" right at 0.98 a character but its space at 0.45: the
    mean, 0.90, redacted the line as unreadable. Spaces are layout; the letters decide."""
    r = reading("Bed 28", 0.98)
    r = replace(r, probs=(0.98, 0.98, 0.98, 0.45, 0.98, 0.98))
    assert r.confidence < textread.PP_CONF
    assert textread.confident_letters(r) and textread.confident(r, [])
    assert not textread.confident_pp(r)  # still read again (half turn, thicker crop)
    # an unsure letter or digit still counts
    unsure = replace(r, probs=(0.98, 0.98, 0.98, 0.98, 0.45, 0.98))
    assert not textread.confident_letters(unsure) and not textread.confident(unsure, [])
    assert not textread.confident_letters(reading("   ", 0.99))  # nothing but spaces

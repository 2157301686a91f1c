"""When a line counts as read with confidence (textread.confident): the two readers' readings
as the pipeline gets them, built by hand (no models: the rule, not the readers, is tested)."""

from __future__ import annotations

import numpy as np
import pytest

from photoguard.detect import ocr_ppocr as pp
from photoguard.detect import textread
from photoguard.types import Box, OcrLine, OcrWord


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
    assert not textread.confident_pp(r) and not textread.agree(r, t)
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
    assert textread.confident(reading("WELCOME TO ROON", prob=textread.NEAR_PP + 0.02), t)
    assert not textread.confident(reading("WELCOME TO ROON", prob=textread.NEAR_PP - 0.05), t)

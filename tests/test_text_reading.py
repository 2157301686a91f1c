"""PHI that both readers read with confidence is redacted, however each reader writes it
(real models; pixels of ``redact`` outputs, the rules of tests/test_text_leaks.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from test_text_leaks import card_image, ink_left, redact  # noqa: E402
from text_support import tesseract  # noqa: E402, F401

from photoguard.types import Verdict  # noqa: E402

pytestmark = pytest.mark.usefixtures("tesseract")


def test_a_grouped_record_number_and_a_month_name_date_are_redacted(tmp_path):
    """Read with confidence by both readers and published before: a record number printed in
    groups after a bare "ID", and a date whose month name the letter-for-digit undo turned
    into digits ("05-Dec-1978" -> "05-0ec-1978")."""
    lines = [("ID 293-704", 34), ("05-Dec-1978", 34), ("Acct 316-87147", 34)]
    image, outlines = card_image(lines, 3, size=(1000, 700))
    result, out = redact(tmp_path, image)
    assert result.verdict is Verdict.REDACT and out is not None, result.reasons
    assert any(r.startswith("PHI text") for r in result.reasons), result.reasons
    for outline in outlines:
        assert ink_left(image, out, outline) < 1 / 3


def smudged_line(text: str, smudged: int, size: int, blur: float):
    """``text`` printed on a light card, its first ``smudged`` characters smudged (a thumb, a
    wet label: still legible): the image and the smudged characters' outline."""
    from PIL import Image, ImageDraw, ImageFilter
    from text_support import font

    im = Image.new("RGB", (400, 160), (240, 240, 235))
    d = ImageDraw.Draw(im)
    d.text((40, 60), text, font=font(size), fill=(40, 40, 40))
    x0, y0, x1, y1 = d.textbbox((40, 60), text[:smudged], font=font(size))
    patch = im.crop((x0 - 2, y0 - 3, x1 + 1, y1 + 3)).filter(ImageFilter.GaussianBlur(blur))
    im.paste(patch, (x0 - 2, y0 - 3))
    return np.asarray(im), ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


@pytest.mark.parametrize("blur", [2.6, 3.0])
def test_a_line_read_only_in_part_is_redacted(tmp_path, blur):
    """An age over 89 whose smudged digits PP-OCR skips: "99 y" read "y" at 0.99-1.0 (and
    Tesseract "wy" at 77) counted as read with confidence, so the line was published with
    its age. A reading that leaves glyph ink unread is not whole, so not confident."""
    image, digits = smudged_line("99 y", 2, 22, blur)
    result, out = redact(tmp_path, image)
    assert result.verdict is Verdict.REDACT and out is not None, result.reasons
    assert ink_left(image, out, digits) < 1 / 3

"""PHI that both readers read with confidence is redacted, however each reader writes it
(real models; pixels of ``redact`` outputs, the rules of tests/test_text_leaks.py)."""

from __future__ import annotations

import sys
from pathlib import Path

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

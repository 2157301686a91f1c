"""What the text tests share: the bundled test font and the Tesseract requirement."""

from __future__ import annotations

import shutil

import pytest
from conftest import unavailable
from PIL import ImageFont

from bench import textset

FONT = textset.FONT_DIR / "DejaVuSans.ttf"


def font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans at ``size`` px (fonts-dejavu-core, which `make setup` installs)."""
    if not FONT.exists():
        unavailable(f"needs the DejaVu font at {FONT} (apt-get install fonts-dejavu-core)")
    return ImageFont.truetype(str(FONT), size)


@pytest.fixture
def tesseract() -> None:
    """Tests that read with the real Tesseract: skipped without it here, failed in CI."""
    if shutil.which("tesseract") is None:
        unavailable("needs tesseract-ocr (apt-get install tesseract-ocr)")

"""Regenerate the demo consent files from images that ship inside installed packages.

    .venv/bin/python consents/make_samples.py

Writes people/eileen-collins.png (a crop of scikit-image's public-domain ``astronaut``, NASA
photo of Eileen Collins) and signed/eileen-collins-PG-AUTH-2026-01.png (the filled-in form with
a drawn signature). Fictional demo data; see README.md for provenance.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).parent
# Crop that holds only the astronaut's face: the full frame makes dlib HOG report a second,
# spurious face on the suit, and a reference photo must show exactly one.
ASTRONAUT_CROP = (60, 0, 380, 300)

FIELDS = [
    ("Form version", "PG-AUTH-2026-01"),
    ("1. Individual", "Eileen Collins"),
    ("2. Date of birth / role", "(not given) / visitor"),
    ("3. Disclosed", "Photographs and video in which I can be recognized; first name as caption"),
    ("4. Who may disclose", "Example Community Hospital, Marketing & Communications"),
    ("5. Who may receive", "The public, through: [x] website  [x] instagram  [x] print"),
    ("6. Purposes", "[x] marketing  [x] education"),
    ("7. Expires on", "2028-12-31"),
    ("8. Third-party remuneration", "[ ] no"),
    ("9. Statements", "revocation / treatment-conditioning / redisclosure: read and understood"),
    ("10. Date signed", "2026-01-15"),
    ("11. Representative", "(none: signed by the individual)"),
    ("Office use: received on", "2026-01-16"),
]


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _signature(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """A hand-drawn-looking squiggle (not anyone's real signature)."""
    points = []
    for i in range(240):
        t = i / 239
        points.append(
            (x + 320 * t + 14 * math.sin(t * 31), y + 22 * math.sin(t * 17) * (1 - t / 2))
        )
    draw.line(points, fill=(20, 30, 110), width=3, joint="curve")


def signed_form(path: Path) -> None:
    img = Image.new("RGB", (1240, 1100), "white")
    draw = ImageDraw.Draw(img)
    draw.text((60, 40), "Authorization to Use and Disclose Photographs and Video", font=_font(34),
              fill="black")  # fmt: skip
    draw.text((60, 90), "Example Community Hospital - DEMO, FICTIONAL RECORD", font=_font(22),
              fill=(150, 0, 0))  # fmt: skip
    y = 150
    for label, value in FIELDS:
        draw.text((60, y), label, font=_font(20), fill=(60, 60, 60))
        draw.text((400, y), value, font=_font(20), fill="black")
        draw.line((400, y + 28, 1180, y + 28), fill=(190, 190, 190))
        y += 60
    draw.text((60, y + 20), "Signature", font=_font(20), fill=(60, 60, 60))
    _signature(draw, 420, y + 30)
    draw.line((400, y + 60, 900, y + 60), fill="black", width=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, optimize=True)


def reference_photo(path: Path) -> None:
    from skimage import data

    face = Image.fromarray(data.astronaut()).crop(ASTRONAUT_CROP)
    path.parent.mkdir(parents=True, exist_ok=True)
    face.save(path, optimize=True)


if __name__ == "__main__":
    reference_photo(HERE / "people" / "eileen-collins.png")
    signed_form(HERE / "signed" / "eileen-collins-PG-AUTH-2026-01.png")
    print("wrote", HERE / "people", HERE / "signed")

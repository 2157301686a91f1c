"""The coarse-to-fine flag for text too small for the DB detector's scale (no models)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from text_support import font  # noqa: E402

from photoguard.detect.smalltext import small_text_tiles  # noqa: E402


def photo_with_small_text(at=(2600, 1700), size: int = 9) -> np.ndarray:
    """A 12 MP grey photo, noisy as a JPEG of a wall is, with three 9 px lines on a card."""
    rng = np.random.default_rng(0)
    base = np.full((3000, 4000), 128, np.float32) + rng.normal(0, 4, (3000, 4000))
    im = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).convert("RGB")
    d = ImageDraw.Draw(im)
    x, y = at
    d.rectangle((x - 20, y - 20, x + 220, y + 60), fill=(245, 245, 240))
    for i, text in enumerate(("Patient: Maria Okafor", "DOB: 03/14/1962", "MRN 00482913")):
        d.text((x, y + 13 * i), text, font=font(size), fill=(20, 20, 20))
    return np.asarray(im.convert("L"))


def test_small_lines_on_a_large_photo_are_flagged_and_only_there():
    gray = photo_with_small_text()
    tiles = small_text_tiles(gray, 0.4)
    assert tiles, "the 9 px lines raised no flag"
    area = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1, _ in tiles)
    assert area < 0.01 * gray.size  # the noisy wall raises none
    for y in (1705, 1718, 1731):  # each line's middle lies in a tile
        assert any(x0 <= 2660 < x1 and y0 <= y < y1 for x0, y0, x1, y1, _ in tiles)


def test_tiles_of_small_text_are_enlarged_for_the_detector():
    """5 px lines on a 1600 px photo (the detector sees it at full size) are flagged too, and
    their tile is enlarged so that the detector sees them at about 16 px."""
    gray = photo_with_small_text(size=7)[1000:2200, 2000:3600]
    tiles = small_text_tiles(gray, 1.0)
    assert tiles and all(scale > 1.2 for *_, scale in tiles)


def test_a_noisy_wall_raises_no_flag():
    rng = np.random.default_rng(1)
    wall = np.clip(128 + rng.normal(0, 4, (1200, 1600)), 0, 255).astype(np.uint8)
    assert small_text_tiles(wall, 1.0) == []

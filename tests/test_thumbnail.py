"""Thumbnails are redacted after shrinking: every thumbnail pixel that a covered pixel reaches
is covered too (the shrink filter mixes neighbours, so the scaled region is not enough)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from photoguard import render
from photoguard.settings import Policy
from photoguard.types import Action, Box, LoadedImage, Region, RegionKind


def _image(pixels: np.ndarray) -> LoadedImage:
    return LoadedImage(path=Path("x.png"), sha256="0" * 64, format="PNG", frames=(pixels,))


def test_thumbnail_covers_every_pixel_a_redacted_region_reaches():
    rng = np.random.default_rng(1)
    pixels = np.full((1500, 2000, 3), 255, dtype=np.uint8)
    box = Box(600, 400, 1000, 700)
    pixels[box.y0 : box.y1, box.x0 : box.x1] = rng.integers(0, 255, (300, 400, 3))  # "PHI"
    region = Region(RegionKind.TEXT, box, Action.REDACT)
    policy = Policy(text_padding=0)  # text is filled black: covered pixels are easy to tell
    thumb = np.asarray(
        Image.open(io.BytesIO(render.thumbnail(_image(pixels), [region], policy))).convert("L")
    )
    k = thumb.shape[1] / 2000
    x0, y0 = int(box.x0 * k) - 2, int(box.y0 * k) - 2  # 2 px beyond: Lanczos still reaches in
    x1, y1 = int(np.ceil(box.x1 * k)) + 2, int(np.ceil(box.y1 * k)) + 2
    assert thumb[y0:y1, x0:x1].max() < 40, "a thumbnail pixel mixes in redacted content"
    assert thumb[:, : x0 - 6].min() > 200  # and the rest of the picture is still the picture

"""Where the second look turns a tile (photoguard.detect.secondlook), on real DB detections."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from photoguard.detect import secondlook  # noqa: E402
from photoguard.detect.ocr_ppocr import LineBox  # noqa: E402


def test_a_steep_blob_as_big_as_the_photo_does_not_turn_the_whole_tile(monkeypatch):
    """Thin steep seeds in one corner are looked at turned around themselves; a steep blob
    thicker than a tenth of the photo (a crowd's texture at the coarse scale) is no reason to
    turn the whole tile (a 12 MP crowd photo cost 18.6 text CPU-s that way, 9.6 without)."""
    h, w = 3000, 4000
    tile = np.full((h, w, 3), 128, np.uint8)
    thin = [LineBox(300 + 40 * i, 400, 200, 12, 85.0, 0.9) for i in range(4)]
    blob = LineBox(2000, 1500, 2800, 1800, 80.0, 0.9)
    seen: list[tuple[int, int]] = []

    def turned(part, turn, scale):
        seen.append(part.shape[:2])
        return []

    monkeypatch.setattr(secondlook, "turned_lines", turned)
    secondlook._turned(tile, [*thin, blob], (0, 0, w, h), 1.0, min(w, h))
    assert seen, "the thin steep seeds were not looked at turned"
    assert all(ph * pw < 0.05 * h * w for ph, pw in seen), seen

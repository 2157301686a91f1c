"""A redacted line's fill reaches over the whole string (detect.linereach; no models)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from text_support import font  # noqa: E402

from photoguard.detect.linereach import reach  # noqa: E402
from photoguard.detect.ocr_ppocr import LineBox  # noqa: E402

EMAIL = "kevin.nakamura@mail.example.com"
SIZE = 14


def card(
    text: str = EMAIL, after: str = "", gap: int = 0, edge: int | None = None, size=SIZE, height=300
):
    """A noisy grey photo with a white card holding ``text`` (blurred as the hard set's forms
    are); ``after`` is drawn ``gap`` px after it on the same line; ``edge``: the card ends this
    many px after the text and a striped texture lies beyond. Returns (grey, text x0, text x1,
    after's x0, baseline middle y)."""
    rng = np.random.default_rng(1)
    base = np.full((height, 900), 128, np.float32) + rng.normal(0, 4, (height, 900))
    im = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).convert("RGB")
    d = ImageDraw.Draw(im)
    f = font(size)
    x0, y = 120, 140 - size // 2
    x1 = x0 + round(d.textlength(text, font=f))
    right = x1 + edge if edge is not None else 820
    d.rectangle((100, 100, right, 200), fill=(240, 240, 236))
    if edge is not None:  # dark stripes across the line beyond the card's edge
        for x in range(right + 1, 900, 6):
            d.rectangle((x, 100, x + 2, 200), fill=(30, 60, 30))
    d.text((x0, y), text, font=f, fill=(25, 25, 30))
    a0 = x1 + gap
    if after:
        d.text((a0, y), after, font=f, fill=(25, 25, 30))
    im = im.filter(ImageFilter.GaussianBlur(1.0))
    top, bottom = f.getbbox(text)[1], f.getbbox(text)[3]
    return np.asarray(im.convert("L")), x0, x1, a0, y + (top + bottom) / 2


def piece(x0: float, x1: float, cy: float, angle: float = 0.0, size=SIZE) -> LineBox:
    """A DB outline of the text between x0 and x1 (1.6 times the text's height thick)."""
    return LineBox((x0 + x1) / 2, cy, x1 - x0, 1.6 * size, angle)


def ends(box: LineBox) -> tuple[float, float]:
    return box.cx - box.length / 2, box.cx + box.length / 2


def test_an_outline_cut_short_grows_over_the_rest_of_the_string_and_stops_there():
    gray, x0, x1, _, cy = card()
    got = reach(gray, piece(x0 - 2, x0 + 0.4 * (x1 - x0), cy), [])
    lo, hi = ends(got)
    assert lo <= x0 - 1 and hi >= x1, (lo, hi, x1)  # the whole string
    assert hi <= x1 + SIZE  # and not the blank card after it


def test_a_24_px_line_grows_and_larger_text_is_left_to_the_detector():
    # a 24 px line: the ground's running median spans more than 16 columns
    gray, x0, x1, _, cy = card(text="carlos.obrien@mail", size=24, height=600)
    got = reach(gray, piece(x0 - 2, x0 + 0.4 * (x1 - x0), cy, size=24), [])
    lo, hi = ends(got)
    assert hi >= x1 and hi <= x1 + 24, (lo, hi, x1)
    # 30 px text is outlined whole by the detector: its outline is never grown (a whiteboard's
    # large handwriting would otherwise be filled word after word in the re-check of a copy)
    gray, x0, x1, _, cy = card(text="carlos.obrien@mail", size=30, height=600)
    box = piece(x0 - 2, x0 + 0.4 * (x1 - x0), cy, size=30)
    assert reach(gray, box, []) is box


def test_the_head_of_a_string_is_reached_from_its_tail():
    gray, x0, x1, _, cy = card()
    got = reach(gray, piece(x1 - 0.3 * (x1 - x0), x1 + 2, cy), [])
    lo, hi = ends(got)
    assert lo <= x0 and hi >= x1 and lo >= x0 - SIZE, (lo, hi, x0)


def test_a_line_on_blank_paper_does_not_grow():
    gray, x0, x1, _, cy = card()
    box = piece(x0, x1, cy + 40)  # below the text: paper only
    assert reach(gray, box, []) is box


def test_the_fill_stops_at_the_next_line_found_beside_it():
    gray, x0, x1, a0, cy = card(text="Phone: 670-911", after="Ward 7 visiting", gap=8)
    other = piece(a0, a0 + 120, cy)
    got = reach(gray, piece(x0, x0 + 0.5 * (x1 - x0), cy), [other])
    lo, hi = ends(got)
    assert hi >= x1 - 2 and hi <= a0 + 2, (hi, x1, a0)


def test_the_fill_stops_at_the_card_edge_not_in_the_texture_beyond():
    gray, x0, x1, _, cy = card(edge=6)
    got = reach(gray, piece(x0, x0 + 0.5 * (x1 - x0), cy), [])
    _, hi = ends(got)
    assert x1 - 2 <= hi <= x1 + 8, (hi, x1)


@pytest.mark.parametrize("turn", [35.0, -20.0, 180.0])
def test_a_tilted_or_upside_down_line_grows_along_its_own_direction(turn: float):
    import cv2

    gray, x0, x1, _, cy = card()
    centre = ((x0 + x1) / 2, cy)  # the string's middle: it stays inside the photo
    rot = cv2.getRotationMatrix2D(centre, turn, 1.0)
    turned = cv2.warpAffine(gray, rot, gray.shape[::-1], borderMode=cv2.BORDER_REPLICATE)
    # the outline of the string's first 40 %, turned with the photo
    head = piece(x0 - 2, x0 + 0.4 * (x1 - x0), cy)
    cx, cy2 = rot @ (head.cx, head.cy, 1.0)
    box = LineBox(float(cx), float(cy2), head.length, head.thickness, -turn)
    got = reach(turned, box, [])
    assert got.length >= (x1 - x0) and got.length <= (x1 - x0) + 2 * SIZE, got.length
    # its far end is where the string's end went
    end = rot @ (x1, cy, 1.0)
    near = min(np.hypot(*(p - end)) for p in got.corners())
    assert near <= SIZE * 1.5, near


def test_a_redacted_line_is_filled_over_its_reach_and_a_published_one_keeps_its_outline():
    """The text stage's wiring: a line's redaction covers its ``fill`` (drawn on a copy and
    checked on its pixels); the outline it publishes as read safe stays its own quad."""
    import cv2

    from photoguard.detect.text import classify_lines
    from photoguard.types import Box, OcrLine, OcrWord, TextLine

    gray, x0, x1, _, cy = card()
    head = piece(x0 - 2, x0 + 0.4 * (x1 - x0), cy)
    quad = tuple((float(x), float(y)) for x, y in head.corners())
    fill = tuple((float(x), float(y)) for x, y in reach(gray, head, []).corners())
    word = OcrWord("kevin.nak", 20.0, Box(x0, 130, x0 + 100, 150))
    reading = (OcrLine((word,), word.box, "ppocr"),)
    [unread] = classify_lines([TextLine(quad, reading, False, "db", (900, 300), fill)])
    assert unread.label == "unreadable"
    copy = gray.copy()
    cv2.fillPoly(copy, [np.array(unread.polygon, np.int32)], 0)
    string = gray[int(cy) - 6 : int(cy) + 6, x0 : x1 + 1]
    ink = string < 128
    left = (copy[int(cy) - 6 : int(cy) + 6, x0 : x1 + 1] == string) & ink
    assert left.sum() < 0.02 * ink.sum()  # the whole string is filled, not its first 40 %
    assert unread.box.x1 >= x1
    read: list = []
    classify_lines([TextLine(quad, reading, True, "db", (900, 300), fill)], None, read)
    assert read and max(x for x, _ in read[0].polygon) <= head.cx + head.length / 2 + 2


def test_a_line_along_a_fills_edge_does_not_grow_over_the_photo():
    """In the re-check of a copy the DB detector outlines the edges of the fills: a fill's edge
    has "ink" in every column, so only the fill itself may end the walk."""
    gray, x0, x1, _, cy = card()
    copy = gray.copy()
    copy[int(cy) - 4 : int(cy) + 30, 100:820] = 0  # the string's fill, its top edge in the band
    box = piece(200, 300, cy - 4)
    got = reach(copy, box, [])
    assert got.length <= box.length + SIZE, got.length

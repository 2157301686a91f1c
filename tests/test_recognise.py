"""PP-OCR recognition as the text stage calls it (the real model from the wheel): a line's
reading depends on its own crop only, and the reading plan's quarter turns."""

from __future__ import annotations

import cv2
import numpy as np

from photoguard.detect import ocr_ppocr as pp
from photoguard.detect import textread


def page() -> np.ndarray:
    """A white page: a short label, a long line, and a short word."""
    img = np.full((400, 1400, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, "DOB:", (40, 80), font, 1.2, (20, 20, 20), 2, cv2.LINE_AA)
    long_line = "Visiting hours are nine to five every day of the week, ask at the desk"
    cv2.putText(img, long_line, (40, 200), font, 0.9, (20, 20, 20), 2, cv2.LINE_AA)
    cv2.putText(img, "SSN", (40, 320), font, 1.2, (20, 20, 20), 2, cv2.LINE_AA)
    return img


LABEL = pp.LineBox(88, 68, 120, 56, 0.0)
LONG = pp.LineBox(680, 190, 1300, 48, 0.0)
WORD = pp.LineBox(80, 308, 100, 70, 0.0)  # shorter than SQUARE thicknesses


def test_a_line_reads_the_same_whatever_is_read_beside_it():
    """Recognition looks across its whole input: a crop padded to a long neighbour's width read
    differently ("DOB:" at 0.99 alone, 0.86 beside a long line), so whether a line was published
    depended on the other lines of the photo."""
    img = page()
    label, long_line = pp.crop(img, LABEL), pp.crop(img, LONG)
    alone = pp.recognise([label])[0]
    beside = pp.recognise([long_line, label, long_line])[1]
    assert alone.text == beside.text
    assert np.allclose(alone.probs, beside.probs, atol=1e-4)
    assert alone.columns == beside.columns


def test_quarter_turns_are_read_for_square_boxes_only_and_added_last():
    img = page()
    reads = textread.read_boxes(img, [LABEL, LONG, WORD], across=False)
    assert all(r.box.length >= r.box.thickness for r in reads)
    across = textread.read_across(img, reads)
    for before, after in zip(reads, across, strict=True):
        assert after.reading is before.reading
        assert after.others[: len(before.others)] == before.others
    added = [len(a.others) - len(b.others) for b, a in zip(reads, across, strict=True)]
    assert added == [0, 0, 2]  # LABEL is 120 x 56: longer than SQUARE thicknesses
    # the default plan is the two steps together
    whole = textread.read_boxes(img, [LABEL, LONG, WORD])
    assert [len(r.others) for r in whole] == [len(r.others) for r in across]
    assert [r.reading.text for r in whole] == [r.reading.text for r in across]


def test_a_line_reads_the_same_alone_and_among_crops_of_its_own_width():
    """Crops of one padded width could share one call of the model (a batch); they are read one
    by one (cheaper here), and either way a crop's reading must be its own, bit for bit."""
    img = page()
    label = pp.crop(img, LABEL)
    same_width = pp.crop(img, pp.LineBox(80, 308, 120, 56, 0.0))  # "SSN", cut as LABEL is
    assert same_width[0].shape == label[0].shape
    alone = pp.recognise([label])[0]
    among = pp.recognise([same_width, label, same_width, label])
    for r in (among[1], among[3]):
        assert (r.text, r.probs, r.columns) == (alone.text, alone.probs, alone.columns)
    assert among[0].text != alone.text  # the neighbours are other text


def test_model_input_planes_are_the_arithmetic_of_paddleocr_bit_for_bit():
    """``planes`` looks the scaled greys up in a table; it must equal PaddleOCR's arithmetic
    on a float copy (BGR planes, ``(v / 255 - 0.5) / 0.5``) exactly, or every reading moves."""
    rgb = np.random.default_rng(1).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    rgb[0, :3] = [[0, 0, 0], [255, 255, 255], [1, 128, 254]]
    plain = ((rgb[:, :, ::-1].astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    got = pp.planes(rgb)
    assert got.dtype == np.float32 and got.flags["C_CONTIGUOUS"]
    assert got.tobytes() == np.ascontiguousarray(plain).tobytes()

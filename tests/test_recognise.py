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


def second_crop_reading_all(rgb, reads):
    """``textread._second_crop`` as it was before lines were ruled out unread: every line not
    read with confidence read again, the rule deciding after."""
    import difflib
    from dataclasses import replace

    from photoguard.detect.phi import classify

    again = [i for i, lr in enumerate(reads) if not textread.confident_pp(lr.reading)]
    wider = [replace(reads[i].box, thickness=reads[i].box.thickness * 1.2) for i in again]
    crops = [pp.crop(rgb, b, reads[i].turn) for i, b in zip(again, wider, strict=True)]
    other = pp.recognise(crops)
    out, taken = list(reads), []
    for i, r in zip(again, other, strict=True):
        old = reads[i].reading
        a, b = textread._alnum(old.text), textread._alnum(r.text)
        if not textread.confident_pp(r) or difflib.SequenceMatcher(None, a, b).ratio() < 0.7:
            continue
        first = pp.to_line(old, rgb.shape)
        if first is None or not classify([first]):
            out[i] = replace(reads[i], reading=r, others=(old, *reads[i].others))
            taken.append(i)
    return out, again, taken


def test_a_line_not_read_again_could_not_have_taken_its_second_reading(monkeypatch):
    """A thicker second crop is read only for a line whose reading it could replace: one whose
    first reading has no letter or digit (no confident reading is alike an empty one) or shows
    PHI (a PHI line stays unread) is not read again. Every reading is the same as reading all."""
    from photoguard.detect.phi import classify

    img = np.full((420, 1400, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, "DOB 03/14/1962 MRN 4471208", (20, 70), font, 1.0, (20, 20, 20), 2)
    cv2.putText(img, "Visiting hours are nine to five", (20, 190), font, 1.0, (20, 20, 20), 2)
    img[:240] = cv2.GaussianBlur(img[:240], (3, 3), 0)  # read, but not with confidence
    phi_line = pp.LineBox(450, 60, 860, 50, 0.0)
    plain = pp.LineBox(300, 180, 600, 50, 0.0)
    blank = pp.LineBox(700, 330, 600, 50, 0.0)  # white paper: read as nothing
    boxes = (phi_line, plain, blank)
    first_reads = pp.recognise([pp.crop(img, b) for b in boxes])
    reads = [textread.LineRead(b, 0.0, r) for b, r in zip(boxes, first_reads, strict=True)]
    assert not any(textread.confident_pp(lr.reading) for lr in reads)
    first = pp.to_line(reads[0].reading, img.shape)
    assert first is not None and classify([first])  # PHI, read without confidence
    assert not textread._alnum(reads[2].reading.text)
    expected, again, _ = second_crop_reading_all(img, reads)
    assert again == [0, 1, 2]
    crops: list[int] = []
    recognise = pp.recognise
    monkeypatch.setattr(pp, "recognise", lambda c, *a: crops.append(len(c)) or recognise(c, *a))
    got = textread._second_crop(img, reads)
    assert crops == [1]  # only the plain line is read again
    assert [seen(lr) for lr in got] == [seen(lr) for lr in expected]


def seen(lr):
    """What a LineRead says: its box, turn, and each reading's characters and probabilities."""
    return (lr.box, lr.turn, [(r.text, r.probs, r.columns) for r in (lr.reading, *lr.others)])


def test_no_letter_or_digit_of_the_recognition_alphabet_folds_to_nothing():
    """The skip of an empty first reading holds only if a confident reading (a letter or digit
    among its characters) never leaves ``_alnum`` empty: SequenceMatcher rates an empty string
    alike only an empty one."""
    import difflib

    _, chars = pp._rec()
    assert all(textread._alnum(c) for c in chars if c.isalnum())
    assert difflib.SequenceMatcher(None, "", "a").ratio() < textread._AGREE

"""OCR on rendered scenes with the real Tesseract, and the wristband end to end."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from text_support import font, tesseract  # noqa: E402, F401

from bench import textset  # noqa: E402
from photoguard.detect import ocr_tesseract  # noqa: E402
from photoguard.detect.barcodes import classify_barcodes, find_barcodes  # noqa: E402
from photoguard.detect.phi import PhiRules  # noqa: E402
from photoguard.detect.text import OcrLine, TextDetector, read_text, tesseract_version  # noqa: E402
from photoguard.errors import EnvironmentProblem  # noqa: E402
from photoguard.types import RegionKind  # noqa: E402

pytestmark = pytest.mark.usefixtures("tesseract")


def card(lines: list[str], size: int = 28, fg=(20, 20, 20), bg=(250, 250, 250)) -> Image.Image:
    im = Image.new("RGB", (24 * size, int(size * 1.6) * len(lines) + size), bg)
    d = ImageDraw.Draw(im)
    for i, s in enumerate(lines):
        d.text((size // 2, size // 2 + int(size * 1.6) * i), s, font=font(size), fill=fg)
    return im


def words(lines: list[OcrLine]) -> str:
    return " ".join(w.text for ln in lines for w in ln.words)


def place(im: Image.Image, angle: float, canvas=(1400, 1000)) -> np.ndarray:
    rot = im.rotate(angle, expand=True, fillcolor=(90, 120, 90), resample=Image.Resampling.BICUBIC)
    bg = Image.new("RGB", canvas, (90, 120, 90))
    bg.paste(rot, ((canvas[0] - rot.width) // 2, (canvas[1] - rot.height) // 2))
    return np.asarray(bg)


def test_version():
    assert tesseract_version()[0].isdigit()


def test_missing_binary_is_an_environment_problem(monkeypatch):
    import pytesseract

    ocr_tesseract._tesseract_version.cache_clear()
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    try:
        with pytest.raises(EnvironmentProblem, match="apt-get install tesseract-ocr"):
            read_text(np.zeros((50, 50, 3), np.uint8))
    finally:
        ocr_tesseract._tesseract_version.cache_clear()


def test_blank_image_has_no_text():
    assert read_text(np.full((600, 800, 3), 128, np.uint8)) == []


@pytest.mark.parametrize("angle", [0, 25, -30, 90, -90])
def test_tilted_and_vertical_text_is_read_and_boxes_map_back(angle):
    rgb = place(card(["MRN 00482913", "Kowalski"]), angle)
    lines = read_text(rgb)
    got = words(lines)
    assert "00482913" in got and "Kowalski" in got
    # every word box lies on the card (the middle of the canvas), not in the margins
    for ln in lines:
        for w in ln.words:
            if w.text == "00482913":
                cx, cy = w.box.center
                assert 300 < cx < 1100 and 200 < cy < 800


def test_light_on_dark_monitor_text():
    rgb = place(card(["ROSSI, LIAM", "HR 72 bpm"], fg=(90, 255, 90), bg=(10, 14, 20)), 8)
    assert "ROSSI" in words(read_text(rgb))


def test_text_is_not_in_reprs():
    lines = read_text(place(card(["DOB 03/14/1962"]), 0))
    assert lines and "1962" not in repr(lines)


def test_wristband_end_to_end():
    import cv2

    scene = textset.render_wristband(seed=3)
    rules = PhiRules(allow=("Mercy General Hospital",))
    dets = TextDetector().detect(scene.image, rules)
    codes = classify_barcodes(find_barcodes(scene.image), [])
    labels = {d.label for d in dets}
    assert {"name", "dob", "mrn"} <= labels
    assert [c.label for c in codes] == ["barcode"] and codes[0].kind == RegionKind.BARCODE
    hospital = next(t for t in scene.texts if t.kind == "decoy")
    xs = [p[0] for p in hospital.polygon]
    ys = [p[1] for p in hospital.polygon]
    centre = (sum(xs) / 4, sum(ys) / 4)
    for d in dets:  # nothing redacts the middle of the hospital's name (what is filled:
        # the polygon when there is one, else the box)
        outline = d.polygon or (
            (d.box.x0, d.box.y0),
            (d.box.x1, d.box.y0),
            (d.box.x1, d.box.y1),
            (d.box.x0, d.box.y1),
        )
        inside = cv2.pointPolygonTest(np.array(outline, np.float32), centre, False) >= 0
        assert not inside, d.label


def textured_band(seed: int, angle: float, w: int = 1200, h: int = 800) -> textset.Scene:
    """A band on a dark table whose speckled texture stops a few pixels short of the band."""
    import cv2

    rng = np.random.default_rng(seed)
    plain = np.full((h, w, 3), (70, 32, 24), np.uint8)
    band = textset.render_wristband(plain, seed=seed, angle=angle).image.min(2) > 120
    shadow = cv2.dilate(band.astype(np.uint8), np.ones((29, 29), np.uint8)) > 0
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.5)
    specks = (grain > 0) & ~shadow
    specks[:, w // 2 :] = False  # the texture covers the band's left end (its text) only
    specks[: h // 4] = False
    photo = plain.copy()
    photo[specks] = (125, 80, 60)
    return textset.render_wristband(photo, seed=seed, angle=angle)


@pytest.mark.parametrize(("seed", "angle"), [(0, -12.0), (1, 8.0), (2, -12.0)])
def test_line_at_the_edge_of_a_band_on_a_textured_background(seed, angle):
    # The texture next to the band forms one big clutter region whose rotated rectangle covers
    # the band's top line without holding its glyphs; it must not hide that line as a duplicate.
    scene = textured_band(seed, angle)
    got = words(read_text(scene.image))
    assert "DOE" in got and "JANE" in got
    assert "00482913" in got


def test_overlap_shortcut_agrees_with_the_exact_intersection():
    import cv2

    from photoguard.detect.textregions import _overlap, _Region

    rng = np.random.default_rng(7)
    touching = 0
    for _ in range(400):
        a, b = (
            _Region(
                *rng.uniform(0, 200, 2),
                *sorted(rng.uniform(5, 120, 2))[::-1],
                rng.uniform(-90, 90),
                10.0,
            )
            for _ in range(2)
        )
        kind, pts = cv2.rotatedRectangleIntersection(
            ((a.cx, a.cy), (a.length, a.thickness), a.angle),
            ((b.cx, b.cy), (b.length, b.thickness), b.angle),
        )
        exact = (
            0.0
            if kind == cv2.INTERSECT_NONE or pts is None or len(pts) < 3
            else float(cv2.contourArea(cv2.convexHull(pts)))
        )
        touching += exact > 0
        assert _overlap(a, b) == pytest.approx(exact)
    assert 50 < touching < 350  # both the shortcut and the exact path were exercised

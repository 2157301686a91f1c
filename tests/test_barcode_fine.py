"""Thin-barred 1-D codes (modules of about one pixel) found enlarged, and text that is not."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from test_barcodes import _published

from photoguard.detect.barcodes import find_barcodes

LINES = ("HERNANDEZ, MARIA L", "DOB 1962-04-17", "Coll 2026-03-11 02:49")


def specimen_label(module: float, angle: float, code: bool = True, blur: float = 0.6):
    """A specimen label (three 11 px text lines, a Code 128 of ``module`` px modules and 14 px
    bars under them) on a grey noisy ground, turned ``angle`` degrees, softened, in a 1600 px
    photo; and the code's corners in the photo."""
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    bits = zxingcpp.create_barcode("S26031102", zxingcpp.BarcodeFormat.Code128)
    row = np.asarray(bits.to_image(scale=1, add_quiet_zones=False))[0].astype(np.float32)
    fine = cv2.resize(row[None, :], (round(row.size * module * 4), 1), interpolation=0)
    bars = cv2.resize(np.repeat(fine, 56, 0), (round(row.size * module), 14), cv2.INTER_AREA)
    im = Image.new("L", (260, 110), 245)
    draw = ImageDraw.Draw(im)
    for k, line in enumerate(LINES):
        draw.text((12, 8 + 15 * k), line, font=ImageFont.load_default(size=11), fill=30)
    label = np.asarray(im).astype(np.float32)
    h, w = bars.shape
    if code:
        label[62 : 62 + h, 14 : 14 + w] = np.minimum(
            label[62 : 62 + h, 14 : 14 + w], 30 + bars * 215
        )
    rng = np.random.default_rng(0)
    img = np.clip(rng.normal(120, 10, (1200, 1600)), 0, 255).astype(np.float32)
    img[500:610, 700:960] = label
    m = cv2.getRotationMatrix2D((830, 555), angle, 1.0)
    img = cv2.warpAffine(img, m, (1600, 1200), flags=cv2.INTER_LINEAR, borderValue=120)
    img = cv2.GaussianBlur(img, (0, 0), blur)
    img = np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    corners = np.array([(714, 562), (714 + w, 562), (714 + w, 562 + h), (714, 562 + h)], float)
    corners = corners @ m[:, :2].T + m[:, 2]
    return np.stack([img] * 3, -1), corners


@pytest.mark.parametrize(("module", "angle"), [(1.0, 12.0), (1.2, -25.0)])
def test_thin_barred_code_on_a_label_is_redacted(tmp_path, module, angle):
    """A Code 128 of 1-1.2 px modules beside its label's text: the coarse bar search's Sobel
    does not see its bars and zxing cannot read it (before: the barcode stage found nothing
    there); found in its enlarged place, it is located and redacted unread."""
    import cv2

    rgb, corners = specimen_label(module, angle)
    assert not zxingcpp.read_barcodes(rgb[..., 0])  # the control
    inside = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(corners).astype(np.int32)], 1)
    inside = cv2.erode(inside, np.ones((3, 3), np.uint8)).astype(bool)
    found = np.zeros(rgb.shape[:2], np.uint8)
    for hit in find_barcodes(rgb):  # the barcode stage itself locates it (not only the text's)
        if not hit.valid:
            cv2.fillPoly(found, [np.array(hit.polygon, np.int32)], 1)
    assert found[inside].mean() >= 0.7
    published = _published(tmp_path, rgb)
    before = rgb[..., 0].astype(float)
    edges = (np.abs(np.diff(before, axis=1)) > 30)[inside[:, 1:]]
    kept = (np.abs(np.diff(published, axis=1)) > 15)[inside[:, 1:]]
    assert edges.sum() > 100
    assert (edges & kept).sum() < 0.02 * edges.sum()  # the bars are gone


@pytest.mark.parametrize("blur", [0.6, 1.0, 1.3])
def test_label_text_without_a_code_is_no_code(blur):
    """The same label's text lines (11 px, softened), enlarged in their place, are no bars:
    their strokes are joined by arches, bowls and bars (``straight``)."""
    rgb, _ = specimen_label(1.0, 12.0, code=False, blur=blur)
    assert find_barcodes(rgb) == []

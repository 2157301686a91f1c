"""Barcode/QR detection with the real zxing-cpp on generated codes."""

from __future__ import annotations

import numpy as np
import pytest

zxingcpp = pytest.importorskip("zxingcpp")

from photoguard.detect.barcodes import ALLOWED, BarcodeHit, classify_barcodes, find_barcodes  # noqa: E402
from photoguard.types import Box, RegionKind  # noqa: E402


def code_image(content: str, fmt: str, scale: int) -> np.ndarray:
    code = zxingcpp.create_barcode(content, getattr(zxingcpp.BarcodeFormat, fmt))
    return np.asarray(code.to_image(scale=scale))


def scene(code: np.ndarray, at=(200, 150), size=(800, 600), angle: float = 0.0) -> np.ndarray:
    """The code pasted on a grey noisy background, optionally rotated about its centre."""
    import cv2

    rng = np.random.default_rng(0)
    img = np.clip(rng.normal(140, 12, (size[1], size[0])), 0, 255).astype(np.uint8)
    h, w = code.shape
    img[at[1] : at[1] + h, at[0] : at[0] + w] = code
    if angle:
        m = cv2.getRotationMatrix2D((at[0] + w / 2, at[1] + h / 2), angle, 1.0)
        img = cv2.warpAffine(img, m, size, borderValue=140)
    return np.stack([img] * 3, -1)


def test_code128_and_qr_found_with_boxes():
    rgb = scene(code_image("MRN00482913", "Code128", 2))
    qr = code_image("PT|4829133", "QRCode", 4)
    rgb[380 : 380 + qr.shape[0], 500 : 500 + qr.shape[1]] = qr[..., None]
    hits = find_barcodes(rgb)
    formats = sorted(h.format for h in hits)
    assert formats == ["Code128", "QRCode"]
    code = next(h for h in hits if h.format == "Code128")
    assert code.box.intersection(Box(200, 150, 200 + 286, 150 + 100)) > 0.6 * code.box.area
    assert "MRN" not in repr(code)  # content stays out of reprs and logs


def test_tilted_linear_code_is_found():
    rgb = scene(code_image("FIN20240012345", "Code128", 3), at=(150, 200), angle=27)
    hits = find_barcodes(rgb)
    assert [h.format for h in hits] == ["Code128"]


def test_inverted_and_small_image():
    code = 255 - code_image("https://example.org/x", "QRCode", 3)
    rgb = np.stack([np.pad(code, 20, constant_values=0)] * 3, -1)
    assert [h.format for h in find_barcodes(rgb)] == ["QRCode"]


def test_no_codes_in_noise():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 255, (400, 600, 3), dtype=np.uint8)
    assert find_barcodes(rgb) == []


def test_classify_allow_list_is_full_match():
    box = Box(0, 0, 10, 10)
    hits = [
        BarcodeHit("QRCode", (), box, "https://mercy.example.org/visit"),
        BarcodeHit("QRCode", (), box, "https://mercy.example.org.evil.test/?mrn=1"),
        BarcodeHit("Code128", (), box, "00482913"),
        BarcodeHit("Undecoded1D", (), box, "", valid=False),
    ]
    dets = classify_barcodes(hits, [r"https://mercy\.example\.org(/[\w/-]*)?"])
    assert [d.label for d in dets] == [ALLOWED, "qr", "barcode", "barcode"]
    assert all(d.kind == RegionKind.BARCODE for d in dets)
    assert all("mercy" not in d.label and "0048" not in d.label for d in dets)

"""The organisation's own, allow-listed QR code is kept in the published copy even where the
text stage sees it inside a blob of text it cannot read; the text around it is still covered.
Real detectors, real renderer, pixels checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zxingcpp

from photoguard import render
from photoguard.settings import load_settings
from photoguard.types import UNREADABLE, Action, Box, Region, RegionKind, Verdict

ORG = "https://www.mercy-general.example.org/visit"
ORG_PATTERN = r"https://www\.mercy-general\.example\.org(/.*)?"
LINES = (("St. Luke's Medical Center", (20, 40), 0.5), ("VOLUNTEER", (20, 90), 0.6))
"""The badge's printed lines: text, baseline origin on the card, OpenCV font scale."""


def _badge(size=(1600, 1200), angle=36.0):
    """A volunteer badge tilted on a green mottled cloth, blurred (sigma 1.5): two small lines
    of text above the organisation's QR code. Returns the RGB photo, the code's outline and
    the text lines' outlines (photo pixels)."""
    import cv2

    rng = np.random.default_rng(0)
    w, h = size
    mottle = cv2.resize(rng.normal(0, 1, (h // 8, w // 8)).astype(np.float32), (w, h))
    photo = np.stack([60 + 20 * mottle, 150 + 40 * mottle, 70 + 20 * mottle], -1)
    card = np.full((320, 440, 3), 235, np.uint8)
    texts = []
    for (text, (x, y), scale), font in zip(
        LINES, (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX), strict=True
    ):
        cv2.putText(card, text, (x, y), font, scale, (50, 50, 50), 2, cv2.LINE_AA)
        (tw, th), base = cv2.getTextSize(text, font, scale, 2)
        texts.append([(x, y - th), (x + tw, y - th), (x + tw, y + base), (x, y + base)])
    code = zxingcpp.create_barcode(ORG, zxingcpp.BarcodeFormat.QRCode)
    qr = np.asarray(code.to_image(scale=4, add_quiet_zones=False))
    qh, qw = qr.shape
    card[110 : 110 + qh, 40 : 40 + qw] = np.where(qr[..., None] > 127, 235, 20)
    x0, y0 = w // 2 - 220, h // 2 - 160
    photo[y0 : y0 + 320, x0 : x0 + 440] = card
    turn = cv2.getRotationMatrix2D((x0 + 220, y0 + 160), angle, 1.0)
    photo = cv2.warpAffine(photo.astype(np.float32), turn, (w, h), borderMode=cv2.BORDER_REFLECT)
    photo = np.clip(cv2.GaussianBlur(photo, (0, 0), 1.5), 0, 255).astype(np.uint8)

    def placed(points):
        pts = np.array([[(x + x0, y + y0) for x, y in points]], np.float32)
        return np.round(cv2.transform(pts, turn)[0]).astype(np.int32)

    outline = placed([(40, 110), (40 + qw, 110), (40 + qw, 110 + qh), (40, 110 + qh)])
    return photo, outline, [placed(t) for t in texts]


def _mask(shape, polygons):
    import cv2

    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, list(polygons), 1)
    return mask.astype(bool)


def test_allowed_code_inside_an_unreadable_text_blob_is_kept_and_the_text_covered(tmp_path):
    """The text stage sees the blurred badge (its lines and the code's modules) as blobs it
    cannot read; before, their fill painted over the code the policy keeps."""
    from PIL import Image

    from photoguard.pipeline import CheckContext, redact_paths

    src = tmp_path / "in"
    src.mkdir()
    photo, code, texts = _badge()
    Image.fromarray(photo).save(src / "badge.jpg", quality=55)
    original = np.asarray(Image.open(src / "badge.jpg").convert("RGB")).astype(int)
    settings = load_settings(None, barcode_allow=(ORG_PATTERN,))  # every stage: else review
    (result,) = redact_paths([src], tmp_path / "out", CheckContext(settings=settings))
    assert result.verdict is Verdict.REDACT and result.output is not None
    assert [r.label for r in result.regions if r.kind is RegionKind.BARCODE] == ["allowed"]
    published = np.asarray(Image.open(result.output).convert("RGB")).astype(int)
    change = np.abs(published - original).mean(axis=2)
    on_code = change[_mask(photo.shape, [code])]
    assert on_code.mean() < 3 and (on_code > 25).mean() < 0.01  # the code's pixels: untouched
    assert ORG in {c.text for c in zxingcpp.read_barcodes(published.astype(np.uint8))}
    for text in texts:  # each printed line is painted over
        assert (published[_mask(photo.shape, [text])].max(axis=1) <= 40).mean() >= 0.9


def _code_and_blob():
    """A QR code on a white card inside a box of noise strokes (a text blob): the kept code's
    region and an unreadable text region around both."""
    code = zxingcpp.create_barcode(ORG, zxingcpp.BarcodeFormat.QRCode)
    qr = np.asarray(code.to_image(scale=3, add_quiet_zones=True))
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 255, (300, 300), dtype=np.uint8)
    frame[80 : 80 + qr.shape[0], 80 : 80 + qr.shape[1]] = qr
    side = qr.shape[0]
    kept = Region(
        RegionKind.BARCODE, Box(80, 80, 80 + side, 80 + side), Action.KEEP, label="allowed"
    )
    blob = Region(RegionKind.TEXT, Box(40, 40, 260, 260), Action.REDACT, label=UNREADABLE)
    return np.stack([frame] * 3, -1), kept, blob


def test_unreadable_text_fill_spares_a_kept_code_and_verification_agrees():
    from photoguard.types import Detection, Findings, LoadedImage
    from photoguard.verify import coverage, missed

    original, kept, blob = _code_and_blob()
    policy = load_settings(None).policy
    painted = render.redact_frame(original, [blob, kept], policy)
    code = (slice(kept.box.y0, kept.box.y1), slice(kept.box.x0, kept.box.x1))
    assert np.array_equal(painted[code], original[code])
    ring = np.ones(original.shape[:2], bool)
    ring[code] = False
    ring[:36, :] = ring[264:, :] = ring[:, :36] = ring[:, 264:] = False
    assert (painted[ring] == render.FILL_RGB).all()
    covered = coverage(original, painted, [blob, kept], policy)
    assert not covered[code].any() and covered[ring].all()  # the same mask as the renderer's
    # the re-check sees the same blob again (the code's modules): it is accounted for
    image = LoadedImage(Path("c.png"), "0" * 64, "PNG", (original,))
    written = LoadedImage(image.path, image.sha256, "PNG", (painted,))
    again = Detection(RegionKind.TEXT, blob.box, 0.0, "text", label=UNREADABLE)
    found = Findings(width=300, height=300, text=(again,))
    assert not missed(image, written, [blob, kept], found, policy).detections
    # a PHI line there is covered whole, code or not; a thumbnail spares nothing
    phi = Region(RegionKind.TEXT, blob.box, Action.REDACT, label="name")
    assert (render.redact_frame(original, [phi, kept], policy)[code] == 0).all()
    assert (render.redact_frame(original, [blob, kept], policy, spare_codes=False)[code] == 0).all()


def test_a_verification_round_spares_the_kept_code_too():
    """A round paints only its new regions on the last round's copy (render.Redaction); the
    code kept by the first pass is spared by them as well (h1-007: the blob came in a round)."""
    from photoguard.types import LoadedImage

    original, kept, blob = _code_and_blob()
    image = LoadedImage(Path("c.png"), "0" * 64, "PNG", (original,))
    copy = render.Redaction(image, load_settings(None).policy)
    copy.paint([kept])
    (painted,) = copy.paint([kept, blob])
    code = (slice(kept.box.y0, kept.box.y1), slice(kept.box.x0, kept.box.x1))
    assert np.array_equal(painted[code], original[code])
    assert (painted[40:60, 40:260] == render.FILL_RGB).all()

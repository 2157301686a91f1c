"""Publishable copies at the pixel level: nothing leaks, metadata is gone, originals untouched,
and a killed run leaves only complete files."""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
from conftest import PHOTOGUARD, SAMPLE_FACES, SAMPLES, tree_hashes
from PIL import Image
from text_support import tesseract  # noqa: F401 (fixture)

from photoguard.pipeline import CheckContext, redact_paths
from photoguard.settings import load_settings
from photoguard.types import Box, RegionKind, Verdict


@pytest.fixture(scope="module")
def redacted(tmp_path_factory):
    src = tmp_path_factory.mktemp("in")
    for name in ("visit.jpg", "wristband.jpg", "launch-gps.jpg"):
        shutil.copy(SAMPLES / name, src / name)
    before = tree_hashes(src)
    out = tmp_path_factory.mktemp("out")
    ctx = CheckContext(settings=load_settings(None))
    results = {r.path.name: r for r in redact_paths([src], out, ctx)}
    assert tree_hashes(src) == before, "inputs must never change"
    return src, out, results


def _gray(path, box):
    im = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    return im[box.y0 : box.y1, box.x0 : box.x1]


VISIT_FACES = tuple(Box(*box) for box in SAMPLE_FACES["visit.jpg"])

WRISTBAND_TEXT = Box(270, 340, 530, 510)
"""Hand-labelled: the band's name, DOB and MRN lines (and the hospital's name below them)."""


def test_unconsented_faces_are_unrecoverable(redacted):
    from skimage.metrics import structural_similarity

    from photoguard.detect.faces import encode_faces

    src, out, results = redacted
    result = results["visit.jpg"]
    assert result.verdict is Verdict.REDACT and result.output is not None
    assert sum(r.kind is RegionKind.FACE for r in result.regions) == 2
    original = np.asarray(Image.open(src / "visit.jpg").convert("RGB"))
    output = np.asarray(Image.open(result.output).convert("RGB"))
    for box in VISIT_FACES:
        before, after = _gray(src / "visit.jpg", box), _gray(result.output, box)
        assert structural_similarity(before, after, data_range=255) < 0.35
    # Recognition is what matters: whatever is left must not be the same person.
    boxes = list(VISIT_FACES)
    for known, left in zip(encode_faces(original, boxes), encode_faces(output, boxes), strict=True):
        assert known is not None
        assert left is None or np.linalg.norm(known - left) > 0.6


def _read_band(path) -> str:
    """OCR the band the way a determined reader would: crop, enlarge, level the tilt."""
    import pytesseract

    b = WRISTBAND_TEXT
    crop = Image.open(path).convert("L").crop((b.x0, b.y0, b.x1, b.y1))
    crop = crop.resize((crop.width * 3, crop.height * 3), Image.LANCZOS)
    level = crop.rotate(8, resample=Image.BICUBIC, expand=True, fillcolor=255)
    return pytesseract.image_to_string(level, config="--psm 6").upper()


def test_phi_text_and_barcode_are_gone(redacted):
    import zxingcpp

    src, _out, results = redacted
    result = results["wristband.jpg"]
    assert result.output is not None
    phi = ("DOE", "JANE", "00482913", "1962")
    original = _read_band(src / "wristband.jpg")
    assert all(word in original for word in phi), original  # control: the reader reads them
    published = _read_band(result.output)
    assert not [word for word in phi if word in published], published
    assert zxingcpp.read_barcodes(Image.open(src / "wristband.jpg").convert("RGB"))  # control
    assert zxingcpp.read_barcodes(Image.open(result.output).convert("RGB")) == []


def test_outputs_carry_no_metadata_and_are_upright(redacted):
    _src, _out, results = redacted
    result = results["launch-gps.jpg"]
    assert result.verdict is Verdict.REDACT and result.output is not None  # GPS and EXIF
    with Image.open(result.output) as im:
        assert im.size == (640, 427)  # orientation baked into the pixels
        assert not im.getexif() and "exif" not in im.info and "xmp" not in im.info
        assert im.applist == [] or all(m != "APP1" for m, _ in im.applist)


def test_icc_profile_is_kept_and_exif_thumbnail_dropped(tmp_path):
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "camera"
    src = tmp_path / "in"
    src.mkdir()
    thumb = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(thumb, "JPEG")
    Image.new("RGB", (320, 240), (90, 140, 90)).save(
        src / "plain.jpg", quality=90, icc_profile=icc, exif=exif.tobytes()
    )
    ctx = CheckContext(settings=load_settings(None))
    [result] = list(redact_paths([src], tmp_path / "out", ctx))
    with Image.open(result.output) as im:
        assert im.info.get("icc_profile") == icc
        assert "exif" not in im.info


def test_killed_run_leaves_only_complete_files(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(8):
        shutil.copy(SAMPLES / "visit.jpg", src / f"visit-{i}.jpg")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            str(PHOTOGUARD),
            "redact",
            str(src),
            "--out",
            str(out),
            "--no-registry",
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if out.exists() and any(
            p.suffix == ".jpg" and not p.name.startswith(".") for p in out.iterdir()
        ):
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    visible = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert visible, "the run was killed before it wrote anything"
    for path in visible:
        with Image.open(path) as im:
            im.load()  # a truncated file would raise here
    # A second run completes the job and clears any hidden temp file left by the kill.
    subprocess.run(
        [
            str(PHOTOGUARD),
            "redact",
            str(src),
            "--out",
            str(out),
            "--no-registry",
            "--workers",
            "1",
        ],
        capture_output=True,
        check=False,
    )
    assert not list(out.rglob(".*.tmp"))
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        p.name for p in src.iterdir()
    )


def _tilted_card(lines, size, gap, angle):
    """A card with ``lines`` set ``gap`` px apart, turned by ``angle``; each line's ink mask."""
    from PIL import ImageDraw
    from text_support import font

    def card(texts):
        im = Image.new("L", (560, 200), 255)
        draw = ImageDraw.Draw(im)
        for i, text in enumerate(texts):
            if text:
                draw.text((40, 50 + i * (size + gap)), text, font=font(size), fill=0)
        return im.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)

    inks = []
    for i in range(len(lines)):
        alone = ["" if j != i else t for j, t in enumerate(lines)]
        inks.append(np.asarray(card(alone)) < 128)
    return card(lines).convert("RGB"), inks


@pytest.mark.usefixtures("tesseract")
def test_a_phi_line_fill_stops_short_of_the_published_line_below_it(tmp_path):
    """Issue #11, decoys kept: a DB line's outline is about twice as thick as its text and the
    renderer pads it, so on a tightly set, tilted card the DOB line's fill covered the top of
    "Visiting hours 9-5" below it. The fill now keeps the DOB's text band and stops short of
    the line the first pass published; the DOB is still wholly covered."""
    card, (phi_ink, decoy_ink) = _tilted_card(["DOB 03/14/1962", "Visiting hours 9-5"], 16, 4, 20)
    src = tmp_path / "in"
    src.mkdir()
    card.save(src / "card.png")
    [result] = redact_paths([src], tmp_path / "out", CheckContext(settings=load_settings(None)))
    assert result.verdict is Verdict.REDACT and result.output is not None, result.reasons
    assert any(r.label == "dob" for r in result.regions)
    original = np.asarray(card.convert("L"), dtype=np.int16)
    output = np.asarray(Image.open(result.output).convert("L"), dtype=np.int16)
    assert (output[phi_ink] < 60).all()  # every DOB pixel is under the fill
    changed = np.abs(output - original)[decoy_ink] > 60
    assert changed.mean() < 0.03, f"{changed.mean():.0%} of the published line painted over"


def test_a_fill_is_trimmed_only_off_a_published_line_beside_it_never_into_its_text():
    from photoguard.lines import CORE, beside_only, clear_of_read
    from photoguard.types import Action, Detection, Region

    quad = ((10, 100), (210, 100), (210, 120), (10, 120))  # a DB outline 20 px thick
    phi = Region(RegionKind.TEXT, Box(10, 100, 211, 121), Action.REDACT, label="dob", polygon=quad)

    def line(y0, y1, x0=10, x1=210):
        poly = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
        return Detection(RegionKind.TEXT, Box(x0, y0, x1 + 1, y1 + 1), 0.0, "text", polygon=poly)

    below = line(118, 136)  # DB outlines of tightly set lines overlap
    [trimmed] = [clear_of_read(phi, beside_only([below], [phi]), 4)]
    ys = sorted({y for _, y in trimmed.polygon})
    band = (120 - 100) * CORE / 2
    assert ys[0] == 100 and 110 + band < ys[1] < 120  # the bottom edge moved up, not past the band
    # a published line whose text band meets the PHI's (the same text, read safe in another
    # crop) trims nothing; nor does one far along the line, one across it, or any line for an
    # unreadable region
    assert beside_only([line(104, 124)], [phi]) == []
    assert clear_of_read(phi, [line(122, 140, 300, 400)], 4) == phi
    assert clear_of_read(phi, [line(60, 160, 100, 120)], 4) == phi
    unread = dataclasses.replace(phi, label="unreadable")
    assert clear_of_read(unread, [below], 4) == unread

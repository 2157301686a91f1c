"""Verification of a written copy: it judges the pixels the copy really covers, redacts what
the first pass missed until the copy is clean, and needs no face encodings. Pixels checked."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
from conftest import SAMPLES
from PIL import Image

from photoguard import pipeline, render
from photoguard.errors import ConfigError
from photoguard.pipeline import CheckContext, redact_paths
from photoguard.settings import load_settings
from photoguard.types import RegionKind, Verdict

PHI = ("DOE", "JANE", "00482913", "1962")


def _folder(tmp_path, name):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES / name, src / name)
    return src


def _face_context():
    return CheckContext(settings=load_settings(None))


def _recognisable(original, output, boxes) -> list[bool]:
    from photoguard.detect.faces import encode_faces

    before = encode_faces(original, boxes)
    after = encode_faces(output, boxes)
    return [
        a is not None and np.linalg.norm(b - a) <= 0.6 for b, a in zip(before, after, strict=True)
    ]


def test_negative_text_padding_cannot_publish_readable_phi(tmp_path):
    import pytesseract
    import zxingcpp

    config = tmp_path / "photoguard.toml"
    config.write_text("[policy]\ntext_padding = -30\n")
    try:
        settings = load_settings(config)
    except ConfigError:  # refused at load: build it anyway, as a bug elsewhere could
        # Policy validates itself too: bypass it as only a bug could (or a frozen-field hack).
        base = load_settings(None)
        policy = dataclasses.replace(base.policy)
        object.__setattr__(policy, "text_padding", -30)
        settings = dataclasses.replace(base, policy=policy)
    [result] = redact_paths(
        [_folder(tmp_path, "wristband.jpg")], tmp_path / "out", CheckContext(settings=settings)
    )
    if result.output is None:
        assert result.verdict is Verdict.BLOCK and "verification" in result.reasons[-1]
        assert not any(p.suffix == ".jpg" for p in (tmp_path / "out").iterdir())
        return
    output = Image.open(result.output).convert("RGB")
    text = pytesseract.image_to_string(output).upper()
    assert not [phi for phi in PHI if phi in text]
    assert zxingcpp.read_barcodes(output) == []


def test_a_renderer_that_paints_nothing_publishes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(
        render, "redact_frame", lambda pixels, regions, policy, seed=0: pixels.copy()
    )
    [result] = redact_paths([_folder(tmp_path, "visit.jpg")], tmp_path / "out", _face_context())
    assert result.output is None and result.verdict is Verdict.BLOCK
    assert "verification still found 2 face(s)" in result.reasons[-1]
    assert [p.name for p in (tmp_path / "out").iterdir()] == [".photoguard-output"]


def test_a_face_the_first_pass_missed_is_redacted_in_verification_without_encoding(
    tmp_path, monkeypatch
):
    from photoguard.detect import faces as face_module

    real_find, real_encode, encoded = pipeline.find, face_module.encode_faces, []

    def first_pass_misses_a_face(image, ctx, match=True):
        found = real_find(image, ctx, match)
        if match:  # the first pass (with matching); the re-check runs without
            found = dataclasses.replace(found, faces=found.faces[:1])
        return found

    def counted(frame, boxes):
        encoded.append(len(boxes))
        return real_encode(frame, boxes)

    monkeypatch.setattr(pipeline, "find", first_pass_misses_a_face)
    monkeypatch.setattr(face_module, "encode_faces", counted)
    src = _folder(tmp_path, "visit.jpg")
    ctx = dataclasses.replace(_face_context(), enrolled=())  # a registry with nobody enrolled
    [result] = redact_paths([src], tmp_path / "out", ctx)
    assert result.verdict is Verdict.REDACT and result.output is not None, result.reasons
    assert "verification found 1 more region(s)" in result.reasons[-1]
    assert encoded == [2]  # the first pass encoded both faces; verification encoded none
    faces = [r for r in result.regions if r.kind is RegionKind.FACE]
    assert len(faces) == 2
    original = np.asarray(Image.open(src / "visit.jpg").convert("RGB"))
    output = np.asarray(Image.open(result.output).convert("RGB"))
    assert _recognisable(original, output, [f.box for f in faces]) == [False, False]


@pytest.mark.parametrize("style", ["fill", "pixelate", "blur"])
def test_coverage_counts_only_pixels_that_changed(style):
    from photoguard.types import Action, Box, Region
    from photoguard.verify import coverage

    rng = np.random.default_rng(0)
    original = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    base = load_settings(None).policy
    policy = dataclasses.replace(base, text_style=render.Style(style), text_padding=0)
    region = Region(RegionKind.TEXT, Box(20, 30, 100, 60), Action.REDACT)
    painted = render.redact_frame(original, [region], policy)
    covered = coverage(original, painted, [region], policy)
    assert covered[30:60, 20:100].all() and covered.sum() == 80 * 30
    assert not coverage(original, original.copy(), [region], policy).any()

"""Rendering at the pixel level: every frame of a copy is redacted, and every JPEG encodes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import SAMPLES
from PIL import Image

from photoguard import render
from photoguard.load import load_image
from photoguard.pipeline import CheckContext, check_file, redact_paths
from photoguard.settings import load_settings
from photoguard.types import RegionKind, Verdict

ASTRONAUT_FACE = (184, 62, 269, 175)
"""Eileen Collins' face in samples/astronaut.jpg (x0, y0, x1, y1), labelled by hand."""


@pytest.fixture(scope="module")
def two_page_tiff(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiff")
    page = Image.open(SAMPLES / "astronaut.jpg").convert("RGB")
    path = folder / "pages.tif"
    page.save(path, save_all=True, append_images=[page.copy()], compression="tiff_deflate")
    return path


def _frames(path):
    with Image.open(path) as im:
        out = []
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            out.append(np.asarray(im.convert("RGB"), dtype=np.float64))
        return out


def test_identical_frames_each_get_the_regions_of_the_frame_they_repeat(two_page_tiff):
    result = check_file(two_page_tiff, CheckContext(settings=load_settings(None)))
    faces = [r for r in result.regions if r.kind is RegionKind.FACE]
    assert sorted(r.frame for r in faces) == [0, 1]
    assert faces[0].box == faces[1].box


def test_identical_pages_are_both_redacted_in_the_copy(two_page_tiff, tmp_path):
    ctx = CheckContext(settings=load_settings(None))
    [result] = redact_paths([two_page_tiff], tmp_path / "out", ctx)
    assert result.verdict is Verdict.REDACT, result.reasons
    assert result.output is not None, result.reasons
    before, after = _frames(two_page_tiff), _frames(result.output)
    assert len(after) == 2
    x0, y0, x1, y1 = ASTRONAUT_FACE
    for page_before, page_after in zip(before, after, strict=True):
        face_before = page_before[y0:y1, x0:x1]
        face_after = page_after[y0:y1, x0:x1]
        assert np.abs(face_before - face_after).mean() > 20  # covered, on every page
        # the rest of the page is the photo, not a blank
        assert np.abs(page_before[400:, :100] - page_after[400:, :100]).mean() < 3


def test_a_jpeg_that_broke_the_optimizing_encoder_is_written(corpus, tmp_path):
    path = corpus / "images" / "dlib__ffmpeg_giraffe.jpg"
    image = load_image(path)
    data = render.encode(list(image.frames), image)
    with Image.open(io.BytesIO(data)) as written:
        assert written.format == "JPEG" and written.size == (image.width, image.height)
    ctx = CheckContext(settings=load_settings(None))
    [result] = redact_paths([path], tmp_path / "out", ctx)
    assert result.verdict is not Verdict.BLOCK, result.reasons
    assert result.output is not None and result.output.is_file()


@pytest.mark.parametrize(("face", "text"), [("pixelate", "fill"), ("blur", "pixelate")])
def test_regions_painted_on_an_earlier_round_give_the_pixels_of_painting_them_all(
    two_page_tiff, face, text
):
    """Verification paints a round's new regions on top of the last round's copy: the pixels
    are exactly those of rendering every region from the start (noise stream included), on
    every frame, with overlapping and skipped regions."""
    import dataclasses

    from photoguard.settings import MaskShape, Style
    from photoguard.types import Action, Box, Region

    image = load_image(two_page_tiff)
    policy = dataclasses.replace(
        load_settings(None).policy,
        face_style=Style(face), text_style=Style(text), face_mask=MaskShape.ELLIPSE,
    )  # fmt: skip
    regions = [
        Region(RegionKind.FACE, Box(*ASTRONAUT_FACE), Action.REDACT),
        Region(RegionKind.TEXT, Box(10, 10, 120, 40), Action.REDACT, frame=1),
        Region(RegionKind.FACE, Box(200, 80, 300, 200), Action.KEEP),
        Region(RegionKind.FACE, Box(150, 40, 260, 160), Action.REDACT),  # overlaps the first
        Region(RegionKind.TEXT, Box(5, 200, 300, 230), Action.REDACT, frame=1),
        Region(RegionKind.FACE, Box(30, 250, 90, 320), Action.REDACT, frame=1),
    ]
    whole = render.redact_image(image, regions, policy)
    copy = render.Redaction(image, policy)
    for done in (2, 4, 4, 6):
        frames = copy.paint(regions[:done])
        assert [f.tobytes() for f in frames] == [
            f.tobytes() for f in render.redact_image(image, regions[:done], policy)
        ]
    assert [f.tobytes() for f in frames] == [f.tobytes() for f in whole]
    assert not np.array_equal(frames[0], image.frames[0])
    with pytest.raises(ValueError, match="only adds regions"):
        copy.paint(regions[1:])

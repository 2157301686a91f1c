"""The load stage on a generated format zoo: every format decodes, every broken file is named."""

from __future__ import annotations

import builtins
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from zoo import BACKGROUND, HIDDEN, MARKER, H, W, make_zoo, png_declaring

from photoguard import errors
from photoguard.load import ACCEPTED_FORMATS, load_image
from photoguard.types import LoadedImage


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("zoo")
    return folder, make_zoo(folder)


def _load(zoo: tuple[Path, dict[str, str]], name: str, **limits: int) -> LoadedImage:
    return load_image(zoo[0] / name, **limits)


def _near(pixel: np.ndarray, colour: tuple[int, ...], tol: int = 30) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(colour)) <= tol))


def test_every_zoo_file_has_its_expected_outcome(zoo: tuple[Path, dict[str, str]]) -> None:
    folder, expected = zoo
    assert len(expected) > 80
    wrong = {}
    for name, outcome in expected.items():
        path = folder / name
        before = (path.read_bytes(), path.stat().st_mtime_ns)
        try:
            loaded = load_image(path)
            got = "ok"
        except errors.UnreadableImage as err:
            got = type(err).__name__
            _assert_clean_message(name, str(err))
        else:
            _assert_well_formed(loaded, before[0])
        assert (path.read_bytes(), path.stat().st_mtime_ns) == before, f"{name} was modified"
        if got != outcome:
            wrong[name] = (outcome, got)
    assert wrong == {}


def _assert_well_formed(loaded: LoadedImage, data: bytes) -> None:
    assert loaded.sha256 == hashlib.sha256(data).hexdigest()
    assert loaded.format in ACCEPTED_FORMATS
    assert loaded.frames
    for frame in loaded.frames:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        assert not frame.flags.writeable


def _assert_clean_message(name: str, message: str) -> None:
    assert message.startswith(f"{name}: ")
    assert "\n" not in message and "Traceback" not in message
    assert len(message) < 240


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("photo.jpg", "JPEG"),
        ("progressive.jpg", "JPEG"),
        ("photo.png", "PNG"),
        ("png_named.jpg", "PNG"),
        ("photo.bmp", "BMP"),
        ("lossy.webp", "WEBP"),
        ("lossless.webp", "WEBP"),
        ("multipage.tif", "TIFF"),
        ("photo.heic", "HEIF"),
        ("stereo.mpo", "MPO"),
    ],
)
def test_format_is_identified_by_content_and_pixels_survive(zoo, name: str, fmt: str) -> None:
    loaded = _load(zoo, name)
    assert loaded.format == fmt
    assert (loaded.width, loaded.height) == (W, H)
    frame = loaded.frames[0]
    assert _near(frame[2, 2], MARKER, 40)
    assert _near(frame[H - 3, W - 3], BACKGROUND, 40)


def test_orientation_6_rotates_marker_to_top_right(zoo) -> None:
    loaded = _load(zoo, "orient6.jpg")
    assert (loaded.width, loaded.height) == (H, W)
    assert loaded.metadata.orientation == 6
    frame = loaded.frames[0]
    assert _near(frame[2, H - 3], MARKER)
    assert _near(frame[2, 2], BACKGROUND)


def test_orientation_3_rotates_marker_to_bottom_right(zoo) -> None:
    loaded = _load(zoo, "orient3.jpg")
    assert (loaded.width, loaded.height) == (W, H)
    assert loaded.metadata.orientation == 3
    frame = loaded.frames[0]
    assert _near(frame[H - 3, W - 3], MARKER)
    assert _near(frame[2, 2], BACKGROUND)


def test_inventory_flags_gps_thumbnail_iptc_comment_without_values(zoo) -> None:
    meta = _load(zoo, "gps_thumb.jpg").metadata
    assert (meta.exif, meta.gps, meta.exif_thumbnail, meta.iptc, meta.comment) == (True,) * 5
    assert not meta.xmp
    assert set(meta.findings()) == {"exif", "gps", "exif_thumbnail", "iptc", "comment"}
    assert "patient" not in repr(meta)


def test_inventory_of_a_plain_photo_is_empty(zoo) -> None:
    meta = _load(zoo, "photo.jpg").metadata
    assert meta.findings() == () and meta.orientation == 1 and not meta.icc_profile


@pytest.mark.parametrize(
    ("name", "flag"),
    [("xmp.jpg", "xmp"), ("text_chunk.png", "comment"), ("icc.jpg", "icc_profile")],
)
def test_inventory_flags(zoo, name: str, flag: str) -> None:
    assert getattr(_load(zoo, name).metadata, flag)


def test_icc_profile_bytes_are_kept(zoo) -> None:
    from PIL import Image

    loaded = _load(zoo, "icc.jpg")
    with Image.open(zoo[0] / "icc.jpg") as im:
        assert loaded.icc_profile == im.info["icc_profile"]


@pytest.mark.parametrize("name", ["rgba_hidden.png", "palette_transparent.png"])
def test_alpha_does_not_hide_stored_colour(zoo, name: str) -> None:
    frame = _load(zoo, name).frames[0]
    assert tuple(frame[H - 5, W - 5]) == HIDDEN  # fully transparent, colour as stored


def test_la_keeps_grey_under_zero_alpha(zoo) -> None:
    assert tuple(_load(zoo, "la.png").frames[0][5, 5]) == (123, 123, 123)


@pytest.mark.parametrize("name", ["gray16.png", "gray16.tif", "float.tif", "int32.tif"])
def test_wide_grey_is_scaled_not_clipped(zoo, name: str) -> None:
    row = _load(zoo, name).frames[0][0, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == 255
    assert np.all(np.diff(row) >= 0)
    assert 100 < row[W // 2] < 155  # a clip to 255 would saturate the middle


def test_16_bit_rgb_png_keeps_high_byte(zoo) -> None:
    assert tuple(_load(zoo, "rgb16.png").frames[0][0, 0]) == (255, 128, 0)


@pytest.mark.parametrize("name", ["cmyk.jpg", "cmyk.tif"])
def test_cmyk_cyan_becomes_rgb_cyan(zoo, name: str) -> None:
    loaded = _load(zoo, name)
    assert loaded.source_mode == "CMYK"
    assert _near(loaded.frames[0][H // 2, W // 2], (0, 255, 255), 10)


def test_lab_mid_grey_becomes_rgb_grey(zoo) -> None:
    r, g, b = _load(zoo, "lab.tif").frames[0][0, 0].astype(int)
    assert abs(r - g) < 8 and abs(g - b) < 8 and 100 < r < 140


@pytest.mark.parametrize("name", ["bilevel.png", "bilevel.tif"])
def test_bilevel_becomes_black_and_white(zoo, name: str) -> None:
    frame = _load(zoo, name).frames[0]
    assert set(np.unique(frame).tolist()) <= {0, 255}


def test_multipage_tiff_loads_every_page(zoo) -> None:
    loaded = _load(zoo, "multipage.tif")
    assert [f.shape for f in loaded.frames] == [(H, W, 3), (20, 30, 3), (20, 30, 3)]
    assert _near(loaded.frames[1][15, 25], (0, 0, 255), 5)
    assert _near(loaded.frames[2][15, 25], (9, 9, 9), 5)


@pytest.mark.parametrize("name", ["animated.gif", "animated.webp", "animated.png"])
def test_animations_load_every_distinct_frame(zoo, name: str) -> None:
    loaded = _load(zoo, name)
    assert len(loaded.frames) == 3 and len(loaded.durations_ms) == 3
    corners = [tuple(f[H - 2, W - 2]) for f in loaded.frames]
    assert len(set(corners)) == 3
    assert _near(loaded.frames[2][H - 2, W - 2], (250, 250, 0), 40)


def test_gif_frames_are_composited_as_a_viewer_shows_them(zoo) -> None:
    loaded = _load(zoo, "composited.gif")
    assert loaded.durations_ms == (50, 70)
    second = loaded.frames[1]
    assert tuple(second[20, 30]) == (255, 255, 255)
    assert tuple(second[2, 2]) == (0, 0, 255)  # transparent: frame 0 shows through


def test_mpo_loads_every_image(zoo) -> None:
    loaded = _load(zoo, "stereo.mpo")
    assert len(loaded.frames) == 2 and loaded.durations_ms == ()
    assert _near(loaded.frames[1][2, 2], (0, 0, 255), 40)


def test_per_frame_limit_is_checked_before_decoding(zoo) -> None:
    with pytest.raises(
        errors.DecompressionBomb, match=r"frame 0 declares 60x40 pixels \(limit 100\)"
    ):
        _load(zoo, "photo.jpg", max_pixels=100)


@pytest.mark.parametrize(("width", "height", "limit"), [(8000, 10000, 70_000_000), (300, 300, 999)])
def test_declared_size_over_the_limit_is_a_bomb_before_decoding(
    tmp_path: Path, width: int, height: int, limit: int
) -> None:
    """Under PIL's own limit (first) and between PIL's warning and error limits (zoo)."""
    path = tmp_path / "declares.png"
    path.write_bytes(png_declaring(width, height))
    with pytest.raises(errors.DecompressionBomb, match=f"declares {width}x{height} pixels"):
        load_image(path, max_pixels=limit)


def test_a_bomb_beyond_pils_own_guard_names_our_limit(tmp_path: Path) -> None:
    """PIL refuses 40000x40000 at open, before our check: the reason still gives our limit."""
    path = tmp_path / "huge.png"
    path.write_bytes(png_declaring(40000, 40000))
    with pytest.raises(errors.DecompressionBomb) as caught:
        load_image(path, max_pixels=120_000_000)
    assert str(caught.value) == (
        "huge.png: declares 1600000000 pixels (decompression-bomb guard, limit 120000000)"
    )


def test_total_limit_stops_long_animations(zoo) -> None:
    _load(zoo, "animated.gif", max_total_pixels=3 * W * H)
    with pytest.raises(errors.DecompressionBomb, match="in total"):
        _load(zoo, "animated.gif", max_total_pixels=3 * W * H - 1)


def test_file_size_limit(zoo) -> None:
    with pytest.raises(errors.DecompressionBomb, match="larger than 100 bytes"):
        _load(zoo, "photo.png", max_bytes=100)


def test_pil_globals_are_untouched(zoo) -> None:
    from PIL import Image, ImageFile

    before = Image.MAX_IMAGE_PIXELS
    for name in ("bomb.png", "bomb_144mp.png", "bomb.gif", "truncated_photo_728.jpg", "photo.jpg"):
        with pytest.raises(errors.UnreadableImage) if name != "photo.jpg" else _nothing():
            _load(zoo, name)
    assert before == Image.MAX_IMAGE_PIXELS
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


SILENT_CUTS = [("photo.png", 12), ("animated.png", 12), ("animated.gif", 1), ("composited.gif", 2)]


@pytest.mark.parametrize(("name", "cut"), SILENT_CUTS)
def test_truncations_pil_decodes_silently_are_refused(
    zoo, tmp_path: Path, name: str, cut: int
) -> None:
    """PIL decodes every frame of these without error; the structure walk must catch them."""
    from PIL import Image, ImageSequence

    data = (zoo[0] / name).read_bytes()[:-cut]
    with Image.open(io.BytesIO(data)) as im:
        for frame in ImageSequence.Iterator(im):
            frame.load()  # no error from PIL itself
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(errors.TruncatedImage):
        load_image(path)


def test_missing_file_directory_and_fifo_are_unreadable(tmp_path: Path) -> None:
    with pytest.raises(errors.UnreadableImage, match="missing.jpg: file not found"):
        load_image(tmp_path / "missing.jpg")
    with pytest.raises(errors.UnreadableImage, match="is a directory|not a regular file"):
        load_image(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.jpg")
        with pytest.raises(errors.UnreadableImage, match="pipe.jpg: not a regular file"):
            load_image(tmp_path / "pipe.jpg")


def test_the_path_is_opened_once(zoo, monkeypatch: pytest.MonkeyPatch) -> None:
    target = zoo[0] / "stereo.mpo"
    opened = []

    def counting(real):  # type: ignore[no-untyped-def]
        def wrapper(file, *args, **kwargs):  # type: ignore[no-untyped-def]
            if isinstance(file, (str, Path)) and Path(file) == target:
                opened.append(real.__name__)
            return real(file, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(builtins, "open", counting(builtins.open))
    monkeypatch.setattr(io, "open", counting(io.open))
    monkeypatch.setattr(os, "open", counting(os.open))
    load_image(target)
    assert len(opened) == 1


def test_importing_load_imports_neither_pil_nor_heif() -> None:
    heavy = "{'PIL', 'pillow_heif', 'numpy'}"
    code = f"import sys, photoguard.load; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_mutated_files_load_or_raise_a_named_error(zoo, tmp_path: Path) -> None:
    """Fail closed: flipped bytes never escape as anything but a one-line named error."""
    import random

    rng = random.Random(20261122)
    folder, expected = zoo
    names = sorted(n for n, outcome in expected.items() if outcome == "ok")
    for i in range(300):
        name = names[i % len(names)]
        data = bytearray((folder / name).read_bytes())
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / f"m{i}_{name}"
        path.write_bytes(bytes(data))
        try:  # a small limit: a flipped header byte must not make the test allocate 360 MB
            load_image(path, max_pixels=1_000_000)
        except errors.UnreadableImage as err:
            _assert_clean_message(path.name, str(err))


@pytest.mark.parametrize(
    ("mode", "value", "rgb"),
    [
        ("RGBa", (100, 150, 200, 0), (100, 150, 200)),  # stored colour under zero alpha
        ("La", (100, 0), (100, 100, 100)),
        ("I;16B", 0xFF00, (255, 255, 255)),
        ("F", -5.0, (0, 0, 0)),  # constant out-of-range float: no division by zero
        ("RGBX", (1, 2, 3, 4), (1, 2, 3)),
        ("YCbCr", (128, 128, 128), (128, 128, 128)),
    ],
)
def test_rare_modes_normalise_to_rgb(mode: str, value: object, rgb: tuple[int, int, int]) -> None:
    from PIL import Image

    from photoguard.load import _to_rgb

    frame = _to_rgb(Image.new(mode, (3, 2), value))  # type: ignore[arg-type]
    assert frame.shape == (2, 3, 3) and frame.dtype == np.uint8
    assert tuple(frame[1, 2]) == rgb

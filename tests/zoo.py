"""Generate the format zoo: every accepted format and every way a file can be broken.

``make_zoo(folder)`` writes the files and returns ``{file name: expected outcome}``, where the
outcome is ``"ok"`` or the name of the error class ``load_image`` must raise. Nothing binary is
committed; every file is built here from Pillow, pillow-heif and a few hand-written headers.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

W, H = 60, 40
"""Size of the asymmetric test pattern; the marker sits in its stored top-left corner."""
MARKER = (255, 0, 0)
BACKGROUND = (40, 160, 40)
HIDDEN = (200, 30, 200)
"""Colour drawn under fully transparent pixels: detection must still see it."""


def pattern(size: tuple[int, int] = (W, H), marker: tuple[int, int, int] = MARKER) -> Image.Image:
    """A green image with a 16x12 marker block in the top-left corner."""
    im = Image.new("RGB", size, BACKGROUND)
    ImageDraw.Draw(im).rectangle((0, 0, 15, 11), fill=marker)
    return im


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    """Encode ``im`` with Pillow; HEIF through pillow-heif."""
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A complete, tiny PNG whose header declares ``width`` x ``height`` (a bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def gif_declaring(width: int, height: int) -> bytes:
    """A complete GIF with a ``width`` x ``height`` canvas and a 1x1 image."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00" * 6
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return header + image + b"\x3b"


def _tiff_ifd(entries: list[tuple[int, int, int, bytes]], start: int, next_ifd: int) -> bytes:
    """Little-endian IFD at offset ``start``; entries are (tag, type, count, value<=4 bytes)."""
    out = struct.pack("<H", len(entries))
    for tag, typ, count, value in sorted(entries):
        out += struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\x00")
    return out + struct.pack("<I", next_ifd)


def exif_with_gps_and_thumbnail(thumbnail: bytes) -> bytes:
    """An EXIF block: IFD0 -> GPS IFD (latitude ref), IFD1 -> an embedded JPEG thumbnail."""
    ifd0_at, gps_at = 8, 8 + 2 + 12 + 4
    ifd1_at = gps_at + 2 + 12 + 4
    thumb_at = ifd1_at + 2 + 2 * 12 + 4
    ifd0 = _tiff_ifd([(0x8825, 4, 1, struct.pack("<I", gps_at))], ifd0_at, ifd1_at)
    gps = _tiff_ifd([(1, 2, 2, b"N\x00")], gps_at, 0)
    ifd1 = _tiff_ifd(
        [
            (0x0201, 4, 1, struct.pack("<I", thumb_at)),
            (0x0202, 4, 1, struct.pack("<I", len(thumbnail))),
        ],
        ifd1_at,
        0,
    )
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", ifd0_at) + ifd0 + gps + ifd1 + thumbnail


def with_segments(jpeg: bytes, *segments: tuple[int, bytes]) -> bytes:
    """Insert APPn/COM segments (marker, body) right after a JPEG's SOI."""
    extra = b"".join(bytes([0xFF, m]) + struct.pack(">H", len(b) + 2) + b for m, b in segments)
    return jpeg[:2] + extra + jpeg[2:]


def iptc_segment() -> tuple[int, bytes]:
    """An APP13 Photoshop block holding one IPTC-IIM record (0x0404)."""
    record = b"\x1c\x02\x05\x00\x04test"
    block = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(record)) + record
    return 0xED, b"Photoshop 3.0\x00" + block


def _frames(
    colours: list[tuple[int, int, int]], size: tuple[int, int] = (W, H)
) -> list[Image.Image]:
    out = []
    for i, colour in enumerate(colours):
        im = Image.new("RGB", size, colour)
        ImageDraw.Draw(im).rectangle((4 * i, 4 * i, 4 * i + 10, 4 * i + 10), fill=MARKER)
        out.append(im)
    return out


def _composited_gif() -> bytes:
    """Frame 0 solid blue; frame 1 mostly transparent with a white square, not disposed."""
    first = Image.new("P", (W, H), 1)
    first.putpalette([0, 0, 0, 0, 0, 255, 255, 255, 255] + [0] * 759)
    second = Image.new("P", (W, H), 0)
    second.putpalette(first.getpalette())
    ImageDraw.Draw(second).rectangle((20, 10, 39, 29), fill=2)
    return encode(
        first, "GIF", save_all=True, append_images=[second], transparency=0, disposal=1,
        duration=[50, 70], optimize=False,
    )  # fmt: skip


def _hidden_under_alpha(mode: str) -> bytes:
    """A PNG whose colour under fully transparent alpha is ``HIDDEN``."""
    rgba = Image.new("RGBA", (W, H), (*HIDDEN, 0))
    if mode == "LA":
        return encode(Image.new("LA", (W, H), (123, 0)), "PNG")
    if mode == "P":
        im = Image.new("P", (W, H), 0)
        im.putpalette([*HIDDEN, *BACKGROUND] + [0] * 762)
        ImageDraw.Draw(im).rectangle((0, 0, 9, 9), fill=1)
        return encode(im, "PNG", transparency=0)
    return encode(rgba, "PNG")


def _tiff_modes() -> dict[str, bytes]:
    import numpy as np

    ramp16 = np.tile(np.linspace(0, 65535, W, dtype=np.uint16), (H, 1))
    ramp_f = np.tile(np.linspace(0, 1, W, dtype=np.float32), (H, 1))
    return {
        "cmyk.tif": encode(Image.new("CMYK", (W, H), (255, 0, 0, 0)), "TIFF"),
        "gray16.tif": encode(Image.fromarray(ramp16), "TIFF"),
        "float.tif": encode(Image.fromarray(ramp_f), "TIFF"),
        "int32.tif": encode(Image.fromarray(ramp16.astype(np.int32)), "TIFF"),
        "lab.tif": encode(Image.new("LAB", (W, H), (50 * 255 // 100, 128, 128)), "TIFF"),
        "multipage.tif": encode(
            pattern(),
            "TIFF",
            save_all=True,
            append_images=_frames([(0, 0, 255), (9, 9, 9)], (30, 20)),
        ),
        "bilevel.tif": encode(pattern().convert("1"), "TIFF", compression="group4"),
    }


def good_files() -> dict[str, bytes]:
    """Every file that must load."""
    import numpy as np

    ramp16 = np.tile(np.linspace(0, 65535, W, dtype=np.uint16), (H, 1))
    base = pattern()
    thumb = encode(pattern((16, 12)), "JPEG")
    anim = _frames([(0, 0, 255), (0, 200, 0), (250, 250, 0)])
    files = {
        "photo.jpg": encode(base, "JPEG", quality=95),
        "progressive.jpg": encode(base, "JPEG", progressive=True),
        "cmyk.jpg": encode(Image.new("CMYK", (W, H), (255, 0, 0, 0)), "JPEG"),
        "gray.jpg": encode(base.convert("L"), "JPEG"),
        "trailing_garbage.jpg": encode(base, "JPEG") + b"\x00" * 32,
        "photo.png": encode(base, "PNG"),
        "gray16.png": encode(Image.fromarray(ramp16), "PNG"),
        "rgb16.png": _rgb16_png(),
        "palette_transparent.png": _hidden_under_alpha("P"),
        "rgba_hidden.png": _hidden_under_alpha("RGBA"),
        "la.png": _hidden_under_alpha("LA"),
        "bilevel.png": encode(base.convert("1"), "PNG"),
        "text_chunk.png": encode(base, "PNG", pnginfo=_pnginfo()),
        "animated.png": encode(anim[0], "PNG", save_all=True, append_images=anim[1:], duration=40),
        "photo.bmp": encode(base, "BMP"),
        "lossy.webp": encode(base, "WEBP", quality=90),
        "lossless.webp": encode(base, "WEBP", lossless=True),
        "animated.webp": encode(
            anim[0], "WEBP", save_all=True, append_images=anim[1:], lossless=True, duration=60
        ),
        "animated.gif": encode(anim[0], "GIF", save_all=True, append_images=anim[1:], duration=100),
        "composited.gif": _composited_gif(),
        "photo.heic": encode(base, "HEIF", quality=90),
        "stereo.mpo": encode(
            base, "MPO", save_all=True, append_images=[pattern(marker=(0, 0, 255))]
        ),
        "orient6.jpg": encode(base, "JPEG", exif=_orientation_exif(6), quality=95),
        "orient3.jpg": encode(base, "JPEG", exif=_orientation_exif(3), quality=95),
        "gps_thumb.jpg": with_segments(
            encode(base, "JPEG"),
            (0xE1, exif_with_gps_and_thumbnail(thumb)),
            iptc_segment(),
            (0xFE, b"patient comment"),
        ),  # fmt: skip
        "xmp.jpg": encode(base, "JPEG", xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'></x:xmpmeta>"),
        "icc.jpg": encode(base, "JPEG", icc_profile=_srgb_icc()),
        "png_named.jpg": encode(base, "PNG"),
    }
    return files | _tiff_modes()


def _rgb16_png() -> bytes:
    """A 16-bit-per-channel RGB PNG, written by hand (Pillow cannot write one)."""
    row = b"\x00" + b"".join(struct.pack(">HHH", 65535, 32768, 0) for _ in range(W))
    ihdr = struct.pack(">IIBBBBB", W, H, 16, 2, 0, 0, 0)
    idat = zlib.compress(row * H)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _pnginfo() -> object:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "a note")
    return info


def _orientation_exif(value: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif


def _srgb_icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _cuts(data: bytes, *fractions: float) -> list[bytes]:
    return [data[: int(len(data) * f)] for f in fractions]


def broken_files(good: dict[str, bytes]) -> dict[str, tuple[bytes, str]]:
    """Every file that must be refused, with the error class name."""
    out: dict[str, tuple[bytes, str]] = {
        "empty.jpg": (b"", "EmptyFile"),
        "notes.jpg": (b"Patient notes, not a picture.\n" * 4, "UnreadableImage"),
        "random.png": (bytes(range(256)) * 4, "UnreadableImage"),
        "drawing.svg": (
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
            "UnsupportedFormat",
        ),
        "plain.svg": (b'<svg width="10" height="10"></svg>', "UnsupportedFormat"),
        "scan.pdf": (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "UnsupportedFormat"),
        "pdf_named.jpg": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "UnsupportedFormat"),
        "icon.ico": (encode(pattern((32, 32)), "ICO"), "UnsupportedFormat"),
        "bomb.png": (png_declaring(40000, 40000), "DecompressionBomb"),
        "bomb_144mp.png": (png_declaring(12000, 12000), "DecompressionBomb"),
        "bomb.gif": (gif_declaring(65535, 65535), "DecompressionBomb"),
        "bad_idat.png": (_corrupt_idat(good["photo.png"]), "UnreadableImage"),
        "zero_frame_apng.png": (_apng_with_zero_frames(good["animated.png"]), "UnreadableImage"),
        "scan.dcm": (b"\x00" * 128 + b"DICM" + b"\x00" * 64, "UnsupportedFormat"),
        "clip.mp4": (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "UnsupportedFormat"),
        "photo.avif": (encode(pattern(), "AVIF"), "UnsupportedFormat"),
        "raw.dng": (
            encode(pattern(), "TIFF", tiffinfo={50706: b"\x01\x04\x00\x00"}),
            "UnsupportedFormat",
        ),
    }
    cut_plan: dict[str, Callable[[bytes], list[bytes]]] = {
        "photo.jpg": lambda d: [d[:4], d[:200], *_cuts(d, 0.5, 0.9), d[:-2], d[:-1]],
        "progressive.jpg": lambda d: [*_cuts(d, 0.3, 0.7), d[:-2]],
        "photo.png": lambda d: [d[:40], *_cuts(d, 0.5), d[:-12], d[:-3]],
        "animated.png": lambda d: [*_cuts(d, 0.7), d[:-12]],
        "animated.gif": lambda d: [d[:12], *_cuts(d, 0.4, 0.8), d[:-1]],
        "lossy.webp": lambda d: [d[:20], *_cuts(d, 0.5), d[:-1]],
        "animated.webp": lambda d: [*_cuts(d, 0.6), d[:-1]],
        "multipage.tif": lambda d: [d[:6], *_cuts(d, 0.3, 0.6), d[:-200]],
        "photo.bmp": lambda d: [d[:30], *_cuts(d, 0.5), d[:-1]],
        "photo.heic": lambda d: [*_cuts(d, 0.5, 0.9), d[:-1]],
        "stereo.mpo": lambda d: [*_cuts(d, 0.25, 0.75), d[:-2]],
    }
    for source, plan in cut_plan.items():
        stem, ext = source.rsplit(".", 1)
        for cut in plan(good[source]):
            out[f"truncated_{stem}_{len(cut)}.{ext}"] = (cut, "TruncatedImage")
    return out


def _apng_with_zero_frames(png: bytes) -> bytes:
    """An APNG whose acTL says 0 frames (valid CRC): PIL would fall back to the first image."""
    at = png.index(b"acTL") - 4
    body = b"\x00\x00\x00\x00" + png[at + 12 : at + 16]
    return png[:at] + _png_chunk(b"acTL", body) + png[at + 20 :]


def _corrupt_idat(png: bytes) -> bytes:
    """Flip bytes inside the zlib stream of the first IDAT (structure intact)."""
    at = png.index(b"IDAT") + 10
    return png[:at] + bytes(b ^ 0x5A for b in png[at : at + 16]) + png[at + 16 :]


def make_zoo(folder: Path) -> dict[str, str]:
    """Write the zoo into ``folder``.

    Args:
        folder: An existing, writable directory.

    Returns:
        File name -> expected outcome: ``"ok"`` or the name of the error ``load_image`` raises.
    """
    good = good_files()
    expected: dict[str, str] = {}
    for name, data in good.items():
        (folder / name).write_bytes(data)
        expected[name] = "ok"
    for name, (data, outcome) in broken_files(good).items():
        (folder / name).write_bytes(data)
        expected[name] = outcome
    return expected

"""Stage 1, load: bytes in, a decoded, oriented, RGB ``LoadedImage`` out; fail closed.

What this stage guarantees to every later stage:

* The file is read once, bounded by ``max_bytes``; its sha256 is of exactly those bytes and
  the decode is from those bytes (no second open, nothing written).
* Only an allow-list of formats is decoded (:data:`ACCEPTED_FORMATS`), identified by content,
  never by extension. Known image formats outside it raise ``UnsupportedFormat``; anything
  else raises ``UnreadableImage``.
* Every frame is decoded (TIFF pages, GIF/WebP/APNG frames composited as a viewer shows them,
  MPO images, HEIF top-level images): a second page or frame is published with the file too.
* A file whose structure ends early raises ``TruncatedImage``. PIL decodes some truncated
  files without complaint (a PNG or APNG without IEND, a GIF without its trailer, a TIFF whose
  tag values lie past the end), so each container is walked before decoding (JPEG markers to
  EOI, PNG chunks to IEND, GIF blocks to the trailer, RIFF size, TIFF IFDs and strips, HEIF
  boxes, every MPO image); PIL's own "truncated" errors map there too.
* Declared sizes are checked against ``max_pixels`` (per frame) and ``max_total_pixels``
  (all frames) before each frame is decoded. PIL's own bomb warning and error become
  ``DecompressionBomb`` inside a local warnings context; no PIL global is written.
* EXIF orientation is applied to every frame first, so boxes live in the oriented image.
* Frames are read-only RGB uint8 arrays ``(H, W, 3)``; metadata is inventoried, never kept.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import stat
import struct
import warnings
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from photoguard.containers import (
    container_complete,
    identify,
    jpeg_end,
)
from photoguard.errors import (
    DecompressionBomb,
    EmptyFile,
    TruncatedImage,
    UnreadableImage,
    UnsupportedFormat,
)
from photoguard.metadata import has_png_text, inventory
from photoguard.types import LoadedImage

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

ACCEPTED_FORMATS: tuple[str, ...] = ("JPEG", "MPO", "PNG", "WEBP", "TIFF", "BMP", "GIF", "HEIF")
"""PIL format names decoded. MPO has no opener of its own: PIL's JPEG opener returns it."""
_OPENERS = tuple(f for f in ACCEPTED_FORMATS if f != "MPO")

DEFAULT_MAX_PIXELS = 120_000_000
"""Per frame (120 MP, e.g. 12,600 x 9,500; the default of ``Settings.policy.max_pixels``).
Phone photos up to 108 MP pass. PIL's own guard (its warning at ~89.5 MP, its error at ~179 MP)
stays in force where it is stricter: its warning is a bomb whenever ``max_pixels`` is at or
below PIL's limit, and its error always is, so ~179 MP is the ceiling without touching PIL."""

DEFAULT_MAX_TOTAL_PIXELS = 250_000_000
"""All frames together (~750 MB as RGB): caps long animations and many-page TIFFs."""

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
"""Files larger than this are refused before decoding."""

# Errors PIL and its plugins raise on bad input (pillow-heif raises RuntimeError for libheif
# errors). Anything else is a bug and propagates; the pipeline still blocks the file.
_DECODE_ERRORS = (
    OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError,
    RuntimeError,
)  # fmt: skip
_WIDE_GRAY_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})


def load_image(
    path: Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_total_pixels: int = DEFAULT_MAX_TOTAL_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> LoadedImage:
    """Read, check and decode one image file, every frame, oriented and as RGB.

    Args:
        path: The file to read; it is opened once, read-only.
        max_pixels: Largest declared width x height of any one frame.
        max_total_pixels: Largest sum of declared pixels over all frames.
        max_bytes: Largest file size read.

    Returns:
        The decoded image: read-only RGB uint8 frames, sha256 of the file bytes, PIL format
        name, metadata inventory (presence only), source mode and ICC profile bytes.

    Raises:
        EmptyFile: The file has zero bytes.
        TruncatedImage: The file ends before its image data does.
        UnsupportedFormat: A known image format that is not in ``ACCEPTED_FORMATS``.
        DecompressionBomb: A frame, or all frames together, declare too many pixels, or the
            file is larger than ``max_bytes``.
        UnreadableImage: Anything else that cannot be decoded (corrupt, not an image, I/O).
    """
    data = _read_bytes(path, max_bytes)
    return load_bytes(data, path, max_pixels=max_pixels, max_total_pixels=max_total_pixels)


def load_bytes(
    data: bytes,
    path: Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_total_pixels: int = DEFAULT_MAX_TOTAL_PIXELS,
) -> LoadedImage:
    """Check and decode the bytes of one image file as :func:`load_image` does, in memory.

    Redact's verification decodes the copy it is about to publish from the very bytes it will
    write: the pixels it checks are the file's, with no second read of them. ``path`` names
    the file in messages and in the result.

    Raises:
        the errors of :func:`load_image` (``EmptyFile`` for no bytes).
    """
    name = path.name
    if not data:
        raise EmptyFile(f"{name}: file is empty (0 bytes)")
    sha256 = hashlib.sha256(data).hexdigest()
    family = identify(name, data)
    if not container_complete(family, data):
        raise TruncatedImage(f"{name}: {family.upper()} file ends before its image data")
    frames, durations, meta, mode, icc, fmt = _decode(name, data, max_pixels, max_total_pixels)
    return LoadedImage(
        path=path,
        sha256=sha256,
        format=fmt,
        frames=frames,
        metadata=meta,
        source_mode=mode,
        icc_profile=bytes(icc) if icc else None,
        durations_ms=durations,
    )


def _decode(name: str, data: bytes, max_pixels: int, max_total_pixels: int) -> tuple:
    """Every frame of ``data``, its inventory, mode, ICC and format; PIL's errors in our terms."""
    _register_heif()
    from PIL import Image

    with warnings.catch_warnings():
        # Read, never written: above PIL's warning limit our own per-frame check decides.
        pil_limit = Image.MAX_IMAGE_PIXELS
        lenient = bool(pil_limit) and max_pixels > pil_limit
        warnings.simplefilter("ignore" if lenient else "error", Image.DecompressionBombWarning)
        # PIL falls back to the default image of a broken APNG: its other frames go unchecked.
        warnings.filterwarnings("error", message="Invalid APNG", category=UserWarning)
        try:
            with Image.open(io.BytesIO(data), formats=_OPENERS) as im:
                # Before anything else: PIL's PNG getexif() decodes the image to find late eXIf.
                _check_declared(name, im.size, 0, max_pixels)
                _check_structure(name, im, data)
                meta = inventory(im, data)
                mode, icc, fmt = im.mode, im.info.get("icc_profile"), str(im.format)
                limits = (max_pixels, max_total_pixels, len(data))
                frames, durations = _decode_frames(name, im, limits)
                # PNG text chunks may follow the image data: only known once decoded.
                if fmt == "PNG" and has_png_text(im):
                    meta = replace(meta, comment=True)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            # PIL's own guard fired first (at open); say it in our terms, with our limit
            declared = re.search(r"\((\d+) pixels\)", str(err))
            what = f"{declared.group(1)} pixels" if declared else "too many pixels"
            raise DecompressionBomb(
                f"{name}: declares {what} (decompression-bomb guard, limit {max_pixels})"
            ) from err
        except UserWarning as err:  # only "Invalid APNG" is made an error above
            raise UnreadableImage(f"{name}: invalid APNG animation chunks") from err
        except Image.UnidentifiedImageError as err:
            raise UnreadableImage(f"{name}: not an image in a supported format") from err
        except _DECODE_ERRORS as err:
            raise _decode_error(name, err) from err
    return frames, durations, meta, mode, icc, fmt


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """Read at most ``max_bytes`` (plus one, to notice more) from one read-only open."""
    reasons = {errno.ENOENT: "file not found", errno.EISDIR: "is a directory"}
    try:
        # O_NONBLOCK: a FIFO must not hang the run; it is refused below as not a regular file.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise UnreadableImage(f"{path.name}: not a regular file")
            data = f.read(max_bytes + 1)
    except OSError as err:
        reason = reasons.get(err.errno or 0, f"cannot read ({err.strerror or 'I/O error'})")
        raise UnreadableImage(f"{path.name}: {reason}") from err
    if not data:
        raise EmptyFile(f"{path.name}: file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise DecompressionBomb(f"{path.name}: file is larger than {max_bytes} bytes")
    return data


@cache
def _register_heif() -> None:
    """Teach PIL to open HEIF, once, on first use rather than at import."""
    import pillow_heif

    pillow_heif.register_heif_opener()


def _first_line(err: BaseException) -> str:
    """PIL's own message, one line, bounded; PIL's messages carry no pixel data or metadata."""
    text = str(err).strip()
    return text.splitlines()[0][:160] if text else type(err).__name__


def _decode_error(name: str, err: BaseException) -> UnreadableImage:
    """Map a PIL decode failure to a named error."""
    text = _first_line(err)
    if "truncated" in text.lower() or isinstance(err, EOFError):
        return TruncatedImage(f"{name}: image data is truncated")
    if "security limit" in text.lower():  # libheif's own size guard
        return DecompressionBomb(f"{name}: {text}")
    return UnreadableImage(f"{name}: cannot decode ({text})")


def _check_structure(name: str, im: Image.Image, data: bytes) -> None:
    """Per-format checks that need PIL's parse: MPO frame extents, TIFF strips/sub-images."""
    if im.format == "MPO":
        for start, size in _mpo_extents(im, data):
            if start + size > len(data) or jpeg_end(data, start) is None:
                raise TruncatedImage(f"{name}: MPO image data is truncated")


def _mpo_extents(im: Image.Image, data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of each MPO image; offsets are relative to the MPF header."""
    base = data.find(b"MPF\x00") + 4
    entries = im.mpinfo[0xB002]  # type: ignore[attr-defined]
    return [(0 if i == 0 else e["DataOffset"] + base, e["Size"]) for i, e in enumerate(entries)]


def _check_tiff_page(name: str, im: Image.Image, size: int) -> None:
    """Refuse TIFF pages whose strips lie past the end, or that hide sub-images (raw files)."""
    tags = im.tag_v2  # type: ignore[attr-defined]
    if 330 in tags or 50706 in tags:
        raise UnsupportedFormat(f"{name}: TIFF with sub-images (camera raw?) is not supported")
    for offsets_tag, counts_tag in ((273, 279), (324, 325)):
        offsets, counts = tags.get(offsets_tag), tags.get(counts_tag)
        if offsets is None:
            continue
        if counts is None:
            raise UnreadableImage(f"{name}: TIFF strip table is corrupt")
        offsets = offsets if isinstance(offsets, tuple) else (offsets,)
        counts = counts if isinstance(counts, tuple) else (counts,)
        if len(counts) != len(offsets) or not offsets:
            raise UnreadableImage(f"{name}: TIFF strip table is corrupt")
        if max(o + c for o, c in zip(offsets, counts, strict=True)) > size:
            raise TruncatedImage(f"{name}: TIFF image data is truncated")


# --- frames -----------------------------------------------------------------------------------


def _decode_frames(
    name: str, im: Image.Image, limits: tuple[int, int, int]
) -> tuple[tuple[np.ndarray, ...], tuple[int, ...]]:
    """Decode every frame in order, checking declared sizes before each decode.

    ``limits`` is (max pixels per frame, max pixels in total, file size in bytes).

    Frames are walked with ``seek`` rather than ``n_frames``: for GIF, ``n_frames`` decodes
    every frame, which would spend the CPU before the total-pixel cap could stop it.
    """
    max_pixels, max_total, size = limits
    frames: list[np.ndarray] = []
    durations: list[int] = []
    total = 0
    while True:
        _check_declared(name, im.size, len(frames), max_pixels)
        total += im.size[0] * im.size[1]
        if total > max_total:
            raise DecompressionBomb(f"{name}: frames declare over {max_total} pixels in total")
        if im.format == "TIFF":
            _check_tiff_page(name, im, size)
        frames.append(_to_rgb(_oriented(im)))
        durations.append(int(im.info.get("duration") or 0))
        try:
            im.seek(len(frames))
        except EOFError:
            break
    animated = len(frames) > 1 and im.format in ("GIF", "WEBP", "PNG")
    return tuple(frames), tuple(durations) if animated else ()


def _check_declared(name: str, size: tuple[int, int], index: int, max_pixels: int) -> None:
    """Refuse a frame whose declared size exceeds the per-frame limit (before decoding it)."""
    if size[0] * size[1] > max_pixels:
        raise DecompressionBomb(
            f"{name}: frame {index} declares {size[0]}x{size[1]} pixels (limit {max_pixels})"
        )


def _oriented(frame: Image.Image) -> Image.Image:
    """The current frame with its EXIF orientation applied (before anything else).

    An upright frame (no tag, or 1) is returned as it is, not copied (``exif_transpose`` would
    copy 36 MB of a 12 MP photo for nothing): :func:`_to_rgb` copies its pixels out before the
    next ``seek`` replaces them.
    """
    from PIL import ExifTags, ImageOps

    if frame.getexif().get(ExifTags.Base.Orientation, 1) in (None, 1):
        return frame
    return ImageOps.exif_transpose(frame)


def _to_rgb(frame: Image.Image) -> np.ndarray:
    """Normalise any PIL mode to a read-only RGB uint8 array ``(H, W, 3)``.

    Alpha is dropped, never composited: pixels under full transparency are still in the file
    and the rendered copy is re-encoded from these colours, so detection must see the colour
    channels as stored. Compositing onto a background would let alpha hide a face from the
    detectors while the published copy (or the original) still carries it.
    """
    import numpy as np

    if frame.mode in _WIDE_GRAY_MODES:
        gray = _gray_to_uint8(np.asarray(frame), frame.mode)
        rgb = np.repeat(gray[:, :, np.newaxis], 3, axis=2)
    else:
        if frame.mode == "LAB":
            frame = _lab_to_rgb(frame)
        elif frame.mode == "La":  # PIL has no La -> RGB path; keep the stored grey
            frame = frame.getchannel(0)
        if frame.mode != "RGB":
            frame = frame.convert("RGB")
        # One copy of the pixels, out of PIL's memory (a convert of an RGB frame, then
        # np.array, would be two more of a 12 MP photo's 36 MB).
        rgb = np.asarray(frame, dtype=np.uint8)
        if not isinstance(rgb.base, bytes):  # a view of PIL's own memory: copy it out
            rgb = rgb.copy()
    rgb.setflags(write=False)
    return rgb


def _gray_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """Scale 16/32-bit integer or float grey to 0..255 (Pillow's own convert would clip)."""
    import numpy as np

    if mode.startswith("I;16"):
        return (values.astype(np.uint32) >> 8).astype(np.uint8)
    values = np.nan_to_num(values.astype(np.float64))
    lo, hi = float(values.min()), float(values.max())
    if lo >= 0 and hi <= 255 and (mode == "I" or hi > 1):
        scaled = values
    elif lo >= 0 and hi <= 1:
        scaled = values * 255
    elif lo >= 0 and hi <= 65535:
        scaled = values / 257  # a 16-bit image held as 32-bit "I"
    else:
        scaled = (values - lo) * (255 / ((hi - lo) or 1))  # unknown range: stretch
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _lab_to_rgb(frame: Image.Image) -> Image.Image:
    """CIELAB to sRGB through littleCMS (Pillow's ``convert`` has no LAB path)."""
    from PIL import ImageCms

    transform = ImageCms.buildTransform(
        ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
    )
    return ImageCms.applyTransform(frame, transform)

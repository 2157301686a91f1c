"""Byte-level container checks for the load stage: what a file is, and whether it is whole.

Pillow decodes some truncated files without complaint (a PNG with no IEND, a GIF with no
trailer, TIFF tags pointing past the end), so the load stage walks each container's structure
to its end before decoding. Pure functions over bytes; no decoding here.
"""

from __future__ import annotations

import re

from photoguard.errors import UnreadableImage, UnsupportedFormat

_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)


# --- identification --------------------------------------------------------------------------


def identify(name: str, data: bytes) -> str:
    """Name the container family from magic bytes, or raise for anything not accepted."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:2] == b"BM":
        return "bmp"
    if head[4:8] == b"ftyp":
        if head[8:12] in _HEIF_BRANDS:
            return "heif"
        label = "AVIF" if head[8:12] in (b"avif", b"avis") else "video or other ISO media"
        raise UnsupportedFormat(f"{name}: {label} files are not supported")
    other = _known_unsupported(data)
    if other:
        raise UnsupportedFormat(f"{name}: {other} files are not supported")
    raise UnreadableImage(f"{name}: not an image (unrecognised content)")


def _known_unsupported(data: bytes) -> str | None:
    """Name a recognisable format we refuse, so the reason says what the file is."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<svg") or (head.startswith((b"<?xml", b"<!doctype")) and b"<svg" in head):
        return "SVG"
    signatures = {
        b"%PDF": "PDF",
        b"%!PS": "PostScript",
        b"\xc5\xd0\xd3\xc6": "EPS",
        b"\x00\x00\x01\x00": "ICO",
        b"\x00\x00\x02\x00": "CUR",
        b"8BPS": "PSD",
        b"\xff\x4f\xff\x51": "JPEG 2000",
        b"\x00\x00\x00\x0cjP  ": "JPEG 2000",
        b"\xff\x0a": "JPEG XL",
        b"\x00\x00\x00\x0cJXL ": "JPEG XL",
        b"qoif": "QOI",
    }
    for magic, label in signatures.items():
        if data.startswith(magic):
            return label
    if data[128:132] == b"DICM":
        return "DICOM"
    if re.match(rb"P[1-7]\s", data[:3]):
        return "PNM"
    return None


# --- structural completeness (before decoding) ------------------------------------------------


def container_complete(family: str, data: bytes) -> bool:
    """Whether the container's own structure reaches its end marker or declared size."""
    n = len(data)
    if family == "jpeg":
        return jpeg_end(data, 0) is not None
    if family == "png":
        return _png_complete(data)
    if family == "gif":
        return _gif_complete(data)
    if family == "webp":
        return n >= 12 and 8 + int.from_bytes(data[4:8], "little") <= n
    if family == "tiff":
        return _tiff_ifds_complete(data)
    if family == "bmp":
        declared = int.from_bytes(data[2:6], "little") if n >= 14 else n + 1
        pixels_at = int.from_bytes(data[10:14], "little") if n >= 14 else n
        return declared <= n and pixels_at < n
    return _iso_boxes_complete(data)  # heif


def jpeg_end(data: bytes, pos: int) -> int | None:
    """Offset just past the EOI of the JPEG at ``pos``, or None if the data ends first."""
    if data[pos : pos + 2] != b"\xff\xd8":
        return None
    pos += 2
    while True:
        # Marker search also steps over entropy-coded scan data (FF00 stuffing, RSTn).
        found = _JPEG_MARKER.search(data, pos)
        if found is None:
            return None
        code, pos = data[found.start() + 1], found.start() + 2
        if code == 0xD9:
            return pos
        if code in (0x01, 0xD8):
            continue
        if pos + 2 > len(data):
            return None
        pos += int.from_bytes(data[pos : pos + 2], "big")
        if pos > len(data):
            return None


def _png_complete(data: bytes) -> bool:
    """Walk the PNG chunks; complete when IEND is reached whole."""
    pos, n = 8, len(data)
    while pos + 8 <= n:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        pos += 12 + length
        if pos > n:
            return False
        if kind == b"IEND":
            return True
    return False


def _gif_complete(data: bytes) -> bool:
    """Walk the GIF blocks; complete when the trailer (0x3B) is reached."""
    n = len(data)
    if n < 13:
        return False
    pos: int | None = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
    while pos is not None and pos < n:
        block = data[pos]
        if block == 0x3B:
            return True
        if block == 0x21:  # extension: label, then sub-blocks
            pos = _skip_sub_blocks(data, pos + 2)
        elif block == 0x2C and pos + 10 <= n:  # image descriptor, local table, LZW size
            flags = data[pos + 9]
            pos += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
            pos = _skip_sub_blocks(data, pos + 1)
        else:
            return False
    return False


def _skip_sub_blocks(data: bytes, pos: int) -> int | None:
    """Offset after a GIF sub-block chain's terminator, or None if the data ends first."""
    n = len(data)
    while pos < n:
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
    return None


def _tiff_ifds_complete(data: bytes) -> bool:
    """Follow the classic-TIFF IFD chain; every IFD must lie inside the file."""
    order = "little" if data[:2] == b"II" else "big"
    n = len(data)
    if n < 8 or int.from_bytes(data[2:4], order) != 42:
        return n >= 16  # BigTIFF: strip bounds are still checked per page after opening
    offset, seen = int.from_bytes(data[4:8], order), set()
    while offset:
        if offset in seen or offset + 2 > n:
            return False
        seen.add(offset)
        end = offset + 2 + 12 * int.from_bytes(data[offset : offset + 2], order) + 4
        if end > n or not _tiff_values_inside(data, offset + 2, end - 4, order):
            return False
        offset = int.from_bytes(data[end - 4 : end], order)
    return True


_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}


def _tiff_values_inside(data: bytes, start: int, stop: int, order: str) -> bool:
    """Whether every out-of-line tag value of one IFD lies inside the file (PIL skips them)."""
    for at in range(start, stop, 12):
        kind = int.from_bytes(data[at + 2 : at + 4], order)
        size = _TIFF_TYPE_SIZES.get(kind, 1) * int.from_bytes(data[at + 4 : at + 8], order)
        if size > 4 and int.from_bytes(data[at + 8 : at + 12], order) + size > len(data):
            return False
    return True


def _iso_boxes_complete(data: bytes) -> bool:
    """Walk the top-level ISO-BMFF boxes of a HEIF file; they must tile the file exactly."""
    pos, n = 0, len(data)
    while pos < n:
        if pos + 8 > n:
            return False
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size == 1 and pos + 16 <= n:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:
            return True  # the last box runs to the end of the file
        if size < 8:
            return False
        pos += size
    return pos == n

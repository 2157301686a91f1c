"""Which metadata blocks a decoded file carries: presence only, never values (part of stage 1).

``load`` records the inventory so that the report can say what a published copy drops (EXIF,
GPS, an EXIF thumbnail, XMP, IPTC, comments, an ICC profile) without any value leaving the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from photoguard.types import MetadataInventory

if TYPE_CHECKING:
    from PIL import Image

# TIFF tags that only describe pixel layout; any other tag counts as EXIF-like metadata.
_TIFF_STRUCTURE_TAGS = frozenset(
    {254, 255, 256, 257, 258, 259, 262, 266, 273, 274, 277, 278, 279, 280, 281, 282, 283, 284,
     296, 317, 318, 319, 320, 322, 323, 324, 325, 338, 339, 340, 341, 347, 529, 530, 531, 532,
     700, 33723, 34377, 34675}
)  # fmt: skip
_XMP_SIGNATURES = (b"http://ns.adobe.com/xap/1.0/", b"XML:com.adobe.xmp", b"<x:xmpmeta")


def inventory(im: Image.Image, data: bytes) -> MetadataInventory:
    """Which metadata blocks the first frame carries; presence only, never values."""
    from PIL import ExifTags

    exif = im.getexif()
    tags = set(exif) - (_TIFF_STRUCTURE_TAGS if im.format == "TIFF" else set())
    # pillow-heif lets libheif apply the HEIF transforms and resets EXIF orientation to 1 so it is
    # not applied twice; it keeps the value it found as ``original_orientation``.
    orientation = im.info.get("original_orientation") or exif.get(ExifTags.Base.Orientation, 1)
    return MetadataInventory(
        exif=bool(tags) or bool(im.info.get("exif")),
        gps=bool(exif.get_ifd(ExifTags.IFD.GPSInfo)),
        exif_thumbnail=bool(exif.get_ifd(ExifTags.IFD.IFD1)),
        xmp=bool(im.info.get("xmp")) or any(sig in data for sig in _XMP_SIGNATURES),
        iptc=_has_iptc(im),
        comment=_has_comment(im),
        icc_profile=bool(im.info.get("icc_profile")),
        orientation=orientation if isinstance(orientation, int) else 1,
    )


def _has_iptc(im: Image.Image) -> bool:
    """IPTC-IIM in a JPEG's Photoshop block (0x0404) or a TIFF's IPTC tag (33723)."""
    photoshop = im.info.get("photoshop")
    if isinstance(photoshop, dict) and 0x0404 in photoshop:
        return True
    return im.format == "TIFF" and 33723 in im.tag_v2  # type: ignore[attr-defined]


def _has_comment(im: Image.Image) -> bool:
    """JPEG/GIF comments or a TIFF ImageDescription (PNG text is checked after decoding)."""
    if im.info.get("comment"):
        return True
    return im.format == "TIFF" and 270 in im.tag_v2  # type: ignore[attr-defined]


def has_png_text(im: Image.Image) -> bool:
    """PNG tEXt/zTXt/iTXt chunks other than XMP; call after decoding (they may follow IDAT)."""
    return any(key != "XML:com.adobe.xmp" for key in im.text)  # type: ignore[attr-defined]

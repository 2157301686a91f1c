"""Stage 5, render: irreversible redaction on a copy, re-encoded from pixels without metadata.

Styles are built to be irreversible: ``fill`` paints a solid colour; ``pixelate`` keeps at most
a few coarse blocks across the region and adds noise; ``blur`` is a wide Gaussian (sigma a
quarter of the region) plus noise. A light blur that could be undone is not offered.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np

from photoguard.errors import OutputError
from photoguard.settings import MaskShape, Policy, Style
from photoguard.types import UNREADABLE, Action, Box, LoadedImage, Region, RegionKind

VERSION = 2
"""The renderer's version, in every run key (``publish.detector_versions``): a copy rendered by
an older renderer is rendered again. 2: an unreadable text region's fill spares the codes the
copy keeps (allow-listed); verification rounds paint only their new regions."""
FILL_RGB = (0, 0, 0)
PIXELATE_BLOCKS = 6
"""Blocks across the longer side of a redacted region: a 6x6 mosaic plus noise carries no face."""
NOISE_SIGMA = 12.0

OUTPUT_FORMATS = {
    "JPEG": ("JPEG", ".jpg"),
    "MPO": ("JPEG", ".jpg"),
    "HEIF": ("JPEG", ".jpg"),
    "PNG": ("PNG", ".png"),
    "WEBP": ("WEBP", ".webp"),
    "GIF": ("GIF", ".gif"),
    "TIFF": ("TIFF", ".tif"),
    "BMP": ("PNG", ".png"),
}
"""Input format -> (output format, suffix). HEIC/HEIF and MPO come out as JPEG (first view for
MPO), BMP as PNG; everything is re-encoded from the redacted pixels."""


def redact_frame(
    pixels: np.ndarray,
    regions: Sequence[Region],
    policy: Policy,
    seed: int = 0,
    spare_codes: bool = True,
):
    """Return a redacted copy of one RGB frame; ``pixels`` is never modified.

    Args:
        pixels: RGB uint8 (H, W, 3).
        regions: regions of this frame; those with action REDACT are covered.
        policy: styles, face mask shape and scale, text padding.
        seed: seeds the noise, so that the same input and policy give the same output.
        spare_codes: unreadable text leaves the kept codes' pixels alone (``kept_codes``);
            off, it covers them too (a thumbnail, whose kept boxes are grown, not shrunk).
    """
    out = pixels.copy()
    codes = kept_codes(regions) if spare_codes else ()
    _paint(out, regions, policy, np.random.default_rng(seed), codes)
    return out


def _paint(out: np.ndarray, regions: Sequence[Region], policy: Policy, rng, codes=()) -> None:
    """Cover ``regions`` on ``out`` in place, in order, drawing noise from ``rng``; unreadable
    text spares the kept ``codes`` (``kept_codes``)."""
    height, width = out.shape[:2]
    for region in regions:
        if region.action is not Action.REDACT:
            continue
        box, mask = region_mask(region, policy, width, height, codes)
        if box.area:
            style = policy.face_style if region.kind is RegionKind.FACE else policy.text_style
            _cover(out, box, style, mask, rng)


def kept_codes(regions: Sequence[Region]) -> tuple[Region, ...]:
    """The codes kept in the copy (decoded and allow-listed): the fill of text not read with
    confidence leaves their pixels alone (``region_mask``). The text stage sees a code's
    modules as an unreadable blob (DB map sure of it, glyph-sized ink); that blob is the code,
    and the text around it is still covered. PHI text is covered whole, code or not."""
    return tuple(r for r in regions if r.kind is RegionKind.BARCODE and r.action is Action.KEEP)


def region_mask(
    region: Region, policy: Policy, width: int, height: int, codes: Sequence[Region] = ()
) -> tuple[Box, np.ndarray]:
    """The pixels ``redact_frame`` covers for one region: a clamped box and a mask within it,
    less the kept ``codes`` (same frame) when the region is text not read with confidence."""
    box, mask = _region_mask(region, policy, width, height)
    spared = [c for c in codes if c.frame == region.frame and c.box.intersection(box)]
    if box.area and spared and region.kind is RegionKind.TEXT and region.label == UNREADABLE:
        mask = mask & ~outline_mask((box.height, box.width), spared, (box.x0, box.y0))
    return box, mask


def outline_mask(shape, items, at=(0, 0)) -> np.ndarray:
    """The pixels inside the outlines of ``items`` (regions or detections; their boxes where
    they have none) in a boolean array of ``shape`` whose top-left pixel is ``at`` (x, y) of
    the frame. Verification draws the kept codes with it too, so both judge the same pixels."""
    import cv2

    inside = np.zeros(shape[:2], dtype=np.uint8)
    for r in items:
        b = r.box
        corners = ((b.x0, b.y0), (b.x1 - 1, b.y0), (b.x1 - 1, b.y1 - 1), (b.x0, b.y1 - 1))
        points = np.array(r.polygon or corners, dtype=np.int32) - np.array(at, dtype=np.int32)
        cv2.fillPoly(inside, [points], 1)
    return inside.astype(bool)


def _region_mask(region: Region, policy: Policy, width: int, height: int):
    if region.kind is RegionKind.FACE:
        box = region.box.scale(policy.face_mask_scale).clamp(width, height)
        shape = policy.face_mask
    else:
        box = region.box.pad(policy.text_padding).clamp(width, height)
        shape = MaskShape.BOX
    if not box.area:
        return box, np.zeros((0, 0), dtype=bool)
    if region.polygon and region.kind is not RegionKind.FACE:
        return box, _polygon_mask(box, region.polygon, policy.text_padding)
    return box, _mask(box, shape)


def _cover(out: np.ndarray, box: Box, style: Style, mask: np.ndarray, rng) -> None:
    patch = out[box.y0 : box.y1, box.x0 : box.x1]
    if style is Style.FILL:
        covered = np.empty_like(patch)
        covered[...] = FILL_RGB
    elif style is Style.PIXELATE:
        covered = _noised(_pixelate(patch), rng)
    else:
        covered = _noised(_blur(patch), rng)
    # copyto with a mask: a boolean-index gather/scatter costs ~4x as much on a large face
    np.copyto(patch, covered, where=mask[:, :, np.newaxis])


def _pixelate(patch: np.ndarray) -> np.ndarray:
    import cv2

    h, w = patch.shape[:2]
    scale = PIXELATE_BLOCKS / max(h, w)
    small = cv2.resize(
        patch, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def _blur(patch: np.ndarray) -> np.ndarray:
    import cv2

    sigma = max(patch.shape[:2]) / 4
    # One wide Gaussian (sigma a quarter of the region) over the whole region; noise follows.
    return cv2.GaussianBlur(
        patch, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE
    )


def _noised(patch: np.ndarray, rng) -> np.ndarray:
    # float32 normals, in place: float64 draws and temporaries were most of a 12 MP render
    noise = rng.standard_normal(patch.shape, dtype=np.float32)
    noise *= NOISE_SIGMA
    noise += patch
    return np.clip(noise, 0, 255, out=noise).astype(np.uint8)


def _polygon_mask(box: Box, polygon, padding: int) -> np.ndarray:
    """The rotated outline of tilted text, grown by ``padding``, within ``box``."""
    import cv2

    mask = np.zeros((box.height, box.width), dtype=np.uint8)
    points = np.array([(x - box.x0, y - box.y0) for x, y in polygon], dtype=np.int32)
    cv2.fillPoly(mask, [points], 1)
    if padding > 0:
        kernel = np.ones((2 * padding + 1, 2 * padding + 1), dtype=np.uint8)
        mask = cv2.dilate(mask, kernel)
    return mask.astype(bool)


def _mask(box: Box, shape: MaskShape) -> np.ndarray:
    h, w = box.height, box.width
    if shape is MaskShape.BOX:
        return np.ones((h, w), dtype=bool)
    yy, xx = np.ogrid[:h, :w]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    return ((yy - cy) / (h / 2)) ** 2 + ((xx - cx) / (w / 2)) ** 2 <= 1.0


def redact_image(image: LoadedImage, regions: Sequence[Region], policy: Policy) -> list[np.ndarray]:
    """Redact every frame of ``image``; each region applies to the frame it names."""
    seed = int(image.sha256[:8], 16)
    return [
        redact_frame(frame, [r for r in regions if r.frame == i], policy, seed + i)
        for i, frame in enumerate(image.frames)
    ]


class Redaction:
    """A redacted copy of ``image`` that later regions are painted onto (redact's rounds).

    Regions are painted in order, each frame's noise drawn from one stream seeded as
    :func:`redact_image` seeds it, so painting a verification round's new regions on top of the
    last round's copy gives exactly the pixels of painting every region from the start: a
    round no longer re-renders (and re-noises) every face of the copy.
    """

    def __init__(self, image: LoadedImage, policy: Policy) -> None:
        seed = int(image.sha256[:8], 16)
        self._frames = [frame.copy() for frame in image.frames]
        self._rngs = [np.random.default_rng(seed + i) for i in range(len(image.frames))]
        self._policy = policy
        self._painted: tuple[Region, ...] = ()

    def paint(self, regions: Sequence[Region]) -> list[np.ndarray]:
        """The copy with every region of ``regions`` covered (as redact_image would cover it).

        ``regions`` must start with the regions painted before (a round only adds regions).
        The frames returned are this copy's own: encode them before the next ``paint``.

        Raises:
            ValueError: ``regions`` does not start with the regions painted before.
        """
        regions = tuple(regions)
        done = len(self._painted)
        if regions[:done] != self._painted:
            raise ValueError("a redaction only adds regions to those painted before")
        codes = kept_codes(regions)  # the first pass's: a round's new regions spare them too
        for i, frame in enumerate(self._frames):
            new = [r for r in regions[done:] if r.frame == i]
            _paint(frame, new, self._policy, self._rngs[i], [c for c in codes if c.frame == i])
        self._painted = regions
        return self._frames


def output_suffix(image_format: str) -> str:
    return OUTPUT_FORMATS.get(image_format, ("PNG", ".png"))[1]


def encode(frames: Sequence[np.ndarray], image: LoadedImage) -> bytes:
    """Encode redacted frames from pixels alone: no EXIF, XMP, IPTC or comments; ICC kept.

    Orientation is already in the pixels (the load stage applied it), so no tag is needed.
    """
    from PIL import Image

    fmt = OUTPUT_FORMATS.get(image.format, ("PNG", ".png"))[0]
    pil = [Image.fromarray(f, "RGB") for f in frames]
    options: dict = {}
    if image.icc_profile and fmt in {"JPEG", "PNG", "WEBP", "TIFF"}:
        options["icc_profile"] = image.icc_profile
    if fmt == "JPEG":
        # No optimize=True: Pillow's optimized Huffman pass fails on some images ("broken data
        # stream") and costs ~3x the encoding time for a few per cent of size.
        options.update(quality=92, subsampling=0)
        pil = pil[:1]
    elif fmt == "WEBP":
        options.update(quality=92, method=4)
    elif fmt == "TIFF":
        options.update(compression="tiff_deflate")
    buffer = io.BytesIO()
    first, rest = pil[0], pil[1:]
    if rest and fmt in {"GIF", "WEBP", "TIFF", "PNG"}:
        options.update(save_all=True, append_images=rest)
        if fmt in {"GIF", "WEBP", "PNG"} and image.durations_ms:
            options.update(duration=list(image.durations_ms[: len(pil)]), loop=0)
    try:
        first.save(buffer, format=fmt, **options)
    except (OSError, ValueError) as exc:
        raise OutputError(f"cannot encode {fmt}: {exc}") from None
    return buffer.getvalue()


THUMBNAIL_SIZE = 360


def thumbnail(image: LoadedImage, regions: Sequence[Region], policy: Policy) -> bytes:
    """A small JPEG of the redacted first frame: the only picture a report may show.

    The frame is shrunk first and redacted at thumbnail size (not all 12 MP redacted to show
    360 px). Regions are scaled outward and grown by the resampling filter's reach, so
    that no thumbnail pixel mixes in a pixel the full-size redaction would have covered.
    """
    from dataclasses import replace

    from PIL import Image

    frame = image.frames[0]
    im = Image.fromarray(frame, "RGB")
    im.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    k = im.width / frame.shape[1]
    small = [_shrunk(r, k) for r in regions if r.frame == 0]
    padding = math.ceil(policy.text_padding * k)
    redacted = redact_frame(
        np.asarray(im),
        small,
        replace(policy, text_padding=padding),
        int(image.sha256[:8], 16),
        spare_codes=False,  # a kept code's grown box would show what the copy covers
    )
    buffer = io.BytesIO()
    Image.fromarray(redacted, "RGB").save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


THUMBNAIL_FRINGE = 3
"""Lanczos (a = 3) reaches 3 output pixels: a shrunk region grows by that much on every side."""


def _shrunk(region: Region, k: float) -> Region:
    """``region`` at scale ``k``, rounded outward and grown by THUMBNAIL_FRINGE. A text
    polygon is dropped: its whole (grown) box is covered in the thumbnail."""
    from dataclasses import replace

    b, f = region.box, THUMBNAIL_FRINGE
    x0, y0 = math.floor(b.x0 * k) - f, math.floor(b.y0 * k) - f
    box = Box(x0, y0, math.ceil(b.x1 * k) + f, math.ceil(b.y1 * k) + f)
    return replace(region, box=box, polygon=None)

"""Verification of a redacted copy against the pixels it really has.

A detection in the re-check of a written copy is accounted for only when it lies on pixels the
copy really covers (the rendered area of a redacted region whose pixels were replaced in the
written file) or on a face kept under an authorization. The original boxes prove nothing: a
bad setting or a renderer fault that leaves text uncovered must not pass verification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from photoguard.policy import text_outside_allowed_codes
from photoguard.settings import Policy
from photoguard.types import Action, Detection, Findings, LoadedImage, Region, RegionKind

ROUNDS = 3
"""Render-and-check rounds before a copy that keeps showing new findings is blocked."""
FILLED_DIFF = 6.0
"""Mean absolute change (0-255, over a region's mask) that shows its pixels were replaced;
an untouched region re-encoded as JPEG changes by about 1."""
FLAT_STD = 3.0
"""A region this uniform in the original holds nothing to cover."""
INSIDE = {RegionKind.FACE: 0.6, RegionKind.TEXT: 0.75, RegionKind.BARCODE: 0.75}
"""Share of a re-detection's box that must lie on covered pixels. A face detector may fire
on a covered face's mosaic with a box a little wider than the elliptical mask."""


@dataclass(frozen=True)
class Missed:
    """What the re-check found that the copy does not account for."""

    detections: tuple[Detection, ...] = ()
    failed: tuple[str, ...] = ()

    def describe(self) -> str:
        kinds = [d.kind for d in self.detections]
        parts = [
            f"{kinds.count(RegionKind.FACE)} face(s)" if RegionKind.FACE in kinds else "",
            f"{kinds.count(RegionKind.TEXT)} PHI text region(s)"
            if RegionKind.TEXT in kinds
            else "",
            f"{kinds.count(RegionKind.BARCODE)} barcode(s)" if RegionKind.BARCODE in kinds else "",
            f"a failed check ({', '.join(self.failed)})" if self.failed else "",
        ]
        return ", ".join(p for p in parts if p)


def missed(
    image: LoadedImage, written: LoadedImage, regions: Sequence[Region], found: Findings, policy
) -> Missed:
    """Compare the re-check of ``written`` with what the copy really covers.

    Args:
        image: the original.
        written: the copy as decoded back from the staged file.
        regions: the regions the copy was rendered with.
        found: the detectors' findings on ``written``.
        policy: styles and geometry the renderer used.
    """
    covered = [
        coverage(image.frames[i], frame, [r for r in regions if r.frame == i], policy)
        if i < len(image.frames)
        else np.zeros(frame.shape[:2], dtype=bool)
        for i, frame in enumerate(written.frames)
    ]
    text = text_outside_allowed_codes(found.text, found.barcodes)  # as decide() judges it
    detections = [f.detection for f in found.faces] + text + list(found.barcodes)
    return Missed(
        detections=tuple(d for d in detections if not _accounted(d, regions, covered)),
        failed=tuple(r.name for r in found.runs if not r.ok),
    )


def coverage(original: np.ndarray, written: np.ndarray, regions, policy: Policy) -> np.ndarray:
    """The pixels of one frame that the written copy really covers (a boolean mask).

    A redacted region counts where the renderer covers it and only when the written pixels
    there differ from the original (or the original there is flat): a region that was not
    painted covers nothing.
    """
    from photoguard.render import region_mask

    height, width = original.shape[:2]
    mask = np.zeros((height, width), dtype=bool)
    if written.shape != original.shape:
        return mask
    for region in regions:
        if region.action is not Action.REDACT:
            continue
        box, inside = region_mask(region, policy, width, height)
        if not box.area or not inside.any():
            continue
        window = (slice(box.y0, box.y1), slice(box.x0, box.x1))
        if _filled(original[window], written[window], inside):
            mask[window] |= inside
    return mask


def _filled(before: np.ndarray, after: np.ndarray, inside: np.ndarray) -> bool:
    change = np.abs(after.astype(np.int16) - before.astype(np.int16)).mean(axis=2)[inside]
    if change.mean() >= FILLED_DIFF:
        return True
    return float(before[inside].std()) < FLAT_STD


def _accounted(d: Detection, regions: Sequence[Region], covered: list[np.ndarray]) -> bool:
    if d.label == "allowed":
        return True
    if d.kind is RegionKind.FACE and any(_on_kept_face(d, r) for r in regions):
        return True
    if d.frame >= len(covered):
        return False
    mask = covered[d.frame]
    box = d.box.clamp(mask.shape[1], mask.shape[0])
    if not box.area:
        return True  # wholly outside the frame: nothing of it is visible
    inside = mask[box.y0 : box.y1, box.x0 : box.x1].mean()
    return inside >= INSIDE.get(d.kind, 0.75)


def _on_kept_face(d: Detection, region: Region) -> bool:
    """A face found where a face was kept under an authorization is that face."""
    if region.kind is not RegionKind.FACE or region.action is not Action.KEEP:
        return False
    if region.frame != d.frame:
        return False
    area = region.box.scale(1.3)
    return area.iou(d.box) >= 0.3 or area.intersection(d.box) >= 0.6 * max(1, d.box.area)

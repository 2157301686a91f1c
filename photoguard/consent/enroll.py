"""Enrolment: a reference photo -> exactly one usable face -> one 128-d template.

Uses face_recognition directly (HOG detector, upsample 1, ``num_jitters=1``), imported on first
use. A photo with no face, several faces, a face under ``MIN_FACE_PX`` or a face that cannot be
encoded is refused with the reason; no template is computed for any other face.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from photoguard.consent.errors import EnrolmentError
from photoguard.errors import UnreadableImage

if TYPE_CHECKING:
    import numpy as np

MIN_FACE_PX = 80
UPSAMPLE = 1
JITTERS = 1


@dataclass(frozen=True, eq=False)
class ReferenceTemplate:
    """One checked reference face: its encoding and the source photo's hash."""

    encoding: np.ndarray
    source_sha256: str
    source_name: str


def _face_recognition():
    # One import path for face_recognition: it restores PIL's LOAD_TRUNCATED_IMAGES flag, which
    # face_recognition turns on at import (the load stage must never decode truncated files).
    from photoguard.detect.dlib_faces import face_recognition_module

    return face_recognition_module()


def encode_reference(rgb: np.ndarray, name: str = "photo") -> np.ndarray:
    """The 128-d encoding of the single face in ``rgb``.

    Args:
        rgb: An RGB uint8 array ``(H, W, 3)``.
        name: Shown in error messages (a file name, never a person's name).

    Returns:
        A float64 array of shape (128,).

    Raises:
        EnrolmentError: no face, several faces, a face too small, or not encodable.
    """
    import numpy as np

    fr = _face_recognition()
    image = np.ascontiguousarray(rgb, dtype=np.uint8)
    boxes = fr.face_locations(image, number_of_times_to_upsample=UPSAMPLE, model="hog")
    if not boxes:
        raise EnrolmentError(f"{name}: no face found; use a frontal, well-lit photo")
    if len(boxes) > 1:
        raise EnrolmentError(
            f"{name}: {len(boxes)} faces found; a reference photo must show exactly one person"
        )
    top, right, bottom, left = boxes[0]
    size = min(right - left, bottom - top)
    if size < MIN_FACE_PX:
        raise EnrolmentError(
            f"{name}: the face is {size} px wide; at least {MIN_FACE_PX} px are needed"
        )
    encodings = fr.face_encodings(image, known_face_locations=boxes, num_jitters=JITTERS)
    if len(encodings) != 1 or not np.all(np.isfinite(encodings[0])):
        raise EnrolmentError(f"{name}: the face could not be encoded")
    return np.asarray(encodings[0], dtype=np.float64)


def load_reference(path: Path) -> ReferenceTemplate:
    """Load a reference photo with photoguard's loader and encode its single face.

    Raises:
        EnrolmentError: the file is unreadable or its face is unusable.
    """
    from photoguard.load import load_image

    try:
        image = load_image(path)
    except UnreadableImage as exc:
        raise EnrolmentError(f"reference photo unusable: {exc}") from None
    except OSError as exc:
        raise EnrolmentError(f"cannot read reference photo {path.name}: {exc.strerror}") from None
    encoding = encode_reference(image.frames[0], path.name)
    return ReferenceTemplate(encoding=encoding, source_sha256=image.sha256, source_name=path.name)


def load_references(photos: tuple[Path, ...], where: str = "") -> list[ReferenceTemplate]:
    """``load_reference`` for each photo; ``where`` (a row of an import file) prefixes errors.

    Raises:
        EnrolmentError: the first unusable photo.
    """
    try:
        return [load_reference(p) for p in photos]
    except EnrolmentError as exc:
        if not where:
            raise
        raise EnrolmentError(f"{where}: {exc}") from None

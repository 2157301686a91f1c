"""The stages of one frame run side by side (text beside faces and barcodes) and find what they
find one after another; a crash among them is recorded in stage order, and still blocks."""

from __future__ import annotations

from conftest import SAMPLES

from photoguard import scan
from photoguard.detect import base
from photoguard.load import load_image
from photoguard.pipeline import CheckContext, check_file
from photoguard.settings import load_settings
from photoguard.types import Verdict


def _find(image, ctx, concurrent: bool, monkeypatch):
    monkeypatch.setattr(scan, "CONCURRENT", concurrent)
    return scan.find(image, ctx)


def test_side_by_side_stages_find_what_stages_in_turn_find(monkeypatch):
    monkeypatch.setenv("PHOTOGUARD_THREADS", "2")  # a process with two cores to itself
    ctx = CheckContext(settings=load_settings(None))
    for name, found in (("wristband.jpg", ("text", "barcodes")), ("visit.jpg", ("faces",))):
        image = load_image(SAMPLES / name)
        apart = _find(image, ctx, False, monkeypatch)
        together = _find(image, ctx, True, monkeypatch)
        assert all(getattr(apart, field) for field in found), (name, apart)
        for field in ("faces", "text", "read", "barcodes"):
            assert getattr(together, field) == getattr(apart, field), (name, field)
    assert [r.name for r in together.runs] == ["faces", "text", "barcodes"]
    assert [(r.name, r.version, r.ok) for r in together.runs] == [
        (r.name, r.version, r.ok) for r in apart.runs
    ]


class _CrashingText:
    """A text detector that raises mid-run, on the text stage's thread."""

    name = "crashing-text-test-detector"
    version = "0"

    def detect(self, image, rules=None):
        raise RuntimeError("recognition output had an unexpected shape")


def test_a_text_crash_beside_the_other_stages_blocks_the_file(monkeypatch):
    monkeypatch.setenv("PHOTOGUARD_THREADS", "2")
    monkeypatch.setattr(scan, "CONCURRENT", True)
    base.register(_CrashingText.name)(_CrashingText)
    settings = load_settings(None, text_detectors=(_CrashingText.name,))
    result = check_file(SAMPLES / "coffee.png", CheckContext(settings=settings))
    assert result.verdict is Verdict.BLOCK
    runs = [(r.name, r.ok) for r in result.detectors]
    assert runs == [("faces", True), ("text", False), ("barcodes", True)], runs
    assert any("text" in reason for reason in result.reasons), result.reasons

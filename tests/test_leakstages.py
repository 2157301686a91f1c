"""bench/leakstages.py: a leaked string's class follows the first stage that saw it."""

from bench.leakstages import _classify

_STAGES = ("coarse", "glyphs", "finer", "fine", "cand", "blobs", "line", "redacted")
_NONE = dict.fromkeys(_STAGES, 0.0)


def _row(**seen):
    return {**_NONE, "sure": False, **seen}


def test_classes():
    assert _classify(_row()) == "unfound"
    assert _classify(_row(glyphs=1.0)) == "glyphs-only"
    assert _classify(_row(glyphs=1.0, coarse=0.7)) == "dropped"
    assert _classify(_row(fine=0.5, line=0.9, sure=True)) == "published"
    assert _classify(_row(line=0.9, redacted=0.4)) == "partial"
    assert _classify(_row(coarse=0.2, glyphs=0.3)) == "unfound"  # under a third: not seen

"""The decide stage, on hand-built findings."""

from __future__ import annotations

from photoguard.policy import decide
from photoguard.settings import AmbiguousAction, Policy, SubjectAction
from photoguard.types import (
    Action,
    Box,
    Detection,
    DetectorRun,
    FaceFinding,
    FaceMatch,
    Findings,
    MatchStatus,
    RegionKind,
    Verdict,
)

W, H = 1000, 1000


def face(box: Box, status=MatchStatus.NOT_CHECKED, auth=None) -> FaceFinding:
    return FaceFinding(Detection(RegionKind.FACE, box, 0.9, "test"), FaceMatch(status, auth))


SMALL = Box(10, 10, 60, 60)  # 0.25 % of the image
BIG = Box(200, 100, 800, 800)  # 42 %


def test_nothing_found_passes():
    d = decide(Findings(W, H, runs=(DetectorRun("faces", "1", True),)), Policy())
    assert d.verdict is Verdict.PASS
    assert d.regions == ()


def test_small_unconsented_face_is_redacted():
    d = decide(Findings(W, H, faces=(face(SMALL),)), Policy())
    assert d.verdict is Verdict.REDACT
    assert [r.action for r in d.regions] == [Action.REDACT]


def test_unconsented_main_subject_blocks_by_default_and_redacts_by_policy():
    findings = Findings(W, H, faces=(face(BIG), face(SMALL)))
    assert decide(findings, Policy()).verdict is Verdict.BLOCK
    relaxed = Policy(subject_action=SubjectAction.REDACT)
    assert decide(findings, relaxed).verdict is Verdict.REDACT
    # the subject threshold is a share of the image
    assert decide(findings, Policy(subject_share=0.6)).verdict is Verdict.REDACT


def test_consented_face_is_kept_and_names_its_authorization():
    d = decide(Findings(W, H, faces=(face(BIG, MatchStatus.CONSENTED, "AUTH-1"),)), Policy())
    assert d.verdict is Verdict.PASS
    assert d.regions[0].action is Action.KEEP
    assert d.regions[0].authorization == "AUTH-1"
    assert any("AUTH-1" in r for r in d.reasons)


def test_consented_without_authorization_id_is_not_consented():
    d = decide(Findings(W, H, faces=(face(SMALL, MatchStatus.CONSENTED, None),)), Policy())
    assert d.regions[0].action is Action.REDACT


def test_ambiguous_goes_to_review_or_block():
    findings = Findings(W, H, faces=(face(SMALL, MatchStatus.AMBIGUOUS),))
    assert decide(findings, Policy()).verdict is Verdict.REVIEW
    strict = Policy(ambiguous_action=AmbiguousAction.BLOCK)
    assert decide(findings, strict).verdict is Verdict.BLOCK


def test_failed_detector_blocks_even_when_nothing_was_found():
    runs = (DetectorRun("faces", "1", True), DetectorRun("text", "?", False, error="boom"))
    d = decide(Findings(W, H, runs=runs), Policy())
    assert d.verdict is Verdict.BLOCK
    assert any("text" in r and "boom" in r for r in d.reasons)


def test_text_and_barcodes_are_redacted_and_reasons_hold_no_text():
    text = Detection(RegionKind.TEXT, Box(0, 0, 50, 10), 0.8, "tesseract", label="name")
    code = Detection(RegionKind.BARCODE, Box(0, 20, 50, 40), 1.0, "zxing", label="barcode")
    d = decide(Findings(W, H, text=(text,), barcodes=(code,)), Policy())
    assert d.verdict is Verdict.REDACT
    assert {r.kind for r in d.regions} == {RegionKind.TEXT, RegionKind.BARCODE}
    assert any("1 name" in r for r in d.reasons)


def test_metadata_alone_does_not_change_the_verdict_but_is_reported():
    d = decide(Findings(W, H, metadata=("exif", "gps")), Policy())
    assert d.verdict is Verdict.PASS
    assert any("gps" in r for r in d.reasons)


def test_policy_digest_changes_with_the_policy():
    assert Policy().digest() == Policy().digest()
    assert Policy().digest() != Policy(channel="instagram").digest()


def test_ambiguous_main_subject_goes_to_review_not_block():
    d = decide(Findings(W, H, faces=(face(BIG, MatchStatus.AMBIGUOUS),)), Policy())
    assert d.verdict is Verdict.REVIEW
    assert d.regions[0].action is Action.REDACT

"""The decide stage, on hand-built findings."""

from __future__ import annotations

import json

import pytest
from conftest import SAMPLES, run_cli
from PIL import Image

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
RAN = tuple(DetectorRun(stage, "1", True) for stage in ("faces", "text", "barcodes"))
"""Every required stage ran completely."""


def checked(**kwargs) -> Findings:
    """Findings of a file on which every stage ran."""
    return Findings(W, H, runs=kwargs.pop("runs", RAN), **kwargs)


def face(box: Box, status=MatchStatus.NOT_CHECKED, auth=None) -> FaceFinding:
    return FaceFinding(Detection(RegionKind.FACE, box, 0.9, "test"), FaceMatch(status, auth))


SMALL = Box(10, 10, 60, 60)  # 0.25 % of the image
BIG = Box(200, 100, 800, 800)  # 42 %


def test_nothing_found_passes():
    d = decide(checked(), Policy())
    assert d.verdict is Verdict.PASS
    assert d.regions == ()


def test_small_unconsented_face_is_redacted():
    d = decide(checked(faces=(face(SMALL),)), Policy())
    assert d.verdict is Verdict.REDACT
    assert [r.action for r in d.regions] == [Action.REDACT]


def test_unconsented_main_subject_blocks_by_default_and_redacts_by_policy():
    findings = checked(faces=(face(BIG), face(SMALL)))
    assert decide(findings, Policy()).verdict is Verdict.BLOCK
    relaxed = Policy(subject_action=SubjectAction.REDACT)
    assert decide(findings, relaxed).verdict is Verdict.REDACT
    # the subject threshold is a share of the image
    assert decide(findings, Policy(subject_share=0.6)).verdict is Verdict.REDACT


def test_consented_face_is_kept_and_names_its_authorization():
    d = decide(checked(faces=(face(BIG, MatchStatus.CONSENTED, "AUTH-1"),)), Policy())
    assert d.verdict is Verdict.PASS
    assert d.regions[0].action is Action.KEEP
    assert d.regions[0].authorization == "AUTH-1"
    assert any("AUTH-1" in r for r in d.reasons)


def test_consented_without_authorization_id_is_not_consented():
    d = decide(checked(faces=(face(SMALL, MatchStatus.CONSENTED, None),)), Policy())
    assert d.regions[0].action is Action.REDACT


def test_ambiguous_goes_to_review_or_block():
    findings = checked(faces=(face(SMALL, MatchStatus.AMBIGUOUS),))
    assert decide(findings, Policy()).verdict is Verdict.REVIEW
    strict = Policy(ambiguous_action=AmbiguousAction.BLOCK)
    assert decide(findings, strict).verdict is Verdict.BLOCK


def test_failed_detector_blocks_even_when_nothing_was_found():
    runs = (DetectorRun("faces", "1", True), DetectorRun("text", "?", False, error="boom"))
    d = decide(checked(runs=runs), Policy())
    assert d.verdict is Verdict.BLOCK
    assert any("text" in r and "boom" in r for r in d.reasons)


def test_text_and_barcodes_are_redacted_with_counts_by_kind():
    text = Detection(RegionKind.TEXT, Box(0, 0, 50, 10), 0.8, "tesseract", label="name")
    code = Detection(RegionKind.BARCODE, Box(0, 20, 50, 40), 1.0, "zxing", label="barcode")
    d = decide(checked(text=(text,), barcodes=(code,)), Policy())
    assert d.verdict is Verdict.REDACT
    assert {r.kind for r in d.regions} == {RegionKind.TEXT, RegionKind.BARCODE}
    assert any("1 name" in r for r in d.reasons)


@pytest.mark.parametrize("blocks", [("gps",), ("exif", "exif_thumbnail"), ("xmp",), ("iptc",)])
def test_identifying_metadata_makes_the_original_unpublishable(blocks):
    d = decide(checked(metadata=blocks), Policy())
    assert d.verdict is Verdict.REDACT
    [reason] = [r for r in d.reasons if r.startswith("metadata to strip")]
    assert all(b in reason for b in blocks)
    assert not any("nothing that identifies" in r for r in d.reasons)


@pytest.mark.parametrize("missing", ["faces", "text", "barcodes"])
def test_a_stage_that_did_not_run_is_at_best_review(missing):
    runs = tuple(r for r in RAN if r.name != missing)
    d = decide(checked(runs=runs), Policy())
    assert d.verdict is Verdict.REVIEW
    assert any(r.startswith("not fully checked") and missing[:4] in r for r in d.reasons)
    # ... and never softens a worse verdict
    failed = (*runs, DetectorRun(missing, "?", False, error="boom"))
    assert decide(checked(runs=failed), Policy()).verdict is Verdict.BLOCK


def test_face_to_redact_without_text_detection_is_review_not_redact():
    runs = tuple(r for r in RAN if r.name != "text")
    d = decide(checked(faces=(face(SMALL),), runs=runs), Policy())
    assert d.verdict is Verdict.REVIEW


@pytest.mark.parametrize(
    "status, words",
    [
        (MatchStatus.NOT_YET_EFFECTIVE, "not yet received"),
        (MatchStatus.OUT_OF_CHANNEL, "channel 'instagram'"),
        (MatchStatus.OUT_OF_PURPOSE, "purpose 'fundraising'"),
        (MatchStatus.OUT_OF_SCOPE, "neither the channel 'instagram' nor the purpose"),
        (MatchStatus.REVOKED, "revoked"),
        (MatchStatus.EXPIRED, "expired"),
    ],
)
def test_reasons_name_the_real_cause(status, words):
    policy = Policy(channel="instagram", purpose="fundraising")
    d = decide(checked(faces=(face(SMALL, status),)), policy)
    assert d.verdict is Verdict.REDACT
    [reason] = [r for r in d.reasons if "unconsented face" in r]
    assert words in reason, reason
    if status is not MatchStatus.OUT_OF_SCOPE:
        assert "channel or purpose" not in reason


def test_policy_digest_changes_with_the_policy():
    assert Policy().digest() == Policy().digest()
    assert Policy().digest() != Policy(channel="instagram").digest()


def test_ambiguous_main_subject_goes_to_review_not_block():
    d = decide(checked(faces=(face(BIG, MatchStatus.AMBIGUOUS),)), Policy())
    assert d.verdict is Verdict.REVIEW
    assert d.regions[0].action is Action.REDACT


def test_text_not_read_with_confidence_is_redacted_and_counted_apart_from_phi():
    name = Detection(RegionKind.TEXT, Box(0, 0, 50, 10), 0.8, "text", label="name")
    unread = [
        Detection(RegionKind.TEXT, Box(0, 20 * i, 50, 20 * i + 10), 0.0, "text", label="unreadable")
        for i in range(1, 3)
    ]
    d = decide(Findings(W, H, text=(name, *unread)), Policy())
    assert "PHI text to redact: 1 name" in d.reasons
    assert "text not read with confidence: 2 regions to redact" in d.reasons
    assert all(r.action.value == "redact" for r in d.regions)


# -- end to end: the gate as a user meets it ----------------------------------------------------


def test_a_clean_file_passes_only_when_every_stage_ran(tmp_path):
    full = run_cli("check", str(SAMPLES / "coffee.png"), "--no-registry")
    assert full.returncode == 0, full.stdout + full.stderr
    for flag in ("--no-text", "--no-barcodes"):
        report = tmp_path / "r.json"
        partial = run_cli(
            "check", str(SAMPLES / "coffee.png"), "--no-registry", flag, "--json", str(report)
        )
        assert partial.returncode not in (0, 2, 3), partial.stdout + partial.stderr
        [entry] = json.loads(report.read_text())["files"]
        assert entry["verdict"] == "review"
        assert any(r.startswith("not fully checked") for r in entry["reasons"])


def test_patient_name_in_xmp_makes_the_original_unpublishable(tmp_path):
    photo = tmp_path / "plain.jpg"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:title>Patient DOE, JANE MRN 00482913'
    Image.new("RGB", (320, 240), (90, 140, 90)).save(photo, quality=90, xmp=xmp + b"</x:xmpmeta>")
    report = tmp_path / "r.json"
    result = run_cli("check", str(photo), "--no-registry", "--json", str(report))
    assert result.returncode == 1, result.stdout + result.stderr
    [entry] = json.loads(report.read_text())["files"]
    assert entry["verdict"] == "redact"
    assert any(r.startswith("metadata to strip") and "xmp" in r for r in entry["reasons"])
    assert "DOE" not in report.read_text() + result.stdout + result.stderr


def test_unreadable_text_on_an_allowed_code_is_the_code_but_phi_never_is():
    from photoguard.policy import text_outside_allowed_codes
    from photoguard.types import Box, Detection, RegionKind

    code = Detection(RegionKind.BARCODE, Box(100, 100, 200, 200), 1.0, "barcodes", label="allowed")
    other = Detection(RegionKind.BARCODE, Box(300, 100, 400, 200), 1.0, "barcodes", label="")
    on_code = Detection(RegionKind.TEXT, Box(105, 100, 200, 130), 0.5, "text", label="unreadable")
    phi_on_code = Detection(RegionKind.TEXT, Box(105, 150, 200, 180), 0.5, "text", label="mrn")
    on_other = Detection(RegionKind.TEXT, Box(305, 100, 400, 130), 0.5, "text", label="unreadable")
    other_frame = Detection(
        RegionKind.TEXT, Box(105, 100, 200, 130), 0.5, "text", frame=1, label="unreadable"
    )
    half_out = Detection(RegionKind.TEXT, Box(150, 100, 260, 130), 0.5, "text", label="unreadable")
    text = [on_code, phi_on_code, on_other, other_frame, half_out]
    kept = text_outside_allowed_codes(text, [code, other])
    assert kept == [phi_on_code, on_other, other_frame, half_out]


def test_one_person_in_many_frames_is_one_face_in_the_reasons():
    from dataclasses import replace

    frames = [face(SMALL) for _ in range(35)]
    frames = tuple(
        replace(f, detection=replace(f.detection, frame=i)) for i, f in enumerate(frames)
    )
    other = face(Box(500, 500, 560, 560))
    d = decide(checked(faces=(*frames, other)), Policy())
    assert any(r.startswith("2 unconsented faces to redact") for r in d.reasons), d.reasons
    assert sum(r.kind is RegionKind.FACE for r in d.regions) == 36  # every frame still covered

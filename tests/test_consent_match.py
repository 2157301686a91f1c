"""Consent-aware verdicts on real photos: enrol from one photo, check another of the same person.

Uses the dev corpus by path (two different photos of one person) and the real registry, models
and CLI; nothing is mocked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, corpus_labels, run_cli

DOCUMENT = ROOT / "consents" / "signed" / "eileen-collins-PG-AUTH-2026-01.png"
FAST = ("--no-text", "--no-barcodes")
"""Faster, and never a pass: a file on which OCR and barcodes did not run is at best review."""


def _not_fully_checked(entry: dict) -> bool:
    return entry["verdict"] in ("review", "block") and any(
        r.startswith("not fully checked") for r in entry["reasons"]
    )


def _pair(corpus: Path) -> tuple[Path, Path, Path]:
    """An enrolment photo and a query photo of one person, plus a photo of someone else."""
    by_file = {r["file"]: r for r in corpus_labels()}
    enroll = corpus / "images" / "fr__obama.jpg"
    query = corpus / "images" / "fr__obama2.jpg"
    other = corpus / "images" / "fr__biden.jpg"
    for path, who in ((enroll, "barack_obama"), (query, "barack_obama"), (other, "joe_biden")):
        assert by_file[f"images/{path.name}"]["face_identities"] == [who]
    return enroll, query, other


def _add(db: str, name: str, photo: Path, *extra: str) -> str:
    result = run_cli(
        "--db",
        db,
        "consent",
        "add",
        "--name",
        name,
        "--photo",
        str(photo),
        "--document",
        str(DOCUMENT),
        "--channel",
        "website",
        "--purpose",
        "marketing",
        "--signed-on",
        "2026-01-10",
        "--received-on",
        "2026-01-11",
        "--expires",
        "2027-01-10",
        "--role",
        "patient",
        "--dob",
        "1961-08-04",
        "--json",
        *extra,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [record] = json.loads(result.stdout)
    return record["id"]


def _check(db: str, photo: Path, tmp_path: Path, *args: str) -> dict:
    report = tmp_path / "r.json"
    result = run_cli("--db", db, "check", str(photo), "--json", str(report), *FAST, *args)
    assert result.returncode in (0, 1, 4, 5), result.stdout + result.stderr
    [entry] = json.loads(report.read_text())["files"]
    return entry


def _enrol(corpus: Path, folder: Path):
    enroll, query, other = _pair(corpus)
    db = f"sqlite:///{folder / 'registry.db'}"
    return db, _add(db, "Test Patient", enroll), query, other


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory):
    from conftest import CORPUS, unavailable

    if not (CORPUS / "labels.jsonl").exists():
        unavailable(f"dev corpus not found at {CORPUS}")
    return _enrol(CORPUS, tmp_path_factory.mktemp("reg"))


def test_same_person_other_photo_passes_for_the_authorized_channel(enrolled, tmp_path):
    db, auth, query, _ = enrolled
    entry = _check(db, query, tmp_path, "--channel", "website", "--as-of", "2026-06-01")
    assert _not_fully_checked(entry) and entry["verdict"] == "review", entry["reasons"]
    [face] = entry["regions"]
    assert face["action"] == "keep" and face["authorization"] == auth
    assert any(f"kept under {auth}" in r for r in entry["reasons"])
    assert "Test Patient" not in json.dumps(entry)


@pytest.mark.parametrize(
    "args, status",
    [
        (("--channel", "instagram", "--as-of", "2026-06-01"), "out-of-channel"),
        (("--channel", "website", "--as-of", "2027-02-01"), "expired"),
        (("--channel", "website", "--as-of", "2025-12-01"), "not-yet-effective"),
    ],
)  # the reasons for these are checked in test_policy.py
def test_no_valid_authorization_means_redact_or_block(enrolled, tmp_path, args, status):
    db, _auth, query, _ = enrolled
    entry = _check(db, query, tmp_path, *args)
    assert _not_fully_checked(entry)
    [face] = entry["regions"]
    assert face["action"] == "redact" and face["authorization"] is None
    if status:
        assert face["match"] == status


def test_revoked_before_the_as_of_date(corpus, tmp_path):
    db, auth, query, _ = _enrol(corpus, tmp_path)
    revoke = run_cli(
        "--db",
        db,
        "consent",
        "revoke",
        auth,
        "--received",
        "2026-03-01",
        "--reason",
        "patient asked",
    )
    assert revoke.returncode == 0, revoke.stderr
    before = _check(db, query, tmp_path, "--as-of", "2026-02-15")
    after = _check(db, query, tmp_path, "--as-of", "2026-03-02")
    assert before["regions"][0]["action"] == "keep"  # revocation takes effect when received
    assert after["regions"][0]["action"] == "redact"
    assert _not_fully_checked(after) and after["regions"][0]["match"] == "revoked"


def test_a_different_person_never_matches(enrolled, tmp_path):
    db, _auth, _query, other = enrolled
    entry = _check(db, other, tmp_path, "--as-of", "2026-06-01")
    [face] = entry["regions"]
    assert face["action"] == "redact" and face["match"] == "unknown"


def test_look_alikes_within_the_margin_go_to_review(corpus, db_url, tmp_path):
    enroll, query, _ = _pair(corpus)
    # Two people whose reference photos show the same face: identical twins, at the limit.
    _add(db_url, "Twin One", enroll)
    _add(db_url, "Twin Two", enroll, "--force")  # registering the same face twice is refused
    entry = _check(db_url, query, tmp_path, "--as-of", "2026-06-01")
    assert entry["verdict"] == "review", entry["reasons"]
    assert entry["regions"][0]["match"] == "ambiguous"

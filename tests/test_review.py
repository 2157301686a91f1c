"""Review decisions: matching applies them, policy counts faces once, the registry keeps them.

Pure stages on hand-built values; the registry on real SQLite files, reopened. The page in a
real browser and the CLI on real photos are in test_review_browser.py.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import date

import numpy as np
import pytest
from consent_support import CATALOG, TODAY, request

from photoguard.consent import audit, decisions
from photoguard.consent.errors import InvalidRequest, NotFound
from photoguard.consent.registry import ConsentRegistry
from photoguard.match import MatchRules, ReviewedFace, apply_reviews, match_faces
from photoguard.policy import decide
from photoguard.report.html import render_html
from photoguard.settings import Policy, Settings
from photoguard.types import (
    Action,
    Box,
    Detection,
    DetectorRun,
    FaceFinding,
    FaceMatch,
    Findings,
    MatchStatus,
    PhotoResult,
    RegionKind,
    Verdict,
)
from photoguard.types import (
    EnrolledPerson as Enrolled,
)

SHA = "ab" * 32
FACE = Box(100, 100, 200, 220)
RULES = MatchRules()
RAN = tuple(DetectorRun(stage, "1", True) for stage in ("faces", "text", "barcodes"))
"""Every stage ran: a file with a stage missing is at best review."""


def enc(x: float) -> np.ndarray:
    v = np.zeros(128)
    v[0] = x
    return v


def found(box=FACE, status=MatchStatus.AMBIGUOUS, auth=None, candidates=("AUTH-000001",)):
    match = FaceMatch(status, auth, 0.3, candidates if status is MatchStatus.AMBIGUOUS else ())
    return FaceFinding(Detection(RegionKind.FACE, box, 0.9, "test"), match)


def test_near_ties_are_ambiguous_with_the_valid_authorizations_as_candidates():
    people = [
        Enrolled("PER-1", np.stack([enc(0.0)]), False, MatchStatus.CONSENTED, "AUTH-000001"),
        Enrolled("PER-2", np.stack([enc(0.02)]), False, MatchStatus.CONSENTED, "AUTH-000002"),
        Enrolled("PER-3", np.stack([enc(0.04)]), False, MatchStatus.REVOKED, "AUTH-000003"),
        Enrolled("PER-4", np.stack([enc(0.9)]), False, MatchStatus.CONSENTED, "AUTH-000004"),
    ]
    [m] = match_faces([enc(0.3)], people, RULES)
    assert m.status is MatchStatus.AMBIGUOUS
    # nearest first; a revoked look-alike is no candidate (confirming it could not keep the
    # face), a far one is not either
    assert m.candidates == ("AUTH-000002", "AUTH-000001")
    [clear] = match_faces([enc(0.0)], people[:1], RULES)
    assert clear.status is MatchStatus.CONSENTED and clear.candidates == ()


def test_a_confirmation_keeps_the_face_and_a_rejection_redacts_it():
    yes = ReviewedFace(SHA, 0, Box(102, 98, 201, 222), True, MatchStatus.CONSENTED, "AUTH-000001")
    no = ReviewedFace(SHA, 0, FACE, False)
    [kept] = apply_reviews([found()], [yes], SHA)
    assert kept.match.consented and kept.match.authorization == "AUTH-000001"
    assert kept.match.reviewed
    [redacted] = apply_reviews([found()], [yes, no], SHA)  # the latest decision wins
    assert redacted.match.status is MatchStatus.UNKNOWN and redacted.match.reviewed
    assert not redacted.match.consented


def test_decisions_apply_only_to_the_same_bytes_frame_and_box():
    yes = ReviewedFace(SHA, 0, FACE, True, MatchStatus.CONSENTED, "AUTH-000001")
    other_file = apply_reviews([found()], [yes], "cd" * 32)
    other_box = apply_reviews([found(Box(300, 100, 400, 220))], [yes], SHA)
    other_frame = apply_reviews([found()], [ReviewedFace(SHA, 1, FACE, True,
                                MatchStatus.CONSENTED, "AUTH-000001")], SHA)  # fmt: skip
    for [face] in (other_file, other_box, other_frame):
        assert face.match.status is MatchStatus.AMBIGUOUS and not face.match.reviewed


def test_an_ended_authorization_no_longer_keeps_a_confirmed_face():
    revoked = ReviewedFace(SHA, 0, FACE, True, MatchStatus.REVOKED, None)
    [face] = apply_reviews([found()], [revoked], SHA)
    assert face.match.status is MatchStatus.REVOKED and not face.match.consented
    d = decide(Findings(1000, 1000, runs=RAN, faces=(face,)), Policy())
    assert d.verdict is Verdict.REDACT and d.regions[0].action is Action.REDACT


def test_a_confirmation_does_not_override_a_confident_match_but_a_rejection_does():
    confident = found(status=MatchStatus.CONSENTED, auth="AUTH-000002")
    yes = ReviewedFace(SHA, 0, FACE, True, MatchStatus.CONSENTED, "AUTH-000001")
    assert apply_reviews([confident], [yes], SHA) == [confident]
    [face] = apply_reviews([confident], [ReviewedFace(SHA, 0, FACE, False)], SHA)
    assert not face.match.consented


def test_each_face_is_counted_once_in_the_reasons():
    faces = (
        found(Box(0, 0, 50, 50), MatchStatus.CONSENTED, "AUTH-000001"),
        found(Box(100, 0, 150, 50)),
        found(Box(200, 0, 250, 50), MatchStatus.UNKNOWN),
    )
    d = decide(Findings(1000, 1000, runs=RAN, faces=faces), Policy())
    assert d.verdict is Verdict.REVIEW
    counted = sum(int(r.split()[0]) for r in d.reasons if "face" in r)
    assert counted == 3, d.reasons
    assert d.regions[1].candidates == ("AUTH-000001",)


def test_html_report_labels_an_ambiguous_face_review():
    d = decide(Findings(1000, 1000, runs=RAN, faces=(found(), found(Box(300, 0, 350, 50),
               MatchStatus.UNKNOWN))), Policy())  # fmt: skip
    result = PhotoResult(path=__import__("pathlib").Path("x.jpg"), sha256=SHA, verdict=d.verdict,
                         reasons=d.reasons, regions=d.regions, width=1000, height=1000,
                         thumbnail=b"\xff\xd8")  # fmt: skip
    page = render_html([result], Settings())
    assert page.count("<span>face · review</span>") == 1
    assert page.count("<span>face · redact</span>") == 1


# -- the registry ---------------------------------------------------------------------------


def _registry(tmp_path) -> ConsentRegistry:
    url = f"sqlite:///{tmp_path / 'db' / 'registry.db'}"
    return ConsentRegistry(url, catalog=CATALOG, clock=lambda: TODAY)


@pytest.fixture
def twins(tmp_path):
    with _registry(tmp_path) as reg:
        one = reg.add(request(tmp_path, name="Twin One"))
        two = reg.add(request(tmp_path, name="Twin Two"))
    return tmp_path, one.id, two.id


def test_a_decision_survives_reopening_and_is_in_the_audit_trail(twins):
    folder, one, two = twins
    with _registry(folder) as reg:
        made = decisions.record(
            reg, file_sha256=SHA, frame=0, box=FACE, candidates=(one, two),
            authorization="auth-1", reviewer="A. Lee", file="/p/x.jpg",
        )  # fmt: skip
    assert made.authorization == one and made.confirmed
    with _registry(folder) as reg:
        [again] = decisions.list_decisions(reg, SHA)
        assert again == made and again.reviewer == "A. Lee" and again.person == "PER-000001"
        assert audit.verify(reg).intact
        [entry] = [e for e in audit.export(reg) if e["payload"].get("action") == "review"]
    payload = entry["payload"]
    assert entry["seq"] == made.audit_seq
    assert payload["reviewer"] == "A. Lee" and payload["file_sha256"] == SHA
    assert payload["box"] == FACE.to_list() and payload["authorization"] == one
    assert payload["decision"] == "is" and "operator" in payload and entry["at"]
    assert "Twin" not in json.dumps(entry)  # ids, never names


def test_only_a_candidate_can_be_confirmed(twins):
    folder, one, two = twins
    with _registry(folder) as reg:
        with pytest.raises(InvalidRequest, match="not a candidate"):
            decisions.record(reg, file_sha256=SHA, frame=0, box=FACE, candidates=(one,),
                             authorization=two)  # fmt: skip
        with pytest.raises(NotFound):
            decisions.record(reg, file_sha256=SHA, frame=0, box=FACE, candidates=("AUTH-000009",),
                             authorization="AUTH-000009")  # fmt: skip
        with pytest.raises(InvalidRequest):
            decisions.record(reg, file_sha256="nothex", frame=0, box=FACE, candidates=())
        assert decisions.list_decisions(reg) == []
        assert audit.export(reg) and all(
            e["payload"].get("action") != "review" for e in audit.export(reg)
        )


def test_resolved_for_a_check_until_the_authorization_ends(twins):
    folder, one, two = twins
    with _registry(folder) as reg:
        decisions.record(reg, file_sha256=SHA, frame=0, box=FACE, candidates=(one, two),
                         authorization=two)  # fmt: skip
        decisions.record(reg, file_sha256=SHA, frame=0, box=Box(500, 0, 600, 100),
                         candidates=(one, two))  # fmt: skip
        [yes, no] = decisions.resolve(reg, "website", "marketing", TODAY)
        assert (yes.confirmed, yes.status, yes.authorization) == (True, MatchStatus.CONSENTED, two)
        assert (no.confirmed, no.authorization) == (False, None)
        [later, _] = decisions.resolve(reg, "website", "marketing", date(2027, 2, 1))
        assert later.status is MatchStatus.EXPIRED and later.authorization is None
        [other, _] = decisions.resolve(reg, "instagram", "marketing", TODAY)
        assert other.status is MatchStatus.OUT_OF_CHANNEL  # the channel is what is missing
        reg.revoke(two, date(2026, 5, 1), "asked in writing")
        [revoked, _] = decisions.resolve(reg, "website", "marketing", TODAY)
        assert revoked.status is MatchStatus.REVOKED


# Hand edits to the decision table, each one that would keep (publish) a face or hide a
# decision: the registry must refuse to be used for a check and verify must name the row.
DECISION_EDITS = {
    "rejection-flipped": "UPDATE face_decision SET confirmed = 1, authorization_id = 1, "
                         "person_id = 1 WHERE confirmed = 0",
    "other-file": "UPDATE face_decision SET file_sha256 = '" + "b" * 64 + "'",
    "box-moved": "UPDATE face_decision SET x1 = x1 + 40",
    "inserted": "INSERT INTO face_decision (file_sha256, frame, x0, y0, x1, y1, confirmed, "
                "authorization_id, person_id, candidates, reviewer, decided_at, audit_seq) "
                "SELECT '" + "c" * 64 + "', frame, x0, y0, x1, y1, 1, 1, 1, candidates, "
                "reviewer, decided_at, audit_seq FROM face_decision LIMIT 1",
    "deleted": "DELETE FROM face_decision WHERE confirmed = 0",
}  # fmt: skip


@pytest.mark.parametrize("edit", sorted(DECISION_EDITS))
def test_a_decision_edited_by_hand_is_refused_and_named(twins, edit):
    import sqlite3

    from photoguard.consent.errors import RegistryTampered

    folder, one, two = twins
    with _registry(folder) as reg:
        decisions.record(reg, file_sha256=SHA, frame=0, box=FACE, candidates=(one, two),
                         authorization=one)  # fmt: skip
        decisions.record(reg, file_sha256=SHA, frame=0, box=Box(500, 0, 600, 100),
                         candidates=(one, two))  # fmt: skip
        assert len(decisions.resolve(reg, "website", "marketing", TODAY)) == 2
        assert audit.verify_state(reg) == []
    con = sqlite3.connect(folder / "db" / "registry.db")
    with con:
        con.execute(DECISION_EDITS[edit])
    con.close()
    with _registry(folder) as reg:
        with pytest.raises(RegistryTampered, match="outside photoguard"):
            decisions.resolve(reg, "website", "marketing", TODAY)
        named = [p.row for p in audit.verify_state(reg)]
    assert named and all(r.startswith(("DEC-", "review entry")) for r in named), named


# -- the page's server ----------------------------------------------------------------------


def test_the_page_binds_to_the_loopback_address_only():
    from photoguard.review.server import bind

    sock = bind(0)
    try:
        host, port = sock.getsockname()[:2]
        assert host == "127.0.0.1" and port > 0
    finally:
        sock.close()


def _get(url: str, **headers) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_requests_without_the_token_are_refused(tmp_path):
    import uvicorn

    from photoguard.pipeline import CheckContext
    from photoguard.review.app import create_app
    from photoguard.review.server import open_page
    from photoguard.review.session import ReviewSession

    settings = Settings(db_url=f"sqlite:///{tmp_path / 'none.db'}")
    session = ReviewSession(CheckContext(settings=settings, enrolled=()))
    page = open_page()
    server = uvicorn.Server(uvicorn.Config(create_app(session, page.token), log_level="warning",
                                           lifespan="off"))  # fmt: skip
    thread = threading.Thread(target=server.run, kwargs={"sockets": [page.sock]}, daemon=True)
    thread.start()
    try:
        base = page.url.rsplit("/", 2)[0]
        assert _wait_for(page.url) == 200
        assert _get(base + "/") == 404
        assert _get(f"{base}/{page.token[:-1]}/") == 404
        assert _get(f"{base}/x{page.token}/") == 404
        assert _get(f"{base}/image/0/0.jpg") == 404
        assert _get(page.url, Host="attacker.example") == 400
        assert _get(page.url + "image/0/0.jpg") == 404  # no such file in this session
        assert len(page.token) >= 40
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        page.sock.close()


def _wait_for(url: str) -> int:
    for _ in range(200):
        try:
            return _get(url)
        except (TimeoutError, ConnectionError, urllib.error.URLError):
            threading.Event().wait(0.05)
    return 0

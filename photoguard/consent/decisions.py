"""Review decisions: a person says who an uncertain face is ("this is X") or that it is not.

Table ``face_decision`` (migration v4): one row per decision, never updated or deleted; the
latest decision for a face wins. Each decision is also an audit entry (kind ``consent``, action
``review``: who, when, the file's sha256, the face's box, the authorization) written in the same
transaction. A face is named by its file's sha256, frame and box: no pixels, no encoding.

A confirmed face keeps what its person's authorizations say for each later check (channel,
purpose, date): once the authorization ends (revoked, expired), the decision no longer keeps it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, select

from photoguard.consent import audit, rows, state
from photoguard.consent.errors import InvalidRequest, RegistryTampered
from photoguard.consent.records import (
    AUTH_PREFIX,
    DECISION_PREFIX,
    PERSON_PREFIX,
    Authorization,
    decide_coverage,
    format_id,
    parse_id,
)
from photoguard.types import Box, MatchStatus

if TYPE_CHECKING:
    from photoguard.consent.registry import ConsentRegistry
    from photoguard.match import ReviewedFace
    from photoguard.settings import Settings

_SHA256 = re.compile(r"[0-9a-f]{64}")


class FaceDecisionRow(SQLModel, table=True):
    __tablename__ = "face_decision"

    id: int | None = Field(default=None, primary_key=True)
    file_sha256: str = Field(max_length=64, index=True)
    frame: int
    x0: int
    y0: int
    x1: int
    y1: int
    confirmed: bool
    authorization_id: int | None = Field(default=None, foreign_key="authorization_record.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    candidates: list[str] = Field(sa_column=Column(JSON, nullable=False))
    reviewer: str
    decided_at: datetime
    audit_seq: int


@dataclass(frozen=True, slots=True)
class FaceDecision:
    """One recorded decision (a plain value, never the row)."""

    id: str
    file_sha256: str
    frame: int
    box: Box
    confirmed: bool
    """True: "this is" the person of ``authorization``; False: none of the candidates."""
    authorization: str | None
    person: str | None
    candidates: tuple[str, ...]
    reviewer: str
    decided_at: datetime
    audit_seq: int


def record(
    registry: ConsentRegistry,
    *,
    file_sha256: str,
    frame: int,
    box: Box,
    candidates: tuple[str, ...],
    authorization: str | None = None,
    reviewer: str | None = None,
    file: str | None = None,
) -> FaceDecision:
    """Record that a face is the person of ``authorization`` (None: none of the candidates).

    Args:
        file_sha256: the checked file's bytes.
        frame, box: the face, as the check reported it.
        candidates: the authorizations the check offered for this face.
        authorization: the one confirmed; must be a candidate.
        reviewer: who decided (default: the OS login name).
        file: the file's path, for the audit entry.

    Raises:
        InvalidRequest: a malformed hash or box, or an authorization that is not a candidate.
        NotFound: no such authorization.
    """
    if not _SHA256.fullmatch(file_sha256) or box.area <= 0 or frame < 0:
        raise InvalidRequest("a review decision needs a file sha256 and a face box")
    authorization = _candidate(authorization, candidates)
    who = (reviewer or audit.actor()["operator"]).strip()
    if not who:
        raise InvalidRequest("a review decision needs a reviewer")
    with registry.transaction() as session:
        auth = rows.auth_row(session, authorization) if authorization else None
        person = format_id(PERSON_PREFIX, auth.person_id) if auth else None
        [entry] = audit.append(session, [audit.consent_entry(
            "review", reviewer=who, file=file, file_sha256=file_sha256, frame=frame,
            box=box.to_list(), decision="is" if auth else "not", authorization=authorization,
            person=person, candidates=list(candidates),
        )])  # fmt: skip
        row = FaceDecisionRow(
            file_sha256=file_sha256, frame=frame, x0=box.x0, y0=box.y0, x1=box.x1, y1=box.y1,
            confirmed=auth is not None, authorization_id=auth.id if auth else None,
            person_id=auth.person_id if auth else None, candidates=list(candidates),
            reviewer=who, decided_at=datetime.now(UTC), audit_seq=entry.seq,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return _decision(row)


def _candidate(authorization: str | None, candidates: tuple[str, ...]) -> str | None:
    """``authorization`` in canonical form (AUTH-000001); refused unless a candidate."""
    if authorization is None:
        return None
    pk = parse_id(AUTH_PREFIX, authorization)
    authorization = format_id(AUTH_PREFIX, pk) if pk is not None else authorization.strip()
    if authorization not in candidates:
        offered = ", ".join(candidates) or "none"
        raise InvalidRequest(f"{authorization} is not a candidate for this face ({offered})")
    return authorization


def list_decisions(registry: ConsentRegistry, file_sha256: str | None = None) -> list[FaceDecision]:
    """Every decision (or those about one file), oldest first."""
    with registry.transaction() as session:
        return _all(session, file_sha256)


def resolve(
    registry: ConsentRegistry, channel: str, purpose: str, on: date
) -> tuple[ReviewedFace, ...]:
    """Every decision as the matcher applies it for one channel, purpose and date, oldest first.

    "This is X" carries what X's authorizations say then (``decide_coverage``): consented with
    a valid authorization, else revoked, expired or out of scope (the face is redacted).

    Raises:
        RegistryTampered: a decision row is not the copy of its sealed audit entry (added,
            edited or deleted outside photoguard); no check may rely on it.
    """
    from photoguard.match import ReviewedFace

    with registry.transaction(snapshot=True) as session:
        tampered = state.decision_problems(session.connection())
        if tampered:
            raise RegistryTampered(tampered)
        decisions = _all(session, None)
    by_person: dict[str, list[Authorization]] = {}
    if any(d.confirmed for d in decisions):
        for auth in registry.list():
            by_person.setdefault(auth.person_id, []).append(auth)
    out = []
    for d in decisions:
        status, auth_id = MatchStatus.UNKNOWN, None
        if d.confirmed and d.person:
            status, auth_id = decide_coverage(by_person.get(d.person, []), channel, purpose, on)
            auth_id = auth_id if status is MatchStatus.CONSENTED else None
        out.append(ReviewedFace(d.file_sha256, d.frame, d.box, d.confirmed, status, auth_id))
    return tuple(out)


def decisions_for_check(settings: Settings) -> tuple[ReviewedFace, ...]:
    """The review decisions for a check under ``settings`` (policy channel and purpose,
    ``settings.as_of`` or today); none when the default registry does not exist yet.

    Raises:
        RegistryError: the registry cannot be opened or read.
    """
    from photoguard.consent import db
    from photoguard.consent.registry import ConsentRegistry

    path = db.sqlite_file(db.normalize_url(settings.db_url))
    if path is not None and not path.exists():
        return ()  # registry_view refuses a named registry that is missing
    policy = settings.policy
    with ConsentRegistry.from_settings(settings) as registry:
        return resolve(registry, policy.channel, policy.purpose, settings.as_of or date.today())


def _all(session: Session, file_sha256: str | None) -> list[FaceDecision]:
    query = select(FaceDecisionRow).order_by(FaceDecisionRow.id)
    if file_sha256 is not None:
        query = query.where(FaceDecisionRow.file_sha256 == file_sha256)
    return [_decision(row) for row in session.exec(query).all()]


def _decision(row: FaceDecisionRow) -> FaceDecision:
    return FaceDecision(
        id=format_id(DECISION_PREFIX, row.id or 0),
        file_sha256=row.file_sha256,
        frame=row.frame,
        box=Box(row.x0, row.y0, row.x1, row.y1),
        confirmed=row.confirmed,
        authorization=format_id(AUTH_PREFIX, row.authorization_id)
        if row.authorization_id is not None
        else None,
        person=format_id(PERSON_PREFIX, row.person_id) if row.person_id is not None else None,
        candidates=tuple(row.candidates),
        reviewer=row.reviewer,
        decided_at=row.decided_at,
        audit_seq=row.audit_seq,
    )


__all__ = ["FaceDecision", "decisions_for_check", "list_decisions", "record", "resolve"]

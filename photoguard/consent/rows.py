"""Row-level helpers of the registry: look-ups by id and the insert of one authorization.

Called only inside a registry transaction; they never commit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from photoguard.consent.enroll import ReferenceTemplate
from photoguard.consent.errors import NotFound
from photoguard.consent.forms import AuthorizationForm
from photoguard.consent.models import (
    AuthorizationRow,
    DocumentRow,
    FaceTemplateRow,
    PersonRow,
    authorization_record,
)
from photoguard.consent.records import (
    AUTH_PREFIX,
    PERSON_PREFIX,
    TEMPLATE_PREFIX,
    Authorization,
    AuthorizationRequest,
    AuthStatus,
    format_id,
    parse_id,
)


def now() -> datetime:
    """The current time, timezone-aware UTC (the database stores UTC)."""
    return datetime.now(UTC)


def auth_row(session: Session, auth_id: str) -> AuthorizationRow:
    """Raises NotFound for an unknown or malformed authorization id."""
    return _by_id(session, AuthorizationRow, AUTH_PREFIX, auth_id, "authorization")


def person_row(session: Session, person_id: str) -> PersonRow:
    """Raises NotFound for an unknown or malformed person id."""
    return _by_id(session, PersonRow, PERSON_PREFIX, person_id, "person")


def _by_id(session: Session, table, prefix: str, text_id: str, what: str):
    pk = parse_id(prefix, text_id)
    row = session.get(table, pk) if pk is not None else None
    if row is None:
        raise NotFound(f"no {what} {text_id}")
    return row


def person_for(session: Session, request: AuthorizationRequest) -> PersonRow:
    """The named existing person, else a new one.

    People are never merged by name: two patients may share a name and date of birth, and
    merging them would let one's authorization cover the other's face.
    """
    if request.person_id:
        return person_row(session, request.person_id)
    person = PersonRow(
        name=request.name.strip(), dob=request.dob, role=request.role.value, created_at=now()
    )
    session.add(person)
    session.flush()
    return person


def insert_authorization(
    session: Session,
    request: AuthorizationRequest,
    form: AuthorizationForm,
    templates: list[ReferenceTemplate],
    document: tuple[str, int],
    enrolled_on: date,
    retention: timedelta,
) -> tuple[Authorization, list[str]]:
    """Insert one checked authorization, its document row (once) and its face templates.

    Returns:
        The authorization, and the keys of the rows written (``state.py``): the authorization,
        its person when new, its templates.
    """
    assert request.signed_on and request.received_on and request.document  # checked at intake
    new_person = not request.person_id
    person = person_for(session, request)
    sha, size = document
    if session.get(DocumentRow, sha) is None:
        suffix = request.document.suffix.lower()[:32]
        session.add(DocumentRow(sha256=sha, size=size, suffix=suffix, stored_at=now()))
        session.flush()  # rows without relationships flush in no particular order
    row = _authorization_row(person, request, form, sha)
    session.add(row)
    faces = [
        FaceTemplateRow(
            person_id=person.id,
            source_sha256=t.source_sha256,
            encoding=t.encoding.astype("<f8").tobytes(),
            enrolled_on=enrolled_on,
            purge_on=enrolled_on + retention,
        )
        for t in templates
    ]
    session.add_all(faces)
    session.flush()
    written = [format_id(AUTH_PREFIX, row.id or 0)]
    written += [format_id(PERSON_PREFIX, person.id or 0)] if new_person else []
    written += [format_id(TEMPLATE_PREFIX, f.id or 0) for f in faces]
    return authorization_record(row, person), written


def _authorization_row(
    person: PersonRow, request: AuthorizationRequest, form: AuthorizationForm, sha256: str
) -> AuthorizationRow:
    """The row of a checked request on ``form``, its signed document stored as ``sha256``."""
    return AuthorizationRow(
        person_id=person.id,
        form_version=form.version,
        disclosed=form.disclosed,
        discloser=form.discloser,
        recipients=form.recipients,
        purposes=list(request.purposes),
        channels=list(request.channels),
        signed_on=request.signed_on,
        received_on=request.received_on,
        expires_on=request.expires_on,
        expires_event=request.expires_event,
        signer=(request.signer or request.name).strip(),
        signer_authority=request.signer_authority,
        statements=list(form.statements),
        third_party_remuneration=request.third_party_remuneration,
        document_sha256=sha256,
        created_at=now(),
    )


def people_with_live_authorizations(session: Session, today: date) -> set[int]:
    """Primary keys of people with an authorization active or yet to take effect on ``today``."""
    ended = (AuthStatus.REVOKED, AuthStatus.EXPIRED)
    people = {p.id: p for p in session.exec(select(PersonRow)).all()}
    return {
        row.person_id
        for row in session.exec(select(AuthorizationRow)).all()
        if authorization_record(row, people[row.person_id]).status_on(today) not in ended
    }

"""The consent registry: authorizations, signed documents and face templates.

Every change is one transaction that also appends its audit entry (``audit.py``). Nothing is
hard-deleted except face templates (biometric data, purged on schedule or on request); revoked
and expired authorizations stay and say so. Everything returned is a frozen ``records`` value,
never an ORM row.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from photoguard.consent import audit, db, forms, intake, rows
from photoguard.consent.enroll import ReferenceTemplate, load_reference
from photoguard.consent.errors import EnrolmentError, InvalidRequest
from photoguard.consent.models import (
    AuthorizationRow,
    DocumentRow,
    FaceTemplateRow,
    PersonRow,
    authorization_record,
    person_record,
    template_record,
)
from photoguard.consent.records import (
    AUTH_PREFIX,
    PERSON_PREFIX,
    Authorization,
    AuthorizationRequest,
    AuthStatus,
    DocumentProblem,
    Person,
    Template,
    decide_coverage,
    format_id,
    normalize,
)
from photoguard.consent.store import DocumentStore
from photoguard.types import EnrolledPerson

if TYPE_CHECKING:
    from photoguard.settings import Settings

TEMPLATE_RETENTION_DAYS = 3 * 365
"""BIPA: destroy biometric identifiers within 3 years of the last interaction."""


class ConsentRegistry:
    """Open (and create or upgrade) a registry.

    Args:
        url: ``sqlite:///path.db``, a bare path, or ``postgresql://...``; None for the default
            SQLite file under ``$XDG_DATA_HOME/photoguard``.
        documents: Folder of the document store; default ``documents/`` beside a SQLite file,
            else ``$XDG_DATA_HOME/photoguard/documents``.
        catalog: The declared authorization forms (from photoguard.toml).
        template_retention_days: Days from enrolment to a template's purge date.
        clock: Today's date (injectable for tests).
        create: Create a missing registry (False for read-only use: a missing one is an error).

    Raises:
        RegistryError: the database cannot be opened or migrated, or is missing and
            ``create`` is False.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        documents: Path | None = None,
        catalog: forms.FormCatalog | None = None,
        template_retention_days: int = TEMPLATE_RETENTION_DAYS,
        clock: Callable[[], date] = date.today,
        create: bool = True,
    ) -> None:
        self.url = db.normalize_url(url)
        sqlite = db.sqlite_file(self.url)
        if documents is None:
            documents = (sqlite.parent if sqlite else db.data_home()) / "documents"
        self.store = DocumentStore(documents)
        self.catalog = catalog or forms.FormCatalog(forms={})
        self.retention = timedelta(days=template_retention_days)
        self.clock = clock
        self.database = db.Database(self.url, create=create)
        self.engine = self.database.engine
        self.schema_version = self.database.schema_version

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> ConsentRegistry:
        """Open the registry that ``settings`` name (``[registry]`` in photoguard.toml)."""
        table = settings.raw.get("registry", {})
        documents = table.get("documents")
        retention = table.get("template_retention_days", TEMPLATE_RETENTION_DAYS)
        if not isinstance(retention, int) or isinstance(retention, bool) or retention < 1:
            raise InvalidRequest("[registry] template_retention_days must be a whole number > 0")
        return cls(
            settings.db_url,
            documents=Path(documents).expanduser() if documents else None,
            catalog=forms.catalog_from_settings(settings.raw),
            template_retention_days=retention,
            **kwargs,
        )

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> ConsentRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self, snapshot: bool = False) -> AbstractContextManager[Session]:
        """One registry transaction (see ``db.Database.transaction``)."""
        return self.database.transaction(snapshot)

    # -- intake -----------------------------------------------------------------------------

    def add(self, request: AuthorizationRequest) -> Authorization:
        """Check, store and register one signed authorization (and enrol its photos).

        Raises:
            IncompleteAuthorization: a core element or required statement is missing.
            UnknownForm: the form version is not declared.
            EnrolmentError: a reference photo is unusable.
            DocumentError: the signed document cannot be stored.
        """
        return self._add_all([request], where=[""], file=None)[0]

    def import_file(self, path: Path) -> builtins.list[Authorization]:
        """Register every authorization of a CSV or TOML file, or none of them.

        Raises:
            InvalidRequest: a row is malformed or incomplete (the row is named).
        """
        requests = intake.read_requests(path)
        where = [f"{path.name} row {i}" for i in range(1, len(requests) + 1)]
        return self._add_all(requests, where, file=path.name)

    def _add_all(
        self,
        requests: builtins.list[AuthorizationRequest],
        where: builtins.list[str],
        file: str | None,
    ) -> builtins.list[Authorization]:
        checked = [self._check(r, w) for r, w in zip(requests, where, strict=True)]
        # Every photo is checked before anything is written. A document stored for a
        # transaction that then fails stays as an unreferenced file: harmless, content-addressed.
        templates = [
            self._enrol(request.photos, w) for (request, _), w in zip(checked, where, strict=True)
        ]
        prepared = []
        for (request, form), faces in zip(checked, templates, strict=True):
            assert request.document is not None  # check_complete guarantees it
            prepared.append((request, form, faces, self.store.put(request.document)))
        with self.transaction() as session:
            today = self.clock()
            added = [
                rows.insert_authorization(session, request, form, faces, doc, today, self.retention)
                for request, form, faces, doc in prepared
            ]
            audit.append(
                session,
                [
                    audit.added(a, len(faces), file)
                    for a, (_, _, faces, _) in zip(added, prepared, strict=True)
                ],
            )
        return added

    @staticmethod
    def _enrol(photos: tuple[Path, ...], where: str) -> builtins.list[ReferenceTemplate]:
        try:
            return [load_reference(p) for p in photos]
        except EnrolmentError as exc:
            if not where:
                raise
            raise EnrolmentError(f"{where}: {exc}") from None

    def _check(
        self, request: AuthorizationRequest, where: str
    ) -> tuple[AuthorizationRequest, forms.AuthorizationForm]:
        request = replace(
            request,
            channels=tuple(dict.fromkeys(normalize(c) for c in request.channels if c.strip())),
            purposes=tuple(dict.fromkeys(normalize(p) for p in request.purposes if p.strip())),
            received_on=request.received_on or self.clock(),
        )
        form = self.catalog.get(request.form_version)
        forms.check_complete(request, form, where)
        if request.document is not None and not request.document.is_file():
            raise InvalidRequest(
                f"{where + ': ' if where else ''}signed document not found: {request.document.name}"
            )
        return request, form

    # -- reading ------------------------------------------------------------------------------

    def get(self, auth_id: str) -> Authorization:
        """One authorization by id (``AUTH-000123``).

        Raises:
            NotFound: no such authorization.
        """
        with self.transaction() as session:
            row = rows.auth_row(session, auth_id)
            return authorization_record(row, session.get(PersonRow, row.person_id))

    def list(
        self,
        channel: str | None = None,
        valid_on: date | None = None,
        purpose: str | None = None,
    ) -> builtins.list[Authorization]:
        """Every authorization, oldest first; filtered by channel / purpose / validity on a date."""
        with self.transaction() as session:
            rows = session.exec(
                select(AuthorizationRow, PersonRow)
                .join(PersonRow, AuthorizationRow.person_id == PersonRow.id)
                .order_by(AuthorizationRow.id)
            ).all()
            auths = [authorization_record(a, p) for a, p in rows]
        if channel is not None:
            auths = [a for a in auths if normalize(channel) in a.channels]
        if purpose is not None:
            auths = [a for a in auths if normalize(purpose) in a.purposes]
        if valid_on is not None:
            auths = [a for a in auths if a.status_on(valid_on) is AuthStatus.ACTIVE]
        return auths

    def valid_for(self, channel: str, purpose: str, on: date) -> builtins.list[Authorization]:
        """Authorizations in effect on ``on`` that cover ``channel`` and ``purpose``."""
        return [a for a in self.list() if a.valid_for(channel, purpose, on)]

    def expiring(self, within_days: int, today: date | None = None) -> builtins.list[Authorization]:
        """Active authorizations whose expiration date falls within ``within_days`` of today."""
        today = today or self.clock()
        end = today + timedelta(days=within_days)
        return [
            a for a in self.list()
            if a.status_on(today) is AuthStatus.ACTIVE and a.expires_on is not None
            and a.expires_on <= end
        ]  # fmt: skip

    def person(self, person_id: str) -> Person:
        """One person by id (``PER-000001``)."""
        with self.transaction() as session:
            return person_record(rows.person_row(session, person_id))

    def templates(self, person_id: str | None = None) -> builtins.list[Template]:
        """Stored face templates (bookkeeping only), optionally of one person."""
        with self.transaction() as session:
            query = select(FaceTemplateRow).order_by(FaceTemplateRow.id)
            if person_id is not None:
                pk = rows.person_row(session, person_id).id
                query = query.where(FaceTemplateRow.person_id == pk)
            return [template_record(t) for t in session.exec(query).all()]

    def all_names(self) -> builtins.list[str]:
        """Every registered person's name, for the OCR deny-list (never printed)."""
        with self.transaction() as session:
            return sorted({p.name for p in session.exec(select(PersonRow)).all()})

    def templates_for_matching(
        self, channel: str, purpose: str, on: date
    ) -> builtins.list[EnrolledPerson]:
        """Every enrolled person's templates with what their authorizations say for this check.

        Templates past their purge date are left out (treated as not enrolled).
        """
        import numpy as np

        today = self.clock()
        with self.transaction() as session:
            people = {p.id: p for p in session.exec(select(PersonRow)).all()}
            templates = session.exec(
                select(FaceTemplateRow).where(FaceTemplateRow.purge_on > today)
            ).all()
            auths = session.exec(select(AuthorizationRow)).all()
        by_person: dict[int, builtins.list[Authorization]] = {}
        for row in auths:
            by_person.setdefault(row.person_id, []).append(
                authorization_record(row, people[row.person_id])
            )
        encodings: dict[int, builtins.list[np.ndarray]] = {}
        for t in templates:
            encodings.setdefault(t.person_id, []).append(np.frombuffer(t.encoding, dtype="<f8"))
        enrolled = []
        for pk, encs in sorted(encodings.items()):
            status, auth_id = decide_coverage(by_person.get(pk, []), channel, purpose, on)
            enrolled.append(EnrolledPerson(
                person=format_id(PERSON_PREFIX, pk),
                encodings=np.vstack(encs).astype(np.float64),
                minor=person_record(people[pk]).minor_on(on),
                status=status,
                authorization=auth_id,
            ))  # fmt: skip
        return enrolled

    # -- changes ------------------------------------------------------------------------------

    def revoke(self, auth_id: str, received: date, reason: str) -> Authorization:
        """Record a written revocation, effective from the day it was received.

        Raises:
            NotFound: no such authorization.
            InvalidRequest: already revoked, no reason, or received before it was signed.
        """
        if not reason.strip():
            raise InvalidRequest("a revocation needs a reason")
        with self.transaction() as session:
            row = rows.auth_row(session, auth_id)
            if row.revocation_received_on is not None:
                raise InvalidRequest(
                    f"{auth_id} was already revoked on {row.revocation_received_on.isoformat()}"
                )
            if received < row.signed_on:
                raise InvalidRequest("a revocation cannot be received before the date signed")
            row.revocation_received_on = received
            row.revocation_reason = reason.strip()
            session.add(row)
            auth = authorization_record(row, session.get(PersonRow, row.person_id))
            audit.append(session, [audit.changed("revoke", auth, received_on=received)])
            return auth

    def record_expiry_event(self, auth_id: str, occurred_on: date) -> Authorization:
        """Record that the expiration event of an authorization happened on ``occurred_on``.

        Raises:
            NotFound: no such authorization.
            InvalidRequest: it has no expiration event, or the event is already recorded.
        """
        with self.transaction() as session:
            row = rows.auth_row(session, auth_id)
            if not row.expires_event or row.event_occurred_on is not None:
                raise InvalidRequest(f"{auth_id} has no pending expiration event")
            row.event_occurred_on = occurred_on
            session.add(row)
            auth = authorization_record(row, session.get(PersonRow, row.person_id))
            audit.append(session, [audit.changed("expiry-event", auth, occurred_on=occurred_on)])
            return auth

    def purge_biometrics(
        self, person_id: str | None = None, due: bool = False, today: date | None = None
    ) -> int:
        """Delete face templates: one person's, or those that are due, or both filters.

        Due (BIPA: at the purge date, or once the purpose is satisfied): past their purge date,
        or of a person none of whose authorizations is active or yet to take effect (all
        revoked or expired). Signed documents and authorizations stay (six-year retention).
        Returns how many templates were deleted.

        Raises:
            InvalidRequest: neither a person nor ``due`` given.
        """
        if person_id is None and not due:
            raise InvalidRequest("name a person or ask for the templates that are due")
        today = today or self.clock()
        with self.transaction() as session:
            query = select(FaceTemplateRow)
            if person_id is not None:
                pk = rows.person_row(session, person_id).id
                query = query.where(FaceTemplateRow.person_id == pk)
            doomed = session.exec(query).all()
            if due:
                live = self._people_with_live_authorizations(session, today)
                doomed = [t for t in doomed if t.purge_on <= today or t.person_id not in live]
            for row in doomed:
                session.delete(row)
            audit.append(session, [audit.consent_entry(
                "purge-biometrics", person=person_id, due=due, as_of=today,
                templates=len(doomed),
                people=sorted({format_id(PERSON_PREFIX, t.person_id) for t in doomed}),
            )])  # fmt: skip
        return len(doomed)

    @staticmethod
    def _people_with_live_authorizations(session: Session, today: date) -> set[int]:
        ended = (AuthStatus.REVOKED, AuthStatus.EXPIRED)
        people = {p.id: p for p in session.exec(select(PersonRow)).all()}
        return {
            row.person_id
            for row in session.exec(select(AuthorizationRow)).all()
            if authorization_record(row, people[row.person_id]).status_on(today) not in ended
        }

    def verify_documents(self) -> builtins.list[DocumentProblem]:
        """Re-hash every stored signed document; report those missing or changed."""
        with self.transaction() as session:
            shas = [d.sha256 for d in session.exec(select(DocumentRow)).all()]
            auths = session.exec(select(AuthorizationRow)).all()
        users: dict[str, builtins.list[str]] = {}
        for row in auths:
            users.setdefault(row.document_sha256, []).append(format_id(AUTH_PREFIX, row.id))
        problems = []
        for sha in sorted(shas):
            problem = self.store.check(sha)
            if problem:
                problems.append(DocumentProblem(sha, problem, tuple(users.get(sha, []))))
        return problems

    def document_count(self) -> int:
        with self.transaction() as session:
            return len(session.exec(select(DocumentRow.sha256)).all())

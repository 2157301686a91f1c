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
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from photoguard.consent import audit, db, forms, intake, matching, rows, state
from photoguard.consent.documents import Documents
from photoguard.consent.enroll import load_references
from photoguard.consent.errors import InvalidRequest
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
    TEMPLATE_PREFIX,
    Authorization,
    AuthorizationRequest,
    AuthStatus,
    DocumentProblem,
    Person,
    Template,
    format_id,
    normalize,
)
from photoguard.consent.store import DocumentStore
from photoguard.types import EnrolledPerson

if TYPE_CHECKING:
    from photoguard.settings import Settings

TEMPLATE_RETENTION_DAYS = 3 * 365
"""BIPA: destroy biometric identifiers within 3 years of the last interaction."""


SAME_FACE_DISTANCE = 0.5
"""The default match threshold: a face this near an enrolled person is matched to them."""


class ConsentRegistry(db.Closing):
    """Open (and create or upgrade) a registry.

    Args:
        url: ``sqlite:///path.db``, a bare path, or ``postgresql://...``; None for the default
            SQLite file under ``$XDG_DATA_HOME/photoguard``.
        documents: Folder of the document store; default ``documents/`` beside a SQLite file,
            else ``$XDG_DATA_HOME/photoguard/documents``.
        catalog: The declared authorization forms (from photoguard.toml).
        template_retention_days: Days from enrolment to a template's purge date.
        clock: Today's date (injectable for tests).
        same_face_distance: A reference face nearer than this to another person's template is
            the same face (default: the policy's match threshold, via ``from_settings``).
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
        same_face_distance: float = SAME_FACE_DISTANCE,
    ) -> None:
        self.url = db.normalize_url(url)
        sqlite = db.sqlite_file(self.url)
        if documents is None:
            documents = (sqlite.parent if sqlite else db.data_home()) / "documents"
        self.store = DocumentStore(documents)
        self.catalog = catalog or forms.FormCatalog(forms={})
        self.retention = timedelta(days=template_retention_days)
        self.clock = clock
        self.same_face_distance = same_face_distance
        self.warnings: builtins.list[str] = []
        """What the last add or import registered despite a warning (forced same faces)."""
        self.database = db.Database(self.url, create=create)
        self.engine = self.database.engine
        self.schema_version = self.database.schema_version
        self.documents = Documents(self.store, in_database=self.database.dialect != "sqlite")
        if self.documents.in_database and self.store.root.is_dir():
            with self.transaction() as session:
                db.write_lock(session.connection())
                self.documents.backfill(session)

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
            same_face_distance=settings.policy.match_threshold,
            **kwargs,
        )

    def close(self) -> None:
        self.database.close()

    def transaction(self, snapshot: bool = False) -> AbstractContextManager[Session]:
        """One registry transaction (see ``db.Database.transaction``)."""
        return self.database.transaction(snapshot)

    # -- intake -----------------------------------------------------------------------------

    def add(self, request: AuthorizationRequest, force: bool = False) -> Authorization:
        """Check, store and register one signed authorization (and enrol its photos).

        Raises:
            IncompleteAuthorization: a core element or required statement is missing.
            UnknownForm: the form version is not declared.
            EnrolmentError: a reference photo is unusable.
            DocumentError: the signed document cannot be stored.
            DuplicateFace: a photo's face is already enrolled as another person (not forced).
            RegistryTampered: the named existing person's row was edited outside photoguard.

        ``force`` registers a same-face duplicate anyway; ``warnings`` then says so.
        """
        return self._add_all([request], where=[""], file=None, force=force)[0]

    def import_file(self, path: Path, force: bool = False) -> builtins.list[Authorization]:
        """Register every authorization of a CSV or TOML file, or none of them.

        Raises:
            InvalidRequest: a row is malformed or incomplete (the row is named).
        """
        requests = intake.read_requests(path)
        where = [f"{path.name} row {i}" for i in range(1, len(requests) + 1)]
        return self._add_all(requests, where, file=path.name, force=force)

    def _add_all(
        self,
        requests: builtins.list[AuthorizationRequest],
        where: builtins.list[str],
        file: str | None,
        force: bool = False,
    ) -> builtins.list[Authorization]:
        today = self.clock()
        checked = [
            forms.admit(r, self.catalog, today, w) for r, w in zip(requests, where, strict=True)
        ]
        # Every photo is checked before anything is written. A document stored for a
        # transaction that then fails stays as an unreferenced file: harmless, content-addressed.
        templates = [
            load_references(request.photos, w)
            for (request, _), w in zip(checked, where, strict=True)
        ]
        prepared = []
        for (request, form), faces in zip(checked, templates, strict=True):
            assert request.document is not None  # check_complete guarantees it
            prepared.append((request, form, faces, self.documents.prepare(request.document)))
        self.warnings = []
        with self.transaction() as session:
            db.write_lock(session.connection())  # the same document may come from two machines
            added, entries = [], []
            for (request, form, faces, doc), w in zip(prepared, where, strict=True):
                person = None
                if request.person_id:  # an existing person: their row must be as vouched for
                    pk = rows.person_row(session, request.person_id).id or 0
                    person = format_id(PERSON_PREFIX, pk)
                    state.require_intact(session.connection(), [person])
                same = matching.refuse_same_face(
                    session, [f.encoding for f in faces], today, self.same_face_distance,
                    exclude=person, where=w, force=force,
                )  # fmt: skip
                auth, keys = rows.insert_authorization(
                    session, request, form, faces, (doc.sha256, doc.size), today, self.retention
                )
                self.documents.record(session, doc)
                added.append(auth)
                entry = audit.added(auth, len(faces), file, same_face_as=same)
                entries.append(audit.vouch(session, entry, keys))
                if same:
                    where_ = f"{w}: " if w else ""
                    self.warnings.append(f"{where_}{auth.id}: a new person with {same}'s face")
            audit.append(session, entries)
        return added

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

        Raises:
            RegistryTampered: a person, authorization or template row differs from the state
                the audit chain vouches for; no check may rely on such a registry.
        """
        with self.transaction(snapshot=True) as session:
            state.require_intact(session.connection())
            return matching.enrolled_people(session, channel, purpose, on, self.clock())

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
            return self._changed(session, auth_id, row, "revoke", received_on=received)

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
            return self._changed(session, auth_id, row, "expiry-event", occurred_on=occurred_on)

    def _changed(self, session, auth_id: str, row, action: str, **detail) -> Authorization:
        """Write a changed authorization row and its audit entry, which vouches for the row."""
        self._vouched(session, auth_id)
        session.add(row)
        session.flush()
        auth = authorization_record(row, session.get(PersonRow, row.person_id))
        entry = audit.changed(action, auth, **detail)
        audit.append(session, [audit.vouch(session, entry, [auth.id])])
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
                live = rows.people_with_live_authorizations(session, today)
                doomed = [t for t in doomed if t.purge_on <= today or t.person_id not in live]
            keys = [format_id(TEMPLATE_PREFIX, t.id or 0) for t in doomed]
            for row in doomed:
                session.delete(row)
            session.flush()
            entry = audit.consent_entry(
                "purge-biometrics", person=person_id, due=due, as_of=today,
                templates=len(doomed),
                people=sorted({format_id(PERSON_PREFIX, t.person_id) for t in doomed}),
            )  # fmt: skip
            audit.append(session, [audit.vouch(session, entry, keys)])
        return len(doomed)

    @staticmethod
    def _vouched(session: Session, auth_id: str) -> None:
        """Refuse to change an authorization whose row was edited outside photoguard (the
        change would record the edited state as photoguard's own)."""
        pk = rows.auth_row(session, auth_id).id or 0
        state.require_intact(session.connection(), [format_id(AUTH_PREFIX, pk)])

    def verify_documents(self) -> builtins.list[DocumentProblem]:
        """Re-hash every stored signed document; report those missing or changed."""
        with self.transaction() as session:
            return self.documents.verify(session)

    def document_count(self) -> int:
        with self.transaction() as session:
            return len(session.exec(select(DocumentRow.sha256)).all())

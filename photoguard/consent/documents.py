"""Where a registry keeps its signed documents: the file store (SQLite) or the database
(PostgreSQL, ``blobs.py``), behind one interface, and their verification."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from photoguard.consent import blobs
from photoguard.consent.models import AuthorizationRow, DocumentRow
from photoguard.consent.records import AUTH_PREFIX, DocumentProblem, format_id
from photoguard.consent.store import DocumentStore, read_document


@dataclass(frozen=True, eq=False)
class Prepared:
    """A signed document read (and, for the file store, already stored) before the
    registering transaction; ``data`` is kept for the database store."""

    sha256: str
    size: int
    data: bytes | None = None


class Documents:
    """Signed documents of one registry.

    Args:
        store: The file store (SQLite registries; the source of a backfill for server ones).
        in_database: Keep documents in ``document_blob`` (server registries).
    """

    def __init__(self, store: DocumentStore, in_database: bool) -> None:
        self.store = store
        self.in_database = in_database

    def prepare(self, source: Path) -> Prepared:
        """Read ``source``; the file store writes it now (content-addressed, harmless if the
        transaction then fails), the database store in ``record``.

        Raises:
            DocumentError: unreadable, empty, too large, or the store cannot be written.
        """
        if not self.in_database:
            sha, size = self.store.put(source)
            return Prepared(sha, size)
        sha, data = read_document(source)
        return Prepared(sha, len(data), data)

    def record(self, session: Session, doc: Prepared) -> None:
        """Inside the registering transaction: the database store writes the bytes (once)."""
        if self.in_database and doc.data is not None:
            blobs.put(session.connection(), doc.sha256, doc.data)

    def backfill(self, session: Session) -> int:
        """Server registries: copy in the documents of the local file store it lacks."""
        if not self.in_database or not self.store.root.is_dir():
            return 0
        return blobs.backfill(session.connection(), self.store)

    def verify(self, session: Session) -> list[DocumentProblem]:
        """Re-hash every stored signed document; report those missing or changed."""
        shas = [d.sha256 for d in session.exec(select(DocumentRow)).all()]
        users: dict[str, list[str]] = {}
        for row in session.exec(select(AuthorizationRow)).all():
            users.setdefault(row.document_sha256, []).append(format_id(AUTH_PREFIX, row.id or 0))
        problems = []
        for sha in sorted(shas):
            if self.in_database:
                problem = blobs.check(session.connection(), sha)
            else:
                problem = self.store.check(sha)
            if problem:
                problems.append(DocumentProblem(sha, problem, tuple(users.get(sha, []))))
        return problems

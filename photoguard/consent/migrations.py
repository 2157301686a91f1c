"""Ordered schema migrations, applied automatically when a registry is opened.

Each migration is frozen once released: it declares its own tables (SQLAlchemy Core, so the
same code serves SQLite and PostgreSQL) instead of reusing the current models. ``schema_version``
holds one row per applied migration. All pending migrations run in one transaction that also
takes the database's write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock), so
two processes opening a new registry at once do not both create it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    text,
)

from photoguard.consent import chain
from photoguard.consent.errors import RegistryError

_PG_LOCK_KEY = 0x70475244  # arbitrary, constant: "pGRD"
PG_WRITE_LOCK = _PG_LOCK_KEY
"""The advisory lock that serializes schema changes and audit appends on PostgreSQL."""


def _id() -> Column:
    return Column("id", Integer, primary_key=True)


def _create(
    conn: Connection, tables: dict[str, tuple[Column, ...]], stand_ins: tuple[str, ...] = ()
) -> list[Table]:
    """Create a migration's tables (name: columns), declared in the migration and frozen there.

    Args:
        stand_ins: earlier migrations' tables that foreign keys name; declared by id only so
            that the keys resolve, not created.
    """
    md = MetaData()
    for name in stand_ins:
        Table(name, md, _id())
    made = [Table(name, md, *columns) for name, columns in tables.items()]
    md.create_all(conn, tables=made)
    return made


def _v1_core(conn: Connection) -> None:
    """Persons, signed documents, authorizations and face templates."""
    # Over 50 lines: one straight-line declaration of four tables, frozen with the migration.
    _create(
        conn,
        {
            "person": (
                _id(),
                Column("name", Text, nullable=False),
                Column("dob", Date),
                Column("role", String(32), nullable=False),
                Column("created_at", DateTime(timezone=True), nullable=False),
            ),
            "document": (
                Column("sha256", String(64), primary_key=True),
                Column("size", Integer, nullable=False),
                Column("suffix", String(32), nullable=False),
                Column("stored_at", DateTime(timezone=True), nullable=False),
            ),
            "authorization_record": (
                _id(),
                Column("person_id", Integer, ForeignKey("person.id"), nullable=False, index=True),
                Column("form_version", Text, nullable=False),
                Column("disclosed", Text, nullable=False),
                Column("discloser", Text, nullable=False),
                Column("recipients", Text, nullable=False),
                Column("purposes", JSON, nullable=False),
                Column("channels", JSON, nullable=False),
                Column("signed_on", Date, nullable=False),
                Column("received_on", Date, nullable=False),
                Column("expires_on", Date),
                Column("expires_event", Text),
                Column("event_occurred_on", Date),
                Column("signer", Text, nullable=False),
                Column("signer_authority", Text),
                Column("statements", JSON, nullable=False),
                Column("third_party_remuneration", Boolean, nullable=False),
                Column(
                    "document_sha256", String(64), ForeignKey("document.sha256"), nullable=False
                ),
                Column("revocation_received_on", Date),
                Column("revocation_reason", Text),
                Column("created_at", DateTime(timezone=True), nullable=False),
            ),
            "face_template": (
                _id(),
                Column("person_id", Integer, ForeignKey("person.id"), nullable=False, index=True),
                Column("source_sha256", String(64), nullable=False),
                Column("encoding", LargeBinary, nullable=False),
                Column("enrolled_on", Date, nullable=False),
                Column("purge_on", Date, nullable=False),
            ),
        },
    )


def _v2_events(conn: Connection) -> None:
    """An append-only log of changes (ids and actions, never names)."""
    _create(
        conn,
        {
            "registry_event": (
                _id(),
                Column("at", DateTime(timezone=True), nullable=False),
                Column("action", String(32), nullable=False),
                Column("subject", String(64), nullable=False),
                Column("detail", Text, nullable=False),
            ),
        },
    )


def _v3_audit(conn: Connection) -> None:
    """The tamper-evident audit chain; the v2 change log is folded into it, oldest first.

    From v3 on the chain is the one record of changes: ``registry_event`` stays, read-only.
    The hashing rule (``chain.FORMAT``) is frozen with this migration: a new rule gets a new
    name and leaves entries sealed under this one as they are.
    """
    [audit] = _create(
        conn,
        {
            "audit_entry": (
                Column("seq", Integer, primary_key=True, autoincrement=False),
                Column("at", String(40), nullable=False, index=True),
                Column("kind", String(16), nullable=False),
                Column("payload", Text, nullable=False),
                Column("prev_hash", String(64), nullable=False, unique=True),
                Column("hash", String(64), nullable=False, unique=True),
            ),
        },
    )
    events = conn.execute(
        text("SELECT id, at, action, subject, detail FROM registry_event ORDER BY id")
    ).all()
    prev = None
    for event_id, at, action, subject, detail in events:
        when = datetime.fromisoformat(at) if isinstance(at, str) else at
        payload = {"action": action, "subject": subject, "detail": detail, "legacy_event": event_id}
        prev = chain.seal(prev, "consent", payload, chain.timestamp(when))
        conn.execute(audit.insert().values(
            seq=prev.seq, at=prev.at, kind=prev.kind, payload=prev.payload,
            prev_hash=prev.prev_hash, hash=prev.hash,
        ))  # fmt: skip


def _v4_review_decisions(conn: Connection) -> None:
    """Review decisions about uncertain faces (``decisions.py``): append-only, the latest wins.

    A face is named by its file's sha256, frame and box; no pixels, no encoding.
    """
    _create(
        conn,
        {
            "face_decision": (
                _id(),
                Column("file_sha256", String(64), nullable=False, index=True),
                Column("frame", Integer, nullable=False),
                Column("x0", Integer, nullable=False),
                Column("y0", Integer, nullable=False),
                Column("x1", Integer, nullable=False),
                Column("y1", Integer, nullable=False),
                Column("confirmed", Boolean, nullable=False),
                Column("authorization_id", Integer, ForeignKey("authorization_record.id")),
                Column("person_id", Integer, ForeignKey("person.id")),
                Column("candidates", JSON, nullable=False),
                Column("reviewer", Text, nullable=False),
                Column("decided_at", DateTime(timezone=True), nullable=False),
                Column("audit_seq", Integer, nullable=False),
            ),
        },
        stand_ins=("person", "authorization_record"),
    )


def _v5_state_baseline(conn: Connection) -> None:
    """The audit chain starts vouching for registry rows (``state.py``).

    Rows written before v5 were never recorded; one ``consent`` entry (``state-baseline``)
    records the digest of each as it is at the upgrade, and every later write records the rows
    it writes. Edits made before the upgrade cannot be told apart from photoguard's own.
    """
    from photoguard.consent import state

    payload = state.baseline_entry(conn)
    if payload is None:
        return
    head = conn.execute(
        text("SELECT seq, at, kind, payload, prev_hash, hash FROM audit_entry "
             "ORDER BY seq DESC LIMIT 1")
    ).first()  # fmt: skip
    prev = chain.Entry(*head) if head is not None else None
    entry = chain.seal(prev, "consent", {**payload, "migration": 5}, chain.timestamp())
    conn.execute(
        text("INSERT INTO audit_entry (seq, at, kind, payload, prev_hash, hash) "
             "VALUES (:seq, :at, :kind, :payload, :prev_hash, :hash)"),
        {"seq": entry.seq, "at": entry.at, "kind": entry.kind, "payload": entry.payload,
         "prev_hash": entry.prev_hash, "hash": entry.hash},
    )  # fmt: skip


def _v6_document_blobs(conn: Connection) -> None:
    """Signed documents in the database (``document_blob``): used by PostgreSQL registries, so
    that every machine sees them; SQLite keeps its file store beside the database file.

    The bytes of documents stored before v6 are copied in by the registry when it is opened on
    a machine that holds them (``blobs.backfill``): a migration cannot see the file store.
    """
    _create(
        conn,
        {
            "document_blob": (
                Column("sha256", String(64), primary_key=True),  # a document.sha256
                Column("content", LargeBinary, nullable=False),
            ),
        },
    )


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _v1_core,
    _v2_events,
    _v3_audit,
    _v4_review_decisions,
    _v5_state_baseline,
    _v6_document_blobs,
)
LATEST = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    """The highest applied migration (0 for an empty database)."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(text("SELECT COALESCE(MAX(version), 0) FROM schema_version")).scalar())


def migrate(conn: Connection, target: int = LATEST) -> int:
    """Apply pending migrations up to ``target`` inside the caller's transaction.

    Returns:
        The schema version afterwards.

    Raises:
        RegistryError: the database was written by a newer photoguard.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    md = MetaData()
    Table(
        "schema_version",
        md,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("applied_at", DateTime(timezone=True), nullable=False),
    )
    md.create_all(conn)
    version = current_version(conn)
    if version > LATEST:
        raise RegistryError(
            f"registry schema version {version} is newer than this photoguard ({LATEST})"
        )
    for number in range(version + 1, target + 1):
        MIGRATIONS[number - 1](conn)
        conn.execute(
            text("INSERT INTO schema_version (version, applied_at) VALUES (:v, :t)"),
            {"v": number, "t": datetime.now(UTC)},
        )
    return max(version, target)

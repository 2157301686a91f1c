"""The audit trail: an append-only, tamper-evident record of runs, file decisions and consent
changes, kept in the registry database (table ``audit_entry``, migration v3).

Entries are sealed into a hash chain (``chain.py``). Appends take the registry's write lock
(SQLite ``BEGIN IMMEDIATE``; on PostgreSQL the advisory lock that migrations take), so two
processes never write two entries with the same predecessor; ``prev_hash`` is also unique.

What is recorded (STYLE rule 8, DOMAIN "Face templates are biometric data"): ids, dates, counts,
file paths and sha256s, verdicts and reasons, detector and policy versions. Never a face
encoding, OCR text, a person's name, a revocation's free-text reason or an expiration event's
wording (they stay in the registry rows, which the six-year retention keeps).
"""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlmodel import Session, select

from photoguard.consent import chain, db, migrations, rows, state
from photoguard.consent.chain import ChainReport, Entry
from photoguard.consent.models import AuditRow
from photoguard.consent.records import AUTH_PREFIX, format_id

if TYPE_CHECKING:
    from photoguard.consent.db import Transactional
    from photoguard.consent.records import Authorization
    from photoguard.settings import Settings
    from photoguard.types import PhotoResult

COMMANDS = ("check", "redact")


@dataclass(frozen=True, slots=True)
class PublishedOutput:
    """A copy written by ``redact`` that kept a face under an authorization."""

    output: str
    output_sha256: str | None
    input: str
    input_sha256: str | None
    run: str
    at: str
    seq: int


# -- appending ------------------------------------------------------------------------------


def append(session: Session, items: Sequence[tuple[str, dict[str, Any]]]) -> list[Entry]:
    """Seal and insert entries after the current head, inside the caller's transaction.

    Takes the write lock first, so the head read here is still the head at commit.

    Raises:
        ValueError: an unknown kind or a payload JSON cannot hold (a programming error).
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": migrations.PG_WRITE_LOCK})
    head = session.exec(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).first()
    prev = _entry(head) if head is not None else None
    at = chain.timestamp()
    sealed = []
    for kind, payload in items:
        prev = chain.seal(prev, kind, _plain(payload), at)
        sealed.append(prev)
    session.add_all(
        AuditRow(seq=e.seq, at=e.at, kind=e.kind, payload=e.payload, prev_hash=e.prev_hash,
                 hash=e.hash)
        for e in sealed
    )  # fmt: skip
    session.flush()
    return sealed


def actor() -> dict[str, str]:
    """Who and where: the login name (or uid) and host name."""
    try:
        operator = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        operator = f"uid:{os.getuid()}"
    return {"operator": operator, "host": socket.gethostname()}


def consent_entry(action: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A ``consent`` entry: the action, who did it, and ids / dates / counts only."""
    return "consent", {"action": action, **actor(), **fields}


def added(
    auth: Authorization, templates: int, file: str | None = None, same_face_as: str | None = None
) -> tuple[str, dict]:
    """The entry for one registered authorization (``add``, or ``import`` from ``file``);
    ``same_face_as``: a person whose face its photos show, registered anyway (forced)."""
    return consent_entry(
        "import" if file else "add",
        authorization=auth.id, person=auth.person_id, form=auth.form_version,
        channels=list(auth.channels), purposes=list(auth.purposes), signed_on=auth.signed_on,
        received_on=auth.received_on, expires_on=auth.expires_on,
        expires_event=auth.expires_event is not None, document_sha256=auth.document_sha256,
        signed_by_representative=auth.signer_authority is not None, templates=templates,
        **({"file": file} if file else {}),
        **({"same_face_as": same_face_as} if same_face_as else {}),
    )  # fmt: skip


def vouch(session: Session, item: tuple[str, dict], keys: Iterable[str]) -> tuple[str, dict]:
    """``item`` with ``state``: the digests of the rows ``keys`` as this transaction leaves them
    (None for a deleted row), so that the chain vouches for them (``state.py``)."""
    kind, payload = item
    return kind, {**payload, "state": state.current(session.connection(), keys)}


def changed(action: str, auth: Authorization, **dates: date) -> tuple[str, dict]:
    """The entry for a change to one authorization (``revoke``, ``expiry-event``)."""
    return consent_entry(action, authorization=auth.id, person=auth.person_id, **dates)


def record_run(settings: Settings, command: str, results: Sequence[PhotoResult]) -> str:
    """Record one check or redact run and each file decision, in one transaction.

    Returns:
        The run id (``20261122T221610Z-<12 hex>``).

    Raises:
        RegistryError: the registry cannot be opened or written.
    """
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    run_id = _run_id()
    run = _run_payload(run_id, command, settings, results)
    items = [("run", run), *(("file", _file_payload(run_id, command, r)) for r in results)]
    # Writing a run creates the registry when there is none yet (the default location).
    with db.Database(db.normalize_url(settings.db_url)) as database, database.transaction() as s:
        append(s, items)
    return run_id


class RunRecorder:
    """Records a run file by file: each file's entry is appended (and committed) when the
    caller says, for ``redact`` before the copy is renamed into place, so that no published
    copy is ever missing from the trail; the run's own entry follows at the end.

    Raises:
        RegistryError: the registry cannot be opened or written (from any method).
    """

    def __init__(self, settings: Settings, command: str) -> None:
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}")
        self.settings, self.command, self.run_id = settings, command, _run_id()
        self.results: list[PhotoResult] = []
        self._database = db.Database(db.normalize_url(settings.db_url))

    def file(self, result: PhotoResult) -> None:
        """Append one file's entry, with the authorizations its copy relies on."""
        with self._database.transaction() as session:
            append(session, [("file", _file_payload(self.run_id, self.command, result))])
        self.results.append(replace(result, thumbnail=None))

    def finish(self, interrupted: bool = False) -> str:
        """Append the run's entry (counts of the files recorded) and close; the run id."""
        try:
            run = _run_payload(self.run_id, self.command, self.settings, self.results)
            if interrupted:
                run["interrupted"] = True
            with self._database.transaction() as session:
                append(session, [("run", run)])
        finally:
            self.close()
        return self.run_id

    def close(self) -> None:
        self._database.close()


def _run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:12]}"


def _run_payload(run_id: str, command: str, settings: Settings, results) -> dict[str, Any]:
    from photoguard import __version__

    detectors = sorted({(d.name, d.version) for r in results for d in r.detectors})
    policy = settings.policy
    return {
        "run": run_id, "command": command, **actor(), "photoguard": __version__,
        "detectors": [{"name": n, "version": v} for n, v in detectors],
        "policy_sha256": policy.digest(), "channel": policy.channel, "purpose": policy.purpose,
        "as_of": settings.as_of or date.today(), "files": len(results),
        "verdicts": _count(r.verdict.value for r in results),
    }  # fmt: skip


def _file_payload(run_id: str, command: str, r: PhotoResult) -> dict[str, Any]:
    from photoguard.types import Action

    relied = sorted({g.authorization for g in r.regions
                     if g.action is Action.KEEP and g.authorization})  # fmt: skip
    return {
        "run": run_id, "command": command,
        "input": os.path.abspath(r.path), "input_sha256": r.sha256,
        "output": os.path.abspath(r.output) if r.output is not None else None,
        "output_sha256": r.output_sha256, "skipped": r.skipped,
        "verdict": r.verdict.value, "reasons": list(r.reasons), "authorizations": relied,
    }  # fmt: skip


# -- reading --------------------------------------------------------------------------------


def verify(registry: Transactional, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Walk the whole chain and report its head or the first broken link.

    Args:
        anchor: A seq and hash recorded earlier that must still be in the chain (catches
            entries cut off the end, which links alone cannot show).
    """
    with registry.transaction() as session:
        return chain.walk(_entries(session), anchor)


def verify_state(registry: Transactional) -> list[state.StateProblem]:
    """Every person, authorization and template row that differs from the state the chain
    vouches for (edited, added or deleted outside photoguard), and every state-bearing entry
    whose own hash is broken. Read in one snapshot."""
    with registry.transaction(snapshot=True) as session:
        return state.problems(session.connection())


def export(registry: Transactional, since: date | None = None) -> list[dict[str, Any]]:
    """Every entry from ``since`` (a UTC date, inclusive) on, as JSON-ready dicts in seq order.

    ``payload`` is the parsed object; ``chain.canonical(payload)`` gives back the hashed text.
    """
    with registry.transaction() as session:
        query = select(AuditRow).order_by(AuditRow.seq)
        if since is not None:
            query = query.where(AuditRow.at >= since.isoformat())
        return [_exported(_entry(row)) for row in session.exec(query)]


def takedown(registry: Transactional, auth_id: str) -> list[PublishedOutput]:
    """Every published output (a ``redact`` copy) that kept a face under ``auth_id``.

    One item per output file and content (the latest run that wrote or confirmed it), sorted by
    output path.

    Raises:
        NotFound: no such authorization.
    """
    with registry.transaction() as session:
        auth = format_id(AUTH_PREFIX, rows.auth_row(session, auth_id).id or 0)
        entries = session.exec(
            select(AuditRow)
            .where(AuditRow.kind == "file", AuditRow.payload.like(f'%"{auth}"%'))
            .order_by(AuditRow.seq)
        ).all()
    found: dict[tuple[str, str | None], PublishedOutput] = {}
    for row in entries:
        data = _entry(row).data()
        if data.get("output") and auth in data.get("authorizations", ()):
            key = (data["output"], data.get("output_sha256"))
            found[key] = PublishedOutput(
                output=data["output"], output_sha256=data.get("output_sha256"),
                input=data["input"], input_sha256=data.get("input_sha256"),
                run=data["run"], at=row.at, seq=row.seq,
            )  # fmt: skip
    return sorted(found.values(), key=lambda p: (p.output, p.seq))


def _entries(session: Session) -> Iterator[Entry]:
    query = select(AuditRow).order_by(AuditRow.seq).execution_options(yield_per=1000)
    for row in session.exec(query):
        yield _entry(row)


def _entry(row: AuditRow) -> Entry:
    return Entry(row.seq, row.at, row.kind, row.payload, row.prev_hash, row.hash)


def _exported(e: Entry) -> dict[str, Any]:
    return {"seq": e.seq, "at": e.at, "kind": e.kind, "payload": e.data(),
            "prev_hash": e.prev_hash, "hash": e.hash}  # fmt: skip


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


def _plain(value: Any) -> Any:
    """Dates as ISO strings, tuples as lists, recursively: what canonical JSON can hold."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value

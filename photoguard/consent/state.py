"""Registry rows vouched for by the audit chain: row digests, recorded state, and the comparison.

Every photoguard write to a person, authorization or face-template row records, in its audit
entry's ``state`` field, the digest of each row it wrote (``{"AUTH-000001": "<sha256>"}``; a
deleted row as null). The state photoguard vouches for is the fold of those fields over the
chain, oldest first; migration v5 recorded a baseline of the rows that existed before.
Verification recomputes the digest of every current row and compares: a row edited, inserted or
deleted by anything but photoguard (``sqlite3``, ``psql``) no longer matches. Review decisions
are never updated and each copies its own sealed ``review`` entry: a decision row is checked
against that entry instead (``decision_problems``).

A digest is ``sha256(canonical([STATE_FORMAT, table, values in the frozen column order]))``;
a template's encoding enters as the sha256 of its bytes. Digests reveal nothing of a row: every
row includes its creation time to the microsecond. The tables are declared here, frozen with
the format, so that a later migration adding a column does not change old digests (a new
format name would).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from photoguard.consent import chain
from photoguard.consent.records import (
    AUTH_PREFIX,
    DECISION_PREFIX,
    PERSON_PREFIX,
    TEMPLATE_PREFIX,
    format_id,
    parse_id,
)

STATE_FORMAT = "photoguard-state-1"

_md = MetaData()
TABLES = {
    PERSON_PREFIX: Table(
        "person", _md, Column("id", Integer, primary_key=True), Column("name", Text),
        Column("dob", Date), Column("role", String(32)), Column("created_at", DateTime(True)),
    ),
    AUTH_PREFIX: Table(
        "authorization_record", _md, Column("id", Integer, primary_key=True),
        Column("person_id", Integer), Column("form_version", Text), Column("disclosed", Text),
        Column("discloser", Text), Column("recipients", Text), Column("purposes", JSON),
        Column("channels", JSON), Column("signed_on", Date), Column("received_on", Date),
        Column("expires_on", Date), Column("expires_event", Text),
        Column("event_occurred_on", Date), Column("signer", Text),
        Column("signer_authority", Text), Column("statements", JSON),
        Column("third_party_remuneration", Boolean), Column("document_sha256", String(64)),
        Column("revocation_received_on", Date), Column("revocation_reason", Text),
        Column("created_at", DateTime(True)),
    ),
    TEMPLATE_PREFIX: Table(
        "face_template", _md, Column("id", Integer, primary_key=True),
        Column("person_id", Integer), Column("source_sha256", String(64)),
        Column("encoding", LargeBinary), Column("enrolled_on", Date), Column("purge_on", Date),
    ),
}  # fmt: skip
"""Row kind (its id prefix) -> the table and the columns a digest covers, in order."""

DECISIONS = Table(
    "face_decision", _md, Column("id", Integer, primary_key=True),
    Column("file_sha256", String(64)), Column("frame", Integer), Column("x0", Integer),
    Column("y0", Integer), Column("x1", Integer), Column("y1", Integer),
    Column("confirmed", Boolean), Column("authorization_id", Integer),
    Column("person_id", Integer), Column("candidates", JSON), Column("reviewer", Text),
    Column("audit_seq", Integer),
)  # fmt: skip
"""Review decisions (``decisions.py``): never updated, each the copy of its own ``review``
audit entry, so the sealed entry vouches for the row without a digest of its own."""

State = dict[str, str | None]
"""Row key (``AUTH-000001``, ``PER-000001``, ``TPL-000001``) -> digest, None once deleted."""


@dataclass(frozen=True, slots=True)
class StateProblem:
    """A registry row whose current state is not the one the audit trail vouches for."""

    row: str
    problem: str

    def __str__(self) -> str:
        return f"{self.row}: {self.problem}"


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    return value


def row_digest(prefix: str, values: Iterable[object]) -> str:
    """The digest of one row: its table and every covered column's value, in order."""
    table = TABLES[prefix]
    material = chain.canonical([STATE_FORMAT, table.name, [_plain(v) for v in values]])
    return hashlib.sha256(material.encode("ascii")).hexdigest()


def current(conn: Connection, keys: Iterable[str] | None = None) -> State:
    """Digests of the rows as they are now: all of them, or those named by ``keys``.

    A named key whose row does not exist maps to None (deleted).
    """
    wanted: dict[str, set[int]] | None = None
    if keys is not None:
        wanted = {prefix: set() for prefix in TABLES}
        for key in keys:
            prefix = _prefix(key)
            wanted[prefix].add(parse_id(prefix, key) or 0)
    state: State = {}
    for prefix, table in TABLES.items():
        query = select(*table.c).order_by(table.c.id)
        if wanted is not None:
            if not wanted[prefix]:
                continue
            query = query.where(table.c.id.in_(sorted(wanted[prefix])))
            state.update((format_id(prefix, pk), None) for pk in wanted[prefix])
        try:
            for row in conn.execute(query):
                state[format_id(prefix, row[0])] = row_digest(prefix, row)
        except (ValueError, TypeError):  # a value no column type can read: edited by hand
            state[f"{prefix}?"] = "unreadable"
    return state


def _consent_entries(conn: Connection, payload_like: str):
    """The consent audit entries whose payload matches ``payload_like`` (SQL LIKE), in seq
    order, as (seq, at, kind, payload, prev_hash, hash) rows; their hashes are not checked."""
    from photoguard.consent.models import AuditRow

    audit = AuditRow.__table__
    query = (
        select(audit.c.seq, audit.c.at, audit.c.kind, audit.c.payload, audit.c.prev_hash,
               audit.c.hash)
        .where(audit.c.kind == "consent", audit.c.payload.like(payload_like))
        .order_by(audit.c.seq)
    )  # fmt: skip
    return conn.execute(query)


def recorded(conn: Connection) -> tuple[State, list[StateProblem]]:
    """The state the audit chain vouches for, folded over its consent entries in seq order.

    Each consent entry's own hash is checked on the way (an entry whose payload was edited to
    vouch for an edited row no longer hashes to its ``hash``); ``audit verify`` checks every
    link of the chain.
    """
    state: State = {}
    problems: list[StateProblem] = []
    for seq, at, kind, payload, prev_hash, digest in _consent_entries(conn, '%"state":%'):
        if chain.entry_hash(prev_hash, seq, kind, at, payload) != digest:
            problems.append(StateProblem(f"audit entry {seq}", "edited (its hash does not match)"))
            continue
        entry = chain.Entry(seq, at, kind, payload, prev_hash, digest).data()
        rows = entry.get("state")
        if isinstance(rows, dict):
            state.update({str(k): v if isinstance(v, str) else None for k, v in rows.items()})
    return state, problems


def compare(vouched: Mapping[str, str | None], now: Mapping[str, str | None]) -> list[StateProblem]:
    """Every row whose current digest differs from the vouched one, in row order."""
    problems = []
    for key in sorted(set(vouched) | set(now), key=_order):
        was, is_ = vouched.get(key), now.get(key)
        if was == is_:
            continue
        if is_ == "unreadable":
            problem = "holds a value photoguard cannot read (edited outside photoguard)"
        elif key not in vouched:
            problem = "added outside photoguard (the audit trail never recorded it)"
        elif is_ is None:
            problem = "deleted outside photoguard (the audit trail records it as present)"
        elif was is None:
            problem = "present again although photoguard recorded its deletion"
        else:
            problem = "edited outside photoguard (differs from the state the audit trail recorded)"
        problems.append(StateProblem(key, problem))
    return problems


def problems(conn: Connection) -> list[StateProblem]:
    """Every row (and state-bearing audit entry) that does not match the vouched state, and
    every review decision that is not the copy of its sealed audit entry.

    Call inside one snapshot transaction, so that rows and entries are read at one moment.
    """
    vouched, bad_entries = recorded(conn)
    now = current(conn)
    # A deleted row that the trail also records as deleted is fine: drop settled deletions.
    vouched = {k: v for k, v in vouched.items() if v is not None or k in now}
    return bad_entries + compare(vouched, now) + decision_problems(conn)


def decision_problems(conn: Connection) -> list[StateProblem]:
    """Every review decision row that its ``review`` audit entry does not vouch for.

    A decision is trusted only as the copy of a sealed entry: the row's ``audit_seq`` must name
    an intact ``review`` entry saying the same file, frame, box, verdict, authorization, person
    and candidates, and no entry may vouch for two rows. A review entry without its row means a
    decision was deleted by hand. (A row inserted with ``sqlite3`` that says "this is X" would
    otherwise publish an unconsented face.)
    """
    entries: dict[int, dict | None] = {}
    for seq, at, kind, payload, prev_hash, digest in _consent_entries(conn, '%"action":"review"%'):
        sealed = chain.entry_hash(prev_hash, seq, kind, at, payload) == digest
        data = chain.Entry(seq, at, kind, payload, prev_hash, digest).data() if sealed else None
        entries[seq] = data if data is None or data.get("action") == "review" else None
    found: list[StateProblem] = []
    seen: set[int] = set()
    try:
        decision_rows = list(conn.execute(select(*DECISIONS.c).order_by(DECISIONS.c.id)))
    except (ValueError, TypeError):
        return [StateProblem(f"{DECISION_PREFIX}?", "holds a value photoguard cannot read")]
    for row in decision_rows:
        key = format_id(DECISION_PREFIX, row.id)
        if row.audit_seq in seen:
            found.append(StateProblem(key, "a second decision for one audit entry (copied)"))
        elif not _vouches(entries.get(row.audit_seq), row):
            found.append(StateProblem(key, "not the decision its audit entry records "
                                           "(added or edited outside photoguard)"))  # fmt: skip
        seen.add(row.audit_seq)
    for seq in sorted(set(entries) - seen):
        found.append(StateProblem(f"review entry {seq}", "its decision row was deleted "
                                                          "outside photoguard"))  # fmt: skip
    return found


def _vouches(entry: dict | None, row: Any) -> bool:
    if entry is None:
        return False
    auth = format_id(AUTH_PREFIX, row.authorization_id) if row.authorization_id else None
    person = format_id(PERSON_PREFIX, row.person_id) if row.person_id else None
    return (
        entry.get("file_sha256") == row.file_sha256
        and entry.get("frame") == row.frame
        and entry.get("box") == [row.x0, row.y0, row.x1, row.y1]
        and entry.get("decision") == ("is" if row.confirmed else "not")
        and entry.get("authorization") == auth
        and entry.get("person") == person
        and entry.get("candidates") == list(row.candidates or [])
        and entry.get("reviewer") == row.reviewer
    )


def require_intact(conn: Connection, keys: Iterable[str] | None = None) -> None:
    """Refuse to go on when the rows (all, or those named) differ from the vouched state
    (all rows: review decisions included).

    Raises:
        RegistryTampered: naming the first rows that differ.
    """
    from photoguard.consent.errors import RegistryTampered

    if keys is None:
        found = problems(conn)
    else:
        keys = list(keys)
        vouched, found = recorded(conn)
        now = current(conn, keys)
        found += compare({k: vouched[k] for k in keys if k in vouched}, now)
    if found:
        raise RegistryTampered(found)


def baseline_entry(conn: Connection) -> dict[str, object] | None:
    """The payload that vouches for every row as it is (migration v5); None when no rows."""
    rows = current(conn)
    if not rows:
        return None
    return {"action": "state-baseline", "format": STATE_FORMAT, "state": rows}


def _prefix(key: str) -> str:
    for prefix in TABLES:
        if key.startswith(prefix):
            return prefix
    raise ValueError(f"not a registry row key: {key!r}")


def _order(key: str) -> tuple[int, int]:
    prefix = _prefix(key)
    return list(TABLES).index(prefix), parse_id(prefix, key) or -1

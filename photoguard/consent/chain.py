"""The audit trail's hash chain: canonical payloads, entry hashes and link checks (pure).

Each entry is ``(seq, at, kind, payload, prev_hash, hash)``. ``payload`` is canonical JSON
(sorted keys, no spaces, ASCII), ``at`` an ISO-8601 UTC timestamp with microseconds, and
``hash = sha256(canonical([FORMAT, prev_hash, payload, seq, kind, at]))``: every field of the
entry and the previous entry's hash, so that editing, deleting or reordering any entry breaks
the chain from there on. The first entry links to ``GENESIS``.

No database here: the same code verifies rows read from the registry and exported JSON Lines.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FORMAT = "photoguard-audit-1"
"""Names the hashing rule; a future rule gets a new name, old entries keep theirs."""
GENESIS = "0" * 64
KINDS = ("run", "file", "consent")


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit entry as stored."""

    seq: int
    at: str
    kind: str
    payload: str
    prev_hash: str
    hash: str

    def data(self) -> dict[str, Any]:
        """The payload as a dict."""
        return json.loads(self.payload)


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of walking the chain: its length and head, or the first broken link."""

    entries: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, ASCII only, no NaN.

    Raises:
        ValueError: the value holds NaN or infinity.
        TypeError: the value holds something JSON cannot express.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)  # fmt: skip


def timestamp(moment: datetime | None = None) -> str:
    """``2026-11-22T22:16:10.123456+00:00``: fixed width, so text order is time order."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, seq: int, kind: str, at: str, payload: str) -> str:
    """The hex sha256 that seals one entry to its predecessor."""
    material = canonical([FORMAT, prev_hash, payload, seq, kind, at])
    return hashlib.sha256(material.encode("ascii")).hexdigest()


def seal(prev: Entry | None, kind: str, payload: dict[str, Any], at: str) -> Entry:
    """The entry that follows ``prev`` (None: the first entry).

    Raises:
        ValueError: unknown kind, or a payload that is not plain JSON.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown audit entry kind {kind!r}")
    seq = prev.seq + 1 if prev else 1
    prev_hash = prev.hash if prev else GENESIS
    text = canonical(payload)
    return Entry(seq, at, kind, text, prev_hash, entry_hash(prev_hash, seq, kind, at, text))


def walk(entries: Iterable[Entry], anchor: tuple[int, str] | None = None) -> ChainReport:
    """Check every link, in seq order; stop at the first broken one.

    The broken seq is the first position where the chain stops being what it was written as:
    a missing entry (deleted), an entry whose fields no longer hash to its ``hash`` (edited or
    moved), or one whose ``prev_hash`` is not its predecessor's hash.

    A chain cannot show that entries were cut off its end, or that it was rewritten whole:
    ``anchor`` (a seq and hash recorded elsewhere, e.g. a head printed by an earlier verify)
    must still be in the chain.
    """
    expected, prev_hash, count = 1, GENESIS, 0
    for e in entries:
        problem = _link_problem(e, expected, prev_hash)
        if not problem and anchor and e.seq == anchor[0] and e.hash != anchor[1]:
            problem = "hash differs from the anchor recorded earlier (rewritten)"
        if problem:
            return ChainReport(count, expected - 1, prev_hash, broken_seq=expected, problem=problem)
        expected, prev_hash, count = expected + 1, e.hash, count + 1
    if anchor and anchor[0] > count:
        problem = f"the trail ends at seq {count} but the anchor names seq {anchor[0]} (cut off)"
        return ChainReport(count, count, prev_hash, broken_seq=count + 1, problem=problem)
    return ChainReport(count, expected - 1, prev_hash)


def parse_anchor(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` as printed by ``audit verify``.

    Raises:
        ValueError: not a positive seq and a 64-digit hex hash.
    """
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or int(seq) < 1 or len(digest) != 64 or not _is_hex(digest):
        raise ValueError("an anchor is SEQ:HASH, as printed by `photoguard audit verify`")
    return int(seq), digest.lower()


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _link_problem(e: Entry, expected: int, prev_hash: str) -> str | None:
    if e.seq != expected:
        if e.seq > expected:
            return f"entry {expected} is missing (the next entry is {e.seq})"
        return f"entry {e.seq} appears again or out of order"
    if e.prev_hash != prev_hash:
        return "prev_hash does not match the previous entry's hash"
    if e.kind not in KINDS:
        return f"unknown kind {e.kind!r}"
    if entry_hash(e.prev_hash, e.seq, e.kind, e.at, e.payload) != e.hash:
        return "hash does not match the entry's contents (edited)"
    try:
        if canonical(json.loads(e.payload)) != e.payload:
            return "payload is not canonical JSON"
    except ValueError:
        return "payload is not JSON"
    return None

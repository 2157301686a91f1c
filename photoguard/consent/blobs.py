"""Signed documents inside the database (table ``document_blob``, migration v6).

A server registry (PostgreSQL) is shared by several machines: its documents must live where
its rows live, not on the disk of whichever machine registered them. Content-addressed like
the file store (``store.py``): one row per sha256, written once in the transaction that
registers the authorization, never updated; ``consent verify`` re-hashes each.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Column, LargeBinary, MetaData, String, Table, select
from sqlalchemy.engine import Connection

from photoguard.consent.store import DocumentStore

_md = MetaData()
BLOBS = Table(
    "document_blob",
    _md,
    Column("sha256", String(64), primary_key=True),
    Column("content", LargeBinary, nullable=False),
)
_DOCUMENTS = Table("document", _md, Column("sha256", String(64), primary_key=True))


def put(conn: Connection, sha: str, data: bytes) -> None:
    """Store ``data`` under ``sha`` unless it is there already (inside the caller's
    transaction, which holds the registry's write lock)."""
    if conn.execute(select(BLOBS.c.sha256).where(BLOBS.c.sha256 == sha)).first() is None:
        conn.execute(BLOBS.insert().values(sha256=sha, content=data))


def check(conn: Connection, sha: str) -> str | None:
    """None when the stored bytes hash to ``sha``, else ``missing`` or ``hash mismatch``."""
    row = conn.execute(select(BLOBS.c.content).where(BLOBS.c.sha256 == sha)).first()
    if row is None:
        return "missing"
    return None if hashlib.sha256(bytes(row[0])).hexdigest() == sha else "hash mismatch"


def backfill(conn: Connection, store: DocumentStore) -> int:
    """Copy into the database the documents it lacks that the local file store holds intact
    (registries from before v6 kept them on the disk of the machine that registered them).

    Returns:
        How many were copied. Documents absent here stay missing until a machine that has
        them opens the registry; ``consent verify`` lists them.
    """
    stored = select(BLOBS.c.sha256)
    lacking = conn.execute(
        select(_DOCUMENTS.c.sha256).where(_DOCUMENTS.c.sha256.not_in(stored))
    ).all()
    copied = 0
    for (sha,) in lacking:
        path = store.path_for(sha)
        if store.check(sha) is None:
            put(conn, sha, path.read_bytes())
            copied += 1
    return copied

"""Database location and engine: SQLite by default, PostgreSQL by URL.

Default location: ``$XDG_DATA_HOME/photoguard/registry.db`` (``~/.local/share/...`` when unset),
with signed documents in ``documents/`` beside it. SQLite runs in WAL mode with a 30 s busy
timeout, and every transaction starts with ``BEGIN IMMEDIATE`` so that concurrent writers queue
for the lock instead of failing with "database is locked" when a read turns into a write.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from photoguard.consent.errors import InvalidRequest

BUSY_TIMEOUT_S = 30


def data_home() -> Path:
    """``$XDG_DATA_HOME/photoguard`` or ``~/.local/share/photoguard``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "photoguard"


def default_url() -> str:
    """The SQLite registry used when no URL is configured."""
    return f"sqlite:///{data_home() / 'registry.db'}"


def normalize_url(url: str | None) -> str:
    """A SQLAlchemy URL: a bare path means SQLite, ``postgresql://`` means psycopg 3.

    Raises:
        InvalidRequest: the URL names an unsupported database.
    """
    if not url:
        return default_url()
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().absolute()}"
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise InvalidRequest(
            "registry URL is malformed (sqlite:///path or postgresql://...)"
        ) from None
    if backend not in ("sqlite", "postgresql"):
        raise InvalidRequest(f"unsupported registry database {backend!r}: use SQLite or PostgreSQL")
    return url


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for PostgreSQL or in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def create(url: str) -> Engine:
    """An engine for a normalized URL; SQLite files get their folder, WAL and a busy timeout."""
    path = sqlite_file(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        if path is not None:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine

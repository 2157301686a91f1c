"""Database location and engine: SQLite by default, PostgreSQL by URL.

Default location: ``$XDG_DATA_HOME/photoguard/registry.db`` (``~/.local/share/...`` when unset),
with signed documents in ``documents/`` beside it. SQLite runs in WAL mode with a 30 s busy
timeout, and every transaction starts with ``BEGIN IMMEDIATE`` so that concurrent writers queue
for the lock instead of failing with "database is locked" when a read turns into a write.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol, Self

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session

from photoguard.consent import migrations
from photoguard.consent.errors import InvalidRequest, RegistryError

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


engine_for = create


def write_lock(conn) -> None:
    """Take the registry's write lock in this transaction (PostgreSQL: the advisory lock that
    migrations and audit appends take; SQLite transactions hold it from ``BEGIN IMMEDIATE``)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": migrations.PG_WRITE_LOCK})


class Transactional(Protocol):
    """Anything that opens registry transactions: a ``Database`` or a ``ConsentRegistry``."""

    def transaction(self, snapshot: bool = False) -> AbstractContextManager[Session]: ...


class Closing:
    """``with thing:`` closes the thing at the end (``close()`` is the subclass's)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Database(Closing):
    """An opened, migrated registry database: an engine and its transactions.

    Args:
        url: A normalized URL (``normalize_url``).
        create: Create the database when it does not exist yet (writing commands). When False
            (every read-only command), a missing SQLite file or a PostgreSQL database without
            the registry's tables is an error, and nothing is created.

    Raises:
        RegistryError: no registry there (``create=False``), or it cannot be opened or migrated.
    """

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = url
        path = sqlite_file(url)
        if not create and path is not None and not path.is_file():
            raise RegistryError(f"no consent registry at {path}")
        try:
            self.engine = engine_for(url)
        except OSError as exc:
            raise RegistryError(f"cannot create the consent registry: {exc.strerror}") from None
        try:
            with self.engine.begin() as conn:
                if not create and migrations.current_version(conn) == 0:
                    raise RegistryError("no consent registry in that database (no tables yet)")
                self.schema_version = migrations.migrate(conn)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise RegistryError(f"cannot open the consent registry: {brief(exc)}") from None
        except RegistryError:
            self.engine.dispose()
            raise

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, snapshot: bool = False) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error.

        Args:
            snapshot: Every statement sees the same state (PostgreSQL ``REPEATABLE READ``;
                SQLite transactions already hold the write lock from their start).

        Raises:
            RegistryError: any database error (one line, no SQL, no parameters).
        """
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                if snapshot and self.dialect == "postgresql":
                    session.connection().execute(
                        text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    )
                yield session
        except SQLAlchemyError as exc:
            # Never the statement or its parameters: they may hold names.
            raise RegistryError(f"registry database error: {brief(exc)}") from None

    def close(self) -> None:
        self.engine.dispose()


def brief(exc: Exception) -> str:
    """The first line of a database error, without SQL or parameters (they may hold names)."""
    orig = getattr(exc, "orig", None)
    return str(orig or exc).splitlines()[0][:200]

"""The consent registry on a real PostgreSQL server.

Uses ``PHOTOGUARD_TEST_PG_URL`` (a database the tests may fill; each test gets its own fresh
database created beside it) when set. Otherwise starts a throwaway server from the Debian
``postgresql`` package (``/usr/lib/postgresql/*/bin``) on 127.0.0.1 and a free port, as the
``postgres`` user when run as root, and removes it afterwards. Skips, saying why, when neither
is possible.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import psycopg
import pytest
from conftest import unavailable
from consent_support import CATALOG, EILEEN, TODAY, request

from photoguard.consent import migrations
from photoguard.consent.errors import IncompleteAuthorization
from photoguard.consent.records import AuthStatus
from photoguard.consent.registry import ConsentRegistry
from photoguard.types import MatchStatus

_names = itertools.count()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _start_server(base: Path) -> tuple[str, list[str]]:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        unavailable("no PostgreSQL: set PHOTOGUARD_TEST_PG_URL or apt-get install postgresql")
    bindir = Path(bins[-1]).parent
    if os.geteuid() == 0 and (shutil.which("runuser") is None or _no_user("postgres")):
        unavailable("running as root without a 'postgres' user to run the test server")
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()
    quiet = {"capture_output": True, "text": True, "timeout": 120}
    init = subprocess.run(_as_server_user([
        str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "photoguard",
        "--no-sync", "-E", "UTF8",
    ]), **quiet)  # fmt: skip
    if init.returncode != 0:
        unavailable(f"initdb failed: {init.stderr.strip()[-300:]}")
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = subprocess.run(_as_server_user([
        str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w",
        "start",
    ]), **quiet)  # fmt: skip
    if start.returncode != 0:
        unavailable(f"pg_ctl start failed: {start.stderr.strip()[-300:]}")
    stop = _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
    return f"postgresql://photoguard@127.0.0.1:{port}/postgres", stop


def _no_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return True
    return False


@pytest.fixture(scope="module")
def pg_server():
    url = os.environ.get("PHOTOGUARD_TEST_PG_URL")
    if url:
        yield url
        return
    base = Path(tempfile.mkdtemp(prefix="photoguard-pg-"))
    os.chmod(base, 0o755)
    stop: list[str] = []
    try:
        url, stop = _start_server(base)
        yield url
    finally:
        if stop:
            subprocess.run(stop, capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database on the server for each test."""
    from sqlalchemy.engine import make_url

    name = f"pgtest_{os.getpid()}_{next(_names)}"
    admin = make_url(pg_server.replace("postgresql://", "postgresql+psycopg://", 1))
    with psycopg.connect(admin.set(drivername="postgresql").render_as_string(False),
                         autocommit=True) as conn:  # fmt: skip
        conn.execute(f'CREATE DATABASE "{name}"')
    yield admin.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin.set(drivername="postgresql").render_as_string(False),
                         autocommit=True) as conn:  # fmt: skip
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _open(url: str, tmp_path: Path) -> ConsentRegistry:
    return ConsentRegistry(url, documents=tmp_path / "documents", catalog=CATALOG,
                           clock=lambda: TODAY)  # fmt: skip


def test_add_revoke_and_restart_on_postgresql(pg_url, tmp_path):
    with _open(pg_url, tmp_path) as registry:
        assert registry.schema_version == migrations.LATEST
        auth = registry.add(request(tmp_path, name="Eileen Collins", photos=(EILEEN,),
                                    channels=("website", "instagram")))  # fmt: skip
        with pytest.raises(IncompleteAuthorization, match="expiration"):
            registry.add(request(tmp_path, expires_on=None))
    with _open(pg_url, tmp_path) as registry:
        assert registry.get(auth.id) == auth
        registry.revoke(auth.id, date(2026, 7, 1), "written request")
    with _open(pg_url, tmp_path) as registry:
        again = registry.get(auth.id)
        assert [a.id for a in registry.list()] == [auth.id]
        assert again.status_on(date(2026, 7, 1)) is AuthStatus.REVOKED
        [person] = registry.templates_for_matching("instagram", "marketing", date(2026, 6, 30))
        assert person.status is MatchStatus.CONSENTED and person.encodings.shape == (1, 128)
        [person] = registry.templates_for_matching("instagram", "marketing", date(2026, 7, 1))
        assert (person.status, person.authorization) == (MatchStatus.REVOKED, auth.id)
        assert registry.verify_documents() == []
        assert registry.purge_biometrics(person_id=auth.person_id) == 1
        assert registry.all_names() == ["Eileen Collins"]


def test_upgrade_from_version_1_and_concurrent_opening_on_postgresql(pg_url, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from photoguard.consent import db

    engine = db.create(db.normalize_url(pg_url))
    with engine.begin() as conn:
        migrations.migrate(conn, target=1)
    engine.dispose()

    def add_some(worker: int) -> list[str]:
        with _open(pg_url, tmp_path / str(worker)) as registry:
            return [registry.add(request(tmp_path / str(worker), name=f"W{worker} {i}")).id
                    for i in range(5)]  # fmt: skip

    with ThreadPoolExecutor(4) as pool:
        ids = [i for chunk in pool.map(add_some, range(4)) for i in chunk]
    assert len(set(ids)) == 20
    with _open(pg_url, tmp_path) as registry:
        assert registry.schema_version == migrations.LATEST and len(registry.list()) == 20


def _sql(pg_url: str, statement: str) -> int:
    from sqlalchemy.engine import make_url

    plain = make_url(pg_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(plain, autocommit=True) as conn:
        return conn.execute(statement).rowcount


@pytest.mark.parametrize(
    "statement, row",
    [
        ("UPDATE authorization_record SET revocation_received_on = NULL WHERE id = 1",
         "AUTH-000001"),
        ("UPDATE authorization_record SET expires_on = '2099-12-31' WHERE id = 1", "AUTH-000001"),
        ("""UPDATE authorization_record SET channels = '["website", "instagram"]' WHERE id = 1""",
         "AUTH-000001"),
        ("UPDATE face_template SET person_id = 2", "TPL-000001"),
    ],
)  # fmt: skip
def test_hand_edited_rows_on_postgresql_are_named_and_refused(pg_url, tmp_path, statement, row):
    from photoguard.consent import audit
    from photoguard.consent.errors import RegistryTampered

    with _open(pg_url, tmp_path) as registry:
        auth = registry.add(request(tmp_path, photos=(EILEEN,)))
        registry.revoke(auth.id, date(2026, 3, 1), "letter")
        registry.add(request(tmp_path, name="Other Person"))
        assert audit.verify_state(registry) == []
    assert _sql(pg_url, statement) == 1
    with _open(pg_url, tmp_path / "elsewhere") as registry:
        assert [p.row for p in audit.verify_state(registry)] == [row]
        with pytest.raises(RegistryTampered, match=row):
            registry.templates_for_matching("website", "marketing", TODAY)


def test_documents_live_in_the_server_database(pg_url, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    with _open(pg_url, here) as registry:
        auth = registry.add(request(tmp_path, photos=(EILEEN,)))
    assert not (here / "documents").exists()  # nothing on this machine's disk
    with _open(pg_url, there) as registry:  # another machine, another disk
        assert registry.verify_documents() == [] and registry.document_count() == 1
    _sql(pg_url, "UPDATE document_blob SET content = 'forged'::bytea")
    with _open(pg_url, there) as registry:
        [problem] = registry.verify_documents()
        assert (problem.problem, problem.authorizations) == ("hash mismatch", (auth.id,))


def test_documents_of_a_registry_from_before_v6_are_moved_into_the_database(pg_url, tmp_path):
    from photoguard.consent.store import DocumentStore

    form = request(tmp_path).document
    with _open(pg_url, tmp_path / "old") as registry:
        auth = registry.add(request(tmp_path, document=form))
    # What v5 left: the document on the registering machine's disk, no document_blob table.
    DocumentStore(tmp_path / "old" / "documents").put(form)
    _sql(pg_url, "DROP TABLE document_blob")
    _sql(pg_url, "DELETE FROM schema_version WHERE version = 6")
    with _open(pg_url, tmp_path / "elsewhere") as registry:
        assert registry.schema_version == migrations.LATEST
        assert [p.problem for p in registry.verify_documents()] == ["missing"]
    with _open(pg_url, tmp_path / "old"):  # the machine that holds the files opens it
        pass
    with _open(pg_url, tmp_path / "elsewhere") as registry:
        assert registry.verify_documents() == [] and registry.get(auth.id) == auth


def test_reading_an_uninitialised_server_database_creates_nothing(pg_url, tmp_path):
    from photoguard.consent.errors import RegistryError

    with pytest.raises(RegistryError, match="no consent registry"):
        ConsentRegistry(pg_url, documents=tmp_path / "documents", create=False)
    assert _sql(pg_url, "SELECT 1 FROM pg_tables WHERE tablename = 'schema_version'") == 0

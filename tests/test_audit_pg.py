"""The audit trail on a real PostgreSQL server (the throwaway server of test_registry_pg)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
import test_registry_pg  # noqa: E402
from consent_support import TODAY  # noqa: E402
from test_audit import _fill, _open, _result  # noqa: E402

from photoguard.consent import audit  # noqa: E402
from photoguard.settings import Settings  # noqa: E402

# The throwaway server and a fresh database per test, shared with the registry's PG tests.
pg_server = test_registry_pg.pg_server
pg_url = test_registry_pg.pg_url


def _sql(url: str, statement: str) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        conn.execute(statement)


def _verify(url, tmp_path):
    with _open(url, tmp_path) as registry:
        return audit.verify(registry)


def test_chain_on_postgresql_survives_reopening_and_shows_edits_and_deletions(pg_url, tmp_path):
    first, _ = _fill(pg_url, tmp_path)
    report = _verify(pg_url, tmp_path)
    assert report.intact and report.entries == 12
    with _open(pg_url, tmp_path) as registry:
        assert [p.output.rsplit("/", 1)[-1] for p in audit.takedown(registry, first)] == ["a.jpg"]
    _sql(pg_url, "CREATE TABLE saved AS SELECT * FROM audit_entry WHERE seq = 8")
    _sql(pg_url, "UPDATE audit_entry SET payload = replace(payload, 'redact', 'pass') "
                 "WHERE seq = 8")  # fmt: skip
    assert _verify(pg_url, tmp_path).broken_seq == 8
    _sql(pg_url, "UPDATE audit_entry SET payload = (SELECT payload FROM saved) WHERE seq = 8")
    assert _verify(pg_url, tmp_path).intact  # the same bytes again: the same hash
    _sql(pg_url, "UPDATE audit_entry SET at = '2020-01-01T00:00:00.000000+00:00' WHERE seq = 3")
    assert _verify(pg_url, tmp_path).broken_seq == 3
    _sql(pg_url, "DELETE FROM audit_entry WHERE seq = 2")
    assert _verify(pg_url, tmp_path).broken_seq == 2


def test_concurrent_appends_never_fork_the_chain_on_postgresql(pg_url, tmp_path):
    _open(pg_url, tmp_path).close()
    settings = Settings(db_url=pg_url, as_of=TODAY)

    def runs(worker: int) -> list[str]:
        return [audit.record_run(settings, "redact", [_result(f"{worker}-{i}.jpg", None)])
                for i in range(5)]  # fmt: skip

    with ThreadPoolExecutor(4) as pool:
        ids = [i for chunk in pool.map(runs, range(4)) for i in chunk]
    report = _verify(pg_url, tmp_path)
    assert len(set(ids)) == 20 and report.intact and report.entries == 40

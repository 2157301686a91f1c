"""The audit trail: hash chain, tamper detection, export and takedown lists, on real SQLite files.

PostgreSQL: tests/test_audit_pg.py. Rows are tampered with through sqlite3 directly, the way
someone with the database file could, and then verified through a freshly opened registry.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from conftest import SAMPLES, run_cli, sha256
from consent_support import CATALOG, CONSENTS, TODAY, request

from photoguard.consent import audit, chain, migrations
from photoguard.consent.registry import ConsentRegistry
from photoguard.settings import Settings
from photoguard.types import Action, Box, DetectorRun, PhotoResult, Region, RegionKind, Verdict

COLUMNS = ("seq", "at", "kind", "payload", "prev_hash", "hash")


def _open(url: str, tmp_path: Path) -> ConsentRegistry:
    return ConsentRegistry(url, documents=tmp_path / "documents", catalog=CATALOG,
                           clock=lambda: TODAY)  # fmt: skip


def _result(name: str, auth: str | None, output: Path | None = None) -> PhotoResult:
    """A hand-built redact result: one face kept under ``auth`` (or redacted when None)."""
    region = Region(RegionKind.FACE, Box(1, 2, 30, 40), Action.KEEP if auth else Action.REDACT,
                    authorization=auth, label="Never Recorded Name")  # fmt: skip
    return PhotoResult(
        path=Path("/photos") / name, sha256="a" * 64,
        verdict=Verdict.PASS if auth else Verdict.REDACT,
        reasons=(f"1 face kept under {auth}",) if auth else ("1 unconsented face to redact",),
        regions=(region,), detectors=(DetectorRun("faces", "faces@test-1", True),),
        output=output, output_sha256="b" * 64 if output else None,
    )  # fmt: skip


def _fill(url: str, tmp_path: Path) -> list[str]:
    """Consent changes of every kind and two runs; returns the authorization ids."""
    with _open(url, tmp_path) as registry:
        first = registry.add(request(tmp_path, name="Test Person"))
        second = registry.add(request(tmp_path, name="Other Person", expires_on=None,
                                      expires_event="the patient turns 18"))  # fmt: skip
        registry.record_expiry_event(second.id, date(2026, 9, 1))
    settings = Settings(db_url=url, as_of=TODAY)
    out = tmp_path / "out"
    audit.record_run(settings, "check", [_result("a.jpg", first.id), _result("b.jpg", None)])
    audit.record_run(settings, "redact", [
        _result("a.jpg", first.id, out / "a.jpg"), _result("b.jpg", None, out / "b.jpg"),
        _result("c.jpg", second.id, out / "c.jpg"),
    ])  # fmt: skip
    with _open(url, tmp_path) as registry:
        registry.revoke(first.id, date(2026, 7, 1), "letter from Test Person")
        registry.purge_biometrics(due=True, today=date(2026, 7, 2))
    return [first.id, second.id]


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    """A registry file with a full audit trail, closed (WAL checkpointed into the file)."""
    tmp = tmp_path_factory.mktemp("filled")
    _fill(f"sqlite:///{tmp / 'registry.db'}", tmp)
    return tmp / "registry.db"


def _copy(filled: Path, tmp_path: Path) -> tuple[Path, str]:
    target = tmp_path / "registry.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{filled}{suffix}").exists():
            shutil.copy(f"{filled}{suffix}", f"{target}{suffix}")
    return target, f"sqlite:///{target}"


def _verify(url: str, tmp_path: Path) -> chain.ChainReport:
    with _open(url, tmp_path) as registry:
        return audit.verify(registry)


def _tamper(path: Path, sql: str, *params) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(sql, params)
    conn.close()


# -- the chain, pure ------------------------------------------------------------------------


def test_sealed_entries_walk_and_any_change_breaks_the_walk():
    entries, prev = [], None
    for i in range(4):
        prev = chain.seal(prev, "consent", {"action": "add", "n": i}, chain.timestamp())
        entries.append(prev)
    assert chain.walk(entries) == chain.ChainReport(4, 4, entries[-1].hash)
    assert chain.walk([]).intact and chain.walk([]).head_hash == chain.GENESIS
    from dataclasses import replace

    edited = [*entries[:2], replace(entries[2], payload='{"action":"add","n":9}'), entries[3]]
    assert chain.walk(edited).broken_seq == 3
    assert chain.walk([entries[0], entries[2], entries[3]]).broken_seq == 2
    assert chain.walk(entries, anchor=(4, entries[3].hash)).intact
    cut = chain.walk(entries[:3], anchor=(4, entries[3].hash))
    assert (cut.broken_seq, cut.entries) == (4, 3) and "cut off" in cut.problem
    with pytest.raises(ValueError, match="kind"):
        chain.seal(None, "gossip", {}, chain.timestamp())


# -- SQLite: recording, reopening, tampering ------------------------------------------------


def test_runs_files_and_consent_changes_are_recorded_without_names(filled, tmp_path):
    path, url = _copy(filled, tmp_path)
    with _open(url, tmp_path) as registry:
        report = audit.verify(registry)
        entries = audit.export(registry)
    assert report.intact and report.entries == len(entries) == 12
    assert [e["kind"] for e in entries] == ["consent"] * 3 + ["run", "file", "file"] + [
        "run", "file", "file", "file"] + ["consent"] * 2  # fmt: skip
    actions = [e["payload"]["action"] for e in entries if e["kind"] == "consent"]
    assert actions == ["add", "add", "expiry-event", "revoke", "purge-biometrics"]
    run = next(e["payload"] for e in entries if e["kind"] == "run")
    assert {k: run[k] for k in ("command", "channel", "purpose", "as_of", "files")} == {
        "command": "check", "channel": "website", "purpose": "marketing",
        "as_of": TODAY.isoformat(), "files": 2}  # fmt: skip
    assert run["detectors"] == [{"name": "faces", "version": "faces@test-1"}]
    assert len(run["policy_sha256"]) == 64 and run["operator"] and run["host"]
    files = [e["payload"] for e in entries if e["kind"] == "file"]
    assert files[0]["authorizations"] == ["AUTH-000001"] and files[1]["authorizations"] == []
    assert files[0]["output"] is None and files[2]["output"] == str(filled.parent / "out" / "a.jpg")
    purge = entries[-1]["payload"]  # no photos were enrolled: nothing to purge, still recorded
    assert (purge["due"], purge["as_of"], purge["templates"], purge["people"]) == (
        True, "2026-07-02", 0, [])  # fmt: skip
    dump = json.dumps(entries)
    # Names, the revocation's reason, the event's wording and region labels stay out.
    for secret in ("Test Person", "Other Person", "letter from", "turns 18", "Never Recorded"):
        assert secret not in dump


@pytest.mark.parametrize("column", COLUMNS)
def test_editing_any_field_of_any_row_is_detected_at_that_seq(filled, tmp_path, column):
    path, url = _copy(filled, tmp_path)
    total = _verify(url, tmp_path).entries
    for seq in range(1, total + 1):
        _copy(filled, tmp_path)
        if column == "seq":
            _tamper(path, "UPDATE audit_entry SET seq = seq + 1000 WHERE seq = ?", seq)
        elif column == "kind":
            _tamper(path, "UPDATE audit_entry SET kind = CASE kind WHEN 'file' THEN 'run' "
                          "ELSE 'file' END WHERE seq = ?", seq)  # fmt: skip
        elif column == "payload":  # still canonical JSON, one more key
            _tamper(path, "UPDATE audit_entry SET payload = '{\"a\":1,' || substr(payload, 2) "
                          "WHERE seq = ?", seq)  # fmt: skip
        else:  # change the last character (hashes stay hex, timestamps stay timestamps)
            _tamper(path, f"UPDATE audit_entry SET {column} = substr({column}, 1, "
                          f"length({column}) - 1) || CASE WHEN substr({column}, -1) = '1' "
                          f"THEN '2' ELSE '1' END WHERE seq = ?", seq)  # fmt: skip
        report = _verify(url, tmp_path)
        assert report.broken_seq == seq and report.problem, (column, seq, report)


def test_deleting_any_row_is_detected_and_the_last_one_with_an_anchor(filled, tmp_path):
    path, url = _copy(filled, tmp_path)
    head = _verify(url, tmp_path)
    for seq in range(1, head.entries + 1):
        _copy(filled, tmp_path)
        _tamper(path, "DELETE FROM audit_entry WHERE seq = ?", seq)
        with _open(url, tmp_path) as registry:
            report = audit.verify(registry, anchor=(head.head_seq, head.head_hash))
        assert report.broken_seq == seq, (seq, report)
        assert ("missing" if seq < head.entries else "cut off") in report.problem


def test_reordering_rows_is_detected(filled, tmp_path):
    path, url = _copy(filled, tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE audit_entry SET seq = -1 WHERE seq = 5")
        conn.execute("UPDATE audit_entry SET seq = 5 WHERE seq = 6")
        conn.execute("UPDATE audit_entry SET seq = 6 WHERE seq = -1")
    conn.close()
    report = _verify(url, tmp_path)
    assert report.broken_seq == 5 and not report.intact


def test_export_since_a_date_and_entries_survive_reopening(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    for day in ("2026-01-05", "2026-02-10", "2026-03-15"):
        monkeypatch.setattr(chain, "timestamp", lambda d=day: f"{d}T12:00:00.000000+00:00")
        with _open(url, tmp_path) as registry:
            registry.add(request(tmp_path))
    with _open(url, tmp_path) as registry:
        assert [e["at"][:10] for e in audit.export(registry, date(2026, 2, 10))] == [
            "2026-02-10", "2026-03-15"]  # fmt: skip
        assert audit.export(registry, date(2026, 4, 1)) == []
        assert audit.verify(registry).entries == 3


def test_concurrent_appends_never_fork_the_chain(tmp_path):
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    _open(url, tmp_path).close()
    settings = Settings(db_url=url, as_of=TODAY)

    def runs(worker: int) -> list[str]:
        return [audit.record_run(settings, "check", [_result(f"{worker}-{i}.jpg", None)])
                for i in range(5)]  # fmt: skip

    with ThreadPoolExecutor(4) as pool:
        ids = [i for chunk in pool.map(runs, range(4)) for i in chunk]
    assert len(set(ids)) == 20
    report = _verify(url, tmp_path)
    assert report.intact and report.entries == 40


def test_upgrade_folds_the_v2_change_log_into_the_chain(tmp_path):
    from photoguard.consent import db

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = db.create(url)
    with engine.begin() as conn:
        migrations.migrate(conn, target=2)
        for action, subject in (("add", "AUTH-000001"), ("revoke", "AUTH-000001")):
            conn.exec_driver_sql(
                "INSERT INTO registry_event (at, action, subject, detail) "
                f"VALUES ('2026-01-02 03:04:05.000000', '{action}', '{subject}', '')"
            )
    engine.dispose()
    with _open(url, tmp_path) as registry:
        registry.add(request(tmp_path))
        entries = audit.export(registry)
        assert audit.verify(registry).intact
    assert [(e["payload"]["action"], e["payload"].get("legacy_event")) for e in entries] == [
        ("add", 1), ("revoke", 2), ("add", None)]  # fmt: skip
    assert entries[0]["at"] == "2026-01-02T03:04:05.000000+00:00"


def test_takedown_lists_published_outputs_of_one_authorization(filled, tmp_path):
    _, url = _copy(filled, tmp_path)
    with _open(url, tmp_path) as registry:
        first = audit.takedown(registry, "AUTH-000001")
        second = audit.takedown(registry, "AUTH-000002")
    assert [Path(p.output).name for p in first] == ["a.jpg"]  # the check run wrote nothing
    assert [Path(p.output).name for p in second] == ["c.jpg"]
    assert first[0].input == "/photos/a.jpg" and first[0].output_sha256 == "b" * 64


# -- the CLI, end to end on the demo registry and samples/ -----------------------------------


@pytest.fixture
def cli(monkeypatch):
    """The ``photoguard`` app in-process (no interpreter start-up per command)."""
    from typer.testing import CliRunner

    from photoguard.cli.main import app

    monkeypatch.delenv("PHOTOGUARD_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "300")
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(app, list(args))
        assert "Traceback" not in result.output, result.output
        result.returncode = result.exit_code
        return result

    return run


def test_revoke_names_exactly_the_published_copies_and_verify_catches_an_edit(tmp_path, cli):
    db = tmp_path / "registry.db"
    pg = ("--db", f"sqlite:///{db}")
    out = tmp_path / "publish"
    assert cli(*pg, "consent", "import", str(CONSENTS / "demo.toml")).returncode == 0
    # A real redact, in its own process as a user runs it.
    redact = run_cli(*pg, "redact", str(SAMPLES), "--out", str(out), "-j", "2",
                     "--quiet")  # fmt: skip
    assert redact.returncode in (0, 4, 5), redact.stderr
    assert "audit: run " in redact.stderr and " recorded" in redact.stderr
    revoke = cli(*pg, "consent", "revoke", "AUTH-000001", "--received", "2026-07-01",
                 "--reason", "letter")  # fmt: skip
    assert revoke.returncode == 0, revoke.output
    for name in ("visit.jpg", "astronaut.jpg"):
        assert name in revoke.stdout
    assert "coffee.png" not in revoke.stdout
    listed = cli(*pg, "consent", "takedown", "AUTH-000001", "--json")
    items = json.loads(listed.stdout)
    assert sorted(Path(i["output"]).name for i in items) == ["astronaut.jpg", "visit.jpg"]
    for item in items:  # the recorded hash is the published file's
        assert item["output_sha256"] == sha256(Path(item["output"]))
        assert Path(item["output"]).parent == out.resolve()
    assert cli(*pg, "consent", "takedown", "AUTH-000009").returncode == 2

    ok = cli(*pg, "audit", "verify")
    assert ok.returncode == 0 and "intact" in ok.stdout, ok.stderr
    exported = tmp_path / "audit.jsonl"
    assert cli(*pg, "audit", "export", "--since", "2000-01-01", "--out",
               str(exported)).returncode == 0  # fmt: skip
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    photos = [p for p in SAMPLES.iterdir() if p.suffix in {".jpg", ".png"}]
    assert [e["kind"] for e in lines].count("file") == len(photos)
    assert lines[-1]["kind"] == "consent"
    assert cli(*pg, "audit", "export", "--since", "2999-01-01").stdout == ""

    _tamper(db, "UPDATE audit_entry SET payload = replace(payload, 'redact', 'pass') "
                "WHERE seq = 3")  # fmt: skip
    broken = cli(*pg, "audit", "verify")
    assert broken.returncode == 1 and "broken at seq 3" in broken.stderr


def test_no_registry_runs_are_not_recorded(tmp_path):
    result = run_cli("check", str(SAMPLES / "coffee.png"), "--no-registry", "--no-text")
    assert "audit: run not recorded (--no-registry)" in result.stderr


def test_audit_help_has_examples(cli):
    for args in (("audit", "--help"), ("audit", "verify", "--help"), ("audit", "export", "--help")):
        result = cli(*args)
        assert result.returncode == 0 and "Example:" in result.stdout, args
        assert "  photoguard audit" in result.stdout, args

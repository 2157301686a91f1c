"""Registry rows edited outside photoguard are caught: verify names them, check refuses them.

Rows are edited with sqlite3 directly, the way someone with the database file could; every
verdict and verification goes through a freshly opened registry or a new command.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from conftest import SAMPLES
from consent_support import CATALOG, EILEEN, TODAY, request

from photoguard.consent import audit, db, migrations
from photoguard.consent.errors import RegistryTampered
from photoguard.consent.registry import ConsentRegistry

AS_OF = "2026-06-01"


@pytest.fixture
def cli(monkeypatch):
    """The ``photoguard`` app in-process (detectors load once for every check)."""
    from typer.testing import CliRunner

    from photoguard.cli.main import app

    monkeypatch.delenv("PHOTOGUARD_CONFIG", raising=False)
    monkeypatch.delenv("PHOTOGUARD_DB", raising=False)
    monkeypatch.setenv("COLUMNS", "300")
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(app, list(args))
        assert "Traceback" not in result.output, result.output
        result.text = " ".join(result.output.split())
        return result

    return run


def _open(path: Path) -> ConsentRegistry:
    return ConsentRegistry(f"sqlite:///{path}", documents=path.parent / "documents",
                           catalog=CATALOG, clock=lambda: TODAY)  # fmt: skip


# Each case: how the registry is filled, the channel checked, and the hand edit that would
# make photoguard keep a face it must not keep.
CASES = {
    "revocation-undone": ("UPDATE authorization_record SET revocation_received_on = NULL",
                          "website", "AUTH-000001"),
    "expiry-extended": ("UPDATE authorization_record SET expires_on = '2099-12-31'",
                        "website", "AUTH-000001"),
    "channel-added": ("""UPDATE authorization_record SET channels = '["website", "instagram"]'""",
                      "instagram", "AUTH-000001"),
    "template-moved": ("UPDATE face_template SET person_id = 2", "website", "TPL-000001"),
}  # fmt: skip


def _fill(path: Path, case: str) -> None:
    folder = path.parent
    with _open(path) as registry:
        if case == "expiry-extended":
            registry.add(request(folder, photos=(EILEEN,), expires_on=date(2026, 5, 1)))
            return
        first = registry.add(request(folder, photos=(EILEEN,)))
        if case in ("revocation-undone", "template-moved"):
            registry.revoke(first.id, date(2026, 3, 1), "letter")
        if case == "template-moved":  # a second person, consented, without a photo
            registry.add(request(folder, name="Other Person"))


def _check(cli, path: Path, channel: str, tmp_path: Path):
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    result = cli("--db", f"sqlite:///{path}", "check", str(SAMPLES / "astronaut.jpg"),
                 "--json", str(report), "--no-text", "--no-barcodes", "--as-of", AS_OF,
                 "--channel", channel, "--purpose", "marketing")  # fmt: skip
    kept = []
    if report.exists():
        [entry] = json.loads(report.read_text())["files"]
        kept = [r for r in entry["regions"] if r["kind"] == "face" and r["action"] == "keep"]
    return result, kept


@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_edited_consent_rows_are_named_and_no_check_relies_on_them(cli, tmp_path, case):
    sql, channel, row = CASES[case]
    path = tmp_path / "db" / "registry.db"
    _fill(path, case)
    before, kept = _check(cli, path, channel, tmp_path)
    assert before.exit_code in (1, 4, 5) and kept == [], before.output  # the control: not kept
    assert cli("--db", f"sqlite:///{path}", "audit", "verify").exit_code == 0

    with sqlite3.connect(path) as conn:
        assert conn.execute(sql).rowcount == 1

    after, kept = _check(cli, path, channel, tmp_path)
    assert kept == [], "the edited registry made photoguard keep the face"
    assert after.exit_code == 3, after.output
    assert "altered outside photoguard" in after.text and row in after.text
    trail = cli("--db", f"sqlite:///{path}", "audit", "verify")
    assert trail.exit_code == 1 and f"registry row {row}: edited outside photoguard" in trail.text
    consent = cli("--db", f"sqlite:///{path}", "consent", "verify", "--json")
    assert consent.exit_code == 1
    assert [r["row"] for r in json.loads(consent.stdout)["rows"]] == [row]


def test_rows_added_or_deleted_by_hand_are_named(tmp_path):
    path = tmp_path / "registry.db"
    with _open(path) as registry:
        registry.add(request(tmp_path, photos=(EILEEN,)))
        registry.add(request(tmp_path, name="Second Person"))
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO face_template (person_id, source_sha256, encoding, enrolled_on,"
                     " purge_on) SELECT 2, source_sha256, encoding, enrolled_on, purge_on "
                     "FROM face_template WHERE id = 1")  # fmt: skip
        conn.execute("DELETE FROM authorization_record WHERE id = 2")
    with _open(path) as registry:
        found = {p.row: p.problem for p in audit.verify_state(registry)}
        assert found == {
            "AUTH-000002": "deleted outside photoguard (the audit trail records it as present)",
            "TPL-000002": "added outside photoguard (the audit trail never recorded it)",
        }
        with pytest.raises(RegistryTampered, match="TPL-000002"):
            registry.templates_for_matching("website", "marketing", TODAY)


def test_photoguard_writes_keep_the_registry_vouched_for_and_refuse_edited_rows(tmp_path):
    path = tmp_path / "registry.db"
    with _open(path) as registry:
        a = registry.add(request(tmp_path, photos=(EILEEN,)))
        b = registry.add(request(tmp_path, name="Other", expires_on=None, expires_event="event"))
        registry.add(request(tmp_path, person_id=a.person_id))
        registry.revoke(a.id, date(2026, 3, 1), "letter")
        registry.record_expiry_event(b.id, date(2026, 4, 1))
        assert registry.purge_biometrics(person_id=a.person_id) == 1
        assert audit.verify_state(registry) == [] and audit.verify(registry).intact
        payloads = json.dumps(audit.export(registry))
    assert "Other" not in payloads and "letter" not in payloads  # digests only, never values
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE authorization_record SET channels = '[\"print\"]' WHERE id = 3")
        conn.execute("UPDATE person SET dob = '1950-01-01' WHERE id = 1")
    with _open(path) as registry:
        # A change through photoguard must not record a hand edit as its own state.
        with pytest.raises(RegistryTampered, match="AUTH-000003"):
            registry.revoke("AUTH-000003", date(2026, 5, 1), "letter")
        with pytest.raises(RegistryTampered, match="PER-000001"):
            registry.add(request(tmp_path, person_id=a.person_id))
        assert {p.row for p in audit.verify_state(registry)} == {"PER-000001", "AUTH-000003"}


def test_an_edited_state_entry_is_caught_without_walking_the_chain(tmp_path):
    path = tmp_path / "registry.db"
    with _open(path) as registry:
        registry.add(request(tmp_path, photos=(EILEEN,)))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE authorization_record SET expires_on = '2099-12-31'")
        # ... and the entry that vouches for it rewritten to vouch for nothing in particular
        conn.execute("UPDATE audit_entry SET payload = replace(payload, '\"AUTH-000001\":\"',"
                     " '\"AUTH-000001\":\"0') WHERE kind = 'consent'")  # fmt: skip
    with _open(path) as registry, pytest.raises(RegistryTampered, match="audit entry 1"):
        registry.templates_for_matching("website", "marketing", TODAY)


def test_upgrade_to_v5_vouches_for_the_rows_that_were_there(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = db.create(url)
    with engine.begin() as conn:
        migrations.migrate(conn, target=3)
        conn.exec_driver_sql(
            "INSERT INTO person (name, role, created_at) VALUES ('Old Timer', 'staff', "
            "'2020-01-01 00:00:00')"
        )
    engine.dispose()
    with ConsentRegistry(url, catalog=CATALOG) as registry:
        assert audit.verify_state(registry) == [] and audit.verify(registry).intact
        [baseline] = audit.export(registry)
        assert baseline["payload"]["action"] == "state-baseline"
        assert list(baseline["payload"]["state"]) == ["PER-000001"]
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute("UPDATE person SET role = 'patient'")
    with ConsentRegistry(url, catalog=CATALOG) as registry:
        assert [p.row for p in audit.verify_state(registry)] == ["PER-000001"]

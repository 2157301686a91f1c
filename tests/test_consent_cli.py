"""``photoguard consent``: commands, exit codes and one-line errors, on a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from consent_support import CONSENTS, EILEEN, EXAMPLE_TOML
from typer.testing import CliRunner

from photoguard.cli.main import app

COMMANDS = ("add", "import", "list", "show", "revoke", "expire-event", "expiring", "verify",
            "purge-biometrics", "takedown")  # fmt: skip
PHOTOGUARD = Path(sys.executable).parent / "photoguard"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run ``photoguard --config example --db <tmp> consent ...`` in-process."""
    monkeypatch.delenv("PHOTOGUARD_CONFIG", raising=False)
    monkeypatch.delenv("PHOTOGUARD_DB", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(app, ["--config", str(EXAMPLE_TOML), "--db", db, "consent", *args])
        assert "Traceback" not in result.output, result.output
        # Rich wraps long lines at the terminal width: compare words, not line breaks.
        result.text = " ".join(result.output.split())
        return result

    run.db = db
    return run


def _add_args(tmp_path: Path, *extra: str) -> list[str]:
    form = tmp_path / "form.txt"
    form.write_text("signed form")
    return ["add", "--name", "Ana Diaz", "--photo", str(EILEEN), "--document", str(form),
            "--channel", "website", "--purpose", "marketing", "--signed-on", "2026-03-01",
            "--received-on", "2026-03-02", *extra]  # fmt: skip


def test_every_consent_command_has_help_with_an_example(cli):
    top = cli("--help")
    assert top.exit_code == 0
    for name in COMMANDS:
        assert name in top.output
        result = cli(name, "--help")
        assert result.exit_code == 0 and "Example:" in result.output, name
        assert "  photoguard consent" in result.output, name


def test_incomplete_add_exits_2_naming_every_missing_element(cli, tmp_path):
    result = cli(*_add_args(tmp_path))
    assert result.exit_code == 2
    assert "missing: expiration date or expiration event" in result.text
    minor = cli(*_add_args(tmp_path, "--expires", "2027-01-01", "--dob", "2015-01-01"))
    assert minor.exit_code == 2 and "personal representative" in minor.text
    assert json.loads(cli("list", "--json").output) == []


def test_add_show_revoke_then_a_new_process_sees_it_revoked(cli, tmp_path):
    added = cli(*_add_args(tmp_path, "--expires", "2028-03-01", "--channel", "Instagram",
                           "--json"))  # fmt: skip
    assert added.exit_code == 0, added.output
    [auth] = json.loads(added.output)
    assert auth["id"] == "AUTH-000001" and auth["channels"] == ["website", "instagram"]
    shown = json.loads(cli("show", "AUTH-000001", "--on", "2026-04-01", "--json").output)
    assert shown["status"] == "active" and len(shown["templates"]) == 1
    assert shown["discloser"].startswith("Example Community Hospital")
    revoked = cli("revoke", "AUTH-000001", "--received", "2026-05-02", "--reason", "letter")
    assert revoked.exit_code == 0 and "revoked as of 2026-05-02" in revoked.text
    again = cli("revoke", "AUTH-000001", "--received", "2026-05-03", "--reason", "letter")
    assert again.exit_code == 2 and "already revoked" in again.text
    env = {**os.environ, "PHOTOGUARD_DB": cli.db, "PHOTOGUARD_CONFIG": str(EXAMPLE_TOML)}
    proc = subprocess.run(
        [str(PHOTOGUARD), "consent", "list", "--valid-on", "2026-06-01", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
    listed = json.loads(cli("list", "--json").output)
    assert [(a["id"], a["revocation_received_on"]) for a in listed] == [
        ("AUTH-000001", "2026-05-02")
    ]


def test_import_demo_file_then_verify_detects_tampering(cli, tmp_path):
    imported = cli("import", str(CONSENTS / "demo.toml"))
    assert imported.exit_code == 0, imported.output
    assert "AUTH-000001" in imported.output
    listed = cli("list", "--channel", "instagram", "--valid-on", "2026-06-01")
    assert listed.exit_code == 0 and "AUTH-000001" in listed.text
    assert cli("verify").exit_code == 0
    [stored] = [p for p in (tmp_path / "documents").rglob("*") if p.is_file()]
    os.chmod(stored, 0o644)
    stored.write_bytes(b"not the signed form")
    bad = cli("verify", "--json")
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["problems"][0]["problem"] == "hash mismatch"
    assert cli("purge-biometrics", "--person", "PER-000001").exit_code == 0
    assert json.loads(cli("show", "AUTH-000001", "--json").output)["templates"] == []


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["show", "AUTH-000099"], 2, "no authorization AUTH-000099"),
        (["list", "--valid-on", "06/01/2026"], 2, "YYYY-MM-DD"),
        (["revoke", "AUTH-000001", "--received", "soon", "--reason", "x"], 2, "YYYY-MM-DD"),
        (["purge-biometrics"], 2, "--person ID or --due"),
        (["import", "nowhere.toml"], 2, "cannot read nowhere.toml"),
        (["expiring", "--within", "30"], 0, "expiring within 30 days"),
    ],
)
def test_errors_are_one_line_with_exit_codes(cli, args, code, message):
    from photoguard.consent.registry import ConsentRegistry

    ConsentRegistry(cli.db).close()  # an empty registry (a missing one is exit 3, below)
    result = cli(*args)
    assert result.exit_code == code, result.output
    assert message in result.text


def test_add_with_an_unusable_photo_is_refused(cli, tmp_path):
    args = _add_args(tmp_path, "--expires", "2027-01-01")
    args[args.index("--photo") + 1] = str(tmp_path / "form.txt")
    result = cli(*args)
    assert result.exit_code == 2 and "reference photo unusable" in result.text


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "verify"),
        ("audit", "export"),
        ("consent", "verify"),
        ("consent", "list"),
        ("consent", "show", "AUTH-000001"),
        ("consent", "expiring"),
        ("consent", "takedown", "AUTH-000001"),
        ("consent", "revoke", "AUTH-000001", "--received", "2026-05-02", "--reason", "x"),
        ("consent", "purge-biometrics", "--due"),
    ],
)
def test_a_mistyped_registry_is_an_error_and_is_not_created(tmp_path, monkeypatch, args):
    from photoguard.cli.main import app

    monkeypatch.delenv("PHOTOGUARD_CONFIG", raising=False)
    missing = tmp_path / "typo" / "registyr.db"
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{missing}", *args])
    assert result.exit_code == 3, result.output
    assert f"no consent registry at {missing}" in " ".join(result.output.split())
    assert "intact" not in result.output and "Traceback" not in result.output
    assert not missing.exists() and not missing.parent.exists()


def test_registry_failures_exit_3(cli, tmp_path):
    (tmp_path / "registry.db").write_bytes(b"this is not a database, it only has its name" * 50)
    for args in (("list",), ("verify",), *([_add_args(tmp_path, "--expires", "2027-01-01")])):
        result = cli(*args)
        assert result.exit_code == 3, result.output
        assert result.output.startswith("error: ") and len(result.output.splitlines()) == 1


def test_control_characters_in_names_are_not_printed_raw(cli, tmp_path):
    name = "Ana \x1b[31mDiaz\x1b[0m\n[bold]x"
    args = _add_args(tmp_path, "--expires", "2028-03-01")
    args[args.index("--name") + 1] = name
    assert cli(*args).exit_code == 0
    for shown in (cli("list"), cli("show", "AUTH-000001")):
        assert shown.exit_code == 0
        assert "\x1b" not in shown.output and "\n[bold]" not in shown.output
        assert "\\x1b[31m" in shown.output  # escaped (the rest may be cut at narrow widths)
    assert "[bold]x" in "".join(cli("show", "AUTH-000001").output.split())  # no markup
    assert json.loads(cli("list", "--json").output)[0]["person_name"] == name


def test_the_same_face_again_is_refused_with_the_person_to_add_it_to(cli, tmp_path):
    assert cli(*_add_args(tmp_path, "--expires", "2028-03-01")).exit_code == 0
    again = cli(*_add_args(tmp_path, "--expires", "2028-03-01"))
    assert again.exit_code == 2 and "already enrolled as PER-000001" in again.text
    assert "--person PER-000001" in again.text
    added = cli(*_add_args(tmp_path, "--expires", "2028-03-01", "--person", "PER-000001"))
    assert added.exit_code == 0, added.output
    forced = cli(*_add_args(tmp_path, "--expires", "2028-03-01", "--force", "--json"))
    assert forced.exit_code == 0 and "warning: " in forced.stderr
    people = {a["person_id"] for a in json.loads(cli("list", "--json").output)}
    assert people == {"PER-000001", "PER-000002"}

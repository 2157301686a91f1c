"""A new user's first steps from an empty folder: built-in defaults, `init`, typo'd channels."""

from __future__ import annotations

import tomllib

from conftest import ROOT, SAMPLES, run_cli

DOCUMENT = ROOT / "consents" / "signed" / "eileen-collins-PG-AUTH-2026-01.png"
PHOTO = ROOT / "consents" / "people" / "eileen-collins.png"


def _env(tmp_path):
    home = tmp_path / "home"
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    }


def test_from_an_empty_folder_with_defaults_then_init(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = _env(tmp_path)
    add = run_cli("consent", "add", "--name", "Ana Diaz", "--photo", str(PHOTO), "--document",
                  str(DOCUMENT), "--channel", "website", "--purpose", "marketing",
                  "--signed-on", "2026-03-01", "--expires", "2028-03-01", "--json",
                  env=env, cwd=empty)  # fmt: skip
    assert add.returncode == 0, add.stdout + add.stderr  # the built-in default form applies
    assert "PG-AUTH-DEFAULT" in add.stdout
    init = run_cli("init", env=env, cwd=empty)
    assert init.returncode == 0, init.stderr
    written = tmp_path / "home" / ".config" / "photoguard" / "photoguard.toml"
    assert str(written) in init.stdout
    raw = tomllib.loads(written.read_text())
    assert "PG-AUTH-DEFAULT" in raw["registry"]["forms"] and "# channel" in written.read_text()
    again = run_cli("init", env=env, cwd=empty)
    assert again.returncode == 2 and "exists" in again.stderr  # never replaced unasked
    # the organisation declares its own channel; check finds the file from any folder
    written.write_text(written.read_text().replace('"website",', '"website", "ourblog",', 1))
    report = tmp_path / "r.json"
    check = run_cli("check", str(SAMPLES / "coffee.png"), "--channel", "ourblog",
                    "--json", str(report), env=env, cwd=empty)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert str(written) in report.read_text()
    assert list(empty.iterdir()) == []  # nothing written into the folder it ran in


def test_a_channel_or_purpose_typo_is_a_usage_error_with_a_suggestion(tmp_path):
    env = _env(tmp_path)
    typo = run_cli("check", str(SAMPLES / "coffee.png"), "--channel", "instagarm", env=env)
    assert typo.returncode == 2, typo.stdout + typo.stderr
    assert "unknown channel 'instagarm'; did you mean instagram?" in typo.stderr
    purpose = run_cli("redact", str(SAMPLES / "coffee.png"), "--out", str(tmp_path / "o"),
                      "--purpose", "marketting", env=env)  # fmt: skip
    assert purpose.returncode == 2 and "did you mean marketing?" in purpose.stderr
    assert "Traceback" not in typo.stderr + purpose.stderr
    assert not (tmp_path / "o").exists()

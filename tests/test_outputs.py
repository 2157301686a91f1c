"""The output folder belongs to photoguard only as far as its manifest says; walks survive
hostile trees; files follow the umask; a changed detector re-judges old copies."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import SAMPLES, run_cli, sha256

from photoguard.errors import ConfigError
from photoguard.pipeline import CheckContext, check_paths, redact_paths
from photoguard.settings import load_settings
from photoguard.types import Verdict

FAST = ("--no-registry", "-j", "1")
"""Every stage runs: a file on which OCR or barcodes did not run is at best review, unwritten."""


@pytest.fixture
def ctx():
    return CheckContext(settings=load_settings(None))


@pytest.fixture
def src(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "coffee.png", folder / "coffee.png")
    return folder


def test_a_file_photoguard_did_not_write_is_never_replaced(tmp_path, src, ctx):
    out = tmp_path / "existing"
    out.mkdir()
    (out / "coffee.png").write_bytes(b"the user's own file")
    [result] = redact_paths([src], out, ctx)
    assert (out / "coffee.png").read_bytes() == b"the user's own file"
    assert result.output is None and result.verdict is Verdict.BLOCK
    assert any("was not written by photoguard" in r for r in result.reasons)
    # Once the user moves it away, the copy is written; a later run may replace its own copy.
    (out / "coffee.png").unlink()
    [result] = redact_paths([src], out, ctx)
    assert result.output == out / "coffee.png"
    written = sha256(result.output)
    [again] = redact_paths([src], out, replace_policy(ctx))
    assert again.output == out / "coffee.png" and not again.skipped
    assert sha256(again.output) == written  # re-judged (new run key), same pixels


def replace_policy(ctx):
    from dataclasses import replace

    return replace(ctx, deny_names=("Someone Else",))  # a new registry state: a new run key


def test_an_input_inside_the_output_folder_is_refused(tmp_path, ctx):
    out = tmp_path / "out"
    inside = out / "in"
    inside.mkdir(parents=True)
    shutil.copy(SAMPLES / "coffee.png", inside / "coffee.png")
    before = sha256(inside / "coffee.png")
    with pytest.raises(ConfigError, match="inside the output folder"):
        list(redact_paths([inside], out, ctx))
    with pytest.raises(ConfigError, match="inside the output folder"):
        list(redact_paths([inside / "coffee.png"], out, ctx))
    assert sha256(inside / "coffee.png") == before
    refused = run_cli("redact", str(inside), "--out", str(out), *FAST)
    assert refused.returncode == 2 and "inside the output folder" in refused.stderr


def test_a_second_run_into_a_held_folder_says_it_is_in_use(tmp_path, src):
    out = tmp_path / "out"
    out.mkdir()
    with (out / ".photoguard-output").open("a") as marker:
        fcntl.flock(marker.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # a run in progress
        busy = run_cli("redact", str(src), "--out", str(out), *FAST)
    assert busy.returncode == 3, busy.stdout + busy.stderr
    assert "in use by another photoguard redact run" in busy.stderr
    assert "Traceback" not in busy.stderr
    assert not (out / "coffee.png").exists()


def test_hostile_trees_become_blocked_files_and_a_folder_loop_is_walked_once(
    tmp_path, src, ctx, monkeypatch
):
    outside = tmp_path / "outside.png"
    shutil.copy(SAMPLES / "coffee.png", outside)
    (src / "escape.png").symlink_to(outside)
    (src / "a.png").symlink_to(src / "b.png")
    (src / "b.png").symlink_to(src / "a.png")
    sub = src / "sub"
    sub.mkdir()
    shutil.copy(SAMPLES / "coffee.png", sub / "inner.png")
    (sub / "loop").symlink_to(src, target_is_directory=True)
    locked = src / "locked"
    locked.mkdir()
    real_iterdir = Path.iterdir

    def iterdir(self):  # root reads any folder: an unreadable one is simulated here
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    results = {r.path.relative_to(src).as_posix(): r for r in check_paths([src], ctx)}
    assert sorted(results) == ["a.png", "b.png", "coffee.png", "escape.png", "locked",
                               "sub/inner.png"]  # fmt: skip
    assert results["coffee.png"].verdict is Verdict.PASS
    assert results["sub/inner.png"].verdict is Verdict.PASS
    for name, why in (("a.png", "symlink"), ("escape.png", "outside the input folder"),
                      ("locked", "folder cannot be read")):  # fmt: skip
        assert results[name].verdict is Verdict.BLOCK and why in results[name].reasons[0]
    out = tmp_path / "out"
    written = {r.path.name: r for r in redact_paths([src], out, ctx)}
    assert written["escape.png"].output is None
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "coffee.png", "sub/inner.png"]  # fmt: skip


def test_hostile_trees_do_not_stop_the_cli(tmp_path, src):
    (src / "a.png").symlink_to(src / "b.png")
    (src / "b.png").symlink_to(src / "a.png")
    (src / "escape.png").symlink_to(SAMPLES / "coffee.png")
    report = tmp_path / "report.json"
    for command in ("check", "redact"):
        extra = ("--out", str(tmp_path / "out")) if command == "redact" else ()
        result = run_cli(command, str(src), *extra, *FAST, "--json", str(report))
        assert result.returncode == 5, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        verdicts = {Path(f["path"]).name: f["verdict"] for f in json.loads(report.read_text())[
            "files"]}  # fmt: skip
        assert verdicts == {"a.png": "block", "b.png": "block", "coffee.png": "pass",
                            "escape.png": "block"}  # fmt: skip


def test_outputs_and_reports_follow_the_umask(tmp_path, src):
    out, report = tmp_path / "out", tmp_path / "report.json"
    old = os.umask(0o027)
    try:
        result = run_cli("redact", str(src), "--out", str(out), *FAST, "--json", str(report))
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stat.S_IMODE((out / "coffee.png").stat().st_mode) == 0o640
    assert stat.S_IMODE(report.stat().st_mode) == 0o640


def test_a_new_photoguard_detector_or_renderer_version_re_judges_old_copies(
    tmp_path, src, ctx, monkeypatch
):
    import photoguard
    from photoguard.detect import registry

    out = tmp_path / "out"
    [first] = redact_paths([src], out, ctx)
    [second] = redact_paths([src], out, ctx)
    assert first.output is not None and second.skipped
    monkeypatch.setattr(photoguard, "__version__", "99.0.0")
    [upgraded] = redact_paths([src], out, ctx)
    assert not upgraded.skipped and upgraded.output is not None
    detector = registry.get(ctx.settings.policy.face_detectors[0])
    monkeypatch.setattr(detector, "version", f"{detector.version}-retrained", raising=False)
    [retrained] = redact_paths([src], out, ctx)
    assert not retrained.skipped and retrained.output is not None
    from photoguard import render

    [again] = redact_paths([src], out, ctx)
    assert again.skipped
    monkeypatch.setattr(render, "VERSION", render.VERSION + 1)  # a renderer that paints anew
    [rerendered] = redact_paths([src], out, ctx)
    assert not rerendered.skipped and rerendered.output is not None

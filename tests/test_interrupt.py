"""A redact run stopped from outside (kill -9, Ctrl-C, a registry lock held for good): every
copy it published is complete and in the audit trail, so ``consent takedown`` lists it, and its
worker processes die with it. Real subprocesses, real signals, the real registry."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from conftest import _DATA_HOME, PHOTOGUARD, SAMPLES, run_cli
from consent_support import CONSENTS

FAST = ()  # every stage runs: with OCR or barcodes off a file is at best review, never written
COPIES = 8


@pytest.fixture
def demo(tmp_path):
    """A registry with the demo authorizations (AUTH-000001 keeps the visitor in visit.jpg) and
    a folder of copies of visit.jpg."""
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    assert run_cli("--db", db, "consent", "import", str(CONSENTS / "demo.toml")).returncode == 0
    src = tmp_path / "in"
    src.mkdir()
    for i in range(COPIES):
        shutil.copy(SAMPLES / "visit.jpg", src / f"visit-{i}.jpg")
    return db, src, tmp_path / "out"


def _start(db: str, src: Path, out: Path, workers: int) -> subprocess.Popen:
    env = {**os.environ, "NO_COLOR": "1", "XDG_DATA_HOME": _DATA_HOME}
    env.pop("PHOTOGUARD_CONFIG", None)
    args = ["--db", db, "redact", str(src), "--out", str(out), *FAST, "-j", str(workers)]
    return subprocess.Popen(
        [str(PHOTOGUARD), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
        # As a terminal starts it: a suite run in the background (`cmd &`, nohup) ignores
        # SIGINT, and a child keeps that, so the Ctrl-C test saw the run finish (exit 0).
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _published(out: Path) -> list[Path]:
    if not out.exists():
        return []
    return sorted(p for p in out.iterdir() if p.suffix == ".jpg" and not p.name.startswith("."))


def _wait_for_first_copy(proc: subprocess.Popen, out: Path) -> None:
    deadline = time.monotonic() + 300
    while not _published(out):
        assert proc.poll() is None, "the run ended before it published anything"
        assert time.monotonic() < deadline, "no copy published in 300 s"
        time.sleep(0.02)


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _takedown(db: str) -> set[str]:
    listed = run_cli("--db", db, "consent", "takedown", "AUTH-000001", "--json")
    assert listed.returncode == 0, listed.stderr
    return {Path(item["output"]).name for item in json.loads(listed.stdout)}


def _file_entries(db: str) -> list[dict]:
    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT payload FROM audit_entry WHERE kind = 'file' ORDER BY seq")
        return [json.loads(payload) for (payload,) in rows]


def test_kill_9_leaves_every_published_copy_audited_and_no_worker_alive(demo):
    db, src, out = demo
    proc = _start(db, src, out, workers=2)
    _wait_for_first_copy(proc, out)
    workers = _children(proc.pid)
    assert workers, "the run has no worker processes"
    os.kill(proc.pid, signal.SIGKILL)  # the main process only, as `kill -9 PID` does
    proc.wait()
    deadline = time.monotonic() + 120
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "worker processes outlived the killed run"
    published = {p.name for p in _published(out)}
    assert published and published <= _takedown(db)
    # The re-run keeps those copies (skipped) and still records what they rely on.
    rerun = run_cli("--db", db, "redact", str(src), "--out", str(out), *FAST, "-j", "1")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert _takedown(db) == {f"visit-{i}.jpg" for i in range(COPIES)}
    skipped = [e for e in _file_entries(db) if e["skipped"]]
    assert {Path(e["output"]).name for e in skipped} == published
    assert all(e["authorizations"] == ["AUTH-000001"] for e in skipped)


def test_ctrl_c_says_what_was_written_and_leaves_it_audited(demo):
    db, src, out = demo
    proc = _start(db, src, out, workers=2)
    _wait_for_first_copy(proc, out)
    os.killpg(proc.pid, signal.SIGINT)  # a terminal sends Ctrl-C to the whole process group
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    published = {p.name for p in _published(out)}
    assert f"interrupted: {len(published)} of {COPIES} written; re-run to continue" in stderr
    assert published and published <= _takedown(db)


def test_a_registry_locked_for_good_stops_the_run_before_publishing_unaudited(demo, monkeypatch):
    from photoguard.consent import db as consent_db
    from photoguard.consent.audit import RunRecorder
    from photoguard.consent.errors import RegistryError
    from photoguard.consent.view import registry_view
    from photoguard.pipeline import CheckContext, redact_paths
    from photoguard.settings import load_settings

    db, src, out = demo
    monkeypatch.setattr(consent_db, "BUSY_TIMEOUT_S", 1)  # the real 30 s, shortened
    settings = load_settings(None, db_url=db)
    enrolled, names = registry_view(settings)
    ctx = CheckContext(settings=settings, enrolled=enrolled, deny_names=names)
    recorder = RunRecorder(settings, "redact")
    holder = sqlite3.connect(db.removeprefix("sqlite:///"), isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the registry
    try:
        with pytest.raises(RegistryError):
            list(redact_paths([src], out, ctx, before_publish=recorder.file))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        recorder.close()
    assert _published(out) == []
    assert not list(out.rglob("*.tmp"))

"""Shared fixtures: paths, the CLI as a subprocess, the dev corpus by path."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SAMPLES = ROOT / "samples"
CORPUS = ROOT.parent / "shared" / "corpus"
PHOTOGUARD = Path(sys.executable).parent / "photoguard"


SAMPLE_FACES = {
    "visit.jpg": ((178, 56, 274, 184), (780, 102, 856, 208)),
    "astronaut.jpg": ((178, 56, 274, 184),),
}
"""Faces in samples/, hand-labelled from the pictures (eyebrows to chin, with a margin), not
taken from a detector: a face the pipeline missed still fails a test that uses them."""

_DATA_HOME = tempfile.mkdtemp(prefix="photoguard-test-data-")
"""Runs that use the default registry write here, never into the user's own data folder."""


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: int = 600):
    """Run the installed ``photoguard`` command; returns CompletedProcess with text output."""
    full_env = {
        **os.environ,
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "XDG_DATA_HOME": _DATA_HOME,
        **(env or {}),
    }
    full_env.pop("PHOTOGUARD_CONFIG", None)
    return subprocess.run(
        [str(PHOTOGUARD), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=timeout,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def unavailable(reason: str) -> None:
    """Skip a test whose real dependency is missing here; in CI (which installs every one and
    has ../shared beside the clone) the same miss fails instead of passing silently."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "labels.jsonl").exists():
        unavailable(f"dev corpus not found at {CORPUS}")
    return CORPUS


def corpus_labels() -> list[dict]:
    with (CORPUS / "labels.jsonl").open() as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'registry.db'}"

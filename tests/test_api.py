"""The public API: README's example runs as written, and does what it says."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import numpy as np
from conftest import ROOT, SAMPLES
from PIL import Image

from photoguard.types import Verdict


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_runs_and_writes_only_publishable_copies(tmp_path):
    shutil.copytree(SAMPLES, tmp_path / "samples")
    run = subprocess.run(
        [sys.executable, "-c", _readme_example()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            "OMP_THREAD_LIMIT": "1",
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PYTHONPATH": str(ROOT),
        },
    )
    assert run.returncode == 0, run.stderr[-2000:]
    lines = {line.split()[0]: line.split()[1] for line in run.stdout.splitlines()[:-1]}
    assert lines["samples/closeup.jpg"] == "block"  # an unconsented main subject
    assert lines["samples/wristband.jpg"] == "redact"
    publish = tmp_path / "publish"
    assert not (publish / "closeup.jpg").exists()
    assert (publish / "wristband.jpg").is_file()
    assert run.stdout.splitlines()[-1].endswith("publishable copies")


def test_import_photoguard_loads_nothing_heavy():
    code = (
        "import sys, photoguard\n"
        "assert callable(photoguard.check_path)\n"
        "heavy = {'sqlalchemy', 'sqlmodel', 'onnxruntime', 'dlib', 'cv2', 'numpy'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}
    )
    assert run.stdout.strip() == "[]", run.stdout + run.stderr


def test_redact_path_covers_the_unconsented_face(tmp_path):
    import photoguard

    results = photoguard.redact_path(SAMPLES / "visit.jpg", tmp_path / "out", registry=False)
    assert [r.verdict for r in results] == [Verdict.REDACT]
    face = next(region.box for region in results[0].regions if region.kind.value == "face")
    before = np.asarray(Image.open(SAMPLES / "visit.jpg").convert("RGB"), dtype=np.int16)
    after = np.asarray(Image.open(results[0].output).convert("RGB"), dtype=np.int16)
    crop = (slice(face.y0, face.y1), slice(face.x0, face.x1))
    assert np.abs(before[crop] - after[crop]).mean() > 10  # the face's pixels were replaced


def test_the_api_refuses_an_unknown_channel_like_the_cli(tmp_path):
    """A typo would otherwise redact every consented face: no authorization covers it."""
    import pytest

    import photoguard
    from photoguard.errors import ConfigError

    with pytest.raises(ConfigError, match="did you mean instagram"):
        photoguard.check_path(SAMPLES / "visit.jpg", channel="instagarm", registry=False)
    with pytest.raises(ConfigError, match="unknown purpose"):
        photoguard.redact_path(SAMPLES, tmp_path / "out", purpose="marketting", registry=False)
    assert not (tmp_path / "out").exists()


def test_settings_and_policy_keywords_are_not_mixed():
    import pytest

    import photoguard

    settings = photoguard.load_policy(channel="website")
    with pytest.raises(TypeError, match="not both"):
        photoguard.check_path(SAMPLES, settings=settings, channel="instagram")

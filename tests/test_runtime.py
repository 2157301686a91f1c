"""Model threads: workers share the cores out through PHOTOGUARD_THREADS, read by runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import SAMPLES

from photoguard import workers


def test_workers_share_the_cores_out():
    cores = len(os.sched_getaffinity(0))
    assert workers.threads_per_worker(1) == cores
    assert workers.threads_per_worker(cores) == 1
    assert workers.threads_per_worker(4 * cores) == 1


def test_worker_init_sets_the_threads_every_onnxruntime_session_and_opencv_use():
    code = (
        "from photoguard import workers\n"
        "from photoguard.detect import runtime\n"
        "from photoguard.detect.centerface import load_model\n"
        "import os, cv2\n"
        "workers.worker_init(3, None, os.getppid())\n"
        "print(runtime.threads(), load_model().session.get_session_options().intra_op_num_threads,"
        " cv2.getNumThreads())"
    )
    env = {k: v for k, v in os.environ.items() if k != "PHOTOGUARD_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["3", "3", "3"]


def test_a_worker_of_a_pool_runs_opencv_on_its_share_of_the_cores():
    """Each worker's OpenCV gets cores / workers threads (by default it takes every core)."""
    from photoguard.scan import CheckContext
    from photoguard.settings import load_settings

    ctx = CheckContext(settings=load_settings(None))
    with workers.Workers(ctx, 2) as pool:
        seen = pool.call(_opencv_threads)
    assert seen == workers.threads_per_worker(2)


def _opencv_threads(_ctx):
    import cv2

    return cv2.getNumThreads()


_PARENT_OF_WORKERS = """
import json, sys
from pathlib import Path
from photoguard import api
from photoguard.detect import base

files = sys.argv[1:3]
if sys.argv[3] == "check":
    results = api.check_path(files, registry=False, workers=2)
else:
    results = api.redact_path(files, sys.argv[4], registry=False, workers=2)
print(json.dumps({
    "built": sorted(base._INSTANCES),
    "models": sorted(m for m in ("onnxruntime", "cv2", "dlib") if m in sys.modules),
    "runs": [sorted(r.name for r in res.detectors if r.ok) for res in results],
    "outputs": [res.output is not None for res in results],
}))
"""


@pytest.mark.parametrize("command", ["check", "redact"])
def test_a_parent_of_workers_builds_no_detector_and_loads_no_model(tmp_path, command):
    """With worker processes the detectors run there: the parent builds none of them (it used
    to build every face, text and barcode model at preflight, and again for redact's run key),
    while every file is still fully checked."""
    files = [str(SAMPLES / "visit.jpg"), str(SAMPLES / "wristband.jpg")]
    out = subprocess.run(
        [sys.executable, "-c", _PARENT_OF_WORKERS, *files, command, str(tmp_path / "out")],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["built"] == [] and report["models"] == []
    assert report["runs"] == [["barcodes", "faces", "text"]] * 2
    if command == "redact":
        assert report["outputs"] == [True, True]


def _exit_on_two(item, _ctx):
    if item == 2:
        os._exit(9)  # as a worker killed by the kernel, or a crash in a native library
    return item


def test_a_worker_that_dies_stops_the_run_with_a_named_error():
    from photoguard.errors import WorkerDied
    from photoguard.scan import CheckContext
    from photoguard.settings import load_settings

    ctx = CheckContext(settings=load_settings(None))
    with pytest.raises(WorkerDied, match="worker process died"), workers.Workers(ctx, 2) as pool:
        list(pool.map(_exit_on_two, [1, 2, 3]))


def _built(_ctx):
    from photoguard.detect import base

    return sorted(base._INSTANCES)


def test_every_worker_starts_at_once_and_builds_its_detectors_as_it_starts():
    """The pool's workers start together and build their models side by side: the first task
    a worker runs finds its detectors built (the second worker used to start only at the second
    file, and each built its models on its first file)."""
    from photoguard.pipeline import warm
    from photoguard.scan import CheckContext
    from photoguard.settings import load_settings

    ctx = CheckContext(settings=load_settings(None))
    with workers.Workers(ctx, 2, warm) as pool:
        started = len(pool._pool._processes)
        built = pool.call(_built)
    assert started == 2
    policy = ctx.settings.policy
    assert set(built) >= {*policy.face_detectors, *policy.text_detectors}


_NO_TESSERACT = """
import sys
from photoguard import api
from photoguard.errors import EnvironmentProblem

try:
    api.check_path(sys.argv[1:3], registry=False, workers=2)
except EnvironmentProblem as exc:
    print("named:", exc)
"""


def test_a_missing_tesseract_in_workers_is_still_a_named_error(tmp_path):
    """A worker whose models cannot be built as it starts does not break the pool: the run's
    ready() raises the named error before any file is judged."""
    files = [str(SAMPLES / "visit.jpg"), str(SAMPLES / "wristband.jpg")]
    env = {**os.environ, "PATH": str(tmp_path)}  # no tesseract on it
    out = subprocess.run(
        [sys.executable, "-c", _NO_TESSERACT, *files],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert "named:" in out.stdout and "esseract" in out.stdout, out.stdout + out.stderr[-500:]


class _Counted(str):
    """A registered name that counts how often it is pickled (in this process)."""

    pickled = 0

    def __reduce__(self):
        _Counted.pickled += 1
        return (str, (str(self),))


def _deny_names(_item, ctx):
    return len(ctx.deny_names)


def test_the_run_context_goes_to_each_worker_once_not_with_each_file():
    """The registry's view (the people, every registered name) is pickled once per worker, in
    its initializer; a task carries only its item."""
    from photoguard.scan import CheckContext
    from photoguard.settings import load_settings

    ctx = CheckContext(settings=load_settings(None), deny_names=(_Counted("Jane Doe"),))
    _Counted.pickled = 0
    with workers.Workers(ctx, 2) as pool:
        seen = list(pool.map(_deny_names, range(12)))
    assert seen == [1] * 12
    assert _Counted.pickled == 2  # one per worker

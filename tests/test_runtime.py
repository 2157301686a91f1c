"""Model threads: workers share the cores out through PHOTOGUARD_THREADS, read by runtime."""

from __future__ import annotations

import os
import subprocess
import sys

from photoguard import workers


def test_workers_share_the_cores_out():
    cores = len(os.sched_getaffinity(0))
    assert workers.threads_per_worker(1) == cores
    assert workers.threads_per_worker(cores) == 1
    assert workers.threads_per_worker(4 * cores) == 1


def test_worker_init_sets_the_threads_every_onnxruntime_session_uses():
    code = (
        "from photoguard import workers\n"
        "from photoguard.detect import runtime\n"
        "from photoguard.detect.centerface import load_model\n"
        "import os\n"
        "workers.worker_init(3, None, os.getppid())\n"
        "print(runtime.threads(), load_model().session.get_session_options().intra_op_num_threads)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PHOTOGUARD_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["3", "3"]

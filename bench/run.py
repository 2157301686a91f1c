"""`make bench`: run every benchmark and collect bench/RESULTS.md.

Each benchmark is its own script (run in its own process, so that model loads and memory do
not leak between them) writing a markdown section; this script adds the machine description and
joins the sections. A failed benchmark is reported in RESULTS.md and makes the exit code 1.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
BENCHES = [
    ("faces", "bench/faces.py", "bench/RESULTS-faces.md"),
    ("consent matching", "bench/match.py", "bench/RESULTS-match.md"),
    ("PHI text and barcodes", "bench/text.py", "bench/RESULTS-text.md"),
    ("PHI leaks on the hard text set", "bench/leaks.py --bench", "bench/RESULTS-leaks.md"),
    ("barcodes on the hard text set", "bench/barcodes.py", "bench/RESULTS-barcodes.md"),
    ("reader thresholds (calibration)", "bench/textcal.py", "bench/RESULTS-textcal.md"),
    ("speed and scale", "bench/speed.py", "bench/RESULTS-speed.md"),
]


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(x.split(":", 1)[1].strip() for x in fh if x.startswith("model name"))
    except (OSError, StopIteration):
        pass
    python = f"Python {platform.python_version()}"
    return f"{cpu}, {os.cpu_count()} cores{mem}; {python}; {platform.platform()}"


def main() -> int:
    sections = [
        "# photoguard benchmarks",
        "",
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on: {machine()}.",
        "Every ratio compares figures measured in this same run.",
    ]
    failed = 0
    only = set(sys.argv[1:])
    for title, script, result in BENCHES:
        if only and title.split()[0] not in only:
            continue
        script, *args = script.split()
        if not (ROOT / script).exists():
            sections += ["", f"## {title}", "", f"(not available: {script} is missing)"]
            continue
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, script, *args, "--out", result], cwd=ROOT)
        elapsed = time.perf_counter() - started
        sections.append("")
        if proc.returncode != 0 or not (ROOT / result).exists():
            failed += 1
            sections += [
                f"## {title}",
                "",
                f"FAILED (exit {proc.returncode}) after {elapsed:.0f} s",
            ]
            continue
        sections.append((ROOT / result).read_text().rstrip())
        sections.append(f"\n_({script}: {elapsed:.0f} s)_")
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(sections) + "\n")
    print(f"wrote bench/RESULTS.md ({failed} failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`photoguard check` runs timed from outside (1 and 2 workers), peak memory of many-photo runs
(it must stay flat) and the machine's load during a bench.

Used by bench/speed.py; the photos are copies under bench/_work (never committed).
"""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).parents[1]
WORK = ROOT / "bench" / "_work"
CORPUS = ROOT.parent / "shared" / "corpus"


def cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its finished children (Tesseract)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure_cli_workers(paths: list[Path], registry: Path) -> dict[int, tuple[float, ...]]:
    """`photoguard check` on the 12 MP set with 1 and 2 workers.

    Per worker count N: (wall, CPU) per photo of the whole run; (wall, CPU) per photo past the
    first N: the run on the set less a run on its first N photos alone (start-up, imports,
    spawning N workers, every model load in each), over the other photos; then the start-up
    itself (wall, CPU): the run on the first N photos less what N photos past them cost. (A run
    on one photo would start no worker: the CLI checks a single file in its own process.)
    """
    out = {}
    for workers in (1, 2):
        first = WORK / f"12mp-first-{workers}"
        first.mkdir(parents=True, exist_ok=True)
        for path in paths[:workers]:
            if not (first / path.name).exists():
                (first / path.name).write_bytes(path.read_bytes())
        wall, cpu = _cli_run(paths[0].parent, registry, workers)
        first_wall, first_cpu = _cli_run(first, registry, workers)
        more = max(1, len(paths) - workers)
        steady_wall, steady_cpu = (wall - first_wall) / more, (cpu - first_cpu) / more
        out[workers] = (
            wall / len(paths),
            cpu / len(paths),
            steady_wall,
            steady_cpu,
            first_wall - workers * steady_wall,
            first_cpu - workers * steady_cpu,
        )
    return out


def _cli_run(folder: Path, registry: Path, workers: int) -> tuple[float, float]:
    """Wall and CPU seconds (this process's children) of one `photoguard check`."""
    cmd = [str(ROOT / ".venv" / "bin" / "photoguard"), "--db", f"sqlite:///{registry}"]
    cmd += ["check", str(folder), "--workers", str(workers), "--quiet"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1, 4, 5):  # verdicts; anything else is a failed run
        raise RuntimeError(f"photoguard check exited {proc.returncode}: {proc.stderr[-300:]}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def demo_registry() -> Path:
    """A fresh registry holding the demo's one authorization (as `make demo` imports it)."""
    db = WORK / "registry.db"
    db.unlink(missing_ok=True)
    cmd = [str(ROOT / ".venv" / "bin" / "photoguard"), "--db", f"sqlite:///{db}"]
    cmd += ["consent", "import", str(ROOT / "consents" / "demo.toml")]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return db


def measure_scale(counts=(10, 200)) -> list[str]:
    """Peak memory of `photoguard check` (default workers) over many photos: it must stay flat."""
    cores = os.cpu_count() or 1  # the default --workers
    return [_cli_peak(_copies(WORK / f"many-{count}", count), count, cores) for count in counts]


def _copies(folder: Path, count: int) -> Path:
    """``folder`` holding ``count`` JPEG copies of a 1200x630 corpus group photo."""
    folder.mkdir(parents=True, exist_ok=True)
    source = None
    for i in range(count):
        target = folder / f"p{i:04d}.jpg"
        if not target.exists():
            if source is None:
                source = Image.open(CORPUS / "images" / "fnp__multiface.jpg").convert("RGB")
            source.save(target, quality=85)
    return folder


def _cli_peak(folder: Path, count: int, workers: int, label: str = "") -> str:
    """Run `photoguard check` on a folder; wall time and peak memory of its process tree."""
    cmd = [
        str(ROOT / ".venv" / "bin" / "photoguard"),
        "check",
        str(folder),
        "--no-registry",
        "--workers",
        str(workers),
        "--quiet",
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_total = peak_one = 0
    while proc.poll() is None:
        sizes = _tree_rss(proc.pid)
        peak_total, peak_one = max(peak_total, sum(sizes)), max([peak_one, *sizes])
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):  # 0/1 are verdicts; anything else is a failed run
        raise RuntimeError(f"photoguard check exited {proc.returncode} on {folder}")
    mb = 1024 * 1024
    return (
        f"| {label or count} | {workers} | {elapsed:.1f} | {elapsed / count:.3f} | "
        f"{peak_total / mb:.0f} | {peak_one / mb:.0f} |"
    )


def _tree_rss(root: int) -> list[int]:
    """Resident bytes of ``root`` and all its descendants (from /proc), one entry each."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    page = os.sysconf("SC_PAGE_SIZE")
    sizes = []
    for pid in tree:
        try:
            sizes.append(int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page)
        except (OSError, ValueError, IndexError):
            continue
    return sizes


class MachineLoad:
    """What else ran on the machine during this run: the busy share of every core, from
    /proc/stat, less this process tree's own CPU (the machine is shared)."""

    def __init__(self) -> None:
        self.started = (self._busy(), cpu_seconds(), time.perf_counter(), os.getloadavg()[0])

    @staticmethod
    def _busy() -> float:
        """CPU seconds the whole machine has spent busy (user, nice, system, irq, steal)."""
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    def summary(self) -> str:
        busy, mine, wall, load = self.started
        others = (self._busy() - busy) - (cpu_seconds() - mine)
        elapsed = time.perf_counter() - wall
        used = max(0.0, others) / elapsed
        text = (
            f"Machine load during this run: other processes used {used:.2f} "
            f"of {os.cpu_count()} cores on average (load average {load:.1f} at the start, "
            f"{os.getloadavg()[0]:.1f} at the end); ratios compare figures of this run."
        )
        if used > 0.5:
            text += (
                " With under two cores free, the 2-worker figures (and parallel efficiency) "
                "measure the contention, not photoguard: read them only from a quiet run."
            )
        return text

"""Progress of a long batch on stderr: a live bar on a terminal, a plain line now and then else.

The total is counted before the first file is judged (walking the inputs is cheap), so both
forms say how far along the run is, how fast it goes and when it should end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from photoguard.types import PhotoResult

PLAIN_EVERY_S = 15.0
"""Without a terminal (a log, CI), one line at most this often, and one at the end."""


class RateColumn(ProgressColumn):
    """Files per second, or seconds per file when a file takes longer than a second."""

    def render(self, task: Task) -> Text:
        return Text(rate_text(task.finished_speed or task.speed), style="progress.data.speed")


def rate_text(per_second: float | None) -> str:
    if not per_second:
        return ""
    if per_second >= 1:
        return f"{per_second:.1f} files/s"
    return f"{1 / per_second:.1f} s/file"


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def collect(
    results: Iterable[PhotoResult], total: int, label: str, console: Console
) -> list[PhotoResult]:
    """Consume ``results``, showing progress on ``console`` (stderr); return them in order."""
    if console.is_terminal:
        return _live(results, total, label, console)
    return _plain(results, total, label, console.file)


def _live(results, total: int, label: str, console: Console) -> list[PhotoResult]:
    out: list[PhotoResult] = []
    columns = (
        SpinnerColumn(),
        TextColumn(f"{label}"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True, expand=False) as progress:
        task = progress.add_task(label, total=total)
        for result in results:
            out.append(result)
            progress.advance(task)
    return out


def _plain(results, total: int, label: str, stream: TextIO | None) -> list[PhotoResult]:
    stream = stream or sys.stderr
    out: list[PhotoResult] = []
    started = last = time.monotonic()
    print(f"{label}: {total} file{'s' if total != 1 else ''}", file=stream, flush=True)
    for result in results:
        out.append(result)
        now = time.monotonic()
        if now - last >= PLAIN_EVERY_S or len(out) == total:
            print(plain_line(label, len(out), total, now - started), file=stream, flush=True)
            last = now
    return out


def plain_line(label: str, done: int, total: int, elapsed: float) -> str:
    """``checking: 40/351 (11%), 2.3 s/file, 1m32s elapsed, ETA 12m01s``."""
    share = done / total if total else 1.0
    rate = done / elapsed if elapsed > 0 else None
    parts = [f"{label}: {done}/{total} ({share:.0%})"]
    if rate:
        parts.append(rate_text(rate))
    parts.append(f"{duration_text(elapsed)} elapsed")
    if rate and done < total:
        parts.append(f"ETA {duration_text((total - done) / rate)}")
    return ", ".join(parts)

"""Shared CLI plumbing: settings from flags, error-to-exit mapping, tables."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from photoguard.cli import codes
from photoguard.errors import ConfigError, Interrupted, PhotoguardError
from photoguard.types import PhotoResult

console = Console()
stderr = Console(stderr=True)


def err(message: str) -> None:
    from photoguard.cli.tables import printable

    stderr.print(printable(message), highlight=False, markup=False, soft_wrap=True)


def fail(message: str, code: int) -> typer.Exit:
    err(f"error: {message}")
    return typer.Exit(code)


def parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{option} needs a date as YYYY-MM-DD, got {text!r}", 2) from None


def settings_or_exit(ctx: typer.Context, **overrides: Any):
    from photoguard.settings import load_settings

    state = ctx.obj
    try:
        return load_settings(state.config, db_url=state.db_url, **overrides)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None


@contextlib.contextmanager
def errors_to_exit() -> Iterator[None]:
    """Turn named errors into one-line messages and exit codes; never a traceback."""
    try:
        yield
    except Interrupted as exc:
        err(str(exc))
        raise typer.Exit(exc.exit_code) from None
    except FileNotFoundError as exc:
        raise fail(f"no such file or folder: {exc.args[0] if exc.args else exc}", 2) from None
    except PhotoguardError as exc:
        raise fail(str(exc), error_code(exc)) from None
    except OSError as exc:
        message = f"{exc.strerror or exc}: {exc.filename or ''}".strip(": ")
        raise fail(message, codes.ENVIRONMENT) from None


def error_code(exc: PhotoguardError) -> int:
    """The exit code of a named error at the CLI edge.

    An error without a code of its own (the registry, the disk, an output that cannot be
    written) is an environment problem (3): 1 means "run redact", never "it broke".
    """
    return codes.ENVIRONMENT if exc.exit_code == 1 else exc.exit_code


def collect(results: Iterable[PhotoResult], total: int, label: str) -> list[PhotoResult]:
    """Collect results, showing progress (total, rate, ETA) on stderr."""
    from photoguard.cli.progress import collect as show

    return show(results, total, label, stderr)


def count_inputs(paths, exclude=()) -> int:
    """How many files a run will judge (the progress total); cheap: names and a few bytes."""
    from photoguard.pipeline import iter_inputs

    return sum(1 for _ in iter_inputs(paths, exclude))


def capped(workers: int) -> int:
    """``--workers`` capped at the cores, with a note on stderr when it was more."""
    from photoguard.settings import cap_workers

    workers, note = cap_workers(workers)
    if note:
        err(f"note: {note}")
    return workers


def workers_for(workers: int, total: int) -> int:
    """The worker processes worth starting for ``total`` files: none beyond one per file."""
    return min(workers, max(1, total))


def record_run(settings, command: str, results: list[PhotoResult], no_registry: bool) -> None:
    """Record the run and its file decisions in the registry's audit trail; say so on stderr.

    ``--no-registry`` runs use no database, so they are not recorded. A run that cannot be
    recorded fails (exit 1) instead of passing unaudited.
    """
    if not results:
        return  # nothing was checked: finish() reports the usage error
    if no_registry:
        err("audit: run not recorded (--no-registry)")
        return
    from photoguard.consent.audit import record_run as record

    with errors_to_exit():
        run_id = record(settings, command, results)
    err(f"audit: run {run_id} recorded")


def run_recorder(settings, command: str, no_registry: bool):
    """An audit recorder that records each file as it is decided (None with --no-registry)."""
    if no_registry:
        return None
    from photoguard.consent.audit import RunRecorder

    with errors_to_exit():
        return RunRecorder(settings, command)


def finish_recorder(recorder, results: list[PhotoResult]) -> None:
    """Record the run's own entry after its files; say so on stderr."""
    if recorder is None:
        if results:
            err("audit: run not recorded (--no-registry)")
        return
    if not results:
        recorder.close()
        return
    with errors_to_exit():
        run_id = recorder.finish()
    err(f"audit: run {run_id} recorded")


def abandon(recorder, interrupted: bool) -> None:
    """A run that stopped early: its files are recorded; an interrupted run is closed too."""
    if recorder is None:
        return
    try:
        if interrupted and recorder.results:
            run_id = recorder.finish(interrupted=True)
            err(f"audit: run {run_id} recorded ({len(recorder.results)} files)")
        else:
            recorder.close()
    except PhotoguardError as exc:  # every copy written so far was already recorded
        err(f"audit: run not closed: {exc}")


@dataclass(frozen=True)
class Reports:
    """Where the reports go; None: not written."""

    json: Path | None = None
    html: Path | None = None
    csv: Path | None = None


@dataclass(frozen=True)
class Shown:
    """What the run prints: the inputs given (paths are shown relative to them), every file or
    only those needing attention, or only the summary."""

    paths: tuple[Path, ...] = ()
    show_all: bool = False
    quiet: bool = False


def finish(results, settings, reports: Reports, shown: Shown, ignored=()) -> None:
    """check: print what needs attention and the summary, write the reports, exit."""
    from photoguard.cli.tables import print_results

    if not results:
        raise fail("no files found to check", codes.USAGE)
    print_results(console, results, shown.paths, show_all=shown.show_all, quiet=shown.quiet)
    _ignored(ignored)
    write_reports(results, settings, reports, ignored)
    raise typer.Exit(codes.for_check(results))


def finish_redact(results, settings, reports: Reports, shown: Shown, out: Path, ignored=()):
    """redact: print the files not written and the summary, write the reports, exit."""
    from photoguard.cli.tables import plural, print_results, printable

    if not results:
        raise fail("no files found to check", codes.USAGE)
    print_results(
        console,
        results,
        shown.paths,
        show_all=shown.show_all,
        quiet=shown.quiet,
        needs_attention=lambda r: r.output is None,
    )
    _ignored(ignored)
    written = [r for r in results if r.output is not None]
    reused = sum(r.skipped for r in written)
    line = f"{plural(len(written), 'publishable copy', 'publishable copies')} in {out}"
    if reused:
        line += f" ({len(written) - reused} written now, {reused} reused from an earlier run)"
    console.print(printable(line), highlight=False)
    write_reports(results, settings, reports, ignored)
    raise typer.Exit(codes.for_redact(results))


def _ignored(ignored) -> None:
    from photoguard.cli.tables import plural, printable

    if ignored:
        names = ", ".join(printable(p.name) for p in ignored[:5])
        names += ", ..." if len(ignored) > 5 else ""
        what = plural(len(ignored), "plain-text file")
        console.print(f"ignored {what}, not photos: {names}", highlight=False)


def write_reports(results, settings, reports: Reports, ignored=()) -> None:
    with errors_to_exit():
        if reports.json is not None:
            from photoguard.report.json import write_json

            write_json(reports.json, results, settings, ignored)
            err(f"JSON report written to {reports.json}")
        if reports.html is not None:
            from photoguard.report.html import write_html

            write_html(reports.html, results, settings)
            err(f"HTML contact sheet written to {reports.html}")
        if reports.csv is not None:
            from photoguard.report.csv import write_csv

            write_csv(reports.csv, results)
            err(f"CSV report written to {reports.csv}")

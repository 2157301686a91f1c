"""Shared CLI plumbing: settings from flags, error-to-exit mapping, tables."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from photoguard.errors import ConfigError, PhotoguardError
from photoguard.types import PhotoResult, Verdict

console = Console()
stderr = Console(stderr=True)

VERDICT_STYLE = {
    Verdict.PASS: "bold green",
    Verdict.REDACT: "bold yellow",
    Verdict.REVIEW: "bold magenta",
    Verdict.BLOCK: "bold red",
}


def err(message: str) -> None:
    stderr.print(message, highlight=False, markup=False, soft_wrap=True)


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
    except FileNotFoundError as exc:
        raise fail(f"no such file or folder: {exc.args[0] if exc.args else exc}", 2) from None
    except PhotoguardError as exc:
        raise fail(str(exc), exc.exit_code) from None
    except OSError as exc:
        raise fail(f"{exc.strerror or exc}: {exc.filename or ''}".strip(": "), 1) from None


def with_progress(results: Iterable[PhotoResult], label: str) -> list[PhotoResult]:
    """Collect results, showing a progress line on a terminal."""
    if not sys.stderr.isatty():
        return list(results)
    out: list[PhotoResult] = []
    with stderr.status(f"{label}...") as status:
        for result in results:
            out.append(result)
            status.update(f"{label}: {len(out)} files, last {result.path.name}")
    return out


def print_results(results: list[PhotoResult], quiet: bool = False) -> None:
    if not quiet and results:
        table = Table(title="photoguard", show_lines=False, expand=True)
        table.add_column("file", overflow="fold", ratio=2, min_width=16)
        table.add_column("verdict")
        table.add_column("faces", justify="right")
        table.add_column("text", justify="right")
        table.add_column("codes", justify="right")
        table.add_column("reasons", overflow="fold", ratio=3)
        for r in results:
            kinds = [region.kind.value for region in r.regions]
            table.add_row(
                str(r.path),
                f"[{VERDICT_STYLE[r.verdict]}]{r.verdict.value}[/]",
                str(kinds.count("face")),
                str(kinds.count("text")),
                str(kinds.count("barcode")),
                "; ".join(r.reasons),
            )
        console.print(table)
    counts = {v: sum(r.verdict is v for r in results) for v in Verdict}
    parts = [f"[{VERDICT_STYLE[v]}]{n} {v.value}[/]" for v, n in counts.items()]
    console.print(f"{len(results)} files: " + ", ".join(parts))


def registry_view(settings, no_registry: bool):
    """Enrolled people and deny-list names for this check, or (None, ()) without a registry."""
    if no_registry:
        return None, ()
    try:
        from photoguard.consent.view import registry_view as view
    except ImportError:  # the registry is not part of this build yet
        return None, ()
    return view(settings)


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


@dataclass(frozen=True)
class Reports:
    """Where the reports go; None: not written."""

    json: Path | None = None
    html: Path | None = None
    csv: Path | None = None


def finish(
    results, settings, reports: Reports, quiet: bool, written_to=None, gate=None, ignored=()
) -> None:
    """Print the table and summary, write the report, exit with the verdict code."""
    if not results:
        raise fail("no files found to check", 2)
    print_results(results, quiet=quiet)
    if ignored:
        names = ", ".join(p.name for p in ignored[:5]) + (", ..." if len(ignored) > 5 else "")
        console.print(
            f"ignored {len(ignored)} plain-text file(s), not photos: {names}", highlight=False
        )
    if written_to is not None:
        out, written = written_to
        console.print(f"{written} publishable copies in {out}", highlight=False)
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
    raise typer.Exit((gate or exit_code)(results))


def exit_code(results: list[PhotoResult]) -> int:
    return 0 if all(r.verdict is Verdict.PASS for r in results) else 1


def all_written(results: list[PhotoResult]) -> int:
    """redact's exit code: 0 when every input has a publishable copy, else 1."""
    return 0 if all(r.output is not None for r in results) else 1

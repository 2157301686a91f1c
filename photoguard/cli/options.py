"""The options the checking commands share (check, redact, review), declared once.

An option group is a frozen dataclass whose fields are Typer options. A command decorated with
``grouped`` takes a group as one parameter (``run: RunOptions = RunOptions()``); the decorator
puts the group's options in the command's signature in its place (Typer reads them from there)
and hands the command the group's value.
"""

from __future__ import annotations

import functools
import inspect
import os
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from photoguard.cli import output

Paths = Annotated[list[Path], typer.Argument(metavar="PATH", help="Files and folders (recursive).")]
JsonOut = Annotated[Path | None, typer.Option("--json", help="Write the JSON report to this file.")]
HtmlOut = Annotated[
    Path | None, typer.Option("--html", help="Write an HTML contact sheet (redacted previews).")
]
CsvOut = Annotated[Path | None, typer.Option("--csv", help="Write a CSV report, one row per file.")]
Channel = Annotated[
    str | None, typer.Option(help="Where the photos will be published (website, instagram, ...).")
]
Purpose = Annotated[str | None, typer.Option(help="Why they are published (marketing, ...).")]
AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Judge consent as of this date (YYYY-MM-DD; today).")
]
Detectors = Annotated[
    list[str] | None, typer.Option("--detector", help="Face detector(s) by name (default: policy).")
]
NoText = Annotated[bool, typer.Option("--no-text", help="Skip OCR (faster; less safe).")]
NoBarcodes = Annotated[bool, typer.Option("--no-barcodes", help="Skip barcodes (less safe).")]
NoRegistry = Annotated[
    bool,
    typer.Option(
        "--no-registry",
        help="Treat every face as unconsented; no database, so the run is not audited.",
    ),
]
Workers = Annotated[
    int, typer.Option("--workers", "-j", min=1, help="Worker processes (default: all cores).")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary.")]
ShowAll = Annotated[
    bool, typer.Option("--all", "-a", help="List every file, not only those needing attention.")
]
DEFAULT_WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


@dataclass(frozen=True)
class Scope:
    """What a run judges against: the channel, purpose and date of consent, the face detectors,
    and whether OCR and barcodes run (None/False: the policy's own)."""

    channel: Channel = None
    purpose: Purpose = None
    as_of: AsOf = None
    detector: Detectors = None
    no_text: NoText = False
    no_barcodes: NoBarcodes = False

    def faces_only(self) -> Scope:
        """The same scope with OCR and barcodes off (a command about faces alone)."""
        return replace(self, no_text=True, no_barcodes=True)


@dataclass(frozen=True)
class RunOptions:
    """Everything ``check`` and ``redact`` share besides their paths."""

    json_out: JsonOut = None
    html_out: HtmlOut = None
    csv_out: CsvOut = None
    scope: Scope = Scope()
    no_registry: NoRegistry = False
    workers: Workers = DEFAULT_WORKERS
    quiet: Quiet = False
    show_all: ShowAll = False

    @property
    def reports(self) -> output.Reports:
        return output.Reports(self.json_out, self.html_out, self.csv_out)

    def shown(self, paths: list[Path]) -> output.Shown:
        return output.Shown(tuple(paths), self.show_all, self.quiet)


def grouped(*, omit: tuple[str, ...] = (), **declarations: Any):
    """Expand every option-group parameter of a command into the group's options.

    Args:
        omit: options left out (they keep the group's default).
        declarations: an option's Annotated type replaced (redact's own --as-of help).
    """

    def decorate(command):
        signature = inspect.signature(command, eval_str=True)
        groups = {p.name: type(p.default) for p in signature.parameters.values()}
        groups = {name: cls for name, cls in groups.items() if is_dataclass(cls)}
        parameters = []
        for parameter in signature.parameters.values():
            if parameter.name in groups:
                parameters += _options(groups[parameter.name], omit, declarations)
            else:
                parameters.append(parameter)

        @functools.wraps(command)
        def run(*args, **kwargs):
            for name, cls in groups.items():
                kwargs[name] = _collect(cls, kwargs, omit)
            return command(*args, **kwargs)

        run.__signature__ = signature.replace(parameters=parameters)
        return run

    return decorate


def _options(cls, omit, declarations) -> list[inspect.Parameter]:
    types = {**inspect.get_annotations(cls, eval_str=True), **declarations}
    found = []
    for f in fields(cls):
        if is_dataclass(f.default):
            found += _options(type(f.default), omit, declarations)
        elif f.name not in omit:
            kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
            found.append(
                inspect.Parameter(f.name, kind, default=f.default, annotation=types[f.name])
            )
    return found


def _collect(cls, kwargs: dict[str, Any], omit):
    values = {}
    for f in fields(cls):
        if is_dataclass(f.default):
            values[f.name] = _collect(type(f.default), kwargs, omit)
        elif f.name not in omit:
            values[f.name] = kwargs.pop(f.name)
    return cls(**values)


def build_context(
    ctx: typer.Context,
    scope: Scope,
    *,
    no_registry: bool = False,
    reports: output.Reports | None = None,
    workers: int = 1,
):
    """Settings from the flags and the policy file, then the run's context (photoguard.api).

    The report files are never judged as inputs; an HTML report gets thumbnails. With more
    than one worker the detectors are built in the workers, not in this process.
    """
    from photoguard.api import run_context

    settings = output.settings_or_exit(
        ctx,
        channel=scope.channel,
        purpose=scope.purpose,
        as_of=output.parse_date(scope.as_of, "--as-of") if scope.as_of else date.today(),
        face_detectors=tuple(scope.detector) if scope.detector else None,
        text=False if scope.no_text else None,
        barcodes=False if scope.no_barcodes else None,
    )
    reports = reports or output.Reports()
    with output.errors_to_exit():
        return run_context(
            settings,
            registry=not no_registry,
            exclude=tuple(p for p in (reports.json, reports.html, reports.csv) if p is not None),
            thumbnails=reports.html is not None,
            workers=workers,
        )

"""``photoguard check``: judge every file and print a verdict table."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from photoguard.cli import output

HELP = (
    "Check photos before they are published: find faces, PHI text and barcodes.\n\n"
    "Every file gets a verdict: pass (publishable), redact (publishable after "
    "`photoguard redact`), review (a person must confirm a face match) or block (cannot be "
    "made safe, or not fully checked).\n\n"
    "Example: photoguard check event-photos/ --channel instagram --json report.json"
)

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


def build_context(
    ctx: typer.Context,
    *,
    channel: str | None,
    purpose: str | None,
    as_of: str | None,
    detector: list[str] | None,
    no_text: bool,
    no_barcodes: bool,
    no_registry: bool,
    exclude: tuple[Path | None, ...] = (),
    thumbnails: bool = False,
):
    """Settings from flags and policy file, plus the registry's view for this channel and date."""
    from photoguard.pipeline import CheckContext, preflight

    settings = output.settings_or_exit(
        ctx,
        channel=channel,
        purpose=purpose,
        as_of=output.parse_date(as_of, "--as-of") if as_of else date.today(),
        face_detectors=tuple(detector) if detector else None,
        text=False if no_text else None,
        barcodes=False if no_barcodes else None,
    )
    output.check_scope(settings, no_registry)
    with output.errors_to_exit():
        preflight(settings)
        enrolled, names = output.registry_view(settings, no_registry)
        decisions = () if enrolled is None else review_decisions(settings)
    return CheckContext(
        settings=settings,
        enrolled=enrolled,
        deny_names=names,
        decisions=decisions,
        exclude=tuple(p for p in exclude if p is not None),
        thumbnails=thumbnails,
    )


def review_decisions(settings) -> tuple:
    """The review decisions (``photoguard review``) that this check honours."""
    from photoguard.consent.decisions import decisions_for_check

    return decisions_for_check(settings)


def check(
    ctx: typer.Context,
    paths: Paths,
    json_out: JsonOut = None,
    html_out: HtmlOut = None,
    csv_out: CsvOut = None,
    channel: Channel = None,
    purpose: Purpose = None,
    as_of: AsOf = None,
    detector: Detectors = None,
    no_text: NoText = False,
    no_barcodes: NoBarcodes = False,
    no_registry: NoRegistry = False,
    workers: Workers = DEFAULT_WORKERS,
    quiet: Quiet = False,
    show_all: ShowAll = False,
) -> None:
    """Check photos (see HELP)."""
    from photoguard.pipeline import check_paths
    from photoguard.settings import cap_workers

    workers, note = cap_workers(workers)
    if note:
        output.err(f"note: {note}")

    run_ctx = build_context(
        ctx,
        channel=channel,
        purpose=purpose,
        as_of=as_of,
        detector=detector,
        no_text=no_text,
        no_barcodes=no_barcodes,
        no_registry=no_registry,
        exclude=(json_out, html_out, csv_out),
        thumbnails=html_out is not None,
    )
    ignored: list[Path] = []
    with output.errors_to_exit():
        total = output.count_inputs(paths, run_ctx.exclude)
        results = output.collect(check_paths(paths, run_ctx, workers, ignored), total, "checking")
    output.record_run(run_ctx.settings, "check", results, no_registry)
    output.finish(
        results,
        run_ctx.settings,
        output.Reports(json_out, html_out, csv_out),
        output.Shown(tuple(paths), show_all, quiet),
        ignored=ignored,
    )

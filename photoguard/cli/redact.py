"""``photoguard redact``: write verified, publishable copies."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from photoguard.cli import output
from photoguard.cli.check import (
    DEFAULT_WORKERS,
    Channel,
    CsvOut,
    Detectors,
    HtmlOut,
    JsonOut,
    NoBarcodes,
    NoRegistry,
    NoText,
    Paths,
    Purpose,
    Quiet,
    ShowAll,
    Workers,
    build_context,
)
from photoguard.errors import Interrupted

HELP = (
    "Write publishable copies: unconsented faces and PHI covered, metadata stripped.\n\n"
    "Copies of pass and redact files go to --out, mirroring the input folders; originals are "
    "never touched. Each copy is checked again before it is published; block and review files "
    "are listed, not written. A second run skips copies that are already up to date.\n\n"
    "Example: photoguard redact event-photos/ --out publish/ --channel facebook"
)


def redact(
    ctx: typer.Context,
    paths: Paths,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (not inside an input).")],
    json_out: JsonOut = None,
    html_out: HtmlOut = None,
    csv_out: CsvOut = None,
    channel: Channel = None,
    purpose: Purpose = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Refused unless today: copies are published under today's consent."
        ),
    ] = None,
    detector: Detectors = None,
    no_text: NoText = False,
    no_barcodes: NoBarcodes = False,
    no_registry: NoRegistry = False,
    workers: Workers = DEFAULT_WORKERS,
    quiet: Quiet = False,
    show_all: ShowAll = False,
) -> None:
    """Redact photos (see HELP)."""
    from photoguard.pipeline import redact_paths
    from photoguard.settings import cap_workers

    if as_of is not None and output.parse_date(as_of, "--as-of") != date.today():
        raise output.fail(
            f"--as-of {as_of} is for check only: redact publishes copies today, so it judges "
            "consent as of today (leave --as-of out)",
            2,
        )
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
    recorder = output.run_recorder(run_ctx.settings, "redact", no_registry)
    try:
        with output.errors_to_exit():
            total = output.count_inputs(paths, (*run_ctx.exclude, out))
            hook = recorder.file if recorder else None  # each file audited before it is published
            jobs = redact_paths(paths, out, run_ctx, workers, ignored, before_publish=hook)
            results = output.collect(jobs, total, "redacting")
    except typer.Exit as exc:
        output.abandon(recorder, interrupted=exc.exit_code == Interrupted.exit_code)
        raise
    output.finish_recorder(recorder, results)
    output.finish_redact(
        results,
        run_ctx.settings,
        output.Reports(json_out, html_out, csv_out),
        output.Shown(tuple(paths), show_all, quiet),
        out,
        ignored=ignored,
    )

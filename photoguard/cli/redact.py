"""``photoguard redact``: write verified, publishable copies."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from photoguard.cli import output
from photoguard.cli.options import Paths, RunOptions, build_context, grouped
from photoguard.errors import Interrupted

HELP = (
    "Write publishable copies: unconsented faces and PHI covered, metadata stripped.\n\n"
    "Copies of pass and redact files go to --out, mirroring the input folders; originals are "
    "never touched. Each copy is checked again before it is published; block and review files "
    "are listed, not written. A second run skips copies that are already up to date.\n\n"
    "Example: photoguard redact event-photos/ --out publish/ --channel facebook"
)


# Redact judges consent as of today: its --as-of only refuses any other date.
TodayOnly = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Refused unless today: copies are published under today's consent."
    ),
]


@grouped(as_of=TodayOnly)
def redact(
    ctx: typer.Context,
    paths: Paths,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (not inside an input).")],
    run: RunOptions = RunOptions(),
) -> None:
    """Redact photos (see HELP)."""
    from photoguard.pipeline import redact_paths

    as_of = run.scope.as_of
    if as_of is not None and output.parse_date(as_of, "--as-of") != date.today():
        raise output.fail(
            f"--as-of {as_of} is for check only: redact publishes copies today, so it judges "
            "consent as of today (leave --as-of out)",
            2,
        )
    workers = output.capped(run.workers)
    run_ctx = build_context(
        ctx, run.scope, no_registry=run.no_registry, reports=run.reports, workers=workers
    )
    ignored: list[Path] = []
    recorder = output.run_recorder(run_ctx.settings, "redact", run.no_registry)
    try:
        with output.errors_to_exit():
            total = output.count_inputs(paths, (*run_ctx.exclude, out))
            workers = output.workers_for(workers, total)
            hook = recorder.file if recorder else None  # each file audited before it is published
            jobs = redact_paths(paths, out, run_ctx, workers, ignored, before_publish=hook)
            results = output.collect(jobs, total, "redacting")
    except typer.Exit as exc:
        output.abandon(recorder, interrupted=exc.exit_code == Interrupted.exit_code)
        raise
    output.finish_recorder(recorder, results)
    output.finish_redact(
        results, run_ctx.settings, run.reports, run.shown(paths), out, ignored=ignored
    )

"""``photoguard check``: judge every file and print a verdict table."""

from __future__ import annotations

from pathlib import Path

import typer

from photoguard.cli import output
from photoguard.cli.options import Paths, RunOptions, build_context, grouped

HELP = (
    "Check photos before they are published: find faces, PHI text and barcodes.\n\n"
    "Every file gets a verdict: pass (publishable), redact (publishable after "
    "`photoguard redact`), review (a person must confirm a face match) or block (cannot be "
    "made safe, or not fully checked).\n\n"
    "Example: photoguard check event-photos/ --channel instagram --json report.json"
)


@grouped()
def check(ctx: typer.Context, paths: Paths, run: RunOptions = RunOptions()) -> None:
    """Check photos (see HELP)."""
    from photoguard.pipeline import check_paths

    workers = output.capped(run.workers)
    run_ctx = build_context(
        ctx, run.scope, no_registry=run.no_registry, reports=run.reports, workers=workers
    )
    ignored: list[Path] = []
    with output.errors_to_exit():
        total = output.count_inputs(paths, run_ctx.exclude)
        workers = output.workers_for(workers, total)
        results = output.collect(check_paths(paths, run_ctx, workers, ignored), total, "checking")
    output.record_run(run_ctx.settings, "check", results, run.no_registry)
    output.finish(results, run_ctx.settings, run.reports, run.shown(paths), ignored=ignored)

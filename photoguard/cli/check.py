"""``photoguard check``: judge every file and print a verdict table."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from photoguard.cli import output

HELP = """Check photos before they are published: find faces, PHI text and barcodes.

Every file gets a verdict: pass (publishable), redact (publishable after `photoguard redact`),
review (a person must confirm a face match) or block (cannot be made safe, or not fully checked).

Example: photoguard check event-photos/ --channel instagram --json report.json"""


def check(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (recursive).")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the JSON report to this file.")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Where the photos will be published (website, instagram...).")
    ] = None,
    purpose: Annotated[str | None, typer.Option(help="Why (marketing, education...).")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge consent as of this date (YYYY-MM-DD).")
    ] = None,
    detector: Annotated[
        list[str] | None,
        typer.Option("--detector", help="Face detector(s) by name (default from policy)."),
    ] = None,
    no_text: Annotated[bool, typer.Option("--no-text", help="Skip OCR (faster; less safe).")] = False,
    no_barcodes: Annotated[bool, typer.Option("--no-barcodes", help="Skip barcodes.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary.")] = False,
) -> None:
    """Check photos (see HELP)."""
    from photoguard.pipeline import CheckContext, check_paths, preflight
    from photoguard.report.json import write_json

    settings = output.settings_or_exit(
        ctx,
        channel=channel,
        purpose=purpose,
        as_of=output.parse_date(as_of, "--as-of") if as_of else date.today(),
        face_detectors=tuple(detector) if detector else None,
        text=False if no_text else None,
        barcodes=False if no_barcodes else None,
    )
    with output.errors_to_exit():
        preflight(settings)
        run_ctx = CheckContext(settings=settings, exclude=(json_out,) if json_out else ())
        results = output.with_progress(check_paths(paths, run_ctx), label="checking")
    output.print_results(results, quiet=quiet)
    if json_out is not None:
        with output.errors_to_exit():
            write_json(json_out, results, settings)
        output.err(f"report written to {json_out}")
    raise typer.Exit(output.exit_code(results))

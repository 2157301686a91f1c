"""``photoguard review``: confirm who an uncertain face is, on a local page or from scripts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from photoguard.cli import output
from photoguard.cli.options import DEFAULT_WORKERS, Paths, Scope, Workers, build_context, grouped


class _OpenByDefault(TyperGroup):
    """``photoguard review FOLDER`` is ``photoguard review open FOLDER``."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["open", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_OpenByDefault,
    help=(
        'Resolve review verdicts: say who an uncertain face is ("this is X") or that it is '
        "none of the candidates (redact). Decisions are recorded in the audit trail and honoured "
        "by later check and redact runs of the same file bytes, until the authorization ends.\n\n"
        "Example: photoguard review event-photos/ --channel instagram"
    ),
    no_args_is_help=True,
)

_TEXT_AND_BARCODES = ("no_text", "no_barcodes")
"""Options decide and list do without: they are about faces alone."""

Reviewer = Annotated[
    str | None, typer.Option(help="Who decides, for the audit trail (default: your login name).")
]


@app.command("open")
@grouped()
def open_page(
    ctx: typer.Context,
    paths: Paths,
    scope: Scope = Scope(),
    workers: Workers = DEFAULT_WORKERS,
    reviewer: Reviewer = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the page's address; open no browser.")
    ] = False,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (default: any free).")] = 0,
) -> None:
    """Check the folder, then open a review page (127.0.0.1 only) for its review and block files.

    The page shows each file with its boxes and, for each uncertain face, the candidate
    authorizations. The address holds a random token; stop the page with Ctrl-C.

    Example: photoguard review event-photos/ --channel instagram --reviewer "A. Lee"
    """
    from photoguard.pipeline import check_paths
    from photoguard.review.server import open_page as bind_page
    from photoguard.review.server import serve
    from photoguard.review.session import ReviewSession, roots_of

    run_ctx = build_context(ctx, scope)
    with output.errors_to_exit():
        session = ReviewSession(run_ctx, reviewer)
        roots = roots_of(paths, run_ctx.exclude)
        results = output.collect(
            check_paths(list(roots), session.ctx, workers), len(roots), "checking"
        )
        session.load(results, roots)
    if not results:
        raise output.fail("no files found to check", 2)
    output.record_run(session.ctx.settings, "check", results, no_registry=False)
    if not session.items:
        output.console.print(f"nothing to review: {len(results)} file(s), none review or block")
        raise typer.Exit(0)
    with output.errors_to_exit():
        page = bind_page(port)
    typer.echo(f"{len(session.items)} file(s) to review at {page.url}")
    typer.echo("stop the page with Ctrl-C")
    sys.stdout.flush()
    if not no_browser:
        import webbrowser

        webbrowser.open(page.url)
    serve(page, session)


@app.command("decide")
@grouped(omit=_TEXT_AND_BARCODES)
def decide(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The photo.", exists=True, dir_okay=False)],
    face: Annotated[int, typer.Option("--face", min=1, help="Face number (review list).")],
    is_: Annotated[
        str | None, typer.Option("--is", help="The face is the person of this authorization.")
    ] = None,
    not_: Annotated[
        bool, typer.Option("--not", help="The face is none of the candidates: redact it.")
    ] = False,
    reviewer: Reviewer = None,
    scope: Scope = Scope(),
) -> None:
    """Record a decision about one uncertain face of a photo (for scripts).

    Example: photoguard review decide event-photos/IMG_0042.jpg --face 1 --is AUTH-000001
    """
    from photoguard.pipeline import check_file
    from photoguard.review.session import record

    if (is_ is None) == (not not_):
        raise output.fail("give exactly one of --is AUTH-... or --not", 2)
    # A decision concerns one face: OCR and barcodes are not needed to find it.
    run_ctx = build_context(ctx, scope.faces_only())
    with output.errors_to_exit():
        result = check_file(file, run_ctx)
        decision = record(run_ctx, result, face, is_, reviewer)
    what = f"is the person of {decision.authorization}" if decision.confirmed else "is redacted"
    output.console.print(
        f"{decision.id}: face {face} of {file.name} {what} (reviewer {decision.reviewer}, "
        f"audit entry {decision.audit_seq}); later checks of this file honour it",
        highlight=False,
        markup=False,
    )


@app.command("list")
@grouped(omit=_TEXT_AND_BARCODES)
def list_faces(
    ctx: typer.Context,
    paths: Paths,
    scope: Scope = Scope(),
    workers: Workers = DEFAULT_WORKERS,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead.")] = False,
) -> None:
    """List the uncertain faces of photos (faces only: no OCR), with their candidates.

    Example: photoguard review list event-photos/ --json
    """
    from photoguard.pipeline import check_paths
    from photoguard.review.session import uncertain_faces

    # Faces only (the listing is of uncertain faces): no OCR, no barcodes.
    run_ctx = build_context(ctx, scope.faces_only())
    with output.errors_to_exit():
        total = output.count_inputs(paths, run_ctx.exclude)
        results = output.collect(check_paths(paths, run_ctx, workers), total, "checking")
        rows = [
            {
                "file": str(r.path),
                "sha256": r.sha256,
                "face": f.number,
                "frame": f.region.frame,
                "box": f.region.box.to_list(),
                "match": f.region.match,
                "reviewed": f.region.reviewed,
                "candidates": list(f.region.candidates),
            }  # fmt: skip
            for r in results
            for f in uncertain_faces(r)
        ]
    for row in rows:
        if as_json:
            typer.echo(json.dumps(row))
            continue
        state = "decided in review" if row["reviewed"] else "ambiguous"
        offered = ", ".join(row["candidates"]) or "no valid authorization"
        output.console.print(
            f"{row['file']}  face {row['face']}  box {row['box']}  {state}: "
            f"{row['match']}; candidates {offered}",
            highlight=False,
            markup=False,
        )
    if not as_json:
        output.console.print(f"{len(rows)} uncertain face(s)", highlight=False)

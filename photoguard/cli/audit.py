"""``photoguard audit``: check and export the tamper-evident audit trail in the registry.

Thin adapters: parse -> one library call -> print -> exit code. The database libraries load
inside the commands, never at import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from photoguard.cli import output

app = typer.Typer(
    help=(
        "The audit trail: every check and redact run, every file decision and every consent "
        "change, hash-chained in the registry database so that any edit shows.\n\n"
        "Example: photoguard audit verify"
    ),
    no_args_is_help=True,
)


def _open(ctx: typer.Context):
    """The registry, read-only: a missing one is an error (exit 3), never created."""
    from photoguard.consent.registry import ConsentRegistry

    settings = output.settings_or_exit(ctx)
    with output.errors_to_exit():
        return ConsentRegistry.from_settings(settings, create=False)


@app.command("verify")
def verify(
    ctx: typer.Context,
    anchor: Annotated[
        str | None,
        typer.Option(help="SEQ:HASH printed by an earlier verify; it must still be there."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a line.")] = False,
) -> None:
    """Re-hash every audit entry and check each link, then check every person, authorization
    and face template row against the state the trail vouches for; exit 1 at the first broken
    link or at any row edited, added or deleted outside photoguard (each is named).

    Prints the head as SEQ:HASH when intact. Keep it somewhere else (a ticket, an e-mail) and
    pass it as --anchor later: that catches entries cut off the end, which links cannot show.

    Example: photoguard audit verify --anchor 42:9f86d081884c7d659a2feaa0c55ad015...
    """
    from photoguard.consent import audit
    from photoguard.consent.chain import parse_anchor

    try:
        pinned = parse_anchor(anchor) if anchor else None
    except ValueError as exc:
        raise output.fail(str(exc), 2) from None
    with _open(ctx) as registry, output.errors_to_exit():
        report = audit.verify(registry, pinned)
        rows = audit.verify_state(registry)
    if as_json:
        typer.echo(json.dumps({
            "intact": report.intact, "entries": report.entries, "head_seq": report.head_seq,
            "head_hash": report.head_hash, "broken_seq": report.broken_seq,
            "problem": report.problem, "rows": [{"row": r.row, "problem": r.problem} for r in rows],
        }, indent=2))  # fmt: skip
    elif report.intact:
        # Plain echo: a wrapped hash could not be pasted back as --anchor.
        typer.echo(f"audit trail intact: {report.entries} entries; "
                   f"head {report.head_seq}:{report.head_hash}")  # fmt: skip
    else:
        output.err(f"audit trail broken at seq {report.broken_seq}: {report.problem}")
    for r in rows:
        output.err(f"registry row {r}")
    if rows:
        output.err(f"{len(rows)} registry rows differ from the state the audit trail vouches for")
    raise typer.Exit(0 if report.intact and not rows else 1)


@app.command("export")
def export(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(help="Entries from this UTC date on (YYYY-MM-DD; default all).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here (atomically), not to stdout.")
    ] = None,
) -> None:
    """Write audit entries as JSON Lines: seq, at, kind, payload, prev_hash, hash.

    Each line re-hashes on its own: hash = sha256 of the canonical JSON of ["photoguard-audit-1",
    prev_hash, canonical(payload), seq, kind, at] (docs/audit.md).

    Example: photoguard audit export --since 2026-01-01 --out audit-2026.jsonl
    """
    from photoguard.consent import audit
    from photoguard.consent.chain import canonical

    day = output.parse_date(since, "--since") if since else None
    with _open(ctx) as registry, output.errors_to_exit():
        entries = audit.export(registry, day)
    lines = "".join(canonical(e) + "\n" for e in entries)
    if out is None:
        typer.echo(lines, nl=False)
        return
    from photoguard.fsutil import atomic_write

    with output.errors_to_exit(), atomic_write(out, "w") as fh:
        fh.write(lines)
    output.err(f"{len(entries)} audit entries written to {out}")

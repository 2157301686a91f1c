"""How the ``photoguard consent`` commands print: authorization tables, JSON and takedown lists.

Every value is shown as written (no Rich markup, control characters escaped): names and reasons
come from forms and files the marketing team did not write.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from rich.text import Text

from photoguard.cli import output
from photoguard.cli.tables import fit_table, printable

if TYPE_CHECKING:
    from photoguard.consent.records import Authorization
    from photoguard.consent.registry import ConsentRegistry


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON; dates, paths and enums as their strings."""
    typer.echo(json.dumps(json.loads(json.dumps(value, default=str)), indent=2, sort_keys=True))


def auth_json(a: Authorization, on: date) -> dict[str, Any]:
    return {**asdict(a), "status": a.status_on(on).value, "status_on": on.isoformat()}


def print_auths(auths: list[Authorization], on: date, title: str, as_json: bool) -> None:
    """A table of authorizations with their status on ``on``, or the same as JSON."""
    if as_json:
        print_json([auth_json(a, on) for a in auths])
        return
    rows = []
    for a in auths:
        expires = a.expires_on.isoformat() if a.expires_on else f"event: {a.expires_event}"
        rows.append([
            a.id, a.person_name, a.status_on(on).value, ", ".join(a.channels),
            ", ".join(a.purposes), a.signed_on.isoformat(), expires,
        ])  # fmt: skip
    # Ids and dates never break: they are copied into other commands and reports.
    headers = ("id", "name", "status", "channels", "purposes", "signed", "expires")
    output.console.print(fit_table(title, headers, rows, output.console.width))


def print_added(auths: list[Authorization], registry: ConsentRegistry, as_json: bool) -> None:
    """What ``consent add`` / ``import`` registered, after the registry's warnings."""
    for warning in registry.warnings:
        output.err(f"warning: {warning}")
    print_auths(auths, registry.clock(), "registered", as_json)


def print_authorization(auth: Authorization, templates: list, day: date, as_json: bool) -> None:
    """Every element of one authorization, its status on ``day`` and its face templates."""
    if as_json:
        print_json({**auth_json(auth, day), "templates": [asdict(t) for t in templates]})
        return
    table = Table(title=f"{auth.id} (status on {day.isoformat()})", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in auth_json(auth, day).items():
        if isinstance(value, tuple):
            value = ", ".join(value)
        table.add_row(key, Text(printable("" if value is None else str(value))))
    table.add_row("face templates", str(len(templates)))
    output.console.print(table)


def print_takedown(auth_id: str, published: list, as_json: bool) -> None:
    """The published copies that relied on ``auth_id``, one tab-separated line each."""
    if as_json:
        print_json([asdict(p) for p in published])
        return
    if not published:
        output.console.print(f"no published copies relied on {auth_id}", highlight=False)
        return
    # One unwrapped line per copy, tab-separated: paths are pasted into other tools.
    typer.echo(f"{len(published)} published copies relied on {auth_id}; take them down:")
    for p in published:
        fields = (p.output, f"sha256={p.output_sha256}", f"run={p.run}", f"input={p.input}")
        typer.echo("\t".join(printable(f) for f in fields))

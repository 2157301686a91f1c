"""The ``photoguard`` command: global options and the command groups."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from photoguard import __version__
from photoguard.cli.codes import CHECK_HELP as EXIT_CODES
from photoguard.cli.codes import REDACT_HELP as REDACT_EXIT_CODES
from photoguard.cli.helpfmt import TidyGroup

app = typer.Typer(
    name="photoguard",
    cls=TidyGroup,
    help=(
        "Keep patient faces, names and other PHI out of published photos.\n\n"
        "Example: photoguard check photos/ --channel instagram --json report.json\n\n" + EXIT_CODES
    ),
    no_args_is_help=True,
    add_completion=False,
    # Tracebacks with locals could print pixel data, names or paths of patients.
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass(frozen=True)
class CliState:
    """Global options, handed to every command through the Typer context."""

    config: Path | None = None
    db_url: str | None = None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"photoguard {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="PHOTOGUARD_CONFIG",
            help="Policy file (default: ./photoguard.toml if present, else built-in defaults).",
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="PHOTOGUARD_DB",
            help="Consent registry URL: sqlite:///path.db or postgresql://... "
            "(default: ~/.local/share/photoguard/registry.db).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Keep patient faces, names and other PHI out of published photos."""
    ctx.obj = CliState(config=config, db_url=db)


@app.command()
def doctor() -> None:
    """Check that OCR, face models and decoders are installed; say how to fix what is not.

    Example: photoguard doctor
    """
    from rich.table import Table

    from photoguard.cli.output import console
    from photoguard.doctor import run_checks

    checks = run_checks()
    table = Table(title="photoguard doctor")
    for column in ("component", "status", "detail"):
        table.add_column(column, overflow="fold")
    for c in checks:
        table.add_row(c.name, "[green]ok[/]" if c.ok else "[red]missing[/]", c.detail)
    console.print(table)
    raise typer.Exit(0 if all(c.ok for c in checks) else 3)


def _register_commands() -> None:
    from photoguard.cli import check

    app.command(
        "check",
        help=check.HELP + "\n\n" + EXIT_CODES,
        no_args_is_help=True,
    )(check.check)
    from photoguard.cli import init

    app.command("init", help=init.HELP)(init.init)
    from photoguard.cli import redact

    app.command("redact", help=redact.HELP + "\n\n" + REDACT_EXIT_CODES, no_args_is_help=True)(
        redact.redact
    )
    try:
        from photoguard.cli import consent
    except ImportError:  # the consent command group is being built in parallel
        return
    app.add_typer(consent.app, name="consent")
    from photoguard.cli import audit

    app.add_typer(audit.app, name="audit")
    from photoguard.cli import review

    app.add_typer(review.app, name="review")


_register_commands()


def run() -> None:
    """Console-script entry point."""
    app()

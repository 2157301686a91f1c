"""``photoguard init``: write the commented default policy for the organisation to edit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from photoguard.cli import codes, output

HELP = (
    "Write a commented policy file into your user config folder, for your organisation to "
    "edit: channels and purposes, your authorization form's wording, what to redact.\n\n"
    "photoguard reads it from any folder (after --config, $PHOTOGUARD_CONFIG and "
    "./photoguard.toml); without it the same built-in defaults apply. An existing file is kept "
    "unless --force is given.\n\n"
    "Example: photoguard init"
)


def init(
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Write here instead (default: the user config folder)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write the default policy (see HELP)."""
    from photoguard.defaults import default_policy_text, user_config_file
    from photoguard.fsutil import atomic_write

    target = to or user_config_file()
    if target.exists() and not force:
        output.err(f"{target} exists: kept as it is (--force replaces it)")
        raise typer.Exit(codes.USAGE)
    with output.errors_to_exit(), atomic_write(target, "w") as fh:
        fh.write(default_policy_text())
    output.console.print(f"policy written to {target}", highlight=False, soft_wrap=True)
    output.console.print(
        "edit it: [registry] channels, purposes and your form's wording",
        highlight=False,
        markup=False,
    )

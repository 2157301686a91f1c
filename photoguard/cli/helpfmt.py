"""Help pages that read well at 80 columns and whose examples can be pasted.

Typer prints each parameter's Python type (``<bool>``, ``<list[Path]>``) beside it, which
crowds the option names out of the column (``--third-party-remunerat…``), keeps the line breaks
of a docstring (so a reflowed paragraph breaks twice) and reads ``[...]`` as Rich markup (so
``[[authorization]]`` vanishes). The group below tidies every command once, before its help is
built: a flag shows no type, a value a short metavar (TEXT, N, PATH), an argument only its
name; paragraphs are joined and reflowed to the terminal, except those that start with ``\b``
(examples, exit codes: kept line by line, so they can be pasted); brackets are literal.
"""

from __future__ import annotations

import inspect
import re
from pathlib import PurePath
from typing import Any, get_args

import typer.core

_NAMES = {str: "TEXT", int: "N", float: "NUMBER"}


_UNESCAPED_BRACKET = re.compile(r"(?<!\\)\[")


_TOKEN = re.compile(r"\"[^\"]*\"|'[^']*'|\S+")
EXAMPLE_WIDTH = 76
"""An example line, indented, fits an 80-column help page (Typer pads by 2)."""


def literal(text: str) -> str:
    """Help text as Typer should print it: paragraphs joined, brackets escaped from Rich,
    examples as commands that can be pasted (one per line, continued with a backslash)."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    out = []
    for p in paragraphs:
        if p.startswith("Example:") or p.startswith("Examples:"):
            out.append(example(p))
        elif p.startswith("\b"):
            out.append(p)
        else:
            out.append(" ".join(p.split()))
    return _UNESCAPED_BRACKET.sub(r"\\[", "\n\n".join(out))


def example(paragraph: str) -> str:
    """An "Example:" paragraph as a verbatim block: each command (a line that starts with
    ``photoguard``) wrapped between options, with `` \\`` continuations."""
    head, _, body = paragraph.partition(":")
    commands: list[str] = []
    for line in body.strip().splitlines():
        if line.strip().startswith("photoguard") or not commands:
            commands.append(line.strip())
        else:
            commands[-1] += " " + line.strip()
    lines = ["\b", head + ":"]
    for command in commands:
        lines += _wrap(command)
    return "\n".join(lines)


def _wrap(command: str) -> list[str]:
    units: list[str] = []  # an option with its value stays on one line
    for token in _TOKEN.findall(command):
        if units and units[-1].startswith("-") and " " not in units[-1] and token[0] != "-":
            units[-1] += " " + token
        else:
            units.append(token)
    lines, current = [], "  "
    for unit in units:
        if current.strip() and len(current) + 1 + len(unit) + 2 > EXAMPLE_WIDTH:
            lines.append(current + " \\")
            current = "      " + unit
        else:
            current += (" " if current.strip() else "") + unit
    return [*lines, current]


def tidy(command: Any, ctx: Any) -> None:
    """Tidy ``command`` and its sub-commands (once each) for their help pages."""
    if getattr(command, "_photoguard_tidy", False):
        return
    command._photoguard_tidy = True
    if command.help:
        command.help = literal(command.help)
    params = list(command.params)
    help_option = command.get_help_option(ctx)
    if help_option is not None:
        params.append(help_option)
    for param in params:
        if getattr(param, "help", None):
            param.help = literal(param.help)
        if isinstance(param, typer.core.TyperArgument):
            # The name says it (PATH, FILE); Typer would add "<list[Path]>" beside it.
            param.display_type_rich = lambda ctx: None
            param.metavar = param.metavar or param.name.upper()
        elif param.metavar is not None:
            continue
        elif getattr(param, "is_flag", False) and not getattr(param, "count", False):
            param.metavar = ""
        elif getattr(getattr(param, "type_descriptor", None), "is_choice", False):
            continue  # typer lists the choices: more useful than a name
        else:
            param.metavar = _metavar(param.type_descriptor)
    for sub in getattr(command, "commands", {}).values():
        tidy(sub, ctx)


def _metavar(desc: Any) -> str:
    annotation = desc.annotation
    if desc.is_list:
        (annotation,) = get_args(annotation)
    if desc.is_path or (isinstance(annotation, type) and issubclass(annotation, PurePath)):
        return "PATH"
    return _NAMES.get(annotation, "VALUE")


class TidyGroup(typer.core.TyperGroup):
    """The top-level group: tidies the whole command tree before any parsing or help."""

    def get_params(self, ctx):
        tidy(self, ctx)
        return super().get_params(ctx)

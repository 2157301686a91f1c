"""Every command's --help as a person reads it at 80 columns: nothing cut, no Python types,
brackets shown, examples that can be pasted into a shell."""

from __future__ import annotations

import functools
import re
import shlex

import pytest
from conftest import run_cli

COMMANDS = [
    [],
    ["check"],
    ["redact"],
    ["doctor"],
    ["consent"],
    ["consent", "add"],
    ["consent", "import"],
    ["consent", "list"],
    ["consent", "show"],
    ["consent", "revoke"],
    ["consent", "takedown"],
    ["audit"],
    ["audit", "verify"],
    ["audit", "export"],
]


def _help(args: list[str]) -> str:
    return _help_of(tuple(args))


@functools.cache
def _help_of(args: tuple[str, ...]) -> str:
    result = run_cli(*args, "--help", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "photoguard")
def test_help_reads_well_at_80_columns(args):
    text = _help(args)
    assert all(len(line) <= 80 for line in text.splitlines()), "wider than the terminal"
    assert "…" not in text, "an option name or text is cut"
    assert not re.search(r"<(bool|str|int|path|list\[)", text), "Python types shown"
    assert "Example" in text


def _examples(text: str) -> list[str]:
    """The example commands of a help page, continuation lines joined as a shell would."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Example"))
    commands, current = [], ""
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if not stripped:
            break
        current += stripped
        if current.endswith("\\"):
            current = current[:-1]
        else:
            commands.append(current)
            current = ""
    return commands


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "photoguard")
def test_examples_can_be_pasted(args):
    for command in _examples(_help(args)):
        words = shlex.split(command)
        assert words[0] == "photoguard", command
        if args:  # a command's own example runs that command
            assert words[1 : 1 + len(args)] == args, command


def test_brackets_are_shown_not_read_as_markup():
    assert "[[authorization]]" in _help(["consent", "import"])
    assert "[registry]" in _help(["consent", "add"])


def test_python_dash_m_runs_the_same_command_line(tmp_path):
    """`python -m photoguard` is the script: same usage line, same exit codes."""
    import subprocess
    import sys

    shown = subprocess.run(
        [sys.executable, "-m", "photoguard", "--help"], capture_output=True, text=True
    )
    assert shown.returncode == 0
    assert "Usage: photoguard" in shown.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "photoguard", "check", str(tmp_path / "nothing-here")],
        capture_output=True,
        text=True,
    )
    assert missing.returncode != 0
    assert "Traceback" not in missing.stderr + missing.stdout

"""What a run prints on stdout: the files that need attention, worst first, and a summary.

One layout at every width: a verdict column and, beside it, the file's path (relative to the
folder given) with its counts, then one line per reason. Only words wrap, never inside a word
or a path, so it reads at 80 columns as well as at 200.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from rich.cells import cell_len
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from photoguard.types import PhotoResult, RegionKind, Verdict

VERDICT_STYLE = {
    Verdict.PASS: "bold green",
    Verdict.REDACT: "bold yellow",
    Verdict.REVIEW: "bold magenta",
    Verdict.BLOCK: "bold red",
}
ATTENTION = {Verdict.BLOCK: 0, Verdict.REVIEW: 1, Verdict.REDACT: 2, Verdict.PASS: 3}
"""Sort order: what needs a person first."""


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 file``, ``2 files``; ``many`` for irregular plurals."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def printable(text: str) -> str:
    """``text`` with control characters (terminal escapes, newlines in a file name) shown as
    escapes, never sent to the terminal raw."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def base_folder(paths: Sequence[Path]) -> Path | None:
    """The folder paths are shown relative to: the common folder of the inputs given."""
    folders = [p if p.is_dir() else p.parent for p in paths]
    if not folders:
        return None
    try:
        return Path(os.path.commonpath([os.path.abspath(f) for f in folders]))
    except ValueError:  # different drives
        return None


def shown_folder(folder: Path) -> str:
    """A folder as the user would type it: relative to the working folder when inside it."""
    try:
        relative = folder.relative_to(Path.cwd())
    except ValueError:
        return printable(str(folder))
    return printable(f"{relative.as_posix()}/" if str(relative) != "." else "./")


def shown_path(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return printable(Path(os.path.abspath(path)).relative_to(base).as_posix())
        except ValueError:
            pass
    return printable(str(path))


def ordered(results: Iterable[PhotoResult]) -> list[PhotoResult]:
    """Worst first (block, review, redact, pass), then by path."""
    return sorted(results, key=lambda r: (ATTENTION[r.verdict], str(r.path)))


def counts_text(result: PhotoResult) -> str:
    from photoguard.tracks import distinct_faces

    kinds = [region.kind for region in result.regions]
    parts = [
        plural(distinct_faces(result.regions), "face"),
        plural(kinds.count(RegionKind.TEXT), "text region"),
        plural(kinds.count(RegionKind.BARCODE), "barcode"),
    ]
    return ", ".join(p for p in parts if not p.startswith("0 "))


def results_table(results: Sequence[PhotoResult], base: Path | None, title: str) -> Table:
    """One row per result: verdict | path, counts and reasons (words wrap, paths do not)."""
    table = Table(
        title=title, title_justify="left", show_header=False, box=None, padding=(0, 1, 0, 0)
    )
    table.add_column("verdict", no_wrap=True, width=6)
    table.add_column("file", overflow="fold")
    for r in results:
        heading = Text(shown_path(r.path, base), style="bold")
        counts = counts_text(r)
        if counts:
            heading.append(f"  {counts}", style="dim")
        reasons = Table.grid(padding=(0, 1, 0, 0))
        reasons.add_column(no_wrap=True)
        reasons.add_column(overflow="fold")
        for reason in r.reasons:
            reasons.add_row("-", printable(reason))
        verdict = Text(r.verdict.value, style=VERDICT_STYLE[r.verdict])
        table.add_row(verdict, Group(heading, reasons))
    return table


def summary_line(results: Sequence[PhotoResult]) -> Text:
    """``6 files: 1 pass, 3 redact, 0 review, 2 block``."""
    line = Text(plural(len(results), "file") + ": ")
    for i, verdict in enumerate(Verdict):
        if i:
            line.append(", ")
        count = sum(r.verdict is verdict for r in results)
        line.append(f"{count} {verdict.value}", style=VERDICT_STYLE[verdict] if count else "")
    return line


def print_results(
    console: Console,
    results: Sequence[PhotoResult],
    paths: Sequence[Path],
    *,
    show_all: bool = False,
    quiet: bool = False,
    needs_attention=lambda r: r.verdict is not Verdict.PASS,
) -> None:
    """The table of files needing attention (every file with ``show_all``), then the counts."""
    base = base_folder(paths)
    listed = ordered(results if show_all else [r for r in results if needs_attention(r)])
    if not quiet and listed:
        where = f" (paths relative to {shown_folder(base)})" if base else ""
        title = ("every file" if show_all else "files that need attention") + where
        console.print(results_table(listed, base, title))
    console.print(summary_line(results), highlight=False)
    hidden = len(results) - len(listed)
    if not quiet and hidden and not show_all:
        rest = plural(hidden, "other file" if listed else "file")
        console.print(f"{rest} not listed: nothing to do (--all lists them)")


def fit_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], width: int):
    """A table that never breaks a word: bordered when it fits ``width``, borderless when
    only that fits, else one block per row (first cell as a heading, the rest as lines)."""

    def widest(i: int, cell_width) -> int:
        return max([cell_len(headers[i])] + [cell_width(row[i]) for row in rows])

    full = [widest(i, cell_len) for i in range(len(headers))]
    longest = [
        widest(i, lambda c: max(map(cell_len, c.split()), default=0)) for i in range(len(headers))
    ]
    if sum(full) + 3 * len(headers) + 1 <= width:  # fits unwrapped, with borders
        table = Table(title=title)
    elif sum(longest) + 2 * (len(headers) - 1) <= width:  # fits with cells wrapped at words
        table = Table(
            title=title, box=None, pad_edge=False, padding=(0, 2, 0, 0), header_style="bold u"
        )
    else:
        return _blocks(title, headers, rows)
    for i, header in enumerate(headers):
        table.add_column(header, min_width=longest[i])
    for row in rows:
        table.add_row(*(Text(printable(cell)) for cell in row))  # no Rich markup in names
    return table


def _blocks(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]):
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column()
    for n, row in enumerate(rows):
        if n:
            grid.add_row("", "")
        grid.add_row(Text(printable(row[0]), style="bold"), "")
        for header, cell in zip(headers[1:], row[1:], strict=True):
            grid.add_row(f"  {header}", Text(printable(cell)))
    return Group(Text(title, style="italic"), grid)

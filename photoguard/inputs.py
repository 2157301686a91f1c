"""What a run's inputs are: the files under the paths given, walked safely.

Hidden files, photoguard's own output folders and plain-text sidecars are skipped; a folder is
walked once however many symlinks lead to it; what cannot be walked safely becomes a problem
entry (one blocked file) instead of stopping the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from photoguard.outputs import MARKER as OUTPUT_MARKER

SIDECAR_SUFFIXES = frozenset(
    {".md", ".txt", ".rst", ".json", ".jsonl", ".csv", ".toml", ".yaml", ".yml", ".py", ".log"}
)
"""Documentation and data files that may sit beside photos. Inside folders, such a file is
ignored (and listed as ignored) only when its content is plain text; anything else with one of
these names (a JPEG renamed .txt, say) is checked like every other file."""


def iter_inputs(
    paths: Iterable[Path],
    exclude: Iterable[Path] = (),
    ignored: list[Path] | None = None,
    problems: dict[Path, str] | None = None,
) -> Iterator[tuple[Path, Path]]:
    """Yield ``(file, root)`` for every input file under ``paths``, in a stable order.

    ``root`` is the folder the file was found under (or the file's own folder when it was named
    directly), so outputs can mirror the input tree. Hidden files and folders, photoguard's
    output folders and plain-text sidecar files (collected in ``ignored``) are skipped inside
    folders; a file named explicitly is always an input. A folder is walked once however many
    symlinks lead to it. What cannot be walked safely (a symlink loop, a symlink leading out of
    the input folder, an unreadable folder) is yielded too, with its reason in ``problems``,
    so that it becomes one blocked file instead of stopping the run.

    Raises:
        FileNotFoundError: a named path does not exist.
    """
    excluded = {os.path.realpath(p) for p in exclude}
    problems = {} if problems is None else problems
    for path in paths:
        if not os.path.lexists(path):
            raise FileNotFoundError(str(path))
        if path.is_dir():
            walk = _Walk(os.path.realpath(path), excluded, ignored, problems)
            for file in walk.folder(path):
                yield file, path
        elif os.path.realpath(path) not in excluded:
            yield path, path.parent


@dataclass
class _Walk:
    root: str
    excluded: set[str]
    ignored: list[Path] | None
    problems: dict[Path, str]
    seen: set[str] = field(default_factory=set)

    def folder(self, folder: Path) -> Iterator[Path]:
        real = os.path.realpath(folder)
        if real in self.seen or real in self.excluded or (folder / OUTPUT_MARKER).exists():
            return  # a folder reached again through a symlink (a loop) is walked once
        self.seen.add(real)
        try:
            children = sorted(folder.iterdir(), key=lambda p: p.name)
        except OSError as exc:
            yield self._problem(folder, f"folder cannot be read: {exc.strerror or exc}")
            return
        for child in children:
            if not child.name.startswith("."):
                yield from self._child(child)

    def _child(self, child: Path) -> Iterator[Path]:
        if child.is_symlink():
            try:
                child.stat()
            except OSError as exc:
                yield self._problem(child, f"symlink cannot be followed: {exc.strerror or exc}")
                return
            target = os.path.realpath(child)
            if target != self.root and not target.startswith(self.root.rstrip("/") + "/"):
                yield self._problem(child, "symlink leads outside the input folder: not followed")
                return
        if child.is_dir():
            yield from self.folder(child)
        elif os.path.realpath(child) in self.excluded:
            return
        elif _is_text_sidecar(child):
            if self.ignored is not None:
                self.ignored.append(child)
        else:
            yield child

    def _problem(self, path: Path, reason: str) -> Path:
        self.problems[path] = reason
        return path


def _is_text_sidecar(path: Path) -> bool:
    if path.suffix.lower() not in SIDECAR_SUFFIXES:
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
        head.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return b"\0" not in head

"""Atomic file writes: a temp file in the destination folder, fsync, then os.replace.

Files are created with the permissions the user's umask gives (``0666 & ~umask``), like any
other program's output: ``mkstemp`` alone would leave them readable by their owner only.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

TEMP_SUFFIX = ".photoguard.tmp"
"""Names photoguard's own temp files, so that cleaning up never touches anyone else's."""


def umask() -> int:
    """The process's umask, read without changing it where Linux allows."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", "rb") as fh:
        for line in fh:
            if line.startswith(b"Umask:"):
                return int(line.split()[1], 8)
    old = os.umask(0o022)  # elsewhere: set and restore (a moment's race, at worst 022)
    os.umask(old)
    return old


def temp_beside(path: Path) -> tuple[int, Path]:
    """Create a hidden temp file beside ``path`` with the umask's permissions; (fd, path)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~umask())
    except OSError:
        os.close(fd)
        os.unlink(tmp)
        raise
    return fd, Path(tmp)


@contextlib.contextmanager
def atomic_write(path: Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temp file beside ``path``; on success it replaces ``path`` whole, else vanishes.

    A crash at any point leaves either the old file or the complete new one, never half a file.
    """
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise

"""Content-addressed store for signed documents: ``<root>/<sha[:2]>/<sha256>``, read-only.

SQLite registries keep their documents here, beside the database file; PostgreSQL registries
keep them in the database (``blobs.py``), so that every machine using the server sees them.

A document is written once (temp file in the same folder, fsync, ``os.replace``), then set
read-only; it is never modified or removed by photoguard. The same bytes are stored once.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from photoguard.consent.errors import DocumentError
from photoguard.fsutil import atomic_write

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_document(source: Path) -> tuple[str, bytes]:
    """A signed document's sha256 and bytes.

    Raises:
        DocumentError: unreadable, empty or over ``MAX_DOCUMENT_BYTES``.
    """
    try:
        size = source.stat().st_size
        if size == 0 or size > MAX_DOCUMENT_BYTES:
            raise DocumentError(f"signed document {source.name} is empty or over 64 MiB")
        data = source.read_bytes()
    except OSError as exc:
        reason = exc.strerror or "unreadable"
        raise DocumentError(f"cannot read signed document {source.name}: {reason}") from None
    return hashlib.sha256(data).hexdigest(), data


class DocumentStore:
    """Signed documents by sha256 under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, source: Path) -> tuple[str, int]:
        """Copy ``source`` into the store (once); return its sha256 and size.

        Raises:
            DocumentError: unreadable, empty or too large, or a stored copy no longer matches.
        """
        sha, data = read_document(source)
        self.put_bytes(sha, data)
        return sha, len(data)

    def put_bytes(self, sha: str, data: bytes) -> None:
        """Store ``data`` (whose sha256 is ``sha``) once.

        Raises:
            DocumentError: a stored copy no longer matches, or the store cannot be written.
        """
        target = self.path_for(sha)
        if target.exists():
            if sha256_file(target) != sha:
                raise DocumentError(f"stored document {sha[:12]} is damaged; run consent verify")
            return
        try:
            with atomic_write(target) as fh:
                fh.write(data)
            os.chmod(target, stat.S_IRUSR | stat.S_IRGRP)
        except OSError as exc:
            raise DocumentError(f"cannot store signed document: {exc.strerror}") from None

    def check(self, sha256: str) -> str | None:
        """None when the stored copy is intact, else ``missing`` or ``hash mismatch``."""
        path = self.path_for(sha256)
        if not path.is_file():
            return "missing"
        try:
            actual = sha256_file(path)
        except OSError:
            return "unreadable"
        return None if actual == sha256 else "hash mismatch"

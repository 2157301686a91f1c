"""The CSV report: one row per file, for spreadsheets."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from photoguard.fsutil import atomic_write
from photoguard.tracks import faces_by_action
from photoguard.types import PhotoResult, RegionKind

COLUMNS = [
    "path",
    "sha256",
    "verdict",
    "faces_kept",
    "faces_redacted",
    "text_regions",
    "barcodes",
    "authorizations",
    "output",
    "reasons",
]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets."""


def neutral(value: str | int) -> str | int:
    """A cell that a spreadsheet shows as text, never runs as a formula (CSV injection): one
    that starts like a formula gets a leading apostrophe (OWASP's advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def row(result: PhotoResult) -> dict[str, str | int]:
    faces = [r for r in result.regions if r.kind is RegionKind.FACE]
    kept, redacted = faces_by_action(faces)
    return {
        "path": str(result.path),
        "sha256": result.sha256 or "",
        "verdict": result.verdict.value,
        "faces_kept": kept,
        "faces_redacted": redacted,
        "text_regions": sum(r.kind is RegionKind.TEXT for r in result.regions),
        "barcodes": sum(r.kind is RegionKind.BARCODE for r in result.regions),
        "authorizations": " ".join(sorted({r.authorization for r in faces if r.authorization})),
        "output": str(result.output or ""),
        "reasons": " | ".join(result.reasons),
    }


def write_csv(path: Path, results: Iterable[PhotoResult]) -> None:
    """Write the CSV report atomically."""
    with atomic_write(path, "w") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for result in results:
            writer.writerow({key: neutral(value) for key, value in row(result).items()})

"""The CSV report: one row per file, for spreadsheets."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from photoguard.fsutil import atomic_write
from photoguard.types import Action, PhotoResult, RegionKind

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


def row(result: PhotoResult) -> dict[str, str | int]:
    faces = [r for r in result.regions if r.kind is RegionKind.FACE]
    return {
        "path": str(result.path),
        "sha256": result.sha256 or "",
        "verdict": result.verdict.value,
        "faces_kept": sum(r.action is Action.KEEP for r in faces),
        "faces_redacted": sum(r.action is Action.REDACT for r in faces),
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
            writer.writerow(row(result))

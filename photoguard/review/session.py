"""The files of one review and the decisions made about their uncertain faces.

An uncertain face is one whose match is ambiguous (two enrolled people are near-ties, or the
best match is just outside the threshold) or was decided in review before. Faces are numbered
from 1 in the order the check reports them; that number is what ``review decide --face N`` and
the review page use. Decisions go to the registry (``consent.decisions``) and are honoured by
every later check of the same file bytes.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from photoguard.errors import PhotoguardError
from photoguard.pipeline import CheckContext, check_file, iter_inputs
from photoguard.types import MatchStatus, PhotoResult, Region, RegionKind, Verdict

PREVIEW_SIDE = 1280
"""Longest side of a review preview: large enough to recognise a face."""
NEEDS_A_PERSON = (Verdict.REVIEW, Verdict.BLOCK)


class ReviewError(PhotoguardError):
    """A review request that cannot be honoured (no such face, not uncertain, not a candidate)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Face:
    """One face of a checked file, numbered from 1."""

    number: int
    region: Region

    @property
    def uncertain(self) -> bool:
        return is_uncertain(self.region)


def is_uncertain(region: Region) -> bool:
    """A face a person decides: an ambiguous match, or one already decided in review."""
    return region.kind is RegionKind.FACE and (
        region.match == MatchStatus.AMBIGUOUS.value or region.reviewed
    )


def faces_of(result: PhotoResult) -> list[Face]:
    """Every face region of a result, numbered from 1."""
    found = [r for r in result.regions if r.kind is RegionKind.FACE]
    return [Face(i, r) for i, r in enumerate(found, 1)]


def uncertain_faces(result: PhotoResult) -> list[Face]:
    return [f for f in faces_of(result) if f.uncertain]


def face(result: PhotoResult, number: int) -> Face:
    """Face ``number`` of a result, if a person may decide it.

    Raises:
        ReviewError: no such face, or its match is not uncertain.
    """
    found = faces_of(result)
    if not 1 <= number <= len(found):
        raise ReviewError(f"{result.path.name} has {len(found)} face(s): no face {number}")
    if not found[number - 1].uncertain:
        status = found[number - 1].region.match or "unmatched"
        raise ReviewError(f"face {number} of {result.path.name} is not uncertain ({status})")
    return found[number - 1]


def with_decisions(ctx: CheckContext) -> CheckContext:
    """``ctx`` with the registry's current review decisions for its channel and date."""
    from photoguard.consent.decisions import decisions_for_check

    return replace(ctx, decisions=decisions_for_check(ctx.settings))


def record(ctx: CheckContext, result: PhotoResult, number: int, authorization: str | None,
           reviewer: str | None = None):  # fmt: skip
    """Record a decision about face ``number`` of a checked file: the person of
    ``authorization`` (one of the face's candidates), or None: none of them (redact).

    Returns:
        The recorded ``consent.decisions.FaceDecision``.

    Raises:
        ReviewError: no such uncertain face, or the file was not fully read.
        InvalidRequest: the authorization is not a candidate for this face.
        RegistryError: the registry cannot be written.
    """
    from photoguard.consent import decisions
    from photoguard.consent.registry import ConsentRegistry

    if result.sha256 is None:
        raise ReviewError(f"{result.path.name} could not be read: nothing to decide")
    chosen = face(result, number)
    with ConsentRegistry.from_settings(ctx.settings) as registry:
        return decisions.record(
            registry,
            file_sha256=result.sha256,
            frame=chosen.region.frame,
            box=chosen.region.box,
            candidates=chosen.region.candidates,
            authorization=authorization,
            reviewer=reviewer,
            file=str(result.path.absolute()),
        )


def preview(result: PhotoResult, ctx: CheckContext, frame: int = 0) -> bytes | None:
    """A JPEG of one frame for the review page, in memory: every region the check would redact
    is covered, except the uncertain faces a person must see. None when the file was not fully
    checked (a picture of it could show what no detector saw).

    Raises:
        ReviewError: the file changed since it was checked.
    """
    if result.sha256 is None or not result.detectors or not all(d.ok for d in result.detectors):
        return None
    from PIL import Image

    from photoguard.load import load_image
    from photoguard.render import redact_frame

    policy = ctx.settings.policy
    image = load_image(result.path, max_pixels=policy.max_pixels)
    if image.sha256 != result.sha256:
        raise ReviewError(f"{result.path.name} changed since it was checked")
    if not 0 <= frame < len(image.frames):
        return None
    covered = [r for r in result.regions if r.frame == frame and not is_uncertain(r)]
    pixels = redact_frame(image.frames[frame], covered, policy, int(image.sha256[:8], 16) + frame)
    picture = Image.fromarray(pixels, "RGB")
    picture.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


@dataclass
class Item:
    """One file on the review page."""

    index: int
    label: str
    """The path relative to the folder given."""
    result: PhotoResult
    first_verdict: Verdict


class ReviewSession:
    """The review and block files of some folders, re-checked as decisions are made.

    Thread-safe: the page's requests run in a thread pool.
    """

    def __init__(self, ctx: CheckContext, reviewer: str | None = None) -> None:
        self.ctx = with_decisions(ctx)
        self.reviewer = reviewer
        self.items: list[Item] = []
        self.names: dict[str, str] = {}
        self._lock = threading.Lock()

    def load(self, results: Iterable[PhotoResult], roots: dict[Path, Path]) -> int:
        """Keep the files that need a person; returns how many were checked in all."""
        checked = 0
        for result in results:
            checked += 1
            if result.verdict in NEEDS_A_PERSON:
                root = roots.get(result.path, result.path.parent)
                label = _relative(result.path, root)
                self.items.append(Item(len(self.items), label, result, result.verdict))
        self.names = self._candidate_names()
        return checked

    def decide(self, index: int, number: int, authorization: str | None):
        """Record a decision, then check the file again so the page shows what it means now."""
        with self._lock:
            item = self.items[index]
            decision = record(self.ctx, item.result, number, authorization, self.reviewer)
            self.ctx = with_decisions(self.ctx)
            item.result = check_file(item.result.path, self.ctx)
            return decision

    def decisions(self, index: int) -> dict[int, object]:
        """The latest decision about each uncertain face of item ``index``, by face number."""
        from photoguard.consent.decisions import list_decisions
        from photoguard.consent.registry import ConsentRegistry
        from photoguard.match import REVIEW_IOU

        result = self.items[index].result
        if result.sha256 is None:
            return {}
        with ConsentRegistry.from_settings(self.ctx.settings) as registry:
            made = list_decisions(registry, result.sha256)
        latest = {}
        for f in uncertain_faces(result):
            for d in made:
                if d.frame == f.region.frame and d.box.iou(f.region.box) >= REVIEW_IOU:
                    latest[f.number] = d
        return latest

    def preview(self, index: int, frame: int = 0) -> bytes | None:
        return preview(self.items[index].result, self.ctx, frame)

    def _candidate_names(self) -> dict[str, str]:
        """Who each candidate authorization belongs to: the reviewer must know whom to look for."""
        from photoguard.consent.registry import ConsentRegistry

        wanted = {c for i in self.items for r in i.result.regions for c in r.candidates}
        if not wanted:
            return {}
        with ConsentRegistry.from_settings(self.ctx.settings) as registry:
            return {a.id: a.person_name for a in registry.list() if a.id in wanted}


def roots_of(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> dict[Path, Path]:
    """Each input file's folder given on the command line (for paths relative to it)."""
    return dict(iter_inputs(paths, exclude))


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name

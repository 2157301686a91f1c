"""Distinct faces across frames: what a person counts, not face regions (pure).

An animated GIF or a multi-page TIFF has a region per face per frame; one person in 35 frames is
one face. Regions of consecutive frames that overlap are followed as one face (a track).
"""

from __future__ import annotations

from collections.abc import Iterable

from photoguard.types import Action, Region, RegionKind

SAME_FACE_IOU = 0.3
"""Boxes in two frames that overlap this much show the same face (a person moves little
between frames)."""


def face_tracks(regions: Iterable[Region]) -> list[list[Region]]:
    """Face regions grouped into distinct faces across frames, in frame order.

    A face joins the track whose latest box (from an earlier frame) overlaps it most, if it
    overlaps enough; otherwise it starts a new track. Each track takes at most one face a frame.
    """
    faces = sorted((r for r in regions if r.kind is RegionKind.FACE), key=lambda r: r.frame)
    tracks: list[list[Region]] = []
    for frame in sorted({r.frame for r in faces}):
        open_tracks = [t for t in tracks if t[-1].frame < frame]
        for face in (r for r in faces if r.frame == frame):
            best = max(open_tracks, key=lambda t: t[-1].box.iou(face.box), default=None)
            if best is not None and best[-1].box.iou(face.box) >= SAME_FACE_IOU:
                best.append(face)
                open_tracks.remove(best)
            else:
                tracks.append([face])
    return tracks


def distinct_faces(regions: Iterable[Region]) -> int:
    """How many different faces the file shows (across all its frames)."""
    return len(face_tracks(regions))


def faces_by_action(regions: Iterable[Region]) -> tuple[int, int]:
    """``(kept, redacted)`` distinct faces; a face redacted in any frame counts as redacted."""
    tracks = face_tracks(regions)
    kept = sum(all(r.action is Action.KEEP for r in t) for t in tracks)
    return kept, len(tracks) - kept

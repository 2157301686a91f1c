"""Stage 3, match: who is this face, as far as consent goes. Pure.

Nearest enrolled identity by Euclidean distance between 128-d face_recognition encodings, with a
threshold (stricter for minors) and a margin over the second-nearest identity. A tie, or a
best match just outside the threshold, is ``ambiguous``: a person decides, not the model.
``compare_faces(tolerance=0.6)`` is not used: it answers "anyone within 0.6", not "who".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from photoguard.types import Box, EnrolledPerson, FaceFinding, FaceMatch, MatchStatus

REVIEW_IOU = 0.5
"""A review decision applies to the face of the same file and frame whose box overlaps its own
by at least this intersection over union (detectors are deterministic; this absorbs rounding)."""


@dataclass(frozen=True)
class MatchRules:
    threshold: float = 0.5
    threshold_minor: float = 0.4
    margin: float = 0.08
    near_miss: float = 0.04
    """A best distance within this much above the threshold is ambiguous, not unknown."""


def match_faces(
    encodings: Sequence[np.ndarray | None], enrolled: Sequence[EnrolledPerson], rules: MatchRules
) -> list[FaceMatch]:
    """Match each face encoding against the enrolled people.

    Args:
        encodings: one 128-d encoding per detected face, None where it could not be encoded.
        enrolled: the registry's people with their consent status for this check.
        rules: thresholds and margin.

    Returns:
        One FaceMatch per encoding, in order. Distances are rounded; encodings are not kept.
    """
    return [_match_one(e, enrolled, rules) for e in encodings]


def _match_one(encoding, enrolled: Sequence[EnrolledPerson], rules: MatchRules) -> FaceMatch:
    if encoding is None:
        return FaceMatch(MatchStatus.UNENCODABLE)
    if not enrolled:
        return FaceMatch(MatchStatus.UNKNOWN)
    distances = sorted(
        (float(np.min(np.linalg.norm(p.encodings - encoding, axis=1))), i)
        for i, p in enumerate(enrolled)
        if len(p.encodings)
    )
    if not distances:
        return FaceMatch(MatchStatus.UNKNOWN)
    best, index = distances[0]
    person = enrolled[index]
    second = distances[1][0] if len(distances) > 1 else float("inf")
    threshold = rules.threshold_minor if person.minor else rules.threshold
    rounded = round(best, 4)
    if best > threshold + rules.near_miss:
        return FaceMatch(MatchStatus.UNKNOWN, distance=rounded)
    if best > threshold or second - best < rules.margin:
        candidates = _candidates(distances, enrolled, rules, best)
        return FaceMatch(MatchStatus.AMBIGUOUS, distance=rounded, candidates=candidates)
    if person.status is MatchStatus.CONSENTED and person.authorization:
        return FaceMatch(MatchStatus.CONSENTED, person.authorization, rounded)
    status = person.status if person.status is not MatchStatus.CONSENTED else MatchStatus.UNKNOWN
    return FaceMatch(status, None, rounded)


def _candidates(distances, enrolled: Sequence, rules: MatchRules, best: float):
    """The valid authorizations of everyone the ambiguous face may be, nearest first: within the
    margin of the best distance and within their own threshold (plus the near-miss band)."""
    found: list[str] = []
    for distance, index in distances:
        if distance > best + rules.margin:
            break
        person = enrolled[index]
        limit = (rules.threshold_minor if person.minor else rules.threshold) + rules.near_miss
        if distance <= limit and person.status is MatchStatus.CONSENTED and person.authorization:
            found.append(person.authorization)
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class ReviewedFace:
    """A person's decision about one face of one file, resolved for this check's scope and date.

    ``confirmed``: "this is X" (``status`` and ``authorization`` say what X's authorizations
    allow for this channel, purpose and date); otherwise "not X": the face is redacted.
    """

    sha256: str
    frame: int
    box: Box
    confirmed: bool
    status: MatchStatus = MatchStatus.UNKNOWN
    authorization: str | None = None


def apply_reviews(
    faces: Sequence[FaceFinding], reviews: Sequence[ReviewedFace], sha256: str
) -> list[FaceFinding]:
    """Apply review decisions to the faces of one file (its bytes' ``sha256``).

    The latest decision for a face wins. "Not X" makes any face unconsented; "this is X" settles
    only a face whose match is ambiguous: a confident match the model makes now stands. A
    confirmed person whose authorization has ended is what the registry says (revoked,
    expired, out of scope): the face is no longer kept.
    """
    mine = [r for r in reviews if r.sha256 == sha256]
    if not mine:
        return list(faces)
    return [_reviewed(face, mine) for face in faces]


def _reviewed(face: FaceFinding, reviews: list[ReviewedFace]) -> FaceFinding:
    d = face.detection
    found = [r for r in reviews if r.frame == d.frame and r.box.iou(d.box) >= REVIEW_IOU]
    if not found:
        return face
    review, match = found[-1], face.match
    if not review.confirmed:
        settled = FaceMatch(MatchStatus.UNKNOWN, None, match.distance, match.candidates, True)
    elif match.status is MatchStatus.AMBIGUOUS:
        kept = review.authorization if review.status is MatchStatus.CONSENTED else None
        settled = FaceMatch(review.status, kept, match.distance, match.candidates, True)
    else:
        return face
    return replace(face, match=settled)

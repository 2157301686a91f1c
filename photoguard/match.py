"""Stage 3, match: who is this face, as far as consent goes. Pure.

Nearest enrolled identity by Euclidean distance between 128-d face_recognition encodings, with a
threshold (stricter for minors) and a margin over the second-nearest identity. A tie, or a
best match just outside the threshold, is ``ambiguous``: a person decides, not the model.
``compare_faces(tolerance=0.6)`` is not used: it answers "anyone within 0.6", not "who".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from photoguard.types import EnrolledPerson, FaceMatch, MatchStatus


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
        return FaceMatch(MatchStatus.AMBIGUOUS, distance=rounded)
    if person.status is MatchStatus.CONSENTED and person.authorization:
        return FaceMatch(MatchStatus.CONSENTED, person.authorization, rounded)
    status = person.status if person.status is not MatchStatus.CONSENTED else MatchStatus.UNKNOWN
    return FaceMatch(status, None, rounded)

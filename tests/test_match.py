"""The match stage on hand-built encodings (real-photo matching lives in test_consent_match)."""

from __future__ import annotations

import numpy as np

from photoguard.match import MatchRules, match_faces
from photoguard.types import EnrolledPerson, MatchStatus

RULES = MatchRules(threshold=0.5, threshold_minor=0.4, margin=0.08, near_miss=0.04)


def enc(x: float, y: float = 0.0) -> np.ndarray:
    v = np.zeros(128)
    v[0], v[1] = x, y
    return v


def person(name, *points, minor=False, status=MatchStatus.CONSENTED, auth="AUTH-1"):
    return EnrolledPerson(
        name, np.stack(points), minor, status, auth if status is MatchStatus.CONSENTED else None
    )


def test_nearest_identity_within_threshold_is_consented():
    people = [person("a", enc(0.0)), person("b", enc(2.0), auth="AUTH-2")]
    [m] = match_faces([enc(0.3)], people, RULES)
    assert m.status is MatchStatus.CONSENTED and m.authorization == "AUTH-1"


def test_outside_threshold_is_unknown_and_near_miss_is_ambiguous():
    people = [person("a", enc(0.0))]
    far, near = match_faces([enc(0.6), enc(0.52)], people, RULES)
    assert far.status is MatchStatus.UNKNOWN
    assert near.status is MatchStatus.AMBIGUOUS


def test_two_identities_within_the_margin_are_ambiguous():
    people = [person("a", enc(0.0)), person("b", enc(0.1), auth="AUTH-2")]
    [m] = match_faces([enc(0.05, 0.3)], people, RULES)
    assert m.status is MatchStatus.AMBIGUOUS
    assert m.authorization is None


def test_minor_needs_the_stricter_threshold():
    people = [person("kid", enc(0.0), minor=True)]
    [m] = match_faces([enc(0.45)], people, RULES)
    assert m.status is not MatchStatus.CONSENTED


def test_status_of_the_matched_person_is_reported_without_authorization():
    for status in (MatchStatus.REVOKED, MatchStatus.EXPIRED, MatchStatus.OUT_OF_SCOPE):
        [m] = match_faces([enc(0.1)], [person("a", enc(0.0), status=status)], RULES)
        assert m.status is status and m.authorization is None


def test_unencodable_and_empty_registry():
    a, b = match_faces([None, enc(0.0)], [], RULES)
    assert a.status is MatchStatus.UNENCODABLE
    assert b.status is MatchStatus.UNKNOWN


def test_several_templates_per_person_use_the_closest():
    people = [person("a", enc(3.0), enc(0.0)), person("b", enc(1.5), auth="AUTH-2")]
    [m] = match_faces([enc(0.2)], people, RULES)
    assert m.authorization == "AUTH-1"

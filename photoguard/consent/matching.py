"""What the registry gives the matcher, and the same-face check at enrolment.

Called inside a registry transaction; returns plain values (``EnrolledPerson``), never rows.
numpy is imported inside the functions (``photoguard --help`` stays light).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from photoguard.consent.errors import DuplicateFace
from photoguard.consent.models import (
    AuthorizationRow,
    FaceTemplateRow,
    PersonRow,
    authorization_record,
    person_record,
)
from photoguard.consent.records import PERSON_PREFIX, Authorization, decide_coverage, format_id
from photoguard.types import EnrolledPerson

if TYPE_CHECKING:
    import numpy as np


def enrolled_people(
    session: Session, channel: str, purpose: str, on: date, today: date
) -> list[EnrolledPerson]:
    """Every enrolled person's templates with what their authorizations say for this check.

    Templates past their purge date (on ``today``) are left out (treated as not enrolled).
    """
    import numpy as np

    people = {p.id: p for p in session.exec(select(PersonRow)).all()}
    auths = session.exec(select(AuthorizationRow)).all()
    by_person: dict[int, list[Authorization]] = {}
    for row in auths:
        by_person.setdefault(row.person_id, []).append(
            authorization_record(row, people[row.person_id])
        )
    enrolled = []
    for pk, encs in sorted(_live_templates(session, today).items()):
        status, auth_id = decide_coverage(by_person.get(pk, []), channel, purpose, on)
        enrolled.append(EnrolledPerson(
            person=format_id(PERSON_PREFIX, pk),
            encodings=np.vstack(encs).astype(np.float64),
            minor=person_record(people[pk]).minor_on(on),
            status=status,
            authorization=auth_id,
        ))  # fmt: skip
    return enrolled


def same_faces(
    session: Session,
    encodings: Sequence[np.ndarray],
    today: date,
    within: float,
    exclude: str | None = None,
) -> list[tuple[str, float]]:
    """Enrolled people (other than ``exclude``) with a template within ``within`` of any of
    ``encodings``: the same face registered again as someone else. Nearest first."""
    import numpy as np

    if not encodings:
        return []
    probe = np.vstack(list(encodings)).astype(np.float64)
    found = []
    for pk, encs in _live_templates(session, today).items():
        person = format_id(PERSON_PREFIX, pk)
        if person == exclude:
            continue
        gallery = np.vstack(encs)
        nearest = float(np.min(np.linalg.norm(gallery[:, None, :] - probe[None], axis=2)))
        if nearest < within:
            found.append((person, round(nearest, 3)))
    return sorted(found, key=lambda item: item[1])


def refuse_same_face(
    session: Session,
    encodings: Sequence[np.ndarray],
    today: date,
    within: float,
    *,
    exclude: str | None,
    where: str,
    force: bool,
) -> str | None:
    """Refuse reference faces already enrolled as someone other than ``exclude``.

    Returns:
        None, or (forced) the person whose face it is, for the audit entry and a warning.

    Raises:
        DuplicateFace: naming the person and how to add to them instead (not forced).
    """
    similar = same_faces(session, encodings, today, within, exclude)
    if not similar:
        return None
    person, distance = similar[0]
    if force:
        return person
    prefix = f"{where}: " if where else ""
    raise DuplicateFace(
        f"{prefix}a reference photo shows a face already enrolled as {person} (distance "
        f"{distance:.2f}); a second person with the same face turns both people's photos into "
        f"review. Add the authorization to that person with --person {person} (import files: "
        f'person = "{person}"), or pass --force if they are two people who look alike'
    )


def _live_templates(session: Session, today: date) -> dict[int, list[np.ndarray]]:
    import numpy as np

    templates = session.exec(
        select(FaceTemplateRow).where(FaceTemplateRow.purge_on > today).order_by(FaceTemplateRow.id)
    ).all()
    encodings: dict[int, list[np.ndarray]] = {}
    for t in templates:
        encodings.setdefault(t.person_id, []).append(np.frombuffer(t.encoding, dtype="<f8"))
    return encodings

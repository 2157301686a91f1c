"""Plain frozen values the registry returns: never ORM rows. No database import here.

Status is derived for a date, never stored: an authorization is *not yet effective* before it
is both signed and received, *revoked* from the day the revocation was received, *expired* from
its expiration date (valid through the day before) or from the day its expiration event was
recorded, and *active* otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from photoguard.types import MatchStatus

ADULT_AGE = 18
AUTH_PREFIX = "AUTH-"
PERSON_PREFIX = "PER-"
TEMPLATE_PREFIX = "TPL-"
DECISION_PREFIX = "DEC-"


class Role(StrEnum):
    """Why a person is in the registry."""

    PATIENT = "patient"
    STAFF = "staff"
    VISITOR = "visitor"


class AuthStatus(StrEnum):
    """An authorization's state on a given date."""

    ACTIVE = "active"
    NOT_YET_EFFECTIVE = "not-yet-effective"
    EXPIRED = "expired"
    REVOKED = "revoked"


def format_id(prefix: str, pk: int) -> str:
    """``AUTH-000123`` from the primary key 123."""
    return f"{prefix}{pk:06d}"


def parse_id(prefix: str, text: str) -> int | None:
    """The primary key in ``AUTH-000123`` (or a bare ``123``); None when malformed."""
    body = text.strip().upper()
    if body.startswith(prefix):
        body = body[len(prefix) :]
    return int(body) if body.isdigit() else None


def age_on(dob: date, on: date) -> int:
    """Whole years from ``dob`` to ``on``."""
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


@dataclass(frozen=True, slots=True)
class Person:
    """Someone with an authorization on file."""

    id: str
    name: str
    dob: date | None
    role: Role

    def minor_on(self, on: date) -> bool:
        """Under 18 on ``on``. A patient without a date of birth counts as a minor, so the
        matcher applies its stricter threshold; staff and visitors without one count as adults.
        """
        if self.dob is None:
            return self.role is Role.PATIENT
        return age_on(self.dob, on) < ADULT_AGE


@dataclass(frozen=True, slots=True)
class Authorization:
    """One signed authorization with every core element of 45 CFR 164.508(c)."""

    id: str
    person_id: str
    person_name: str
    form_version: str
    disclosed: str
    discloser: str
    recipients: str
    purposes: tuple[str, ...]
    channels: tuple[str, ...]
    signed_on: date
    received_on: date
    signer: str
    signer_authority: str | None
    statements: tuple[str, ...]
    third_party_remuneration: bool
    document_sha256: str
    expires_on: date | None = None
    expires_event: str | None = None
    event_occurred_on: date | None = None
    revocation_received_on: date | None = None
    revocation_reason: str | None = None
    created_at: datetime | None = None

    def status_on(self, on: date) -> AuthStatus:
        """The state on ``on`` (revocation wins over expiry: it is the stronger fact)."""
        if on < self.signed_on or on < self.received_on:
            return AuthStatus.NOT_YET_EFFECTIVE
        if self.revocation_received_on is not None and on >= self.revocation_received_on:
            return AuthStatus.REVOKED
        if self.expires_on is not None and on >= self.expires_on:
            return AuthStatus.EXPIRED
        if self.event_occurred_on is not None and on >= self.event_occurred_on:
            return AuthStatus.EXPIRED
        return AuthStatus.ACTIVE

    def covers(self, channel: str, purpose: str) -> bool:
        """Whether the scope includes this channel and purpose (case-insensitive)."""
        return normalize(channel) in self.channels and normalize(purpose) in self.purposes

    def valid_for(self, channel: str, purpose: str, on: date) -> bool:
        """Active on ``on`` and covering ``channel`` and ``purpose``."""
        return self.covers(channel, purpose) and self.status_on(on) is AuthStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Template:
    """A stored face template's bookkeeping (the encoding itself stays in the registry)."""

    id: str
    person_id: str
    source_sha256: str
    enrolled_on: date
    purge_on: date


@dataclass(frozen=True, slots=True)
class DocumentProblem:
    """A stored document that is missing or whose bytes no longer match its hash."""

    sha256: str
    problem: str
    authorizations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Everything needed to register one authorization (the per-signature part of a form).

    What is disclosed, who discloses, who receives and the required statements come from the
    declared form version, not from here.
    """

    name: str
    channels: tuple[str, ...]
    purposes: tuple[str, ...]
    signed_on: date | None
    document: Path | None
    photos: tuple[Path, ...] = ()
    expires_on: date | None = None
    expires_event: str | None = None
    dob: date | None = None
    role: Role = Role.PATIENT
    signer: str | None = None
    signer_authority: str | None = None
    received_on: date | None = None
    form_version: str | None = None
    third_party_remuneration: bool = False
    person_id: str | None = None


def normalize(word: str) -> str:
    """Channel and purpose names compare lower-case, trimmed, with ``_`` as ``-``."""
    return word.strip().lower().replace("_", "-")


def decide_coverage(
    auths: Iterable[Authorization], channel: str, purpose: str, on: date
) -> tuple[MatchStatus, str | None]:
    """What a person's authorizations say for one channel, purpose and date.

    Returns:
        CONSENTED with the newest valid authorization; else, for the newest authorization in
        effect by ``on`` that covers the scope, REVOKED or EXPIRED with its id; else
        NOT_YET_EFFECTIVE with the newest one covering the scope (received after ``on``); else
        the scope that is missing: OUT_OF_CHANNEL, OUT_OF_PURPOSE or OUT_OF_SCOPE (neither).
    """
    auths = list(auths)
    scoped = sorted(
        (a for a in auths if a.covers(channel, purpose)), key=lambda a: (a.signed_on, a.id)
    )
    valid = [a for a in scoped if a.status_on(on) is AuthStatus.ACTIVE]
    if valid:
        return MatchStatus.CONSENTED, valid[-1].id
    started = [a for a in scoped if a.status_on(on) is not AuthStatus.NOT_YET_EFFECTIVE]
    if not started:
        if scoped:
            return MatchStatus.NOT_YET_EFFECTIVE, scoped[-1].id
        return _missing_scope(auths, channel, purpose), None
    last = started[-1]
    if last.status_on(on) is AuthStatus.REVOKED:
        return MatchStatus.REVOKED, last.id
    return MatchStatus.EXPIRED, last.id


def _missing_scope(auths: list[Authorization], channel: str, purpose: str) -> MatchStatus:
    """Which part of the scope no authorization covers (none covers both)."""
    if any(normalize(channel) in a.channels for a in auths):
        return MatchStatus.OUT_OF_PURPOSE
    if any(normalize(purpose) in a.purposes for a in auths):
        return MatchStatus.OUT_OF_CHANNEL
    return MatchStatus.OUT_OF_SCOPE

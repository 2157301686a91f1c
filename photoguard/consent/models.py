"""SQLModel table models (the current schema) and their conversion to plain records.

Tables are created and changed only by ``migrations.py``; these classes describe the schema the
latest migration leaves behind. Registry functions return ``records`` dataclasses, never rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field, SQLModel

from photoguard.consent.records import (
    AUTH_PREFIX,
    PERSON_PREFIX,
    TEMPLATE_PREFIX,
    Authorization,
    Person,
    Role,
    Template,
    format_id,
)


class PersonRow(SQLModel, table=True):
    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    dob: date | None = None
    role: str
    created_at: datetime


class DocumentRow(SQLModel, table=True):
    __tablename__ = "document"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    suffix: str = ""
    stored_at: datetime


class AuthorizationRow(SQLModel, table=True):
    # "authorization" is a reserved word in PostgreSQL.
    __tablename__ = "authorization_record"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    form_version: str
    disclosed: str
    discloser: str
    recipients: str
    purposes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    channels: list[str] = Field(sa_column=Column(JSON, nullable=False))
    signed_on: date
    received_on: date
    expires_on: date | None = None
    expires_event: str | None = None
    event_occurred_on: date | None = None
    signer: str
    signer_authority: str | None = None
    statements: list[str] = Field(sa_column=Column(JSON, nullable=False))
    third_party_remuneration: bool
    document_sha256: str = Field(foreign_key="document.sha256")
    revocation_received_on: date | None = None
    revocation_reason: str | None = None
    created_at: datetime


class FaceTemplateRow(SQLModel, table=True):
    __tablename__ = "face_template"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    source_sha256: str = Field(max_length=64)
    encoding: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    enrolled_on: date
    purge_on: date


class EventRow(SQLModel, table=True):
    """The v2 change log: read-only since v3 folded it into the audit chain (``AuditRow``)."""

    __tablename__ = "registry_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    action: str
    subject: str
    detail: str = ""


class AuditRow(SQLModel, table=True):
    """One entry of the tamper-evident audit chain (see ``chain.py``); never updated."""

    __tablename__ = "audit_entry"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: str = Field(max_length=40, index=True)
    kind: str = Field(max_length=16)
    payload: str
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64, unique=True)


def person_record(row: PersonRow) -> Person:
    return Person(
        id=format_id(PERSON_PREFIX, row.id or 0), name=row.name, dob=row.dob, role=Role(row.role)
    )


def template_record(row: FaceTemplateRow) -> Template:
    return Template(
        id=format_id(TEMPLATE_PREFIX, row.id or 0),
        person_id=format_id(PERSON_PREFIX, row.person_id),
        source_sha256=row.source_sha256,
        enrolled_on=row.enrolled_on,
        purge_on=row.purge_on,
    )


def authorization_record(row: AuthorizationRow, person: PersonRow) -> Authorization:
    return Authorization(
        id=format_id(AUTH_PREFIX, row.id or 0),
        person_id=format_id(PERSON_PREFIX, row.person_id),
        person_name=person.name,
        form_version=row.form_version,
        disclosed=row.disclosed,
        discloser=row.discloser,
        recipients=row.recipients,
        purposes=tuple(row.purposes),
        channels=tuple(row.channels),
        signed_on=row.signed_on,
        received_on=row.received_on,
        signer=row.signer,
        signer_authority=row.signer_authority,
        statements=tuple(row.statements),
        third_party_remuneration=row.third_party_remuneration,
        document_sha256=row.document_sha256,
        expires_on=row.expires_on,
        expires_event=row.expires_event,
        event_occurred_on=row.event_occurred_on,
        revocation_received_on=row.revocation_received_on,
        revocation_reason=row.revocation_reason,
        created_at=row.created_at,
    )

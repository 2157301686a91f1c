"""Import files: CSV or TOML rows -> AuthorizationRequest values. Pure parsing, no database.

TOML: an array of tables ``[[authorization]]``. CSV: one row per authorization, with a header.
Columns / keys (lists are TOML arrays, or ``;``-separated in CSV):

===========================  =================================================================
name                         the individual (required)
dob                          date of birth, YYYY-MM-DD (a minor needs a representative signer)
role                         patient (default), staff or visitor
person                       an existing person id (PER-000001) to add this authorization to
channels                     where it may be published: website; facebook; instagram; ...
purposes                     why: marketing; testimonial; education; ...
signed_on                    date signed
received_on                  date the organization received it (default: signed_on)
expires_on / expires_event   expiration date and/or event (at least one)
signer, signer_authority     a personal representative and their authority (parent, guardian)
form                         declared form version (default: [registry] default_form)
third_party_remuneration     true when a third party pays for the marketing
document                     the signed form (scan/photo), a file inside the import file's folder
photos                       reference photos, files inside the import file's folder
===========================  =================================================================
"""

from __future__ import annotations

import csv
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from photoguard.consent.errors import InvalidRequest
from photoguard.consent.records import AuthorizationRequest, Role, normalize

COLUMNS = (
    "name", "dob", "role", "person", "channels", "purposes", "signed_on", "received_on",
    "expires_on", "expires_event", "signer", "signer_authority", "form",
    "third_party_remuneration", "document", "photos",
)  # fmt: skip


def parse_date(value: Any, what: str) -> date | None:
    """A date from a TOML date or ``YYYY-MM-DD`` text; None when empty.

    Raises:
        InvalidRequest: anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidRequest(f"{what} needs a date as YYYY-MM-DD, got {value!r}") from None


def read_requests(path: Path) -> list[AuthorizationRequest]:
    """Parse every row of a CSV or TOML import file.

    Raises:
        InvalidRequest: unreadable file, unknown column, or a malformed value (row named).
    """
    try:
        if path.suffix.lower() == ".toml":
            rows = tomllib.loads(path.read_text(encoding="utf-8")).get("authorization", [])
        elif path.suffix.lower() == ".csv":
            with path.open(newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        else:
            raise InvalidRequest(f"{path.name}: import files are .csv or .toml")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, csv.Error) as exc:
        raise InvalidRequest(f"cannot read {path.name}: {exc}") from None
    if not rows:
        raise InvalidRequest(f"{path.name}: no authorizations found")
    return [_request(row, path.parent, f"{path.name} row {i}") for i, row in enumerate(rows, 1)]


def inside(base: Path, name: str, what: str) -> Path:
    """``name`` resolved inside the import file's folder ``base``, to a regular file.

    Symbolic links are followed and must end inside ``base`` too: an import file cannot copy
    ``/etc/shadow`` or ``../../other-patient.pdf`` into the document store.

    Raises:
        InvalidRequest: an absolute path, a path leaving the folder, or not a regular file.
    """
    root = base.resolve()
    if Path(name).is_absolute():
        raise InvalidRequest(f"{what} must be a path relative to the import file: {name!r}")
    try:
        target = (root / name).resolve(strict=True)
    except FileNotFoundError:
        raise InvalidRequest(f"{what} not found: {name!r}") from None
    except (OSError, RuntimeError):  # a symlink loop, an unreadable folder
        raise InvalidRequest(f"{what} cannot be resolved: {name!r}") from None
    if not target.is_relative_to(root):
        raise InvalidRequest(f"{what} must stay inside the import file's folder: {name!r}")
    if not target.is_file():
        raise InvalidRequest(f"{what} is not a regular file: {name!r}")
    return target


def _list(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = value.split(";") if isinstance(value, str) else list(value)
    return tuple(str(item).strip() for item in items if str(item).strip())


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "false", "no", "0"):
        return False
    if text in ("true", "yes", "1"):
        return True
    raise InvalidRequest(f"{where}: third_party_remuneration must be true or false")


def _request(row: dict[str, Any], base: Path, where: str) -> AuthorizationRequest:
    unknown = sorted(k for k in row if k not in COLUMNS and k is not None)
    if unknown:
        raise InvalidRequest(f"{where}: unknown column(s): {', '.join(unknown)}")
    try:
        role = Role(str(row.get("role") or "patient").strip().lower())
    except ValueError:
        raise InvalidRequest(f"{where}: role must be patient, staff or visitor") from None
    document = str(row.get("document") or "").strip()

    def day(key: str) -> date | None:
        return parse_date(row.get(key), f"{where}: {key}")

    return AuthorizationRequest(
        name=str(row.get("name") or "").strip(),
        channels=tuple(normalize(c) for c in _list(row.get("channels"))),
        purposes=tuple(normalize(p) for p in _list(row.get("purposes"))),
        signed_on=day("signed_on"),
        received_on=day("received_on"),
        expires_on=day("expires_on"),
        expires_event=str(row.get("expires_event") or "").strip() or None,
        dob=day("dob"),
        role=role,
        signer=str(row.get("signer") or "").strip() or None,
        signer_authority=str(row.get("signer_authority") or "").strip() or None,
        form_version=str(row.get("form") or "").strip() or None,
        third_party_remuneration=_bool(row.get("third_party_remuneration"), where),
        document=inside(base, document, f"{where}: document") if document else None,
        photos=tuple(inside(base, p, f"{where}: photo") for p in _list(row.get("photos"))),
        person_id=str(row.get("person") or "").strip() or None,
    )

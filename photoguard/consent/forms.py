"""The organization's versioned authorization forms, and the completeness check at intake.

A form version is declared once in ``photoguard.toml`` (``[registry.forms."VERSION"]``) with the
elements printed on every copy: who discloses, who receives, what is disclosed, and which
required statements it contains. A signed record copies them, so it stays complete even if the
file changes later. Pure: no database; files only to see that a signed document exists.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from photoguard.consent.errors import IncompleteAuthorization, InvalidRequest, UnknownForm
from photoguard.consent.records import AuthorizationRequest, age_on, normalize

REQUIRED_STATEMENTS = {
    "revocation": "the right to revoke in writing and how",
    "treatment-conditioning": "whether treatment is conditioned on signing",
    "redisclosure": "that re-disclosed information may no longer be protected",
}
REMUNERATION_STATEMENT = "remuneration"
"""Marketing paid for by a third party: the form must say so (164.508(a)(3)(ii))."""


@dataclass(frozen=True, slots=True)
class AuthorizationForm:
    """One printed form version and the elements it states on every copy."""

    version: str
    discloser: str
    recipients: str
    disclosed: str
    statements: tuple[str, ...]
    title: str = ""

    def missing(self) -> list[str]:
        """Core elements and required statements this form itself lacks."""
        gaps = [
            f"form {self.version} does not state {what}"
            for what, value in (
                ("who discloses (discloser)", self.discloser),
                ("who receives (recipients)", self.recipients),
                ("what is disclosed (disclosed)", self.disclosed),
            )
            if not value.strip()
        ]
        gaps += [
            f"form {self.version} lacks the statement on {text} ({key})"
            for key, text in REQUIRED_STATEMENTS.items()
            if key not in self.statements
        ]
        return gaps


@dataclass(frozen=True, slots=True)
class FormCatalog:
    """Every declared form version and the one used when a record names none."""

    forms: dict[str, AuthorizationForm]
    default: str | None = None

    def get(self, version: str | None) -> AuthorizationForm:
        """The form for ``version`` (or the default).

        Raises:
            UnknownForm: no such version, or none given and no default declared.
        """
        name = version or self.default
        if name is None:
            raise UnknownForm(
                'no authorization form declared: add [registry.forms."VERSION"] to '
                "photoguard.toml (see consents/photoguard.example.toml)"
            )
        if name not in self.forms:
            known = ", ".join(sorted(self.forms)) or "none"
            raise UnknownForm(f"form version {name!r} is not declared (declared: {known})")
        return self.forms[name]


def catalog_from_settings(raw: dict[str, Any]) -> FormCatalog:
    """Read ``[registry.forms.*]`` and ``[registry] default_form`` from the parsed policy file.

    Raises:
        UnknownForm: a form table is malformed or the default names an undeclared form.
    """
    registry = raw.get("registry", {})
    forms: dict[str, AuthorizationForm] = {}
    for version, table in registry.get("forms", {}).items():
        if not isinstance(table, dict):
            raise UnknownForm(f"[registry.forms.{version}] must be a table")
        statements = table.get("statements", [])
        if isinstance(statements, str) or not isinstance(statements, list):
            raise UnknownForm(f"[registry.forms.{version}] statements must be a list")
        forms[version] = AuthorizationForm(
            version=version,
            discloser=str(table.get("discloser", "")),
            recipients=str(table.get("recipients", "")),
            disclosed=str(table.get("disclosed", "")),
            statements=tuple(normalize(s) for s in statements),
            title=str(table.get("title", "")),
        )
    default = registry.get("default_form")
    if default is None and len(forms) == 1:
        default = next(iter(forms))
    if default is not None and default not in forms:
        raise UnknownForm(f"[registry] default_form {default!r} is not declared")
    return FormCatalog(forms=forms, default=default)


def admit(
    request: AuthorizationRequest, catalog: FormCatalog, today: date, where: str = ""
) -> tuple[AuthorizationRequest, AuthorizationForm]:
    """Normalize a request (channels, purposes, received date) and check it against its form.

    Raises:
        IncompleteAuthorization: a core element or required statement is missing.
        UnknownForm: the form version is not declared.
        InvalidRequest: the signed document is not a file.
    """
    request = replace(
        request,
        channels=tuple(dict.fromkeys(normalize(c) for c in request.channels if c.strip())),
        purposes=tuple(dict.fromkeys(normalize(p) for p in request.purposes if p.strip())),
        received_on=request.received_on or today,
    )
    form = catalog.get(request.form_version)
    check_complete(request, form, where)
    if request.document is not None and not request.document.is_file():
        raise InvalidRequest(
            f"{where + ': ' if where else ''}signed document not found: {request.document.name}"
        )
    return request, form


def check_complete(request: AuthorizationRequest, form: AuthorizationForm, where: str = "") -> None:
    """Refuse a request that lacks any core element or required statement.

    Args:
        request: The per-signature elements.
        form: The declared form version it was signed on.
        where: Prefix for the message (e.g. a row of an import file).

    Raises:
        IncompleteAuthorization: listing every missing element, not just the first.
    """
    missing = form.missing() + missing_elements(request, form)
    if missing:
        raise IncompleteAuthorization(missing, where)


def missing_elements(request: AuthorizationRequest, form: AuthorizationForm) -> list[str]:
    """Everything a signed copy lacks, in the order of 164.508(c), as short phrases."""
    missing: list[str] = []
    if not request.name.strip():
        missing.append("name of the individual")
    if not request.purposes:
        missing.append("purpose (at least one)")
    if not request.channels:
        missing.append("channel (at least one recipient channel)")
    if request.expires_on is None and not (request.expires_event or "").strip():
        missing.append("expiration date or expiration event")
    if request.signed_on is None:
        missing.append("date signed")
    if request.document is None:
        missing.append("signed document (scan or photo of the signed form)")
    missing += _signer_gaps(request)
    if request.third_party_remuneration and REMUNERATION_STATEMENT not in form.statements:
        missing.append(
            f"statement that a third party pays (form {form.version} has no "
            f"'{REMUNERATION_STATEMENT}' statement)"
        )
    missing += _date_gaps(request)
    return missing


def _signer_gaps(request: AuthorizationRequest) -> list[str]:
    signer = (request.signer or "").strip()
    representative = bool(signer) and signer.casefold() != request.name.strip().casefold()
    gaps = []
    if representative and not (request.signer_authority or "").strip():
        gaps.append("authority of the personal representative who signed (signer-authority)")
    minor = (
        request.dob is not None
        and request.signed_on is not None
        and age_on(request.dob, request.signed_on) < 18
    )
    if minor and not representative:
        gaps.append("signature of a personal representative (the individual is a minor)")
    if (request.signer_authority or "").strip() and not representative:
        gaps.append("name of the personal representative (signer) for the stated authority")
    return gaps


def _date_gaps(request: AuthorizationRequest) -> list[str]:
    gaps = []
    signed = request.signed_on
    if signed is not None and request.received_on is not None and request.received_on < signed:
        gaps.append("received date on or after the date signed")
    if signed is not None and request.expires_on is not None and request.expires_on <= signed:
        gaps.append("expiration date after the date signed")
    if request.dob is not None and signed is not None and request.dob > signed:
        gaps.append("date of birth before the date signed")
    return gaps

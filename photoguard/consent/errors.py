"""Named errors of the consent registry; each message is one PHI-free line.

They subclass ``photoguard.errors.PhotoguardError`` so the CLI edge maps them to exit codes.
"""

from __future__ import annotations

from photoguard.errors import PhotoguardError


class RegistryError(PhotoguardError):
    """The registry could not do what was asked (database, document store, bad state)."""


class NotFound(RegistryError):
    """No authorization or person with that id."""

    exit_code = 2


class InvalidRequest(RegistryError):
    """An input value is malformed (a date, an id, a row of an import file)."""

    exit_code = 2


class IncompleteAuthorization(InvalidRequest):
    """An authorization lacks core elements or required statements; it is void, not stored."""

    def __init__(self, missing: list[str] | tuple[str, ...], where: str = "") -> None:
        self.missing = tuple(missing)
        prefix = f"{where}: " if where else ""
        super().__init__(
            f"{prefix}incomplete authorization refused; missing: " + "; ".join(self.missing)
        )


class UnknownForm(InvalidRequest):
    """The form version is not declared in photoguard.toml."""


class EnrolmentError(InvalidRequest):
    """A reference photo is unusable: no face, several faces, a face too small or unencodable."""


class DocumentError(RegistryError):
    """A signed document could not be stored or read back."""

"""Named errors of the consent registry; each message is one PHI-free line.

They subclass ``photoguard.errors.PhotoguardError`` so the CLI edge maps them to exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence

from photoguard.errors import PhotoguardError


class RegistryError(PhotoguardError):
    """The registry could not do what was asked (database, document store, bad state)."""

    exit_code = 3


class RegistryTampered(RegistryError):
    """Registry rows differ from the state the audit chain vouches for (edited outside
    photoguard): nothing is decided from them."""

    def __init__(self, problems: Sequence[object]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(str(p) for p in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(
            f"consent registry altered outside photoguard, refusing to use it: {shown}{more}; "
            "run `photoguard audit verify` and restore the registry from a backup"
        )


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


class DuplicateFace(InvalidRequest):
    """A reference photo shows a face already enrolled as another person."""


class DocumentError(RegistryError):
    """A signed document could not be stored or read back."""

"""The registry's view for one check: enrolled people and deny-list names, as plain values.

Imported by the CLI before a check; the database libraries load only when it is called.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from photoguard.consent.errors import RegistryError

if TYPE_CHECKING:
    from photoguard.settings import Settings
    from photoguard.types import EnrolledPerson


def registry_view(settings: Settings) -> tuple[tuple[EnrolledPerson, ...], tuple[str, ...]]:
    """Every enrolled person's templates and consent status for the policy's channel, purpose
    and date (``settings.as_of``, default today), and every registered name.

    An absent registry at the default location means nobody is enrolled (every face is then
    unconsented); an explicitly named SQLite file that does not exist is an error, not an
    empty registry, so that a typo cannot pass as "no consents".

    Raises:
        RegistryError: the registry cannot be opened or read.
    """
    from photoguard.consent import db
    from photoguard.consent.registry import ConsentRegistry

    url = db.normalize_url(settings.db_url)
    path = db.sqlite_file(url)
    if path is not None and not path.exists():
        if settings.db_url:
            raise RegistryError(f"no consent registry at {path}")
        return (), ()
    on = settings.as_of or date.today()
    policy = settings.policy
    with ConsentRegistry.from_settings(settings, create=False) as registry:
        enrolled = tuple(registry.templates_for_matching(policy.channel, policy.purpose, on))
        names = tuple(registry.all_names())
    return enrolled, names

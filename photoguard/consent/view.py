"""The registry's view for one check: enrolled people and deny-list names, as plain values, and
the check that the run's channel and purpose are ones somebody declared.

Imported before a check (photoguard.api.run_context); the database libraries load only when
it is called.
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


def check_scope(settings: Settings, registry: bool = True) -> None:
    """Refuse a channel or purpose that neither the policy nor the registry knows:
    ``--channel instagarm`` would otherwise redact every consented face without a word.

    Args:
        registry: False (no registry for this run): only the policy's declarations count.

    Raises:
        ConfigError: the channel or purpose is unknown; the message suggests the closest.
        RegistryError: the registry cannot be read.
    """
    from photoguard.defaults import check_known, declared

    policy = settings.policy
    channels = set(declared(settings.raw, "channels"))
    purposes = set(declared(settings.raw, "purposes"))
    known = policy.channel.casefold() in channels and policy.purpose.casefold() in purposes
    if not known and registry:
        for auth in _registered(settings):
            channels.update(auth.channels)
            purposes.update(auth.purposes)
    check_known("channel", policy.channel, channels)
    check_known("purpose", policy.purpose, purposes)


def _registered(settings: Settings) -> list:
    """Every authorization in the registry; none when the default registry does not exist yet."""
    from photoguard.consent import db
    from photoguard.consent.registry import ConsentRegistry

    path = db.sqlite_file(db.normalize_url(settings.db_url))
    if path is not None and not path.exists():
        return []  # registry_view says so when it was named explicitly
    with ConsentRegistry.from_settings(settings) as registry:
        return registry.list()

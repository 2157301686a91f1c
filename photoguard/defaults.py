"""Built-in defaults: the policy that applies with no policy file, and where a user's file goes.

The default policy is a commented TOML file shipped in the package (``default_policy.toml``):
``photoguard init`` copies it into the user's config folder for the organisation to edit, and
it is read as is when no policy file is found, so photoguard works from any folder (a default
authorization form, the usual channels and purposes).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from photoguard.errors import ConfigError

CONFIG_NAME = "photoguard.toml"
DEFAULT_POLICY = "default_policy.toml"


def default_policy_text() -> str:
    """The commented default policy file, as ``photoguard init`` writes it."""
    return resources.files("photoguard").joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")


@cache
def _builtin() -> dict[str, Any]:
    return tomllib.loads(default_policy_text())


def builtin_raw() -> dict[str, Any]:
    """The parsed default policy (a fresh copy: callers may not share nested tables)."""
    import copy

    return copy.deepcopy(_builtin())


def user_config_file() -> Path:
    """The policy file in the user's config folder (``$XDG_CONFIG_HOME/photoguard/...``)."""
    from platformdirs import user_config_path

    return user_config_path("photoguard") / CONFIG_NAME


def declared(raw: dict[str, Any], key: str) -> tuple[str, ...]:
    """The channels or purposes (``key``) the policy file declares in ``[registry]``; the
    built-in ones when it declares none."""
    values = raw.get("registry", {}).get(key)
    if values is None:
        values = _builtin()["registry"][key]
    return tuple(str(v).strip().casefold() for v in values)


def check_known(kind: str, value: str, known: Iterable[str]) -> None:
    """Refuse a channel or purpose nobody declared: a typo would silently redact every
    consented face (no authorization covers "instagarm").

    Raises:
        ConfigError: ``value`` is not among ``known``; the message suggests the closest.
    """
    names = sorted(set(known))
    if value.strip().casefold() in names:
        return
    close = difflib.get_close_matches(value.strip().casefold(), names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise ConfigError(
        f"unknown {kind} {value!r}{hint} (declared: {', '.join(names)}; declare others in "
        f"[registry] {kind}s of photoguard.toml)"
    )

"""Settings built once (policy file + environment + flags) and passed explicitly.

The policy file is ``photoguard.toml``: found through ``--config``, then ``PHOTOGUARD_CONFIG``,
then ``./photoguard.toml``; without one, the defaults below apply. Every value is validated here,
so stages receive typed, frozen settings and never read the environment themselves.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from photoguard.errors import ConfigError

CONFIG_ENV = "PHOTOGUARD_CONFIG"
DB_ENV = "PHOTOGUARD_DB"
CONFIG_NAME = "photoguard.toml"


class SubjectAction(StrEnum):
    """What an unconsented main subject does to the file."""

    BLOCK = "block"
    REDACT = "redact"


class AmbiguousAction(StrEnum):
    """What an uncertain face match does to the file."""

    REVIEW = "review"
    BLOCK = "block"


class Style(StrEnum):
    """Irreversible redaction styles."""

    FILL = "fill"
    PIXELATE = "pixelate"
    BLUR = "blur"


class MaskShape(StrEnum):
    ELLIPSE = "ellipse"
    BOX = "box"


@dataclass(frozen=True)
class Policy:
    """Everything that decides a verdict; its hash is recorded with every decision."""

    channel: str = "website"
    purpose: str = "marketing"
    subject_share: float = 0.35
    """A face whose box covers at least this share of the image is the photo's main subject."""
    subject_action: SubjectAction = SubjectAction.BLOCK
    ambiguous_action: AmbiguousAction = AmbiguousAction.REVIEW
    face_detectors: tuple[str, ...] = ("faces",)
    text: bool = True
    barcodes: bool = True
    barcode_detectors: tuple[str, ...] = ("barcodes",)
    redact_all_text: bool = False
    text_allow: tuple[str, ...] = ()
    barcode_allow: tuple[str, ...] = ()
    face_style: Style = Style.PIXELATE
    text_style: Style = Style.FILL
    face_mask: MaskShape = MaskShape.ELLIPSE
    face_mask_scale: float = 1.3
    text_padding: int = 4
    max_pixels: int = 120_000_000
    match_threshold: float = 0.5
    match_threshold_minor: float = 0.4
    match_margin: float = 0.08

    def digest(self) -> str:
        """A stable sha256 of the policy, recorded with every decision."""
        blob = json.dumps(asdict(self), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()


@dataclass(frozen=True)
class Settings:
    """Policy plus run context (database, date, where the policy came from)."""

    policy: Policy = field(default_factory=Policy)
    config_path: Path | None = None
    db_url: str | None = None
    as_of: date | None = None
    raw: dict[str, Any] = field(default_factory=dict)


_ENUMS = {
    "subject_action": SubjectAction,
    "ambiguous_action": AmbiguousAction,
    "face_style": Style,
    "text_style": Style,
    "face_mask": MaskShape,
}


def find_config(explicit: Path | None) -> Path | None:
    """The policy file to use: the flag, the environment, ./photoguard.toml, then the user's
    (``photoguard init``); None: the built-in default policy applies."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"policy file not found: {explicit}")
        return explicit
    env = os.environ.get(CONFIG_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV} names a missing file: {path}")
        return path
    local = Path.cwd() / CONFIG_NAME
    if local.is_file():
        return local
    from photoguard.defaults import user_config_file

    user = user_config_file()  # written by `photoguard init`
    return user if user.is_file() else None


def load_settings(
    config: Path | None = None, *, db_url: str | None = None, **overrides: Any
) -> Settings:
    """Build Settings from the policy file and explicit overrides (flags win).

    Raises:
        ConfigError: the file is unreadable or holds an unknown or invalid setting.
    """
    path = find_config(config)
    from photoguard.defaults import builtin_raw

    raw: dict[str, Any] = builtin_raw()  # no policy file: the built-in default policy
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read policy file {path.name}: {exc}") from None
    values = dict(raw.get("policy", {}))
    values.update({k: v for k, v in overrides.items() if v is not None and k != "as_of"})
    policy = policy_from_mapping(values)
    return Settings(
        policy=policy,
        config_path=path,
        db_url=db_url or os.environ.get(DB_ENV) or raw.get("registry", {}).get("url"),
        as_of=overrides.get("as_of"),
        raw=raw,
    )


def policy_from_mapping(values: dict[str, Any]) -> Policy:
    """Validate a ``[policy]`` table into a Policy.

    Raises:
        ConfigError: an unknown key, a wrong type or an out-of-range value.
    """
    known = {f.name: f for f in fields(Policy)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"unknown policy setting(s): {', '.join(unknown)}")
    clean: dict[str, Any] = {}
    defaults = Policy()
    for key, value in values.items():
        default = getattr(defaults, key)
        try:
            if key in _ENUMS:
                value = _ENUMS[key](value)
            elif isinstance(default, tuple):
                if isinstance(value, str):
                    value = [value]
                value = tuple(str(v) for v in value)
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise TypeError
            elif isinstance(default, (int, float)) and not isinstance(value, bool):
                value = type(default)(value)
            elif isinstance(default, str):
                value = str(value)
        except (TypeError, ValueError):
            raise ConfigError(f"invalid value for policy setting {key}: {value!r}") from None
        clean[key] = value
    policy = replace(defaults, **clean)
    if not 0 < policy.subject_share <= 1:
        raise ConfigError("subject_share must be in (0, 1]")
    if policy.face_mask_scale < 1:
        raise ConfigError("face_mask_scale must be at least 1")
    if not policy.face_detectors:
        raise ConfigError("face_detectors may not be empty: every photo needs face detection")
    if policy.barcodes and not policy.barcode_detectors:
        raise ConfigError("barcode_detectors may not be empty while barcodes = true")
    return policy

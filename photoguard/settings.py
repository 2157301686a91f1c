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
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, StrictBool, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

from photoguard.errors import ConfigError
from photoguard.settings_schema import (
    RegistryTable,
    SettingError,
    bounded,
    check_sections,
    compile_pattern,
    one_line,
    split_allow_list,
)

CONFIG_ENV = "PHOTOGUARD_CONFIG"
DB_ENV = "PHOTOGUARD_DB"
CONFIG_NAME = "photoguard.toml"
POLICY_CONFIG = ConfigDict(extra="forbid")


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


@pydantic_dataclass(frozen=True, config=POLICY_CONFIG)
class Policy:
    """Everything that decides a verdict; its hash is recorded with every decision.

    Built only through validation (the file, flags and code alike): an out-of-range value, a
    wrong type, an unknown key or a bad allow-list regex raises ``SettingError`` (a ConfigError)
    naming the key and what is allowed. ``photoguard.toml`` documents every key.
    """

    channel: str = "website"
    purpose: str = "marketing"
    subject_share: float = bounded(0.35, 0, 1, low_open=True)
    """A face whose box covers at least this share of the image is the photo's main subject."""
    subject_action: SubjectAction = SubjectAction.BLOCK
    ambiguous_action: AmbiguousAction = AmbiguousAction.REVIEW
    face_detectors: tuple[str, ...] = ("faces",)
    text: StrictBool = True
    text_detectors: tuple[str, ...] = ("text",)
    """The text stage(s), by registered name: ``text`` finds lines with PP-OCR's DB detector
    plus the glyph finder and reads them with PP-OCR and Tesseract (detect/text.py)."""
    barcodes: StrictBool = True
    barcode_detectors: tuple[str, ...] = ("barcodes",)
    redact_all_text: StrictBool = False
    text_allow: tuple[str, ...] = ()
    """Phrases, and ``/regular expressions/``, that are never PHI (see ``text_allow_phrases``)."""
    barcode_allow: tuple[str, ...] = ()
    """Regular expressions a decoded barcode's whole content may match to be kept."""
    face_style: Style = Style.PIXELATE
    text_style: Style = Style.FILL
    face_mask: MaskShape = MaskShape.ELLIPSE
    face_mask_scale: float = bounded(1.3, 1.0, 3.0)
    text_padding: int = bounded(4, 0, 200)
    max_pixels: int = bounded(120_000_000, 1_000_000, 1_000_000_000)
    match_threshold: float = bounded(0.5, 0, 0.6, low_open=True)
    match_threshold_minor: float = bounded(0.4, 0, 0.6, low_open=True)
    match_margin: float = bounded(0.08, 0, 0.3, low_open=True)

    @field_validator(
        "face_detectors",
        "barcode_detectors",
        "text_detectors",
        "text_allow",
        "barcode_allow",
        mode="before",
    )
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("channel", "purpose")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("may not be empty")
        return value.strip()

    @field_validator("face_detectors")
    @classmethod
    def _detectors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
        if not names:
            raise ValueError("may not be empty: every photo needs face detection")
        return names

    @field_validator("text_allow")
    @classmethod
    def _text_allow(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        split_allow_list(value)
        return value

    @field_validator("barcode_allow")
    @classmethod
    def _barcode_allow(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for source in value:
            compile_pattern(source)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        if self.text and not self.text_detectors:
            raise SettingError("policy", "text_detectors", "may not be empty while text = true")
        if self.barcodes and not self.barcode_detectors:
            raise SettingError(
                "policy", "barcode_detectors", "may not be empty while barcodes = true"
            )
        if self.match_threshold_minor > self.match_threshold:
            raise SettingError(
                "policy",
                "match_threshold_minor",
                f"= {self.match_threshold_minor} is out of range: allowed up to "
                f"match_threshold ({self.match_threshold}); minors are matched more strictly",
            )
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _one_line(cls, data: Any, handler: Any) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            raise one_line(exc, "policy", cls) from None

    @property
    def text_allow_phrases(self) -> tuple[str, ...]:
        """The plain phrases of ``text_allow`` (matched case-insensitively, fuzzily)."""
        return split_allow_list(self.text_allow)[0]

    @property
    def text_allow_patterns(self) -> tuple[str, ...]:
        """The regular expressions of ``text_allow`` (``/.../`` entries), slashes removed."""
        return split_allow_list(self.text_allow)[1]

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
    """The parsed policy file, every section validated (``registry`` holds it typed)."""
    registry: RegistryTable = field(default_factory=RegistryTable)


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

    Every section and key is validated here, once: the stages receive a valid Policy.

    Raises:
        ConfigError: the file is unreadable, or holds an unknown section or key, a wrong type,
            an out-of-range value or a bad regular expression (one line naming the key).
    """
    path = find_config(config)
    from photoguard.defaults import builtin_raw

    raw: dict[str, Any] = builtin_raw()  # no policy file: the built-in default policy
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read policy file {path.name}: {exc}") from None
    try:
        tables = check_sections(raw)
        policy = Policy(**raw.get("policy", {}))
    except SettingError as exc:
        raise exc.located(path.name if path else "") from None
    flags = {k: v for k, v in overrides.items() if v is not None and k != "as_of"}
    try:
        policy = replace(policy, **flags)
    except SettingError as exc:
        raise exc.located("command line") from None
    registry = tables.get("registry")
    return Settings(
        policy=policy,
        config_path=path,
        db_url=db_url or os.environ.get(DB_ENV) or (registry.url if registry else None),
        as_of=overrides.get("as_of"),
        raw=raw,
        registry=registry if isinstance(registry, RegistryTable) else RegistryTable(),
    )


def policy_from_mapping(values: dict[str, Any]) -> Policy:
    """Validate a ``[policy]`` table into a Policy.

    Raises:
        ConfigError: an unknown key, a wrong type or an out-of-range value.
    """
    return Policy(**values)


def require_current_consent(settings: Settings) -> None:
    """Refuse to publish under any consent but today's.

    ``--as-of`` answers "what would the verdict have been on that day" (``check``); a copy
    written now is published now, so a face whose authorization was revoked since must not be
    kept in it.

    Raises:
        ConfigError: ``settings.as_of`` is a day other than today.
    """
    if settings.as_of is not None and settings.as_of != date.today():
        raise ConfigError(
            f"--as-of {settings.as_of.isoformat()} is for check only: redact publishes copies "
            "today, so it judges consent as of today (leave --as-of out)"
        )


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def cap_workers(requested: int) -> tuple[int, str | None]:
    """``requested`` worker processes, at most one per available core, and a note if capped.

    More processes than cores only add memory (each holds its own models) and no speed.
    """
    cores = available_cores()
    if requested <= cores:
        return max(1, requested), None
    return cores, f"--workers {requested} capped at {cores}: the number of cores available"

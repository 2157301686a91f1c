"""The shape of ``photoguard.toml``: ranges, section tables, and one-line errors about them.

``photoguard.settings`` declares the ``[policy]`` keys (``Policy``); this module holds what
validation needs besides: a ``bounded`` field helper that records its allowed range in words,
the ``[registry]`` tables, the list of known sections, and the translation of a pydantic error
into one line that names the key and what is allowed. Adding a setting is one field on
``Policy`` (or on a section model here) plus its line in ``photoguard.toml``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from photoguard.errors import ConfigError

STRICT = ConfigDict(extra="forbid", frozen=True, strict=False)
"""Unknown keys are errors; numbers and booleans are checked strictly field by field."""


class SettingError(ConfigError):
    """One setting is invalid: ``str()`` names the section, the key and what is allowed."""

    def __init__(self, section: str, key: str, detail: str, source: str = "") -> None:
        self.section, self.key, self.detail, self.source = section, key, detail, source
        where = f"{source}: " if source else ""
        name = f" {key}" if key else ""
        super().__init__(f"{where}[{section}]{name} {detail}")

    def located(self, source: str) -> SettingError:
        """The same error, prefixed with the file (or option) the value came from."""
        return SettingError(self.section, self.key, self.detail, source)


def bounded(
    default: float, low: float | None, high: float | None, *, low_open: bool = False
) -> Any:
    """A strictly typed number field in ``[low, high]`` (``(low, high]`` when ``low_open``)."""
    lo, hi = _number(low), _number(high)
    if low is not None and high is not None:
        words = f"more than {lo}, up to {hi}" if low_open else f"{lo} to {hi}"
    elif low is not None:
        words = f"{'more than' if low_open else 'at least'} {lo}"
    else:
        words = f"at most {hi}"
    limits = {"gt" if low_open else "ge": low, "le": high}
    return Field(
        default,
        strict=True,
        json_schema_extra={"allowed": words},
        **{k: v for k, v in limits.items() if v is not None},
    )


def _number(value: float | None) -> str:
    """As TOML would write it: ``120_000_000``, ``0.6``."""
    return f"{value:_}" if isinstance(value, int) and abs(value) >= 10_000 else str(value)


def allowed_words(model: Any, key: str) -> str | None:
    """The allowed range of a ``bounded`` field, in words; None for other fields."""
    info = getattr(model, "__pydantic_fields__", {}).get(key)
    extra = getattr(info, "json_schema_extra", None)
    return extra.get("allowed") if isinstance(extra, dict) else None


def compile_pattern(source: str, flags: int = 0) -> re.Pattern[str]:
    """Compile an allow-list regex now, so a bad one is an error at load, not per file."""
    try:
        return re.compile(source, flags)
    except re.error as exc:
        raise ValueError(f"entry {source!r} is not a valid regular expression ({exc})") from None


def split_allow_list(entries: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``text_allow`` entries -> (phrases, regex sources): ``/.../`` is a regex, else a phrase.

    Every regex is compiled here (case-insensitive, as the text stage searches). A phrase is
    never dropped because a regex happens to equal its inner letters.
    """
    phrases: list[str] = []
    patterns: list[str] = []
    for entry in entries:
        if len(entry) > 2 and entry[0] == entry[-1] == "/":
            compile_pattern(entry[1:-1], re.IGNORECASE)
            patterns.append(entry[1:-1])
        elif entry.strip():
            phrases.append(entry)
        else:
            raise ValueError("may not hold an empty phrase (it would allow every word)")
    return tuple(phrases), tuple(patterns)


# -- [registry] -----------------------------------------------------------------------------------


class FormTable(BaseModel):
    """``[registry.forms."VERSION"]``: the elements printed on one version of the form."""

    model_config = STRICT
    title: str = ""
    discloser: str = ""
    recipients: str = ""
    disclosed: str = ""
    statements: tuple[str, ...] = ()


class RegistryTable(BaseModel):
    """``[registry]``: where the consent registry lives and its form versions."""

    model_config = STRICT
    url: str | None = None
    documents: str | None = None
    default_form: str | None = None
    channels: tuple[str, ...] | None = None
    """Channels the organization publishes on (a typo in ``--channel`` is refused)."""
    purposes: tuple[str, ...] | None = None
    template_retention_days: int = bounded(1095, 1, 1095)
    """BIPA: face templates are purged within three years."""
    forms: dict[str, FormTable] = Field(default_factory=dict)


SECTIONS: dict[str, type[BaseModel] | None] = {"policy": None, "registry": RegistryTable}
"""Known top-level tables; ``policy`` is validated by ``photoguard.settings.Policy``. A new
section registers its model here."""


def check_sections(raw: Mapping[str, Any]) -> dict[str, BaseModel]:
    """Refuse unknown top-level tables and validate every known one except ``[policy]``.

    Raises:
        SettingError: an unknown section or key, or an invalid value.
    """
    tables: dict[str, BaseModel] = {}
    for name, value in raw.items():
        if name not in SECTIONS:
            raise SettingError(name, "", f"is not a section{suggest(name, SECTIONS)}")
        if not isinstance(value, dict):
            raise SettingError(name, "", "must be a table")
        model = SECTIONS[name]
        if model is not None:
            try:
                tables[name] = model.model_validate(value)
            except ValidationError as exc:
                raise one_line(exc, name, model) from None
    return tables


# -- messages -----------------------------------------------------------------------------------


def suggest(word: str, known: Iterable[str]) -> str:
    """``"; did you mean X?"`` for a near miss, else ``""``."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def one_line(exc: ValidationError, section: str, model: Any) -> SettingError:
    """The first error of ``exc`` as one line naming the key and what is allowed."""
    error = exc.errors()[0]
    loc = [str(p) for p in error["loc"]]
    key = ".".join(loc) if loc else "(value)"
    if error["type"] in {"unexpected_keyword_argument", "extra_forbidden"}:
        known = getattr(model, "__pydantic_fields__", {})
        return SettingError(section, key, f"is not a setting{suggest(loc[-1], known)}")
    value = error.get("input")
    shown = "" if isinstance(value, (dict, list, tuple)) else f"= {value!r} "
    allowed = allowed_words(model, loc[0]) if loc else None
    kind = error["type"]
    msg = str(error["msg"]).removeprefix("Value error, ")
    if kind in _RANGE_ERRORS and allowed:
        detail = f"is out of range: allowed {allowed}"
    elif kind == "enum":
        detail = f"must be one of {error.get('ctx', {}).get('expected', '?')}"
    elif kind == "bool_type":
        detail = "must be true or false"
    elif kind in _NUMBER_ERRORS:
        detail = f"must be {'a whole number' if kind.startswith('int') else 'a number'}"
        detail += f" ({allowed})" if allowed else ""
    elif kind == "value_error":
        detail = msg
    else:
        detail = f"is invalid: {msg}"
    return SettingError(section, key, f"{shown}{detail}")


_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_NUMBER_ERRORS = {"int_type", "int_from_float", "int_parsing", "float_type", "float_parsing"}

"""The public API: what the CLI does, as plain functions for scripts and other programs.

    import photoguard

    results = photoguard.check_path("event-photos/", channel="instagram")
    for result in results:
        print(result.path, result.verdict.value, "; ".join(result.reasons))
    copies = photoguard.redact_path("event-photos/", "publish/", channel="instagram")

Runs that use the registry are recorded in its audit trail, like the CLI's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photoguard.settings import Settings, load_settings
from photoguard.types import PhotoResult

if TYPE_CHECKING:
    from photoguard.scan import CheckContext


def load_policy(
    config: str | Path | None = None,
    *,
    db: str | None = None,
    channel: str | None = None,
    purpose: str | None = None,
    as_of: date | None = None,
) -> Settings:
    """The effective settings: a policy file (or the usual search), then these overrides.

    Raises:
        ConfigError: the policy file is missing, unreadable or invalid.
    """
    return load_settings(
        Path(config) if config is not None else None,
        db_url=db,
        channel=channel,
        purpose=purpose,
        as_of=as_of,
    )


def check_path(
    paths: str | Path | Iterable[str | Path],
    *,
    settings: Settings | None = None,
    registry: bool = True,
    workers: int = 1,
    **overrides: Any,
) -> list[PhotoResult]:
    """Check files and folders (recursively); one PhotoResult per input file, in order.

    Args:
        paths: a file, a folder, or several.
        settings: from load_policy(); built from the usual policy file when omitted.
        registry: False treats every face as unconsented and records nothing.
        workers: worker processes.
        overrides: load_policy()'s keywords (channel, purpose, db, as_of), when ``settings``
            is omitted.

    Raises:
        ConfigError, RegistryError, EnvironmentProblem: the run cannot start.
        FileNotFoundError: a named path does not exist.
        TypeError: both ``settings`` and overrides, or an unknown keyword.
    """
    return _run("check", paths, None, settings, overrides, registry, workers)


def redact_path(
    paths: str | Path | Iterable[str | Path],
    out: str | Path,
    *,
    settings: Settings | None = None,
    registry: bool = True,
    workers: int = 1,
    **overrides: Any,
) -> list[PhotoResult]:
    """Write verified publishable copies under ``out``; ``result.output`` names each copy.

    Block and review files get no copy. Keywords and errors as check_path().
    """
    return _run("redact", paths, Path(out), settings, overrides, registry, workers)


def run_context(
    settings: Settings,
    *,
    registry: bool = True,
    exclude: Iterable[Path] = (),
    thumbnails: bool = False,
    workers: int = 1,
) -> CheckContext:
    """What a check or redact run judges against: the policy's detectors made ready and, with
    the registry, the people enrolled for the policy's channel, purpose and date, every
    registered name (the PHI deny-list) and the review decisions to honour.

    Args:
        registry: False treats every face as unconsented (no database is opened).
        exclude: paths never judged (the run's own report files).
        thumbnails: attach a redacted thumbnail to each result (the HTML report).
        workers: the worker processes the run will use; with more than one, the detectors are
            built in the workers, not here (``check_paths`` and ``redact_paths`` build them in
            the first worker before any file: a missing model still stops the run then).

    Raises:
        ConfigError: an unknown channel, purpose or detector.
        EnvironmentProblem: a model or Tesseract is missing.
        RegistryError: the registry cannot be read.
    """
    from photoguard.consent.view import check_scope
    from photoguard.pipeline import CheckContext, preflight

    check_scope(settings, registry)
    preflight(settings, build=workers <= 1)
    if not registry:
        return CheckContext(settings=settings, exclude=tuple(exclude), thumbnails=thumbnails)
    from photoguard.consent.decisions import decisions_for_check
    from photoguard.consent.view import registry_view

    enrolled, names = registry_view(settings)
    return CheckContext(
        settings=settings,
        enrolled=enrolled,
        deny_names=names,
        decisions=decisions_for_check(settings),
        exclude=tuple(exclude),
        thumbnails=thumbnails,
    )


def _run(command, paths, out, settings, overrides, registry, workers):
    from photoguard.pipeline import check_paths, redact_paths

    if settings is not None and overrides:
        raise TypeError(f"give settings or {', '.join(sorted(overrides))}, not both")
    settings = settings or load_policy(**overrides)
    ctx = run_context(settings, registry=registry, workers=workers)
    inputs = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if out is None:
        results = list(check_paths(inputs, ctx, workers))
        if registry and results:
            from photoguard.consent.audit import record_run

            record_run(settings, command, results)
        return results
    if not registry:
        return list(redact_paths(inputs, out, ctx, workers))
    from photoguard.consent.audit import RunRecorder

    recorder = RunRecorder(settings, command)  # each file audited before its copy is published
    try:
        results = list(redact_paths(inputs, out, ctx, workers, before_publish=recorder.file))
    except BaseException:
        recorder.close()
        raise
    if results:
        recorder.finish()
    else:
        recorder.close()
    return results

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

from photoguard.settings import Settings, load_settings
from photoguard.types import PhotoResult


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
    channel: str | None = None,
    purpose: str | None = None,
    db: str | None = None,
    registry: bool = True,
    workers: int = 1,
) -> list[PhotoResult]:
    """Check files and folders (recursively); one PhotoResult per input file, in order.

    Args:
        paths: a file, a folder, or several.
        settings: from load_policy(); built from the usual policy file when omitted.
        channel, purpose, db: overrides when ``settings`` is omitted.
        registry: False treats every face as unconsented and records nothing.
        workers: worker processes.

    Raises:
        ConfigError, RegistryError, EnvironmentProblem: the run cannot start.
        FileNotFoundError: a named path does not exist.
    """
    return _run("check", paths, None, settings, channel, purpose, db, registry, workers)


def redact_path(
    paths: str | Path | Iterable[str | Path],
    out: str | Path,
    *,
    settings: Settings | None = None,
    channel: str | None = None,
    purpose: str | None = None,
    db: str | None = None,
    registry: bool = True,
    workers: int = 1,
) -> list[PhotoResult]:
    """Write verified publishable copies under ``out``; ``result.output`` names each copy.

    Block and review files get no copy. Arguments and errors as check_path().
    """
    return _run("redact", paths, Path(out), settings, channel, purpose, db, registry, workers)


def _run(command, paths, out, settings, channel, purpose, db, registry, workers):
    from photoguard.pipeline import CheckContext, check_paths, preflight, redact_paths

    settings = settings or load_policy(db=db, channel=channel, purpose=purpose)
    preflight(settings)
    enrolled, names = _registry_view(settings) if registry else (None, ())
    decisions = _review_decisions(settings) if registry else ()
    ctx = CheckContext(settings=settings, enrolled=enrolled, deny_names=names, decisions=decisions)
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


def _registry_view(settings: Settings):
    from photoguard.consent.view import registry_view

    return registry_view(settings)


def _review_decisions(settings: Settings):
    from photoguard.consent.decisions import decisions_for_check

    return decisions_for_check(settings)

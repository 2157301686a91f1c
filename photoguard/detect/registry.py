"""Detectors by name: the built-in adapters are imported here, then looked up in ``base``.

The one module that knows every adapter; adapters import only ``base`` (no import cycle).
"""

from __future__ import annotations

from photoguard.detect import barcodes, base, faces, text
from photoguard.detect.base import Detector

BUILTIN_ADAPTERS = (faces, barcodes, text)
"""Importing these registered their factories (their heavy libraries load inside the factories)."""


def names() -> list[str]:
    """All registered detector names."""
    return base.registered()


def known(name: str) -> None:
    """Check that a detector called ``name`` is registered, without building it.

    Raises:
        ConfigError: no detector has that name.
    """
    base.check_name(name)


def get(name: str) -> Detector:
    """The detector called ``name``, built once per process and cached.

    Raises:
        ConfigError: no detector has that name.
        EnvironmentProblem: the detector's library or model is missing.
    """
    return base.build(name)


__all__ = ["BUILTIN_ADAPTERS", "Detector", "get", "known", "names"]

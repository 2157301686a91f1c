"""The detector protocol and the table of detector factories by name.

Adapters (``faces``, ``text``, ``barcodes``) import this module to register their factories;
this module imports none of them (no import cycle). ``photoguard.detect.registry`` is where
callers look detectors up by name: it imports the built-in adapters first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from photoguard.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

    from photoguard.types import Detection, RegionKind


@runtime_checkable
class Detector(Protocol):
    """Finds regions of one kind in an RGB uint8 ``(H, W, 3)`` array.

    ``detect`` returns boxes in the pixel space of the array it was given, with ``frame=0``;
    the pipeline sets the frame index. It raises on failure; it never returns a partial result.
    """

    name: str
    version: str
    kind: RegionKind

    def detect(self, image: np.ndarray) -> list[Detection]: ...


DetectorFactory = Callable[[], Detector]

_FACTORIES: dict[str, DetectorFactory] = {}
_INSTANCES: dict[str, Detector] = {}


def register(name: str) -> Callable[[DetectorFactory], DetectorFactory]:
    """Register a zero-argument factory under ``name`` (decorator)."""

    def wrap(factory: DetectorFactory) -> DetectorFactory:
        _FACTORIES[name] = factory
        return factory

    return wrap


def registered() -> list[str]:
    """Names registered so far (adapters not yet imported are not among them)."""
    return sorted(_FACTORIES)


def check_name(name: str) -> None:
    """Raise ConfigError unless something is registered under ``name``."""
    if name not in _FACTORIES:
        known = ", ".join(sorted(_FACTORIES))
        raise ConfigError(f"unknown detector {name!r} (known: {known})")


def build(name: str) -> Detector:
    """The registered detector called ``name``, built once per process and cached.

    Raises:
        ConfigError: nothing is registered under ``name``.
    """
    check_name(name)
    if name not in _INSTANCES:
        _INSTANCES[name] = _FACTORIES[name]()
    return _INSTANCES[name]

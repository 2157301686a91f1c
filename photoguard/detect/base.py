"""The detector protocol and the registry of detectors by name."""

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


def _load_builtin_adapters() -> None:
    # Importing the adapter modules registers their factories; the modules import their heavy
    # libraries lazily, inside the factories.
    from photoguard.detect import barcodes, faces, text  # noqa: F401


def names() -> list[str]:
    """All registered detector names."""
    _load_builtin_adapters()
    return sorted(_FACTORIES)


def get(name: str) -> Detector:
    """The detector called ``name``, built once per process and cached."""
    _load_builtin_adapters()
    if name not in _FACTORIES:
        known = ", ".join(sorted(_FACTORIES))
        raise ConfigError(f"unknown detector {name!r} (known: {known})")
    if name not in _INSTANCES:
        _INSTANCES[name] = _FACTORIES[name]()
    return _INSTANCES[name]

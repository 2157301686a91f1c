"""Frozen value types shared by every stage.

One geometry convention: ``Box(x0, y0, x1, y1)`` in integer pixels of the EXIF-oriented image,
``x0, y0`` inclusive and ``x1, y1`` exclusive (PIL ``crop`` convention). Adapters convert their
library's convention (dlib's ``top, right, bottom, left``, Tesseract's ``left, top, width,
height``) at the edge and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


class RegionKind(StrEnum):
    """What a region holds."""

    FACE = "face"
    TEXT = "text"
    BARCODE = "barcode"


class Action(StrEnum):
    """What happens to a region in a publishable copy."""

    KEEP = "keep"
    REDACT = "redact"


class Verdict(StrEnum):
    """The decision for one file, from most to least publishable."""

    PASS = "pass"
    REDACT = "redact"
    REVIEW = "review"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        """Rank used to combine verdicts: the worst one wins."""
        return _SEVERITY[self]


_SEVERITY = {Verdict.PASS: 0, Verdict.REDACT: 1, Verdict.REVIEW: 2, Verdict.BLOCK: 3}


@dataclass(frozen=True, slots=True, order=True)
class Box:
    """An axis-aligned pixel box ``[x0, x1) x [y0, y1)``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def from_float(cls, x0: float, y0: float, x1: float, y1: float) -> Box:
        """Round outward so that the box never shrinks."""
        import math

        return cls(math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1))

    @property
    def width(self) -> int:
        return max(0, self.x1 - self.x0)

    @property
    def height(self) -> int:
        return max(0, self.y1 - self.y0)

    @property
    def area(self) -> int:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    def intersection(self, other: Box) -> int:
        """Area shared with ``other``."""
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0

    def iou(self, other: Box) -> float:
        """Intersection over union; 0.0 for empty boxes."""
        inter = self.intersection(other)
        union = self.area + other.area - inter
        return inter / union if union else 0.0

    def clamp(self, width: int, height: int) -> Box:
        """Clip to an image of ``width`` x ``height``."""
        return Box(
            min(max(self.x0, 0), width),
            min(max(self.y0, 0), height),
            min(max(self.x1, 0), width),
            min(max(self.y1, 0), height),
        )

    def scale(self, factor: float) -> Box:
        """Grow (or shrink) about the centre by ``factor``; not clamped."""
        cx, cy = self.center
        hw, hh = self.width * factor / 2, self.height * factor / 2
        return Box.from_float(cx - hw, cy - hh, cx + hw, cy + hh)

    @staticmethod
    def union(boxes: Iterable[Box]) -> Box:
        """The smallest box holding every box in ``boxes`` (at least one)."""
        boxes = list(boxes)
        return Box(
            min(b.x0 for b in boxes),
            min(b.y0 for b in boxes),
            max(b.x1 for b in boxes),
            max(b.y1 for b in boxes),
        )

    def pad(self, pixels: int) -> Box:
        """Grow by ``pixels`` on every side; not clamped."""
        return Box(self.x0 - pixels, self.y0 - pixels, self.x1 + pixels, self.y1 + pixels)

    def to_list(self) -> list[int]:
        return [self.x0, self.y0, self.x1, self.y1]


@dataclass(frozen=True, slots=True)
class MetadataInventory:
    """What metadata the input carried (never its values: they may be PHI)."""

    exif: bool = False
    gps: bool = False
    exif_thumbnail: bool = False
    xmp: bool = False
    iptc: bool = False
    comment: bool = False
    icc_profile: bool = False
    orientation: int = 1

    def findings(self) -> tuple[str, ...]:
        """Names of the metadata blocks that a publishable copy must drop."""
        names = ("exif", "gps", "exif_thumbnail", "xmp", "iptc", "comment")
        return tuple(n for n in names if getattr(self, n))


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """A decoded, oriented, normalised image: every frame as RGB uint8 ``(H, W, 3)``."""

    path: Path
    sha256: str
    format: str
    frames: tuple[np.ndarray, ...]
    metadata: MetadataInventory = field(default_factory=MetadataInventory)
    source_mode: str = "RGB"
    icc_profile: bytes | None = None
    durations_ms: tuple[int, ...] = ()

    @property
    def width(self) -> int:
        return int(self.frames[0].shape[1])

    @property
    def height(self) -> int:
        return int(self.frames[0].shape[0])


@dataclass(frozen=True, slots=True)
class Detection:
    """One thing a detector found, in oriented-pixel space of one frame."""

    kind: RegionKind
    box: Box
    score: float
    detector: str
    frame: int = 0
    label: str = ""
    """For text and barcodes: the PHI kind (``name``, ``mrn``, ...), never the text itself."""
    polygon: tuple[tuple[int, int], ...] | None = None


class MatchStatus(StrEnum):
    """The outcome of matching one face against the consent registry."""

    CONSENTED = "consented"
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"
    EXPIRED = "expired"
    REVOKED = "revoked"
    OUT_OF_SCOPE = "out-of-scope"
    """Authorizations on file cover neither this channel nor this purpose."""
    OUT_OF_CHANNEL = "out-of-channel"
    """Authorizations on file cover the purpose, but not this channel."""
    OUT_OF_PURPOSE = "out-of-purpose"
    """Authorizations on file cover the channel, but not this purpose."""
    NOT_YET_EFFECTIVE = "not-yet-effective"
    """An authorization covers the scope but had not been received by the check date."""
    UNENCODABLE = "unencodable"
    TOO_SMALL = "too-small"
    """Smaller than a face can be recognised: never encoded, unconsented by rule."""
    NOT_CHECKED = "not-checked"
    """No registry was consulted: every face counts as unconsented."""


@dataclass(frozen=True, eq=False)
class EnrolledPerson:
    """One enrolled person as the matcher sees them for one channel, purpose and date.

    Built by the consent registry (``templates_for_matching``), read by ``match`` and by
    ``outputs.run_key``. ``status`` is CONSENTED (with ``authorization``), REVOKED, EXPIRED,
    NOT_YET_EFFECTIVE, or OUT_OF_CHANNEL / OUT_OF_PURPOSE / OUT_OF_SCOPE (see
    ``consent.records.decide_coverage``); ``authorization`` names the one that decided it.
    """

    person: str
    encodings: np.ndarray
    """Shape (n, 128), float64."""
    minor: bool
    status: MatchStatus
    authorization: str | None = None


@dataclass(frozen=True, slots=True)
class FaceMatch:
    """Who a face is, as far as consent goes; never carries the encoding."""

    status: MatchStatus
    authorization: str | None = None
    distance: float | None = None
    candidates: tuple[str, ...] = ()
    """For an ambiguous match: the valid authorizations of the people it may be (for review)."""
    reviewed: bool = False
    """A person decided this face in review (``photoguard review``); see match.apply_reviews."""

    @property
    def consented(self) -> bool:
        return self.status is MatchStatus.CONSENTED and self.authorization is not None


@dataclass(frozen=True, slots=True)
class DetectorRun:
    """That a detector ran on a file, which version, and whether it finished."""

    name: str
    version: str
    ok: bool
    seconds: float = 0.0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Region:
    """A region of the output and what happens to it."""

    kind: RegionKind
    box: Box
    action: Action
    frame: int = 0
    label: str = ""
    detector: str = ""
    score: float = 0.0
    authorization: str | None = None
    match: str | None = None
    polygon: tuple[tuple[int, int], ...] | None = None
    """For tilted text and barcodes: the rotated outline; the box is its bounding box."""
    candidates: tuple[str, ...] = ()
    """For a face with an ambiguous match: the authorizations a reviewer may confirm."""
    reviewed: bool = False
    """For a face: its match was decided by a person in review."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy decided for one image."""

    verdict: Verdict
    reasons: tuple[str, ...]
    regions: tuple[Region, ...]


@dataclass(frozen=True, slots=True)
class PhotoResult:
    """Everything the report needs about one input file; no pixels, no PHI."""

    path: Path
    sha256: str | None
    verdict: Verdict
    reasons: tuple[str, ...]
    regions: tuple[Region, ...] = ()
    detectors: tuple[DetectorRun, ...] = ()
    width: int | None = None
    height: int | None = None
    frames: int = 0
    format: str | None = None
    metadata: tuple[str, ...] = ()
    error: str | None = None
    seconds: float = 0.0
    output: Path | None = None
    output_sha256: str | None = None
    skipped: bool = False
    """True when ``redact`` found an up-to-date output from an earlier run and left it."""
    thumbnail: bytes | None = field(default=None, repr=False)
    """A small JPEG of the *redacted* first frame, for the HTML report; None when the file was
    not fully checked (an incomplete check could leave a face uncovered)."""


@dataclass(frozen=True, slots=True)
class FaceFinding:
    """A detected face and what matching said about it."""

    detection: Detection
    match: FaceMatch = field(default_factory=lambda: FaceMatch(MatchStatus.NOT_CHECKED))


UNREADABLE = "unreadable"
"""The label of text found but not read with confidence (detect.text), and of a code located but
not decoded (detect.barcodes): redacted, counted apart from PHI and decoded codes."""

READ_SAFE = "read-safe"
"""The label of a text line read with confidence and classified not PHI: published. Such lines
travel apart from ``Findings.text`` (``Findings.read``), as boxes only, to verification."""

READ_SAFE_LETTERS = "read-safe-letters"
"""``READ_SAFE``, for a line none of whose readings holds a digit ("Please knock"): the only
published lines on whose untouched pixels verification excuses an unreadable re-check line
(``verify._read_before``). Digits are where a confident misreading hides PHI ("7/3/26" read
"7326"); a reading of letters only is never a date, an MRN or a phone number."""

READ_LABELS = (READ_SAFE, READ_SAFE_LETTERS)
"""The labels of published lines (``Findings.read``)."""


@dataclass(frozen=True, slots=True)
class Findings:
    """Everything the detect and match stages found in one image: the input of ``decide``."""

    width: int
    height: int
    faces: tuple[FaceFinding, ...] = ()
    text: tuple[Detection, ...] = ()
    barcodes: tuple[Detection, ...] = ()
    runs: tuple[DetectorRun, ...] = ()
    metadata: tuple[str, ...] = ()
    read: tuple[Detection, ...] = ()
    """Text lines published as read safe (labels ``READ_LABELS``): not regions, never their
    text; verification excuses an unreadable re-check line on the untouched pixels of those
    labelled ``READ_SAFE_LETTERS``."""


@dataclass(frozen=True, slots=True)
class OcrWord:
    """One word read by OCR; ``conf`` in 0..100; ``box`` in input pixels; ``quad`` its four
    corners (clockwise from top-left of the upright word), tighter than ``box`` for tilted text."""

    text: str = field(repr=False)
    conf: float
    box: Box
    quad: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class OcrLine:
    """Words of one text line in reading order, their union box, and which reader read them
    (``ppocr``, ``tesseract``)."""

    words: tuple[OcrWord, ...]
    box: Box
    reader: str = ""

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True, slots=True)
class TextLine:
    """A detected text line and what each reader made of it.

    ``quad`` is the line's rotated outline in input pixels; ``readings`` holds one ``OcrLine``
    per reader that produced words; ``confident`` says whether the line was read with
    confidence (calibrated per reader, see ``detect.text``). ``source`` names the detector
    that found the line (``db``, ``glyphs``)."""

    quad: tuple[tuple[float, float], ...]
    readings: tuple[OcrLine, ...]
    confident: bool
    source: str = ""
    size: tuple[int, int] = (0, 0)
    """(width, height) of the image: ``box`` is clamped to it (the quad may reach past it)."""
    fill: tuple[tuple[float, float], ...] = ()
    """The outline a redaction of the line covers: ``quad`` grown along the line over the ink
    that continues it (``detect.linereach``); empty: ``quad``."""

    @property
    def box(self) -> Box:
        xs, ys = [p[0] for p in self.quad], [p[1] for p in self.quad]
        box = Box.from_float(min(xs), min(ys), max(xs), max(ys))
        return box.clamp(*self.size) if self.size != (0, 0) else box

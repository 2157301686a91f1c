"""Stage 4, decide: findings + policy -> verdict, reasons and regions. Pure.

Reasons name detectors, kinds, counts and authorization ids, never a person's name or the text
that was found. The worst outcome wins: block > review > redact > pass.
"""

from __future__ import annotations

from collections import Counter

from photoguard.lines import beside_only, clear_of_read
from photoguard.settings import AmbiguousAction, Policy, SubjectAction
from photoguard.tracks import distinct_faces
from photoguard.types import (
    UNREADABLE,
    Action,
    Decision,
    FaceFinding,
    Findings,
    MatchStatus,
    Region,
    RegionKind,
    Verdict,
)

_UNCONSENTED_WHY = {
    MatchStatus.NOT_CHECKED: "no consent registry consulted",
    MatchStatus.UNKNOWN: "matches no enrolled person",
    MatchStatus.AMBIGUOUS: "match is ambiguous",
    MatchStatus.EXPIRED: "authorization expired",
    MatchStatus.REVOKED: "authorization revoked",
    MatchStatus.NOT_YET_EFFECTIVE: "authorization not yet received on the check date",
    MatchStatus.OUT_OF_CHANNEL: "authorization does not cover the channel {channel}",
    MatchStatus.OUT_OF_PURPOSE: "authorization does not cover the purpose {purpose}",
    MatchStatus.OUT_OF_SCOPE: "authorization covers neither the channel {channel} nor the "
    "purpose {purpose}",
    MatchStatus.UNENCODABLE: "face cannot be recognised (turned, masked or too small)",
    MatchStatus.TOO_SMALL: "face too small to recognise: unconsented by rule",
}

REQUIRED_STAGES = {
    "faces": "face detection",
    "text": "text detection (OCR; turned off by --no-text or text = false)",
    "barcodes": "barcode detection (turned off by --no-barcodes or barcodes = false)",
}
"""Every stage that must have run completely on a file before it may pass."""


def text_outside_allowed_codes(text, barcodes) -> list:
    """Text detections, less the unreadable "lines" that are the modules of an allow-listed code.

    A decoded, allow-listed code is kept; the text detector can see its bars as a line that no
    reader reads. Such a line (at least 80 % inside the code's box, same frame) is the code, not
    text. A line that reads as PHI is never dropped.
    """
    allowed = [b for b in barcodes if b.label == "allowed"]
    return [
        d
        for d in text
        if d.label != UNREADABLE
        or not any(
            b.frame == d.frame and b.box.intersection(d.box) >= 0.8 * max(1, d.box.area)
            for b in allowed
        )
    ]


def _distinct(faces) -> int:
    """How many people these face findings are: one face followed across frames counts once."""
    return distinct_faces(f.detection for f in faces)


def decide(findings: Findings, policy: Policy) -> Decision:
    """Decide what may be published.

    A file passes only when every required stage ran completely and found nothing to change:
    a stage that did not run makes it at best ``review``; one that failed blocks it. Metadata
    blocks (EXIF, GPS, an EXIF thumbnail, XMP, IPTC, comments) are not read, so any of them may
    identify a patient: the original is not publishable as it is (``redact``: the copy has none).

    Args:
        findings: what detection and matching found in one image.
        policy: the verdict rules.

    Returns:
        The verdict, the reasons behind it and every region with its action.
    """
    verdict = Verdict.PASS
    reasons: list[str] = []

    def escalate(to: Verdict, reason: str) -> None:
        nonlocal verdict
        if to.severity > verdict.severity:
            verdict = to
        reasons.append(reason)

    _decide_runs(findings, escalate)
    regions = [_face_region(face) for face in findings.faces]
    image_area = max(1, findings.width * findings.height)
    _decide_faces(findings.faces, image_area, policy, escalate)

    regions += _decide_text(findings, policy.text_padding, escalate)
    regions += _decide_barcodes(findings.barcodes, escalate, reasons.append)
    if findings.metadata:
        escalate(
            Verdict.REDACT,
            f"metadata to strip: {', '.join(findings.metadata)} (may identify a patient; "
            "the copy carries none)",
        )
    if verdict is Verdict.PASS:
        reasons.append("nothing that identifies a patient was found")
    return Decision(verdict=verdict, reasons=tuple(reasons), regions=tuple(regions))


def _decide_text(findings: Findings, padding: int, escalate) -> list[Region]:
    """Redact PHI text and text not read with confidence (an allowed code's text is the code).

    A PHI line's fill stops short of a published line beside it (``clear_of_read``)."""
    text = text_outside_allowed_codes(findings.text, findings.barcodes)
    phi = [d for d in text if d.label != UNREADABLE]
    if phi:
        kinds = Counter(d.label or "text" for d in phi)
        escalate(Verdict.REDACT, f"PHI text to redact: {_count(kinds)}")
    unread = len(text) - len(phi)
    if unread:
        escalate(
            Verdict.REDACT, f"text not read with confidence: {_plural(unread, 'region')} to redact"
        )
    regions = [_region(d) for d in text]
    beside = beside_only(findings.read, regions)
    return [clear_of_read(r, beside, padding) for r in regions]


def _decide_barcodes(barcodes, escalate, note) -> list[Region]:
    """Redact every code not on the allow-list, and every code that could not be read."""
    codes = [d for d in barcodes if d.label not in ("allowed", "unreadable")]
    if codes:
        escalate(Verdict.REDACT, f"{_plural(len(codes), 'barcode')} to redact")
    unread = [d for d in barcodes if d.label == "unreadable"]
    if unread:
        escalate(
            Verdict.REDACT, f"{_plural(len(unread), 'barcode')} found but not readable: redacted"
        )
    allowed = len(barcodes) - len(codes) - len(unread)
    if allowed:
        note(f"{_plural(allowed, 'barcode')} kept: content on the allow-list")
    return [_region(d) for d in barcodes]


def _decide_runs(findings: Findings, escalate) -> None:
    """Block on a stage that failed; review when a required stage did not run at all."""
    for run in findings.runs:
        if not run.ok:
            escalate(Verdict.BLOCK, f"not fully checked: detector {run.name} failed ({run.error})")
    ran = {run.name for run in findings.runs}
    for stage, what in REQUIRED_STAGES.items():
        if stage not in ran:
            escalate(Verdict.REVIEW, f"not fully checked: {what} did not run")


def _decide_faces(faces, image_area, policy: Policy, escalate) -> None:
    kept = [f for f in faces if f.match.consented]
    if kept:
        ids = sorted({f.match.authorization for f in kept if f.match.authorization})
        confirmed = sum(f.match.reviewed for f in kept)
        note = f" ({confirmed} confirmed in review)" if confirmed else ""
        escalate(
            Verdict.PASS, f"{_plural(_distinct(kept), 'face')} kept under {', '.join(ids)}{note}"
        )
    unconsented = [f for f in faces if not f.match.consented]
    if not unconsented:
        return
    ambiguous = [f for f in unconsented if f.match.status is MatchStatus.AMBIGUOUS]
    # An ambiguous face may be a consented person: a reviewer decides, so the subject rule
    # does not block it (it is still redacted if the reviewer does not confirm).
    subjects = [
        f
        for f in unconsented
        if f not in ambiguous and f.detection.box.area / image_area >= policy.subject_share
    ]
    if ambiguous:
        to = Verdict.REVIEW if policy.ambiguous_action is AmbiguousAction.REVIEW else Verdict.BLOCK
        escalate(
            to,
            f"{_plural(_distinct(ambiguous), 'face')} with an ambiguous match: confirm who it is",
        )
    if subjects:
        why = _why(subjects, policy)
        share = f"{policy.subject_share:.0%}"
        if policy.subject_action is SubjectAction.BLOCK:
            escalate(
                Verdict.BLOCK,
                f"main subject has no valid authorization ({why}; face covers >= {share} "
                "of the image): redaction would defeat the photo",
            )
        else:
            escalate(Verdict.REDACT, f"main subject to redact ({why})")
    # Each face is counted once: ambiguous faces are in their own reason above.
    others = [f for f in unconsented if f not in subjects and f not in ambiguous]
    if others:
        escalate(
            Verdict.REDACT,
            f"{_plural(_distinct(others), 'unconsented face')} to redact ({_why(others, policy)})",
        )


def _why(faces: list[FaceFinding], policy: Policy) -> str:
    scope = {"channel": repr(policy.channel), "purpose": repr(policy.purpose)}
    statuses = Counter(
        "ruled out in review" if f.match.reviewed and f.match.status is MatchStatus.UNKNOWN
        else _UNCONSENTED_WHY.get(f.match.status, f.match.status.value).format(**scope)
        for f in faces
    )  # fmt: skip
    return "; ".join(statuses)


def _face_region(face: FaceFinding) -> Region:
    d = face.detection
    return Region(
        kind=RegionKind.FACE,
        box=d.box,
        action=Action.KEEP if face.match.consented else Action.REDACT,
        frame=d.frame,
        detector=d.detector,
        score=d.score,
        authorization=face.match.authorization if face.match.consented else None,
        match=face.match.status.value,
        candidates=face.match.candidates,
        reviewed=face.match.reviewed,
    )


def _region(d) -> Region:
    return Region(
        kind=d.kind,
        box=d.box,
        frame=d.frame,
        action=Action.KEEP if d.label == "allowed" else Action.REDACT,
        label=d.label,
        detector=d.detector,
        score=d.score,
        polygon=d.polygon,
    )


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _count(kinds: Counter) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))

"""PHI classification over OCR lines: pure functions, no I/O, no OCR.

``classify`` turns ``OcrLine``s into ``Detection``s of kind TEXT whose ``label`` is the PHI kind
(``name``, ``dob``, ``mrn``, ...), never the text. Rules, in order of strength:

1. labelled fields (``DOB:``, ``MRN``, ``Patient:``, ``Tel``, ...): the value after the label is
   redacted as the label's kind whatever OCR made of it (fail closed);
2. patterns: dates, phone/fax, SSN, email, URL, ages over 89, street addresses, state + ZIP,
   long digit runs (record/account numbers), ``LAST, FIRST``, ``Mr./Ms. X``, ``J. Smith``,
   capitalised word pairs containing a given name, a given name before an initial ("Mei O.")
   or alone on its line (not after a staff role), glued capitals holding a given name, and the
   capitalised word after a bed or room number (``phi_names``; given names from
   ``phi_patterns.GIVEN`` and the shipped ``phi_names.txt``);
3. the deny-list of registry names, matched with OCR-tolerant fuzzy matching;
4. low-confidence words on a line (or next to a line) with PHI are redacted as ``unreadable``.

The organisation's allow-list (literal phrases, fuzzy; or regexes) exempts words from 2 and 4,
never from 1 and 3.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from photoguard.detect import phi_names as names
from photoguard.detect import phi_patterns as pat
from photoguard.detect import wordgeom as geom
from photoguard.detect.phi_words import capitalised as _capitalised
from photoguard.detect.phi_words import close as _close
from photoguard.detect.phi_words import digitish as _digitish
from photoguard.detect.phi_words import edit_distance as edit_distance
from photoguard.detect.phi_words import glued_name as _glued_name
from photoguard.detect.phi_words import norm as _norm
from photoguard.detect.phi_words import old_age as _old_age
from photoguard.detect.phi_words import plausible_date as _plausible_date
from photoguard.detect.phi_words import young_age as _young_age
from photoguard.types import Box, Detection, OcrLine, RegionKind

NAME = "phi-text"
VERSION = "10"


@dataclass(frozen=True, slots=True)
class PhiRules:
    """What counts as PHI beyond the built-in patterns.

    ``deny_names``: full names from the consent registry (always redacted). ``allow``: phrases
    that are never PHI (the organisation's name, signage), matched OCR-tolerantly.
    ``allow_patterns``: regexes searched in a line's text (case-insensitive). ``redact_all_text``:
    every word that is not allow-listed is redacted (label ``text``). ``min_conf``: below this
    Tesseract confidence a word counts as unreadable.
    """

    deny_names: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    allow_patterns: tuple[str, ...] = ()
    redact_all_text: bool = False
    min_conf: float = 50.0
    name_conf: float = 60.0
    """Unlabelled name patterns (``LAST, FIRST``, a given name beside a capitalised word) need
    every word read at least this confidently: photo textures read as garbage words otherwise."""


@dataclass(frozen=True, slots=True)
class _Line:
    """A line prepared for matching: words, their text spans and normalised forms."""

    line: OcrLine
    text: str
    spans: tuple[tuple[int, int], ...]


def classify(lines: Sequence[OcrLine], rules: PhiRules | None = None) -> list[Detection]:
    """Label the PHI in OCR lines.

    Args:
        lines: what ``read_text`` returned.
        rules: deny/allow lists and policy switches; defaults to ``PhiRules()``.

    Returns:
        TEXT detections, one per run of words of one kind, ``label`` = PHI kind.
    """
    rules = rules or PhiRules()
    prepared = [_prepare(line) for line in geom.join_collinear([ln for ln in lines if ln.words])]
    carers = names.after_staff(prepared)
    kinds = [_kinds_of(p, rules, carer) for p, carer in zip(prepared, carers, strict=True)]
    _spread_labels_right(prepared, kinds)
    _fail_closed(prepared, kinds, rules)
    out: list[Detection] = []
    for p, ks in zip(prepared, kinds, strict=True):
        out.extend(_runs(p, ks))
    return out


def _prepare(line: OcrLine) -> _Line:
    spans, pos = [], 0
    for w in line.words:
        spans.append((pos, pos + len(w.text)))
        pos += len(w.text) + 1
    return _Line(line, " ".join(w.text for w in line.words), tuple(spans))


def _words_in(p: _Line, start: int, end: int) -> list[int]:
    return [i for i, (a, b) in enumerate(p.spans) if a < end and b > start]


def _kinds_of(p: _Line, rules: PhiRules, carer: bool = False) -> list[str | None]:
    """Per word: its PHI kind, ``"allowed"``, or None. ``carer``: the line follows a staff
    role (``_after_staff``)."""
    n = len(p.line.words)
    kinds: list[str | None] = [None] * n
    allowed = _allowed_words(p, rules)
    numeric = " ".join(_digitish(w.text) for w in p.line.words)
    if rules.redact_all_text:
        for i, w in enumerate(p.line.words):
            if any(c.isalnum() for c in w.text):
                kinds[i] = "text"
    for kind, rx in pat.PATTERNS:
        # numbers as read and with letter-for-digit swaps undone; both, since undoing them
        # in a token that is mostly digits also turns the month of "05-Dec-1978" into "0ec"
        numbers = (numeric, p.text) if kind in ("ssn", "phone", "date", "mrn") else (p.text,)
        for m in (m for source in numbers for m in rx.finditer(source)):
            if kind == "date" and not _plausible_date(m.group(0)):
                continue
            hit = _words_in(p, m.start(), m.end())
            if kind == "name" and min(p.line.words[i].conf for i in hit) < rules.name_conf:
                continue  # "Ms ee" read from texture: as unlabelled names, needs confidence
            for i in hit:
                if kinds[i] in (None, "text", "mrn"):
                    kinds[i] = kind
    for i in _address_words(p):
        if kinds[i] in (None, "text", "mrn"):
            kinds[i] = "address"
    for group in _name_words(p, carer):
        # every word of the name read confidently, not just one ("SMS, BAY" from a giraffe)
        if min(p.line.words[i].conf for i in group) >= rules.name_conf:
            for i in group:
                kinds[i] = kinds[i] if kinds[i] not in (None, "text") else "name"
    for i in allowed:
        kinds[i] = "allowed"
    for start, end, stop, kind in _labelled_values(p, rules.min_conf):
        value = _words_in(p, end, stop)
        if kind == "age":
            words = [p.line.words[i] for i in value]
            young = _young_age(words)
            value = [] if young else [i for i in value if _old_age(p.line.words[i])]
        for i in (*_words_in(p, start, end), *value) if value else ():
            kinds[i] = kind
    for i in _deny_words(p, rules.deny_names):
        kinds[i] = "name"
    return kinds


def _labelled_values(p: _Line, min_conf: float) -> Iterable[tuple[int, int, int, str]]:
    """(start, end, stop, kind) of each labelled field: the label from start to end, its value
    from there up to the next label or the end. The label is redacted with its value: left
    beside a covered value, the re-check of the copy read it with the cover's edge as a new
    field, one round after another (a form that did not converge in 3 rounds).

    A label without its colon (``Age 92``, ``MRN 004829``) counts only when OCR read it with
    confidence: in the garbage Tesseract reads from photo textures, words such as ``age`` or
    ``fin`` turn up at random and would label the rest of the line."""
    text = p.text
    found = [
        (m.start(), m.end(), pat.LABELS[int(m.lastgroup[1:])][1])
        for m in pat.LABEL_RE.finditer(text)
        if ":" in m.group(0)
        or ";" in m.group(0)
        or min(p.line.words[i].conf for i in _words_in(p, m.start(), m.end())) >= min_conf
    ]
    for k, (start, end, kind) in enumerate(found):
        stop = found[k + 1][0] if k + 1 < len(found) else len(text)
        # a "value" of punctuation only is the edge of a box or a rule line read as a dash
        if stop > end and any(c.isalnum() for c in text[end:stop]):
            yield start, end, stop, kind


def _name_words(p: _Line, carer: bool = False) -> list[tuple[int, ...]]:
    """Words that look like a person's name without a label, one group of word indices per
    candidate name (a given name alone on its line is none after a staff role: ``carer``)."""
    groups: list[tuple[int, ...]] = []
    for rx in (pat.LAST_FIRST, pat.INITIAL):
        for m in rx.finditer(p.text):
            parts = re.findall(r"[A-Za-z'-]+", m.group(0))
            if not any(x.lower() in pat.NOT_NAME for x in parts if len(x) > 1):
                groups.append(tuple(_words_in(p, m.start(), m.end())))
    words = [re.sub(r"[^A-Za-z'-]", "", w.text) for w in p.line.words]
    alpha = [i for i, w in enumerate(words) if w]  # neighbours skip OCR debris such as "|"
    groups += names.given_names(p, words, alpha, carer)
    groups += [(i,) for i, w in enumerate(words) if _glued_name(w)]
    groups += names.after_bed(p, words)
    # DICOM-style overlays: "LAST FIRST [M]" -- up to three capitalised words before a sex marker
    for m in pat.SEX_MARKER.finditer(p.text):
        before = [i for i in _words_in(p, 0, m.start()) if _capitalised(words[i])][-3:]
        if before:
            groups.append(tuple(before))
    return [g for g in groups if g]


def _address_words(p: _Line) -> set[int]:
    """``<number> <Word>{1,3} <street suffix>``; the suffix matched OCR-tolerantly (Bivd)."""
    words = [_norm(w.text) for w in p.line.words]
    raw = [w.text for w in p.line.words]
    hits: set[int] = set()
    for i, w in enumerate(words):
        if not (w.isdigit() and len(w) <= 6):
            continue
        for j in range(i + 2, min(i + 5, len(words))):
            if not raw[j - 1][:1].isupper():
                break
            if (
                any(_close(words[j], sfx) for sfx in pat.SUFFIXES if len(sfx) >= 4)
                or words[j] in pat.SUFFIXES
            ):
                hits.update(range(i, j + 1))
                break
    return hits


def _phrase_hits(p: _Line, phrase: str) -> set[int]:
    target = [t for t in (_norm(x) for x in phrase.split()) if t]
    words = [_norm(w.text) for w in p.line.words]
    hits: set[int] = set()
    for s in range(len(words) - len(target) + 1):
        if target and all(_close(words[s + k], t) for k, t in enumerate(target)):
            hits.update(range(s, s + len(target)))
    return hits


def _allowed_words(p: _Line, rules: PhiRules) -> set[int]:
    hits: set[int] = set()
    for phrase in rules.allow:
        hits |= _phrase_hits(p, phrase)
    for rx in rules.allow_patterns:
        for m in re.finditer(rx, p.text, re.IGNORECASE):
            hits.update(_words_in(p, m.start(), m.end()))
    return hits


def _deny_words(p: _Line, names: Iterable[str]) -> set[int]:
    hits: set[int] = set()
    for name in names:
        for part in name.split():
            if len(_norm(part)) >= 3:
                hits |= _phrase_hits(p, part)
    return hits


def _spread_labels_right(prepared: list[_Line], kinds: list[list[str | None]]) -> None:
    """A line that ends in a label takes its value from the next line along its text direction
    (and the label is redacted with it)."""
    for a, p in enumerate(prepared):
        m = None
        for m in pat.LABEL_RE.finditer(p.text):  # noqa: B007 - we want the last label
            pass
        if m is None or p.text[m.end() :].strip():
            continue
        kind = pat.LABELS[int(m.lastgroup[1:])][1]
        last = p.line.words[-1]
        (ux, uy), h = geom.direction(last), geom.height(last)
        ex, ey = geom.end_point(last)
        for b, q in enumerate(prepared):
            if b == a:
                continue
            sx, sy = geom.start_point(q.line.words[0])
            along = (sx - ex) * ux + (sy - ey) * uy
            across = abs(-(sx - ex) * uy + (sy - ey) * ux)
            if -0.5 * h <= along < 4 * h and across < 0.6 * h and not _starts_labelled(q):
                kinds[b] = [kind if k != "allowed" else k for k in kinds[b]]
                # the label goes with its value: left alone beside the covered value, the
                # re-check of the copy reads the cover's edge as a new value, round after round
                for i in _words_in(p, m.start(), m.end()):
                    kinds[a][i] = kind if kinds[a][i] != "allowed" else "allowed"


def _starts_labelled(q: _Line) -> bool:
    """A line that begins with a label is the next field, not the value of the one before
    (in a copy whose values are covered, "Phone:" is followed by "Email:")."""
    m = pat.LABEL_RE.search(q.text)
    return m is not None and not q.text[: m.start()].strip(" |_-")


def _fail_closed(prepared: list[_Line], kinds: list[list[str | None]], rules: PhiRules) -> None:
    """Low-confidence words close to PHI read with confidence become ``unreadable``.

    Only word-sized ones within a few text heights of that PHI: a smear as tall as the PHI text
    next to it is withheld; a thin sliver read off a card's edge (OCR's usual conf-0 garbage),
    or photo texture elsewhere in the frame, is not.
    """
    anchors = [
        (w.box, geom.height(w))
        for p, ks in zip(prepared, kinds, strict=True)
        for w, k in zip(p.line.words, ks, strict=True)
        if k not in (None, "allowed") and w.conf >= rules.min_conf
    ]
    if not anchors:
        return
    for p, ks in zip(prepared, kinds, strict=True):
        if not any(geom.near(p.line.box, box) for box, _h in anchors):
            continue
        lone = len(p.line.words) == 1
        for i, w in enumerate(p.line.words):
            near = [h for box, h in anchors if geom.gap(w.box, box) <= 3 * h]
            if not near:
                continue
            ref = sorted(near)[len(near) // 2]
            if lone and ks[0] is None and re.fullmatch(r"(9\d|1[01]\d)", w.text):
                ks[0] = "age"  # a lone 90-119 beside PHI: an age whose label OCR lost
            elif (
                ks[i] is None
                and w.conf < rules.min_conf
                and sum(c.isalnum() for c in w.text) >= 2
                and 0.6 * ref <= geom.height(w) <= 1.6 * ref  # text of the same size, not texture
            ):
                ks[i] = "unreadable"


def _run_polygon(run) -> tuple[tuple[int, int], ...] | None:
    """The run's words as one rotated quad (rounded outward by a pixel), when OCR gave quads."""
    quads = [w.quad for w in run]
    if not all(len(q) == 4 for q in quads):
        return None
    # words of one line share the line's rotation: first word's left edge, last word's right
    (x0, y0), _, _, (x3, y3) = quads[0]
    _, (x1, y1), (x2, y2), _ = quads[-1]
    return tuple(
        (round(x), round(y))
        for x, y in ((x0 - 1, y0 - 1), (x1 + 1, y1 - 1), (x2 + 1, y2 + 1), (x3 - 1, y3 + 1))
    )


def _runs(p: _Line, kinds: list[str | None]) -> list[Detection]:
    out: list[Detection] = []
    i, words = 0, p.line.words
    while i < len(words):
        kind = kinds[i]
        j = i + 1
        while j < len(words) and kinds[j] == kind:
            j += 1
        if kind not in (None, "allowed"):
            run = words[i:j]
            box = Box.union(w.box for w in run)
            score = min(1.0, max(0.0, sum(w.conf for w in run) / (100.0 * len(run))))
            out.append(
                Detection(RegionKind.TEXT, box, score, NAME, label=kind, polygon=_run_polygon(run))
            )
        i = j
    return out

"""Unlabelled name rules behind ``phi.classify`` that need more than one word's shape: a given
name (``phi_patterns.NAMES``) beside a capitalised word, before an initial or alone on its line,
a staff role that makes a lone given name the carer's, and the surname after a bed number.
Each takes a prepared line (``phi._Line``: ``line``, ``text``, ``spans``)."""

from __future__ import annotations

import re

from photoguard.detect import phi_patterns as pat
from photoguard.detect import wordgeom as geom
from photoguard.detect.phi_words import capitalised as _capitalised


def given_names(p, words: list[str], alpha: list[int], carer: bool) -> list[tuple]:
    """A capitalised given name (``phi_patterns.NAMES``) beside a capitalised word ("Priya
    Moreau", "Okafor Mei"), before a surname's initial ("Mei O."), or alone on its line (a
    whiteboard's "Priya"); never beside a staff role ("Nurse: Tom")."""
    groups: list[tuple[int, ...]] = []
    staff = [pat.STAFF.fullmatch(words[i]) is not None for i in range(len(words))]
    for k, i in enumerate(alpha):
        w = words[i]
        if w.lower() not in pat.NAMES or not w[:1].isupper() or staff[i]:
            continue
        before = alpha[k - 1] if k else None
        after = alpha[k + 1] if k + 1 < len(alpha) else None
        if any(j is not None and staff[j] for j in (before, after)):
            continue  # the carer's name
        for j in (before, after):
            if j is not None and _capitalised(words[j]):
                groups.append((i, j))
        if after is not None and re.fullmatch(r"[A-Z]\.?,?", p.line.words[after].text):
            groups.append((i, after))  # "Mei O.": the surname's initial
        if len(alpha) == 1 and len(w) >= 3 and not carer:
            groups.append((i,))  # a given name alone on its line
    return groups


def after_staff(prepared: list) -> list[bool]:
    """Whether each line starts just after a line that ends in a staff role, along its text
    direction ("Nurse:" and "Tom" found as two lines): a given name alone there is the carer's."""
    ends = []
    for p in prepared:
        last = p.line.words[-1]
        if pat.STAFF.fullmatch(re.sub(r"[^A-Za-z]", "", last.text)):
            ends.append((geom.end_point(last), geom.direction(last), geom.height(last)))
    out = []
    for q in prepared:
        sx, sy = geom.start_point(q.line.words[0])
        out.append(
            any(
                -0.5 * h <= (sx - ex) * ux + (sy - ey) * uy < 4 * h
                and abs(-(sx - ex) * uy + (sy - ey) * ux) < 0.6 * h
                for (ex, ey), (ux, uy), h in ends
            )
        )
    return out


def after_bed(p, words: list[str]) -> list[tuple[int, ...]]:
    """The capitalised word right after a bed or room number ("Bed 12 Smith", "Rm 4 - GARCIA"):
    the occupant's surname (not a department or a place: ``NOT_NAME``)."""
    groups: list[tuple[int, ...]] = []
    for m in pat.BED.finditer(p.text):
        after = [i for i in range(len(p.spans)) if p.spans[i][0] >= m.end()]
        after = [i for i in after if any(c.isalpha() for c in words[i])][:1]
        if after and _capitalised(words[after[0]]) and len(words[after[0]]) >= 3:
            groups.append((after[0],))
    return groups

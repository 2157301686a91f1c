"""Geometry of OCR words for PHI classification: direction, height, ends, distances, and the
joining of lines that continue one another."""

from __future__ import annotations

from photoguard.types import Box, OcrLine

_COS_10_DEG = 0.9848


def join_collinear(lines: list[OcrLine]) -> list[OcrLine]:
    """Join lines that continue one another: the region finder may cut large text at a word gap
    ("Nguyen," | "Carlos"), and a name or a labelled field must be read across the cut.

    B continues A when, in the frame of A's last word (its rotated quad, so tilted text works),
    B's first word starts at most 1.2 word heights after A's last word ends, at most half a
    height off its axis (descenders shift a word's mid-line), at a similar size and direction.
    Each line continues at most one other (the nearest)."""
    nxt: dict[int, int] = {}
    taken: set[int] = set()
    for i, a in enumerate(lines):
        last = a.words[-1]
        (ux, uy), ha, (ex, ey) = direction(last), height(last), end_point(last)
        best = None
        for j, b in enumerate(lines):
            if j == i or j in taken:
                continue
            first = b.words[0]
            (vx, vy), hb, (sx, sy) = direction(first), height(first), start_point(first)
            h = min(ha, hb)
            along = (sx - ex) * ux + (sy - ey) * uy
            across = abs(-(sx - ex) * uy + (sy - ey) * ux)
            if (
                -0.3 * h <= along <= 1.2 * h
                and across <= 0.5 * h
                and max(ha, hb) <= 1.6 * h
                and ux * vx + uy * vy >= _COS_10_DEG  # same direction within 10 degrees
                and (best is None or along < best[0])
            ):
                best = (along, j)
        if best is not None:
            nxt[i] = best[1]
            taken.add(best[1])
    out, seen = [], set()
    for i in range(len(lines)):
        if i in taken or i in seen:
            continue
        chain = [i]
        while chain[-1] in nxt and nxt[chain[-1]] not in seen.union(chain):
            chain.append(nxt[chain[-1]])
        seen.update(chain)
        if len(chain) == 1:
            out.append(lines[i])
            continue
        words = tuple(w for k in chain for w in lines[k].words)
        out.append(OcrLine(words, Box.union(lines[k].box for k in chain), lines[i].reader))
    # lines in a cycle of continuations (not expected) are kept as they were
    out += [lines[i] for i in range(len(lines)) if i not in seen]
    return out


def direction(word) -> tuple[float, float]:
    if len(word.quad) == 4:
        (x0, y0), (x1, y1) = word.quad[0], word.quad[1]
        n = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 or 1.0
        return (x1 - x0) / n, (y1 - y0) / n
    return 1.0, 0.0


def end_point(word) -> tuple[float, float]:
    """Middle of the word's trailing edge."""
    if len(word.quad) == 4:
        (x1, y1), (x2, y2) = word.quad[1], word.quad[2]
        return (x1 + x2) / 2, (y1 + y2) / 2
    return float(word.box.x1), word.box.center[1]


def start_point(word) -> tuple[float, float]:
    """Middle of the word's leading edge."""
    if len(word.quad) == 4:
        (x0, y0), (x3, y3) = word.quad[0], word.quad[3]
        return (x0 + x3) / 2, (y0 + y3) / 2
    return float(word.box.x0), word.box.center[1]


def gap(a: Box, b: Box) -> float:
    """Distance between two boxes (0 when they touch or overlap)."""
    dx = max(0, max(a.x0, b.x0) - min(a.x1, b.x1))
    dy = max(0, max(a.y0, b.y0) - min(a.y1, b.y1))
    return (dx * dx + dy * dy) ** 0.5


def height(word) -> float:
    """Height of a word across its text direction (its quad's left edge, else its box)."""
    if len(word.quad) == 4:
        (x0, y0), _, _, (x3, y3) = word.quad
        return ((x3 - x0) ** 2 + (y3 - y0) ** 2) ** 0.5
    return float(word.box.height)


def near(a: Box, b: Box) -> bool:
    grow = max(4, min(a.height, b.height))
    return a.pad(grow).intersection(b) > 0

"""Reader thresholds from data: how often a reading called "confident" is wrong, per reader.

The fail-closed text rule trusts a line's PHI / not-PHI classification only when a reader read it
"with confidence" (``detect/text.py``: ``PP_CONF`` for PP-OCR's mean character probability,
``TESS_CONF`` for Tesseract's lowest word confidence). This measures what that trust is worth.

Every labelled line (PHI and decoy) of the hard set's tuning seeds (bench/hardset.py, seeds
below 1000 only: held-out seeds are never read here) and of bench/textset.py is cut out as the
pipeline cuts a DB line (the labelled quad grown as the DB unclip step grows a text kernel) and
read as the pipeline reads it: PP-OCR with the angle classifier and the second turn
(``textread.read_boxes``), then Tesseract on the same line upright in the turn PP-OCR chose. A
reading is right when its edit distance to the label, over the label's length, is at most
``RIGHT_CER`` (letters and digits only, case ignored, O/0 and I/L/1 folded: ``norm``). For each
candidate threshold the table gives how many lines are confident and which share of those is
wrong; the chosen threshold is the lowest at which, from there up, at most ``TARGET`` of
confident readings are wrong.

Usage: ``python bench/textcal.py [--seed 0 --seed 1 ...] [--n 8] [--textset 24] [--out F]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from bench import leaks, textset  # noqa: E402
from photoguard.detect import agreement, ocr_angle, text, textread  # noqa: E402
from photoguard.detect import ocr_ppocr as pp  # noqa: E402
from photoguard.detect.ocr_tesseract import read_lines as tesseract_lines  # noqa: E402
from photoguard.detect.phi import classify, edit_distance  # noqa: E402

TUNING_SEEDS = (0, 1, 2, 3)
RIGHT_CER = 0.1
"""A reading within this normalised edit distance of the label counts as right."""
TARGET = 0.02
"""Largest share of wrong readings among those called confident."""
PP_GRID = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98)
TESS_GRID = (30, 40, 50, 60, 70, 75, 80, 85, 88, 90, 92, 94, 96)
FLIP_GRID = (0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


norm = agreement.norm


def cer(reading: str, label: str) -> float:
    """Levenshtein distance over the label's length, both ``norm``-alised."""
    a, b = norm(reading), norm(label)
    if not b:
        return 0.0 if not a else 1.0
    return edit_distance(a, b) / len(b)


def line_box(quad) -> pp.LineBox:
    """The DB detector's box for a labelled quad (TL, TR, BR, BL in reading order)."""
    q = np.asarray(quad, np.float64)
    along = (q[1] - q[0] + q[2] - q[3]) / 2
    across = (q[3] - q[0] + q[2] - q[1]) / 2
    length, thick = float(np.hypot(*along)), float(np.hypot(*across))
    angle = float(np.degrees(np.arctan2(along[1], along[0])))
    angle = ((angle + 90.0) % 180.0) - 90.0  # as DB reports it: the classifier finds the turn
    cx, cy = q.mean(0)
    # DB unclip grows a kernel by about its thickness on each side; a label quad is the ink box
    return pp.LineBox(float(cx), float(cy), length + 0.6 * thick, 1.6 * thick, angle)


def true_turn(quad, box: pp.LineBox) -> float:
    """The half turn (0 or 180) on top of ``box.angle`` that makes a labelled line upright."""
    q = np.asarray(quad, np.float64)
    dx, dy = (q[1] - q[0] + q[2] - q[3]) / 2
    a = np.radians(box.angle)
    return 0.0 if dx * np.cos(a) + dy * np.sin(a) >= 0 else 180.0


def measure(rgb: np.ndarray, lines: list[tuple[str, object, bool]]) -> list[dict]:
    """Both readers' confidence and correctness on each ``(label, quad, is_phi)`` of one image,
    as the pipeline reads it (``textread.read_boxes``), plus the angle classifier's view and
    PP-OCR's reading in each half turn (for ``FLIP_SURE``)."""
    import cv2

    if not lines:
        return []
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    boxes = [line_box(q) for _, q, _ in lines]
    read = textread.read_boxes(rgb, boxes)
    tess = tesseract_lines(
        gray, [(text._as_region(lr.box), lr.box.angle + lr.turn, True) for lr in read]
    )
    flip = ocr_angle.upside_down([pp.crop(rgb, b)[0] for b in boxes])
    turns = pp.recognise([pp.crop(rgb, b, t) for b in boxes for t in (0.0, 180.0)])
    # the same line read again from a crop _THICKER as thick, in the turn chosen: what the two
    # crops agreeing is worth (self-agreement; measured, not used: RESULTS-textcal.md)
    wider = pp.recognise(
        [
            pp.crop(rgb, replace(lr.box, thickness=lr.box.thickness * textread._THICKER), lr.turn)
            for lr in read
        ]
    )
    out = []
    for k, ((label, quad, phi), lr, tl) in enumerate(zip(lines, read, tess, strict=True)):
        r = lr.reading
        words = [w for line in tl for w in line.words]
        readings = [x for x in (pp.to_line(o, rgb.shape) for o in (r, *lr.others)) if x]
        seen = sum(c.isalnum() for c in r.chars)
        chars = sum(sum(c.isalnum() for c in w.text) for w in words)
        tess_conf = min((w.conf for w in words), default=-1.0)
        tess_text = " ".join(w.text for w in words)
        out.append(
            dict(
                phi=phi,
                pp_conf=r.confidence if seen >= 1 else 0.0,
                pp_right=cer(r.text, label) <= RIGHT_CER,
                # textread.confident also wants about as many characters as PP-OCR saw
                tess_conf=tess_conf if words and chars >= 0.8 * seen else -1.0,
                tess_right=cer(tess_text, label) <= RIGHT_CER,
                # the two readers' agreement (agreement.agree, before its thresholds)
                agree=len(norm(r.text)) >= agreement.AGREE_MIN and norm(r.text) == norm(tess_text),
                agree_pp=r.confidence,
                agree_tess=tess_conf,
                p_up=flip[k],
                turn=true_turn(quad, boxes[k]),
                turn_conf=(turns[2 * k].confidence, turns[2 * k + 1].confidence),
                near_len=agreement.near_length(r, words),
                phi_read=bool(classify([*readings, *tl])),
                label=label,
                pp_text=r.text,
                pp_others=[o.text for o in lr.others],
                tess_words=[(w.text, w.conf) for w in words],
                # geometry, for the whole-line check (textread.whole)
                width=r.width,
                columns=list(r.columns),
                chars=list(r.chars),
                probs=[round(float(x), 4) for x in r.probs],
                wide_text=wider[k].text,
                wide_conf=wider[k].confidence,
                wide_unread=textread.unread_ink(wider[k]),
                spans=[list(s) for s in r.spans],
                tess_spans=[crop_span(w, r) for w in words],
                length=lr.box.length,
                thickness=lr.box.thickness,
                seen=seen,
                tess_chars=chars,
                unread_pp=textread.unread_ink(r),
                unread_tess=textread.unread_ink(r, words) if words else 0.0,
            )
        )
    return out


def crop_span(word, r: pp.Reading) -> list[float]:
    """A Tesseract word's extent along the line, in the columns of PP-OCR's crop ``r``."""
    import cv2

    fwd = cv2.invertAffineTransform(r.inverse)
    b = word.box
    corners = ((b.x0, b.y0), (b.x1, b.y0), (b.x1, b.y1), (b.x0, b.y1))
    pts = np.asarray(word.quad or corners, np.float64)
    xs = pts @ fwd[0, :2] + fwd[0, 2]
    return [float(xs.min()), float(xs.max())]


def flip_rows(rows) -> list[tuple[float, int, int, int]]:
    """Per FLIP_SURE candidate: (threshold, lines whose half turn is read, lines where the
    classifier is that sure of the wrong turn, of which PP-OCR reads the wrong turn with
    confidence: decided on a wrong reading, the half turn never read)."""
    out = []
    for f in FLIP_GRID:
        read_too = sure_wrong = accepted = 0
        for r in rows:
            p = r["p_up"]
            chosen = 180.0 if p > 0.5 else 0.0
            if max(p, 1 - p) < f:
                read_too += 1
            elif chosen != r["turn"]:
                sure_wrong += 1
                accepted += r["turn_conf"][chosen == 180.0] >= text.PP_CONF
        out.append((f, read_too, sure_wrong, accepted))
    return out


def agree_rows(rows) -> list[tuple[float, float, int, int, int, int]]:
    """Per (AGREE_PP, AGREE_TESS): lines the agreement rule adds to the calibrated readers',
    wrong among them, PHI lines it adds and wrong among those."""
    out = []
    for a in PP_GRID:
        for b in TESS_GRID:
            if a > text.PP_CONF or b > text.TESS_CONF:
                continue
            new = [
                r
                for r in rows
                if r["agree"]
                and r["agree_pp"] >= a
                and r["agree_tess"] >= b
                and r["pp_conf"] < text.PP_CONF
                and r["tess_conf"] < text.TESS_CONF
            ]
            wrong = sum(not r["pp_right"] for r in new)
            phi = [r for r in new if r["phi"]]
            out.append((a, b, len(new), wrong, len(phi), sum(not r["pp_right"] for r in phi)))
    return out


def choose_agree(rows, base_n: int, base_wrong: int):
    """The pair adding the most lines while every confident reading (the readers' own
    thresholds and agreement together) stays within TARGET wrong, and PHI lines added by
    agreement too."""
    best = None
    for a, b, n, wrong, n_phi, wrong_phi in rows:
        total_ok = (base_wrong + wrong) <= TARGET * (base_n + n)
        if n and total_ok and wrong_phi <= TARGET * n_phi and (best is None or n > best[2]):
            best = (a, b, n)
    return best


NEAR_GRID = [(a, b, m) for m in (4, 6, 8) for a in (0.5, 0.7, 0.8, 0.9) for b in (0, 30, 50)]


def _trusted(r) -> bool:
    """Read with confidence by the readers' own thresholds or their exact agreement."""
    agreed = r["agree"] and r["agree_pp"] >= agreement.AGREE_PP
    return (
        r["pp_conf"] >= text.PP_CONF
        or r["tess_conf"] >= text.TESS_CONF
        or (agreed and r["agree_tess"] >= agreement.AGREE_TESS)
    )


def near_rows(rows) -> list[tuple[float, float, int, int, int, int, int]]:
    """Per (NEAR_PP, NEAR_TESS, NEAR_MIN): lines near agreement adds to the others, wrong
    among them (neither reading right), PHI lines added and PHI lines added that no reading
    classifies as PHI (those would be published)."""
    out = []
    for a, b, m in NEAR_GRID:
        new = [
            r
            for r in rows
            if not _trusted(r)
            and r["near_len"] >= m
            and r["agree_pp"] >= a
            and r["agree_tess"] >= b
        ]
        phi = [r for r in new if r["phi"]]
        wrong = sum(not (r["pp_right"] or r["tess_right"]) for r in new)
        out.append((a, b, m, len(new), wrong, len(phi), sum(not r["phi_read"] for r in phi)))
    return out


def near_table(rows) -> list[str]:
    trusted = [r for r in rows if _trusted(r)]
    wrong = sum(not (r["pp_right"] or r["tess_right"]) for r in trusted)
    grid = near_rows(rows)
    best = None
    for a, b, m, n, w, _n_phi, leak in grid:
        # within TARGET wrong overall and among the lines it adds (a rule of its own)
        ok = (wrong + w) <= TARGET * (len(trusted) + n) and w <= TARGET * n and leak == 0
        # the most lines; of as many, the strictest thresholds (data this thin is no reason
        # to go lower)
        if n and ok and (best is None or (n, a, b, m) > (best[3], *best[:3])):
            best = (a, b, m, n)
    out = [
        "| NEAR_PP | NEAR_TESS | NEAR_MIN | lines added | wrong | PHI lines added "
        "| PHI added, not classified |",
        "|---|---|---|---|---|---|---|",
    ]
    for a, b, m, n, w, n_phi, leak in grid:
        if n:
            mark = " **chosen**" if best and (a, b, m) == best[:3] else ""
            out.append(f"| {a:g}{mark} | {b:g} | {m} | {n} | {w} | {n_phi} | {leak} |")
    gaps = sum(r["phi"] and not r["phi_read"] for r in trusted)
    used = [
        r
        for r in rows
        if r["near_len"] >= agreement.NEAR_MIN
        and r["agree_pp"] >= agreement.NEAR_PP
        and r["agree_tess"] >= agreement.NEAR_TESS
        and not _trusted(r)
    ]
    after = wrong + sum(not (r["pp_right"] or r["tess_right"]) for r in used)
    total = len(trusted) + len(used)
    out += [
        "",
        f"Before near agreement: {len(trusted)} confident lines, {wrong} read wrong by both "
        f"readers ({wrong / max(len(trusted), 1):.1%}). Chosen: "
        f"{best[:3] if best else None} (in use: {agreement.NEAR_PP:g}, "
        f"{agreement.NEAR_TESS:g}, {agreement.NEAR_MIN}: {total} confident lines, {after} "
        f"read wrong by both, {after / max(total, 1):.1%}). PHI lines read with confidence that "
        f"no reading classifies as PHI (a label on another line, or a classification gap): "
        f"{gaps}.",
    ]
    return out


UNREAD_GRID = (0.3, 0.45, 0.6, 0.8, 1.0, 1.5, 1e9)
LENGTH_GRID = (0.0, 0.5, 0.8, 0.9)


def _paths(r, unread: float, length: float) -> bool:
    """``textread.confident`` from a row's figures, with the whole-line check at ``unread``
    (1e9: none) and Tesseract's length rule at ``length`` (0: PP-OCR's length unchecked)."""
    read_all = r["unread_pp"] < unread
    if read_all and r["pp_conf"] >= text.PP_CONF:
        return True
    long_enough = r["seen"] >= length * r["tess_chars"] and r["unread_tess"] < unread
    if r["tess_conf"] >= text.TESS_CONF and long_enough:
        return True
    agreed = r["agree"] and r["agree_pp"] >= agreement.AGREE_PP
    agreed = agreed and r["agree_tess"] >= agreement.AGREE_TESS
    nearly = r["near_len"] >= agreement.NEAR_MIN and r["agree_pp"] >= agreement.NEAR_PP
    nearly = nearly and r["agree_tess"] >= agreement.NEAR_TESS
    return read_all and (agreed or nearly)


def whole_table(rows) -> list[str]:
    """Per (UNREAD, LENGTH): confident lines, those read wrong by both readers (partial
    readings among them), and what the check removes from the confident lines without it."""

    def wrong(r):
        return not (r["pp_right"] or r["tess_right"])

    before = [r for r in rows if _paths(r, 1e9, 0.0)]
    out = [
        "| UNREAD | LENGTH | confident lines | wrong | removed | removed wrong | removed decoys |",
        "|---|---|---|---|---|---|---|",
    ]
    for u in UNREAD_GRID:
        for length in LENGTH_GRID:
            now = [r for r in rows if _paths(r, u, length)]
            gone = [r for r in before if not _paths(r, u, length)]
            mark = " **in use**" if (u, length) == (textread.UNREAD, textread.LENGTH) else ""
            out.append(
                f"| {u:g}{mark} | {length:g} | {len(now)} | {sum(map(wrong, now))} | "
                f"{len(gone)} | {sum(map(wrong, gone))} | {sum(not r['phi'] for r in gone)} |"
            )
    bad = [f"{r['label']!r} read {r['pp_text']!r}" for r in before if wrong(r)]
    out += ["", f"Wrong among confident lines without the check: {'; '.join(bad)}."]
    return out


def hardset_lines(seeds, n: int, work: Path = leaks.WORK):
    from PIL import Image

    for seed in seeds:
        if seed in leaks.HELD_OUT or seed >= 1000:
            raise SystemExit(f"seed {seed} is held out: never calibrated on")
        folder = leaks.generate(seed, n, work)
        for row in (folder / "labels.jsonl").read_text().splitlines():
            rec = json.loads(row)
            rgb = np.asarray(Image.open(folder / rec["file"]).convert("RGB"))
            phi = [(t, True) for t in rec["phi_text"]]
            labelled = phi + [(d, False) for d in rec["decoy_text"] if d.get("text")]
            yield rgb, [(t["text"], t["poly"], p) for t, p in labelled if t.get("poly")]


def textset_lines(count: int):
    for scene in textset.generate(0, count):
        yield scene.image, [(t.text, t.polygon, t.kind != "decoy") for t in scene.texts]


def curve(values, right, grid) -> list[tuple[float, int, int]]:
    """Per threshold: (threshold, confident lines, wrong among them)."""
    v, ok = np.asarray(values), np.asarray(right, bool)
    return [(t, int((v >= t).sum()), int(((v >= t) & ~ok).sum())) for t in grid]


def choose(rows) -> float | None:
    """The lowest threshold from which every higher one keeps wrong <= TARGET."""
    best = None
    for t, n, wrong in reversed(rows):
        if n and wrong / n > TARGET:
            break
        best = t
    return best


def table(name: str, rows, total: int, chosen) -> list[str]:
    out = [f"| {name} threshold | confident lines | share of all | wrong | wrong share |"]
    out.append("|---|---|---|---|---|")
    for t, n, wrong in rows:
        mark = " **chosen**" if t == chosen else ""
        share = f"{wrong / n:.1%}" if n else "n/a"
        out.append(f"| {t:g}{mark} | {n} | {n / total:.0%} | {wrong} | {share} |")
    return out


def flip_table(rows) -> list[str]:
    out = [
        "| FLIP_SURE | half turn also read | sure of the wrong turn | of which read confidently |",
        "|---|---|---|---|",
    ]
    for f, read_too, wrong, accepted in flip_rows(rows):
        mark = " **in use**" if f == textread.FLIP_SURE else ""
        out.append(
            f"| {f:g}{mark} | {read_too} ({read_too / len(rows):.0%}) | {wrong} | {accepted} |"
        )
    return out


def agree_table(rows, base_n: int, base_wrong: int) -> list[str]:
    grid = agree_rows(rows)
    best = choose_agree(grid, base_n, base_wrong)
    out = [
        "| AGREE_PP | AGREE_TESS | lines added | wrong | PHI lines added | PHI wrong |",
        "|---|---|---|---|---|---|",
    ]
    for a, b, n, wrong, n_phi, wrong_phi in grid:
        if n:
            mark = " **chosen**" if best and (a, b) == best[:2] else ""
            out.append(f"| {a:g}{mark} | {b:g} | {n} | {wrong} | {n_phi} | {wrong_phi} |")
    out += [
        "",
        f"Chosen: {best[:2] if best else None} (in use: {agreement.AGREE_PP:g}, "
        f"{agreement.AGREE_TESS:g}; at least {agreement.AGREE_MIN} letters or digits).",
    ]
    return out


def report(rows, seeds, n: int, textset_n: int) -> str:
    total = len(rows)
    pp_rows = curve([r["pp_conf"] for r in rows], [r["pp_right"] for r in rows], PP_GRID)
    tess_rows = curve([r["tess_conf"] for r in rows], [r["tess_right"] for r in rows], TESS_GRID)
    pp_t, tess_t = choose(pp_rows), choose(tess_rows)
    base = [r for r in rows if r["pp_conf"] >= text.PP_CONF or r["tess_conf"] >= text.TESS_CONF]
    base_wrong = sum(
        not (r["pp_right"] if r["pp_conf"] >= text.PP_CONF else r["tess_right"]) for r in base
    )
    out = [
        "## Reader confidence thresholds (calibration)",
        "",
        f"bench/textcal.py: {total} labelled lines (PHI and decoys) from bench/hardset.py seeds "
        f"{', '.join(map(str, seeds))} ({n} scenes each) and bench/textset.py seed 0 "
        f"({textset_n} scenes), each cut out as a DB line and read as the pipeline reads it. "
        f"Wrong = edit distance to the label > {RIGHT_CER:g} of its length (letters and "
        f"digits only, case ignored, O/0 and I/L/1 folded). Chosen = lowest threshold from "
        f"which at most {TARGET:.0%} of confident readings are wrong. In use: "
        f"PP_CONF {text.PP_CONF:g}, TESS_CONF {text.TESS_CONF:g}.",
        "",
        *table("PP-OCR", pp_rows, total, pp_t),
        "",
        *table("Tesseract", tess_rows, total, tess_t),
        "",
        f"Chosen: PP-OCR {pp_t}, Tesseract {tess_t}. Right at any confidence: PP-OCR "
        f"{sum(r['pp_right'] for r in rows)}/{total}, Tesseract "
        f"{sum(r['tess_right'] for r in rows)}/{total}.",
        "",
        "### The two readers agreeing (agreement.agree)",
        "",
        f"Lines neither reader's own threshold accepts, accepted because PP-OCR and Tesseract "
        f"read the same string (agreement.norm) at these confidences. Chosen: the pair adding "
        f"the most lines while all confident readings ({len(base)} by the readers' own "
        f"thresholds, {base_wrong} wrong, plus those added) stay within {TARGET:.0%} wrong, and "
        f"the PHI lines added too.",
        "",
        *agree_table(rows, len(base), base_wrong),
        "",
        "### The two readers agreeing but for one character (agreement.near)",
        "",
        "Lines no other rule accepts, accepted because the readings are one edit apart "
        "(agreement.norm), the difference is in no word with a digit and no letter or digit in "
        "its place makes either reading PHI, at these confidences and lengths. Chosen: the "
        f"most lines added with all confident readings within {TARGET:.0%} wrong and no PHI "
        "line added that no reading classifies as PHI.",
        "",
        *near_table(rows),
        "",
        "### Whole readings (textread.whole, textread.LENGTH)",
        "",
        "A reading vouches for a line only when it leaves less than UNREAD text heights of "
        "glyph ink unread (blobs no character was read at; not those touching the crop's edge "
        "or off the line's band), and Tesseract alone only when PP-OCR read at least LENGTH "
        "of its letters and digits (1e9 / 0: no check). Wrong = read wrong by both readers.",
        "",
        *whole_table(rows),
        "",
        "### Angle classifier (textread.FLIP_SURE)",
        "",
        "Per threshold: lines whose half turn is read as well (the classifier less sure than "
        "it), and lines where it is at least that sure of the wrong turn (their right turn is "
        "read only when the wrong one reads without confidence).",
        "",
        *flip_table(rows),
    ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, action="append", help="hard-set tuning seed(s)")
    ap.add_argument("--n", type=int, default=8, help="hard-set scenes per seed")
    ap.add_argument("--textset", type=int, default=24, help="bench/textset.py scenes (seed 0)")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--work", type=Path, default=leaks.WORK, help="where the sets are cached")
    ap.add_argument("--rows", type=Path, help="also write every line's figures (JSON) here")
    args = ap.parse_args(argv)
    seeds = args.seed or list(TUNING_SEEDS)
    rows: list[dict] = []
    sources = [hardset_lines(seeds, args.n, args.work), textset_lines(args.textset)]
    for source in sources:
        for rgb, lines in source:
            rows += measure(rgb, lines)
    if args.rows:
        args.rows.write_text(json.dumps(rows))
    text_ = report(rows, seeds, args.n, args.textset)
    if args.out:
        args.out.write_text(text_)
    print(text_)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Reader thresholds from data: how often a reading called "confident" is wrong, per reader.

The fail-closed text rule trusts a line's PHI / not-PHI classification only when a reader read it
"with confidence" (``detect/text.py``: ``PP_CONF`` for PP-OCR's mean character probability,
``TESS_CONF`` for Tesseract's lowest word confidence). This measures what that trust is worth.

Every labelled line (PHI and decoy) of the hard set's tuning seeds (bench/hardset.py, seeds
below 1000 only: held-out seeds are never read here) and of bench/textset.py is cut out as the
pipeline cuts a DB line (the labelled quad grown as the DB unclip step grows a text kernel) and
read as the pipeline reads it: PP-OCR with the angle classifier and the second turn
(``text._recognise``), then Tesseract on the same line upright in the turn PP-OCR chose. A
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
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from bench import leaks, textset  # noqa: E402
from photoguard.detect import ocr_ppocr as pp  # noqa: E402
from photoguard.detect import text  # noqa: E402
from photoguard.detect.ocr_tesseract import read_lines as tesseract_lines  # noqa: E402
from photoguard.detect.phi import edit_distance  # noqa: E402

TUNING_SEEDS = (0, 1, 2, 3)
RIGHT_CER = 0.1
"""A reading within this normalised edit distance of the label counts as right."""
TARGET = 0.02
"""Largest share of wrong readings among those called confident."""
PP_GRID = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98)
TESS_GRID = (30, 40, 50, 60, 70, 75, 80, 85, 88, 90, 92, 94, 96)


_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1"})


def norm(s: str) -> str:
    """Letters and digits only, upper case, O/0 and I/L/1 folded (PP-OCR drops spaces and
    punctuation; phi.py folds the same confusions in numbers; a card edge read as ``|`` is
    dropped)."""
    return "".join(c for c in s.upper().translate(_FOLD) if c.isalnum())


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


def measure(rgb: np.ndarray, lines: list[tuple[str, object]]) -> list[dict]:
    """Both readers' confidence and correctness on each ``(label, quad)`` of one image."""
    import cv2

    if not lines:
        return []
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    boxes = [line_box(q) for _, q in lines]
    read = text._recognise(rgb, boxes)
    tess = tesseract_lines(
        gray,
        [(text._as_region(b), b.angle + t, True) for b, (t, _) in zip(boxes, read, strict=True)],
    )
    out = []
    for (label, _), (_, r), tl in zip(lines, read, tess, strict=True):
        words = [w for line in tl for w in line.words]
        seen = sum(c.isalnum() for c in r.chars)
        chars = sum(sum(c.isalnum() for c in w.text) for w in words)
        tess_conf = min((w.conf for w in words), default=-1.0)
        out.append(
            dict(
                pp_conf=r.confidence if seen >= 1 else 0.0,
                pp_right=cer(r.text, label) <= RIGHT_CER,
                # text._confident also wants about as many characters as PP-OCR saw
                tess_conf=tess_conf if words and chars >= 0.8 * seen else -1.0,
                tess_right=cer(" ".join(w.text for w in words), label) <= RIGHT_CER,
            )
        )
    return out


def hardset_lines(seeds, n: int):
    from PIL import Image

    for seed in seeds:
        if seed in leaks.HELD_OUT or seed >= 1000:
            raise SystemExit(f"seed {seed} is held out: never calibrated on")
        folder = leaks.generate(seed, n, leaks.WORK)
        for row in (folder / "labels.jsonl").read_text().splitlines():
            rec = json.loads(row)
            rgb = np.asarray(Image.open(folder / rec["file"]).convert("RGB"))
            labelled = rec["phi_text"] + [d for d in rec["decoy_text"] if d.get("text")]
            yield rgb, [(t["text"], t["poly"]) for t in labelled if t.get("poly")]


def textset_lines(count: int):
    for scene in textset.generate(0, count):
        yield scene.image, [(t.text, t.polygon) for t in scene.texts]


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, action="append", help="hard-set tuning seed(s)")
    ap.add_argument("--n", type=int, default=8, help="hard-set scenes per seed")
    ap.add_argument("--textset", type=int, default=24, help="bench/textset.py scenes (seed 0)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    seeds = args.seed or list(TUNING_SEEDS)
    rows: list[dict] = []
    sources = [hardset_lines(seeds, args.n), textset_lines(args.textset)]
    for source in sources:
        for rgb, lines in source:
            rows += measure(rgb, lines)
    total = len(rows)
    pp_rows = curve([r["pp_conf"] for r in rows], [r["pp_right"] for r in rows], PP_GRID)
    tess_rows = curve([r["tess_conf"] for r in rows], [r["tess_right"] for r in rows], TESS_GRID)
    pp_t, tess_t = choose(pp_rows), choose(tess_rows)
    out = [
        "## Reader confidence thresholds (calibration)",
        "",
        f"bench/textcal.py: {total} labelled lines (PHI and decoys) from bench/hardset.py seeds "
        f"{', '.join(map(str, seeds))} ({args.n} scenes each) and bench/textset.py seed 0 "
        f"({args.textset} scenes), each cut out as a DB line and read as the pipeline reads it. "
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
    ]
    report = "\n".join(out) + "\n"
    if args.out:
        args.out.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

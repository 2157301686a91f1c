"""Bench for PHI text and barcodes: dev set (bench/textset.py) + corpus images with phi_text.

Metrics:
* PHI-string recall: a labelled PHI string counts as found when TEXT detections (any label but
  ``allowed``) cover >= 70 % of its polygon's pixels.
* barcode recall: a non-allow-listed code counts when BARCODE detections (not ``allowed``) cover
  >= 70 % of its polygon.
* decoys kept: a decoy string (and an allow-listed code) counts as kept when redacting
  detections cover < 30 % of it.
* seconds per photo: read_text + classify + find_barcodes + classify_barcodes.

Usage: ``python -m bench.text [--count N] [--seed S] [--no-corpus]``; writes bench/RESULTS-text.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import textset  # noqa: E402
from photoguard.detect.barcodes import ALLOWED, classify_barcodes, find_barcodes  # noqa: E402
from photoguard.detect.phi import PhiRules, classify  # noqa: E402
from photoguard.detect.text import read_text, tesseract_version  # noqa: E402
from photoguard.types import RegionKind  # noqa: E402

CORPUS = Path("/work/shared/corpus")
FOUND, KEPT = 0.7, 0.3
DEV_RULES = PhiRules(allow=textset.ORGS)
DEV_CODES = (r"https://www\.mercy-general\.example\.org(/.*)?",)


@dataclass
class Tally:
    phi: int = 0
    phi_found: int = 0
    codes: int = 0
    codes_found: int = 0
    decoys: int = 0
    decoys_kept: int = 0
    seconds: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    by_kind: dict[str, list[int]] = field(default_factory=dict)


def coverage(polygon, boxes, shape) -> float:
    """Fraction of the polygon's pixels inside the union of ``boxes`` (Boxes, or polygons)."""
    import cv2

    pts = np.array(polygon, np.float64)
    x0, y0 = np.floor(pts.min(0)).astype(int)
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, shape[1]), min(y1, shape[0])
    if x1 <= x0 or y1 <= y0:
        return 0.0
    poly = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(poly, [np.round(pts - (x0, y0)).astype(np.int32)], 1)
    cover = np.zeros_like(poly)
    for b in boxes:
        if isinstance(b, tuple):
            cv2.fillPoly(cover, [np.round(np.array(b, np.float64) - (x0, y0)).astype(np.int32)], 1)
        else:
            cover[max(b.y0 - y0, 0) : max(b.y1 - y0, 0), max(b.x0 - x0, 0) : max(b.x1 - x0, 0)] = 1
    total = int(poly.sum())
    return float((poly & cover).sum()) / total if total else 0.0


def detect(image: np.ndarray, rules: PhiRules, code_patterns) -> tuple[list, float]:
    t = time.perf_counter()
    dets = classify(read_text(image), rules) + classify_barcodes(
        find_barcodes(image), code_patterns
    )
    return dets, time.perf_counter() - t


def score_scene(scene: textset.Scene, dets, tally: Tally) -> None:
    shape = scene.image.shape
    # the region a renderer covers: the detection's polygon when it has one, else its box
    text_boxes = [
        d.polygon or d.box for d in dets if d.kind == RegionKind.TEXT and d.label != ALLOWED
    ]
    code_boxes = [
        d.polygon or d.box for d in dets if d.kind == RegionKind.BARCODE and d.label != ALLOWED
    ]
    redacting = text_boxes + code_boxes
    for t in scene.phi:
        ok = coverage(t.polygon, redacting, shape) >= FOUND
        tally.phi += 1
        tally.phi_found += ok
        k = tally.by_kind.setdefault(t.kind, [0, 0])
        k[0] += 1
        k[1] += ok
        if not ok:
            tally.misses.append(f"{scene.name}: {t.kind}")
    for t in scene.decoys:
        tally.decoys += 1
        tally.decoys_kept += coverage(t.polygon, redacting, shape) < KEPT
    for c in scene.barcodes:
        if c.allowed:
            tally.decoys += 1
            tally.decoys_kept += coverage(c.polygon, redacting, shape) < KEPT
        else:
            ok = coverage(c.polygon, code_boxes, shape) >= FOUND
            tally.codes += 1
            tally.codes_found += ok
            if not ok:
                tally.misses.append(f"{scene.name}: barcode {c.format}")


def run_devset(seed: int, count: int) -> Tally:
    tally = Tally()
    for i in range(count):
        scene = textset.make_scene(seed, i)
        dets, dt = detect(scene.image, DEV_RULES, DEV_CODES)
        tally.seconds.append(dt)
        score_scene(scene, dets, tally)
    return tally


def run_corpus() -> Tally:
    from PIL import Image

    tally = Tally()
    for line in (CORPUS / "labels.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if not rec.get("phi_text") and not rec.get("decoy_text"):
            continue
        image = np.asarray(Image.open(CORPUS / rec["file"]).convert("RGB"))
        dets, dt = detect(image, PhiRules(), ())
        tally.seconds.append(dt)
        texts = [
            textset.TextTruth(t["text"], t["kind"], _box_poly(t["box"]))
            for t in rec.get("phi_text", [])
            if not t.get("optional")
        ] + [
            textset.TextTruth(t["text"], "decoy", _box_poly(t["box"]))
            for t in rec.get("decoy_text", [])
        ]
        score_scene(textset.Scene(Path(rec["file"]).name, image, tuple(texts), ()), dets, tally)
    return tally


def _box_poly(b):
    x0, y0, x1, y1 = b
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f} ({a}/{b})" if b else "n/a"


def report(dev: Tally, corpus: Tally | None, seed: int, count: int) -> str:
    rows = [("dev set", dev)] + ([("corpus phi_text images", corpus)] if corpus else [])
    out = [
        "# PHI text and barcode bench",
        "",
        f"Tesseract {tesseract_version()}; dev set seed {seed}, {count} scenes; "
        f"found = >= {FOUND:.0%} of a string covered, kept = < {KEPT:.0%} covered.",
        "",
        "| set | PHI-string recall | barcode recall | decoys kept | s/photo mean | s/photo max |",
        "|---|---|---|---|---|---|",
    ]
    for name, t in rows:
        out.append(
            f"| {name} | {_ratio(t.phi_found, t.phi)} | {_ratio(t.codes_found, t.codes)} | "
            f"{_ratio(t.decoys_kept, t.decoys)} | {np.mean(t.seconds):.2f} | {max(t.seconds):.2f} |"
        )
    out += [
        "",
        "Dev-set recall by kind: "
        + ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in sorted(dev.by_kind.items())),
    ]
    if corpus:
        out += [
            "",
            "Corpus recall by kind: "
            + ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in sorted(corpus.by_kind.items())),
        ]
    misses = dev.misses + (corpus.misses if corpus else [])
    out += ["", "Misses (scene: kind): " + ("; ".join(misses) if misses else "none"), ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=36)
    ap.add_argument("--no-corpus", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-text.md")
    args = ap.parse_args(argv)
    dev = run_devset(args.seed, args.count)
    corpus = None if args.no_corpus or not CORPUS.exists() else run_corpus()
    text = report(dev, corpus, args.seed, args.count)
    args.out.write_text(text)
    print(text)
    ok = (
        dev.phi_found >= 0.98 * dev.phi
        and dev.codes_found == dev.codes
        and dev.decoys_kept >= 0.7 * dev.decoys
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

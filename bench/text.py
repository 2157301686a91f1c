"""Bench for PHI text and barcodes: dev set (bench/textset.py) + corpus images with phi_text.

Metrics:
* PHI-string recall: a labelled PHI string counts as found when TEXT detections (any label but
  ``allowed``) cover >= 70 % of its polygon's pixels.
* barcode recall: a non-allow-listed code counts when BARCODE detections (not ``allowed``) cover
  >= 70 % of its polygon.
* decoys kept: a decoy string (and an allow-listed code) counts as kept when redacting
  detections cover < 30 % of it.
* seconds per photo: the text stage (TextDetector.detect) + find_barcodes + classify_barcodes.

Usage: ``python bench/text.py [--count N] [--seed S] [--no-corpus] [--no-peers]``; writes
bench/RESULTS-text.md. presidio-image-redactor (bench/peers.py) is measured on the same images.
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

from bench import peers, textset  # noqa: E402
from photoguard.detect.barcodes import ALLOWED, classify_barcodes, find_barcodes  # noqa: E402
from photoguard.detect.phi import PhiRules  # noqa: E402
from photoguard.detect.text import TextDetector, tesseract_version  # noqa: E402
from photoguard.types import RegionKind  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
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


def photoguard_stages(rules: PhiRules, code_patterns):
    """photoguard's text and barcode stages: (text regions, code regions) it would redact."""

    def run(image: np.ndarray) -> tuple[list, list]:
        dets = TextDetector().detect(image, rules) + classify_barcodes(
            find_barcodes(image), code_patterns
        )
        # the region a renderer covers: the detection's polygon when it has one, else its box
        text = [
            d.polygon or d.box for d in dets if d.kind == RegionKind.TEXT and d.label != ALLOWED
        ]
        codes = [
            d.polygon or d.box for d in dets if d.kind == RegionKind.BARCODE and d.label != ALLOWED
        ]
        return text, codes

    return run


def presidio_stages(engine: peers.Presidio):
    """presidio-image-redactor: text boxes only (it reads no barcodes)."""
    return lambda image: (engine.boxes(image), [])


def timed(run, image: np.ndarray) -> tuple[list, list, float]:
    t = time.perf_counter()
    text, codes = run(image)
    return text, codes, time.perf_counter() - t


def score_scene(scene: textset.Scene, text_boxes, code_boxes, tally: Tally) -> None:
    shape = scene.image.shape
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


def run_devset(seed: int, count: int, run) -> Tally:
    tally = Tally()
    for i in range(count):
        scene = textset.make_scene(seed, i)
        text, codes, dt = timed(run, scene.image)
        tally.seconds.append(dt)
        score_scene(scene, text, codes, tally)
    return tally


def run_corpus(run) -> Tally:
    from PIL import Image

    tally = Tally()
    for line in (CORPUS / "labels.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if not rec.get("phi_text") and not rec.get("decoy_text"):
            continue
        image = np.asarray(Image.open(CORPUS / rec["file"]).convert("RGB"))
        text, codes, dt = timed(run, image)
        tally.seconds.append(dt)
        texts = [
            textset.TextTruth(t["text"], t["kind"], _box_poly(t["box"]))
            for t in rec.get("phi_text", [])
            if not t.get("optional")
        ] + [
            textset.TextTruth(t["text"], "decoy", _box_poly(t["box"]))
            for t in rec.get("decoy_text", [])
        ]
        scene = textset.Scene(Path(rec["file"]).name, image, tuple(texts), ())
        score_scene(scene, text, codes, tally)
    return tally


def _box_poly(b):
    x0, y0, x1, y1 = b
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f} ({a}/{b})" if b else "n/a"


def report(ours: dict[str, Tally], theirs: dict[str, Tally], seed: int, count: int) -> str:
    out = [
        "## PHI text and barcodes",
        "",
        f"Tesseract {tesseract_version()}; dev set seed {seed}, {count} scenes "
        "(bench/textset.py: bands, chart labels, door tags, whiteboards, monitors, badges; "
        "tilted, blurred, JPEG-compressed; with decoy text); corpus = its images with "
        f"phi_text labels. Found = >= {FOUND:.0%} of a string covered, kept = < {KEPT:.0%} "
        "covered.",
        "",
        "| tool | set | PHI-string recall | barcode recall | decoys kept | s/photo mean | "
        "s/photo max |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [("photoguard", ours), ("presidio", theirs)]
    for tool, sets in rows:
        for name, t in sets.items():
            codes = _ratio(t.codes_found, t.codes) if tool == "photoguard" else "(reads none)"
            out.append(
                f"| {tool} | {name} | {_ratio(t.phi_found, t.phi)} | {codes} | "
                f"{_ratio(t.decoys_kept, t.decoys)} | {np.mean(t.seconds):.2f} | "
                f"{max(t.seconds):.2f} |"
            )
    for name, t in ours.items():
        out += [
            "",
            f"photoguard recall by kind ({name}): "
            + ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in sorted(t.by_kind.items())),
        ]
    for name, t in theirs.items():
        out += [
            "",
            f"presidio recall by kind ({name}): "
            + ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in sorted(t.by_kind.items())),
        ]
    if theirs:
        out += [
            "",
            "presidio setup: " + peers.PRESIDIO_SETUP.format(version=peers.presidio_version()),
        ]
        dev = "dev set"
        if dev in theirs:
            speed = np.mean(theirs[dev].seconds) / np.mean(ours[dev].seconds)
            out += ["", f"Time per photo on the dev set, presidio / photoguard: {speed:.1f}x."]
    else:
        out += ["", "presidio: not installed (`uv sync --group bench`), not measured."]
    misses = [m for t in ours.values() for m in t.misses]
    out += ["", "photoguard misses (scene: kind): " + ("; ".join(misses) or "none"), ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=36)
    ap.add_argument("--no-corpus", action="store_true")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-text.md")
    args = ap.parse_args(argv)
    corpus = not args.no_corpus and CORPUS.exists()
    ours = {"dev set": run_devset(args.seed, args.count, photoguard_stages(DEV_RULES, DEV_CODES))}
    if corpus:
        ours["corpus"] = run_corpus(photoguard_stages(PhiRules(), ()))
    theirs: dict[str, Tally] = {}
    if not args.no_peers and peers.presidio_available():
        engine = presidio_stages(peers.Presidio())
        theirs["dev set"] = run_devset(args.seed, args.count, engine)
        if corpus:
            theirs["corpus"] = run_corpus(engine)
    text = report(ours, theirs, args.seed, args.count)
    args.out.write_text(text)
    print(text)
    dev = ours["dev set"]
    ok = (
        dev.phi_found >= 0.98 * dev.phi
        and dev.codes_found == dev.codes
        and dev.decoys_kept >= 0.7 * dev.decoys
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Face-detection benchmark: photoguard's detectors against deface's defaults on a labelled corpus.

Run: ``.venv/bin/python bench/faces.py [--corpus ../shared/corpus] [--out bench/RESULTS-faces.md]``

Matching follows the corpus README: a prediction matches a label when IoU >= 0.3 or the prediction
covers >= 60 % of the label. Matching is one-to-one (greedy, best pairs first), so a duplicate box
on one face counts as a false positive. In images marked ``faces_complete: false`` unmatched
predictions are ignored. GIF labels are for frame 0. Every method gets the same decoded RGB array
(EXIF-transposed, frame 0) and only the detection call is timed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photoguard.types import Box  # noqa: E402

BUCKETS = ((0, 24, "<24"), (24, 48, "24-48"), (48, 96, "48-96"), (96, 192, "96-192"))
BUCKETS += ((192, 10**9, ">=192"),)
BAR_MIN_HEIGHT = 24
MATCH_IOU, MATCH_COVER = 0.3, 0.6

Method = Callable[[np.ndarray], list[Box]]


@dataclass(frozen=True)
class Sample:
    name: str
    rgb: np.ndarray
    faces: tuple[Box, ...]
    complete: bool


@dataclass
class Tally:
    """Counts for one method; buckets keyed by label height (or prediction height for FPs)."""

    hits: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    false_pos: dict[str, int] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)


def bucket(height: int) -> str:
    return next(name for lo, hi, name in BUCKETS if lo <= height < hi)


def load_corpus(corpus: Path) -> list[Sample]:
    """Decode every labelled image once (frame 0, EXIF-transposed, RGB)."""
    from PIL import Image, ImageOps

    samples = []
    for line in (corpus / "labels.jsonl").read_text().splitlines():
        rec = json.loads(line)
        with Image.open(corpus / rec["file"]) as im:
            im.seek(0)
            rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
        faces = tuple(Box(*f) for f in rec["faces"])
        samples.append(Sample(rec["file"], rgb, faces, rec.get("faces_complete", True)))
    return samples


def matches(pred: Box, label: Box) -> float:
    """Match quality (0 = no match) under the corpus rule."""
    cover = pred.intersection(label) / label.area if label.area else 0.0
    iou = pred.iou(label)
    return max(iou, cover) if iou >= MATCH_IOU or cover >= MATCH_COVER else 0.0


def score_image(sample: Sample, preds: Sequence[Box], tally: Tally) -> None:
    """Greedy one-to-one matching of predictions to labels; adds to ``tally``."""
    pairs = sorted(
        ((matches(p, g), i, j) for i, p in enumerate(preds) for j, g in enumerate(sample.faces)),
        reverse=True,
    )
    used_p: set[int] = set()
    used_g: set[int] = set()
    for quality, i, j in pairs:
        if quality > 0 and i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
    for j, g in enumerate(sample.faces):
        b = bucket(g.height)
        tally.labels[b] = tally.labels.get(b, 0) + 1
        tally.hits[b] = tally.hits.get(b, 0) + (j in used_g)
        if j not in used_g:
            tally.misses.append(f"{sample.name}#{j}({g.height}px)")
    for i, p in enumerate(preds):
        if i not in used_p and sample.complete:
            b = bucket(p.height)
            tally.false_pos[b] = tally.false_pos.get(b, 0) + 1


def run_methods(methods: dict[str, Method], samples: Sequence[Sample]) -> dict[str, Tally]:
    """Run every method on every image, interleaved per image so that load from other processes
    on a shared machine falls on all methods alike."""
    tallies = {name: Tally() for name in methods}
    if samples:
        for method in methods.values():
            method(samples[0].rgb)  # model load and first-run allocation are not per-photo costs
    for s in samples:
        for name, method in methods.items():
            start, cpu = time.perf_counter(), time.process_time()
            preds = method(s.rgb)
            tallies[name].seconds.append(time.perf_counter() - start)
            tallies[name].cpu.append(time.process_time() - cpu)
            score_image(s, preds, tallies[name])
    return tallies


def summary(t: Tally) -> dict[str, float]:
    """Recall on labels >= 24 px, precision over all predictions, median seconds."""
    bar = [name for lo, _, name in BUCKETS if lo >= BAR_MIN_HEIGHT]
    hits = sum(t.hits.get(b, 0) for b in bar)
    labels = sum(t.labels.get(b, 0) for b in bar)
    tp_all = sum(t.hits.values())
    fp_all = sum(t.false_pos.values())
    return {
        "recall": hits / labels if labels else 1.0,
        "precision": tp_all / (tp_all + fp_all) if tp_all + fp_all else 1.0,
        "median_s": statistics.median(t.seconds) if t.seconds else 0.0,
        "mean_s": statistics.fmean(t.seconds) if t.seconds else 0.0,
        "mean_cpu": statistics.fmean(t.cpu) if t.cpu else 0.0,
        "fp": fp_all,
    }


def bucket_cell(t: Tally, name: str) -> str:
    n, hit, fp = t.labels.get(name, 0), t.hits.get(name, 0), t.false_pos.get(name, 0)
    rec = f"{hit}/{n}" if n else "-"
    return f"{rec}, {fp} FP"


def render(results: dict[str, Tally], baseline: str, n_images: int) -> str:
    base = summary(results[baseline])["mean_cpu"] if baseline in results else 0.0
    head = ["method", "recall >=24px", "precision", "median s/photo", "mean s/photo"]
    head += ["mean CPU-s/photo", "CPU vs deface"]
    head += [f"{name} (hit/n, FP)" for _, _, name in BUCKETS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, t in results.items():
        s = summary(t)
        ratio = f"{s['mean_cpu'] / base:.2f}x" if base else "-"
        row = [name, f"{s['recall']:.3f}", f"{s['precision']:.3f}", f"{s['median_s']:.3f}"]
        row += [f"{s['mean_s']:.3f}", f"{s['mean_cpu']:.3f}", ratio]
        row += [bucket_cell(t, b) for _, _, b in BUCKETS]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append(
        f"{n_images} images. Recall counts labels at least {BAR_MIN_HEIGHT} px tall; precision "
        "counts every prediction (unmatched ones ignored in `faces_complete: false` images). "
        "Match: IoU >= 0.3 or >= 60 % of the label covered, one-to-one. Times: detection only, "
        "same decoded array for every method, after one warm-up call; CPU-s is the process's "
        "CPU time (all threads), steadier than wall time on a shared machine."
    )
    for name, t in results.items():
        if t.misses:
            lines.append(f"\nMissed by {name}: " + ", ".join(t.misses))
    return "\n".join(lines) + "\n"


LARGE_SIZE = (4000, 3000)
LARGE_SOURCES = ("dlib__2008_002506.jpg", "df__couple.jpg", "deface__city.jpg")


def enlarge(sample: Sample, size: tuple[int, int] = LARGE_SIZE) -> Sample:
    """The photo resized to ``size`` (a 12 MP stand-in; faces and labels scale with it)."""
    import cv2

    h, w = sample.rgb.shape[:2]
    kx, ky = size[0] / w, size[1] / h
    rgb = cv2.resize(sample.rgb, size, interpolation=cv2.INTER_CUBIC)
    faces = tuple(Box.from_float(f.x0 * kx, f.y0 * ky, f.x1 * kx, f.y1 * ky) for f in sample.faces)
    return Sample(f"{sample.name}@{size[0]}x{size[1]}", rgb, faces, sample.complete)


def shrink(sample: Sample, face_px: int) -> Sample:
    """The photo downscaled so that its median face is ``face_px`` tall (small-face stress)."""
    import cv2

    if not sample.faces:
        return sample
    factor = face_px / statistics.median(f.height for f in sample.faces)
    if factor >= 1:
        return sample
    h, w = sample.rgb.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    rgb = cv2.resize(sample.rgb, size, interpolation=cv2.INTER_AREA)
    k = (size[0] / w, size[1] / h)
    faces = tuple(
        Box.from_float(f.x0 * k[0], f.y0 * k[1], f.x1 * k[0], f.y1 * k[1]) for f in sample.faces
    )
    return Sample(f"{sample.name}@{face_px}px", rgb, faces, sample.complete)


def photoguard_method(name: str) -> Method:
    """A registered detector, or ``a+b``: registered detectors run together and merged."""
    from photoguard.detect import registry
    from photoguard.detect.faces import CombinedFaceDetector

    detector = CombinedFaceDetector(name, name.split("+")) if "+" in name else registry.get(name)
    return lambda rgb: [d.box for d in detector.detect(rgb)]


def deface_method() -> Method:
    """deface's detector as its CLI runs it by default: full resolution, threshold 0.2."""
    from deface.centerface import CenterFace

    centerface = CenterFace(in_shape=None, backend="auto")

    def run(rgb: np.ndarray) -> list[Box]:
        dets, _ = centerface(rgb.copy(), threshold=0.2)
        h, w = rgb.shape[:2]
        return [Box.from_float(*d[:4]).clamp(w, h) for d in dets]

    return run


def _label(name: str) -> str:
    return {"faces": "faces (default)", "deface": "deface (defaults)"}.get(name, name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-faces.md")
    parser.add_argument("--large", type=int, default=3, help="12 MP enlargements to time (0: none)")
    parser.add_argument(
        "--methods", default="faces,centerface-pyramid,centerface,hog,centerface-pyramid+hog,deface"
    )
    parser.add_argument(
        "--face-px", type=int, default=30, help="also: corpus shrunk to this median face (0: no)"
    )
    parser.add_argument(
        "--large-methods", default="faces,centerface-pyramid,deface", help="timed on 12 MP"
    )
    args = parser.parse_args(argv)

    from photoguard.detect.faces import DEFAULT_FACE_DETECTORS

    samples = load_corpus(args.corpus)
    methods: dict[str, Method] = {}
    for name in args.methods.split(","):
        methods[_label(name)] = deface_method() if name == "deface" else photoguard_method(name)
    results = run_methods(methods, samples)
    large = [enlarge(x) for x in samples if Path(x.name).name in LARGE_SOURCES][: args.large]
    wanted = {_label(n) for n in args.large_methods.split(",")}
    big = {k: m for k, m in methods.items() if k in wanted}
    large_results = run_methods(big, large) if large and big else {}
    text = "# Face detection benchmark\n\n"
    text += f"Default combination: `DEFAULT_FACE_DETECTORS = {DEFAULT_FACE_DETECTORS}`\n\n"
    text += render(results, "deface (defaults)", len(samples))
    if args.face_px:
        small = [shrink(x, args.face_px) for x in samples if x.faces]
        text += (
            f"\n## Small faces (photos with faces, shrunk to a {args.face_px} px median face)\n\n"
        )
        text += render(run_methods(methods, small), "deface (defaults)", len(small))
    if large_results:
        text += f"\n## 12 MP photos ({LARGE_SIZE[0]}x{LARGE_SIZE[1]} enlargements)\n\n"
        text += render(large_results, "deface (defaults)", len(large))
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

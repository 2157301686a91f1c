"""Throughput on 12-megapixel JPEGs: full check per stage, against the decode floor and deface.

Photos are built from ../shared/corpus images by Lanczos upscaling to 4000x3000 (written under
bench/_work, never committed). Every figure is measured in this run; ratios compare figures of
the same run, because the machine is shared and noisy.

Run: .venv/bin/python bench/speed.py [--photos 6] [--out bench/RESULTS-speed.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))
WORK = ROOT / "bench" / "_work"
CORPUS = ROOT.parent / "shared" / "corpus"
SIZE = (4000, 3000)


def build_photos(count: int) -> list[Path]:
    """12 MP JPEGs from the corpus photos with the most faces (crowds are the hard case)."""
    folder = WORK / "12mp"
    folder.mkdir(parents=True, exist_ok=True)
    labels = [json.loads(line) for line in (CORPUS / "labels.jsonl").open()]
    chosen = sorted(
        (r for r in labels if r["file"].endswith(".jpg") and r["faces"]),
        key=lambda r: (-len(r["faces"]), r["file"]),
    )[:count]
    paths = []
    for record in chosen:
        out = folder / Path(record["file"]).name
        if not out.exists():
            with Image.open(CORPUS / record["file"]) as im:
                im.convert("RGB").resize(SIZE, Image.Resampling.LANCZOS).save(out, quality=90)
        paths.append(out)
    return paths


def timed(fn, *args):
    started = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - started


def measure_photoguard(paths: list[Path]) -> dict[str, list[float]]:
    from photoguard import render
    from photoguard.load import load_image
    from photoguard.pipeline import CheckContext, find
    from photoguard.policy import decide
    from photoguard.settings import load_settings

    ctx = CheckContext(settings=load_settings(None))
    find(load_image(paths[0]), ctx)  # warm-up: models load once per process
    stages: dict[str, list[float]] = {k: [] for k in
                                      ("decode", "faces", "text", "barcodes", "decide", "render", "total")}
    for path in paths:
        started = time.perf_counter()
        image, seconds = timed(load_image, path)
        stages["decode"].append(seconds)
        findings = find(image, ctx)
        for run in findings.runs:
            stages[run.name].append(run.seconds)
        decision, seconds = timed(decide, findings, ctx.settings.policy)
        stages["decide"].append(seconds)
        _, seconds = timed(
            lambda: render.encode(render.redact_image(image, decision.regions, ctx.settings.policy), image)
        )
        stages["render"].append(seconds)
        stages["total"].append(time.perf_counter() - started)
    return stages


def measure_decode_floor(paths: list[Path]) -> list[float]:
    out = []
    for path in paths:
        started = time.perf_counter()
        with Image.open(path) as im:
            np.asarray(im.convert("RGB"))
        out.append(time.perf_counter() - started)
    return out


def measure_deface(paths: list[Path]) -> list[float]:
    """deface at its defaults: CenterFace at full resolution, threshold 0.2, blur and save."""
    from deface.centerface import CenterFace
    from deface.deface import anonymize_frame

    centerface = CenterFace(in_shape=None, backend="auto")
    out = []
    for path in paths:
        started = time.perf_counter()
        frame = np.asarray(Image.open(path).convert("RGB")).copy()
        dets, _ = centerface(frame, threshold=0.2)
        anonymize_frame(dets, frame, mask_scale=1.3, replacewith="blur", ellipse=True,
                        draw_scores=False, replaceimg=None, mosaicsize=20)
        Image.fromarray(frame).save(WORK / "deface-out.jpg", quality=90)
        out.append(time.perf_counter() - started)
    return out


def measure_scale(counts=(10, 200)) -> list[str]:
    """Peak memory of `photoguard check` over many small photos: it must stay flat."""
    rows = []
    source = Image.open(CORPUS / "images" / "fnp__multiface.jpg").convert("RGB")
    for count in counts:
        folder = WORK / f"many-{count}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            target = folder / f"p{i:04d}.jpg"
            if not target.exists():
                source.save(target, quality=85)
        rows.append(_cli_peak(folder, count, workers=1))
    return rows


def _cli_peak(folder: Path, count: int, workers: int) -> str:
    cmd = [str(ROOT / ".venv" / "bin" / "photoguard"), "check", str(folder), "--no-registry",
           "--no-text", "--workers", str(workers), "--quiet"]
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_mb = max(peak, before) / 1024
    return f"| {count} | {workers} | {elapsed:.1f} | {elapsed / count:.3f} | {peak_mb:.0f} |"


def measure_workers(count: int = 24) -> list[str]:
    folder = WORK / f"many-{count}-w"
    folder.mkdir(parents=True, exist_ok=True)
    source = Image.open(CORPUS / "images" / "fnp__multiface.jpg").convert("RGB")
    for i in range(count):
        target = folder / f"p{i:04d}.jpg"
        if not target.exists():
            source.save(target, quality=85)
    return [_cli_peak(folder, count, w) for w in sorted({1, 2, os.cpu_count() or 1})]


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    spread = (max(values) - min(values)) / 2
    return f"{med:.3f} ± {spread:.3f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=6)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-speed.md")
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args(argv)
    paths = build_photos(args.photos)
    floor = measure_decode_floor(paths)
    stages = measure_photoguard(paths)
    deface = measure_deface(paths)
    med = statistics.median
    lines = [
        "## Throughput on 12 MP JPEGs",
        "",
        f"{len(paths)} photos of {SIZE[0]}x{SIZE[1]} built from the corpus's most crowded photos; "
        f"median ± half-range seconds per photo; {os.cpu_count()} cores, {platform.processor() or platform.machine()}.",
        "",
        "| stage | s/photo | x decode floor |",
        "|---|---|---|",
        f"| decode floor (PIL decode to RGB array) | {fmt(floor)} | 1.0 |",
    ]
    for stage in ("decode", "faces", "text", "barcodes", "decide", "render", "total"):
        ratio = med(stages[stage]) / med(floor) if stages[stage] else 0
        label = "**full check + render**" if stage == "total" else stage
        lines.append(f"| {label} | {fmt(stages[stage])} | {ratio:.1f} |")
    ratio = med(deface) / med(stages["total"])
    lines += [
        "",
        "| peer (same photos, same run) | s/photo | peer / photoguard |",
        "|---|---|---|",
        f"| deface 1.5 at its defaults (faces only: full-resolution CenterFace, blur, save) | {fmt(deface)} | {ratio:.2f} |",
        "| presidio-image-redactor (text only) | not measured yet | - |",
        "",
        f"Goal: full check <= 0.6 s median per 12 MP photo on 2 cores (now {med(stages['total']):.2f} s); "
        f">= 3x faster than deface (now {ratio:.2f}x).",
    ]
    if not args.skip_scale:
        lines += ["", "## Scale", "", "`photoguard check --no-text` on copies of a 1200x630 group photo.",
                  "", "| photos | workers | seconds | s/photo | peak RSS (MB, largest process) |",
                  "|---|---|---|---|---|"]
        lines += measure_scale()
        lines += measure_workers()
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Barcode recall on the hard text set: today's detector beside the one before it, same run.

A labelled code (bench/hardset.py: wristband Code 128/39 and DataMatrix, specimen-label codes,
stand-alone QR/DataMatrix/PDF417/Aztec/Code 128 stickers, some damaged) counts as found when
the non-allow-listed barcode detections cover >= 70 % of its polygon; "decoded" when one of them
also decoded. Spurious = detections that overlap no labelled code (texture called a code: it is
redacted for nothing). The organisation's own QR must be kept (allow-listed).

"before" is photoguard/detect/barcodes.py as of BASELINE (zxing-cpp + the bar-field search
capped at 8 fields), loaded from git; it is skipped when git or that commit is not there.

Usage: ``python bench/barcodes.py [--n 12] [--seed S ...] [--out bench/RESULTS-barcodes.md]``;
``--misses --seed S ...`` (tuning seeds only) lists each code not found with what tells the
classes of misses apart (symbology, size, tilt, module px, the photo's side).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import leaks  # noqa: E402
from bench.text import coverage  # noqa: E402
from photoguard.detect import barcodes  # noqa: E402

BASELINE = "eacdf07"
FOUND = 0.7
ALLOW = (leaks.hardset.POLICY.split('"')[1],)


def _baseline():
    """The barcode module as of BASELINE, or None."""
    try:
        src = subprocess.run(
            ["git", "show", f"{BASELINE}:photoguard/detect/barcodes.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = leaks.WORK / "baseline_barcodes.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("baseline_barcodes", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def score(module, folder: Path, misses: list | None = None) -> dict:
    """Run ``module``'s find/classify on every scene of ``folder``; tally recall and cost.
    ``misses``: where to append a line per code not found (``miss_line``)."""
    from PIL import Image

    t = dict(codes=0, found=0, decoded=0, spurious=0, allowed=0, allowed_kept=0, seconds=[])
    for line in (folder / "labels.jsonl").read_text().splitlines():
        rec = json.loads(line)
        image = np.asarray(Image.open(folder / rec["file"]).convert("RGB"))
        started = time.perf_counter()
        hits = module.find_barcodes(image)
        dets = module.classify_barcodes(hits, ALLOW)
        t["seconds"].append(time.perf_counter() - started)
        redact = [d for d in dets if d.label != "allowed"]
        polys = [tuple(map(tuple, d.polygon)) if d.polygon else d.box for d in redact]
        for code in rec["barcode_details"]:
            poly = [tuple(p) for p in code["poly"]]
            t["codes"] += 1
            covered = coverage(poly, polys, image.shape)
            if misses is not None and covered < FOUND:
                misses.append(miss_line(f"{folder.name}/{rec['file']}", image.shape, code, covered))
            if covered >= FOUND:
                t["found"] += 1
                valid = [tuple(map(tuple, h.polygon)) for h in hits if h.valid and h.polygon]
                t["decoded"] += coverage(poly, valid, image.shape) >= 0.3
        labelled = [c["box"] for c in rec["barcode_details"]]
        t["spurious"] += sum(not any(_overlap(d.box, b) for b in labelled) for d in redact)
        for d in rec["decoy_text"]:
            if d["kind"] == "allowed_code":
                t["allowed"] += 1
                t["allowed_kept"] += (
                    coverage([tuple(p) for p in d["poly"]], polys, image.shape) < 0.3
                )
    return t


def code_geometry(code: dict) -> tuple[float, float, float, float]:
    """(length, bar height, module, tilt) of a labelled code: px, px, px (its length over its
    module count, from the payload re-encoded by zxing-cpp) and degrees."""
    import zxingcpp

    p = np.array(code["poly"], float)
    along, across = p[1] - p[0], p[3] - p[0]
    length, height = float(np.hypot(*along)), float(np.hypot(*across))
    fmt = getattr(zxingcpp.BarcodeFormat, code["symbology"])
    bits = np.asarray(
        zxingcpp.create_barcode(code["payload"], fmt).to_image(scale=1, add_quiet_zones=False)
    )
    tilt = float(np.degrees(np.arctan2(along[1], along[0])))
    return length, height, length / bits.shape[1], tilt


def miss_line(where: str, shape, code: dict, covered: float) -> str:
    """A code not found, as the classes of misses are told apart: its symbology, length and
    bar height (px), tilt (degrees), module (px) and the photo's long side (the bar search
    works at ``WORK_SIDE``)."""
    length, height, module, tilt = code_geometry(code)
    return (
        f"miss {where} {code['symbology']} {length:.0f}x{height:.0f} px, tilt {tilt:.0f}, "
        f"module {module:.2f} px, photo {max(shape[:2])} px, covered {covered:.2f}"
    )


def _overlap(box, b) -> bool:
    return min(box.x1, b[2]) > max(box.x0, b[0]) and min(box.y1, b[3]) > max(box.y0, b[1])


def row(name: str, seeds: str, t: dict) -> str:
    s = np.array(t["seconds"])
    return (
        f"| {name} | {seeds} | {t['found']}/{t['codes']} | {t['decoded']} | {t['spurious']} | "
        f"{t['allowed_kept']}/{t['allowed']} | {s.mean():.2f} | {s.max():.2f} |"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, action="append")
    ap.add_argument("--n", type=int, default=leaks.BENCH_N)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--misses", action="store_true", help="list each code not found")
    ap.add_argument("--work", type=Path, default=leaks.WORK, help="where the sets are cached")
    args = ap.parse_args(argv)
    seeds = args.seed or [leaks.TUNING, *leaks.HELD_OUT]
    if args.misses and any(s in leaks.HELD_OUT for s in seeds):
        ap.error("--misses lists the codes of tuning seeds only: name them with --seed")
    folders = [leaks.generate(s, args.n, args.work) for s in seeds]
    versions = [("after", barcodes)]
    before = _baseline()
    if before is not None:
        versions.insert(0, (f"before ({BASELINE})", before))
    out = [
        "## Barcodes on the hard text set",
        "",
        f"bench/barcodes.py: {args.n} scenes per seed; found = >= {FOUND:.0%} of a code's "
        "polygon covered by redacting detections; decoded = read by zxing; spurious = "
        "detections overlapping no labelled code; s/photo = find + classify.",
        "",
        "| detector | seeds | codes found | decoded | spurious | own QR kept | s/photo mean | "
        "s/photo max |",
        "|---|---|---|---|---|---|---|---|",
    ]
    misses: list[str] = []
    for name, module in versions:
        listed = misses if args.misses and module is barcodes else None
        tuning = score(module, folders[0], listed)
        out.append(row(name, str(seeds[0]), tuning))
        if len(folders) > 1:
            held = [score(module, f, listed) for f in folders[1:]]
            total = {
                k: sum(h[k] for h in held) if k != "seconds" else sum((h[k] for h in held), [])
                for k in tuning
            }
            out.append(row(name, ", ".join(map(str, seeds[1:])), total))
        print(out[-1], flush=True)
    if before is None:
        out += ["", f"(before: commit {BASELINE} not available, not measured)"]
    if misses:
        out += ["", "Codes not found (after):", "", *(f"- {m}" for m in misses)]
    text = "\n".join(out) + "\n"
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

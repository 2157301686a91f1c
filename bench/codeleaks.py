"""Barcode leaks of the barcode stage alone, by leak_score's pixel rule, on the hard text set.

For each scene of a seed (bench/hardset.py via bench/leaks.py's cache): ``find_barcodes`` +
``classify_barcodes`` with the set's allow-list, every redacting detection painted as the
renderer paints it (its polygon, grown by the policy's default text padding, filled black), then
each labelled code scored by ../shared/tools/leak_score.py's ``region_stats`` (leaked: share >=
1/3), each labelled decoy (kept: share >= 2/3) and the allow-listed QR (kept). Faster than the
pipeline (no text stage) and the same rule, for the barcode stage's share of the leaks.

``--verbose`` (dev seeds only) lists every leaked code with its symbology, size, module pitch,
angle, the scene's long side and what the locator saw there (each candidate kind's coverage of
the code), and every decoy the barcode stage painted.

Usage: ``python bench/codeleaks.py --seed 4 --seed 5 [--n 8] [-v]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import leaks  # noqa: E402
from bench.barcodes import code_geometry  # noqa: E402
from bench.text import coverage  # noqa: E402
from photoguard.detect import barcodes  # noqa: E402

ALLOW = (leaks.hardset.POLICY.split('"')[1],)
PADDING = 4  # settings' default text_padding


def _scorer():
    spec = importlib.util.spec_from_file_location("leak_score", leaks.LEAK_SCORE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def painted(rgb: np.ndarray, dets) -> np.ndarray:
    """``rgb`` with the redacting detections filled black as the renderer fills them: the
    renderer's own outlines (``render.outline_mask``), grown by the default text padding."""
    import cv2

    from photoguard.render import outline_mask

    mask = outline_mask(rgb.shape, dets).astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((2 * PADDING + 1,) * 2, np.uint8))
    out = rgb.copy()
    out[mask.astype(bool)] = 0
    return out


def seen(gray: np.ndarray, poly) -> str:
    """What the locator saw on a code: each candidate kind's best coverage of it."""
    import cv2

    from photoguard.detect.barcode_fine import fine_candidates
    from photoguard.detect.barcode_locate import (
        WORK_SIDE,
        code_fields,
        downscale,
        linear_codes,
        qr_codes,
    )

    work = downscale(gray, WORK_SIDE)
    bars, blobs = code_fields(gray, work)
    kinds = {
        "cv1d": linear_codes(gray, work),
        "cvqr": qr_codes(gray, work),
        "striped": [(r, "") for r, s in bars if s],
        "unstriped": [(r, "") for r, s in bars if not s],
        "blob": [(r, "") for r in blobs],
    }
    kinds["fine"] = fine_candidates(gray, [(r, "2D?") for r, _ in kinds["blob"]])
    parts = []
    for name, rects in kinds.items():
        covs = [coverage(poly, [tuple(map(tuple, cv2.boxPoints(r)))], gray.shape) for r, _ in rects]
        covs = [c for c in covs if c > 0.05]
        if covs:
            parts.append(f"{name} {len(covs)}x max {max(covs):.2f}")
    return ", ".join(parts) or "nothing"


def run(seed: int, n: int, verbose: bool, ls) -> dict:
    import cv2
    from PIL import Image

    if verbose and seed in leaks.HELD_OUT:
        raise SystemExit(f"seed {seed} is held out: its leaks are never looked at")
    folder = leaks.generate(seed, n, leaks.WORK)
    t = dict(codes=0, leaked=0, decoys=0, decoys_hit=0, allowed=0, allowed_kept=0, spurious=0)
    cpu = 0.0
    for line in (folder / "labels.jsonl").read_text().splitlines():
        rec = json.loads(line)
        rgb = np.asarray(Image.open(folder / rec["file"]).convert("RGB"))
        started = time.process_time()
        dets = barcodes.classify_barcodes(barcodes.find_barcodes(rgb), ALLOW)
        cpu += time.process_time() - started
        redact = [d for d in dets if d.label != "allowed"]
        g_o = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float64)
        g_r = cv2.cvtColor(painted(rgb, redact), cv2.COLOR_RGB2GRAY).astype(np.float64)
        labelled = []
        for code in rec["barcode_details"]:
            t["codes"] += 1
            st = ls.region_stats(g_o, g_r, code["poly"])
            labelled.append(code["box"])
            if st["share"] >= ls.LEAK_SHARE:
                t["leaked"] += 1
                if verbose:
                    length, height, mod, tilt = code_geometry(code)
                    print(
                        f"leak {rec['file']} {code['symbology']} {length:.0f}x{height:.0f} px "
                        f"module {mod:.2f} tilt {tilt:.0f} photo {max(rgb.shape[:2])} "
                        f"share {st['share']:.2f} [{rec['notes']}] saw: "
                        f"{seen(g_o.astype(np.uint8), code['poly'])}"
                    )
        for d in rec["decoy_text"]:
            if d["kind"] == "allowed_code":
                t["allowed"] += 1
                st = ls.region_stats(g_o, g_r, d["poly"])
                t["allowed_kept"] += st["share"] >= ls.KEEP_SHARE
                continue
            t["decoys"] += 1
            st = ls.region_stats(g_o, g_r, d["poly"], d.get("text_height_px"))
            if st["share"] < ls.KEEP_SHARE:
                t["decoys_hit"] += 1
                if verbose:
                    print(f"decoy painted {rec['file']} {d['text']!r} share {st['share']:.2f}")
        for d in redact:
            b = d.box
            if not any(
                min(b.x1, c[2]) > max(b.x0, c[0]) and min(b.y1, c[3]) > max(b.y0, c[1])
                for c in labelled
            ):
                t["spurious"] += 1
                if verbose:
                    print(f"spurious {rec['file']} {d.label} {b.width}x{b.height} at {b.x0},{b.y0}")
    t["cpu"] = cpu / n
    return t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, action="append", required=True)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)
    ls = _scorer()
    total: dict = {}
    print("| seed | codes leaked | decoys painted | own QR kept | spurious | stage CPU-s/scene |")
    print("|---|---|---|---|---|---|")
    for seed in args.seed:
        t = run(seed, args.n, args.verbose, ls)
        for k, v in t.items():
            total[k] = total.get(k, 0) + v
        print(
            f"| {seed} | {t['leaked']}/{t['codes']} | {t['decoys_hit']}/{t['decoys']} | "
            f"{t['allowed_kept']}/{t['allowed']} | {t['spurious']} | {t['cpu']:.2f} |",
            flush=True,
        )
    if len(args.seed) > 1:
        print(
            f"| all | {total['leaked']}/{total['codes']} | {total['decoys_hit']}/"
            f"{total['decoys']} | {total['allowed_kept']}/{total['allowed']} | "
            f"{total['spurious']} | {total['cpu'] / len(args.seed):.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

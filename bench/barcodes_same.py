"""Do two versions of the barcode stage find the same codes? Dump hits, diff two dumps.

A speed change to ``photoguard/detect/barcode*.py`` that should not change what is found is
checked so: dump the hits (format, polygon, box, decoded or not, a hash of the content, never the
content) and the CPU-s of ``find_barcodes`` on every image, before and after, then diff. Run the
"before" from a copy of the package (``git archive HEAD photoguard | tar -x -C /tmp/before``).

Usage:
  python bench/barcodes_same.py dump OUT.json IMAGE_GLOB... [--root /tmp/before]
  python bench/barcodes_same.py diff BEFORE.json AFTER.json
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff")


def dump(out: Path, patterns: list[str], root: Path) -> None:
    """Hits and CPU-s per image of the photoguard under ``root`` (one OpenCV thread)."""
    sys.path.insert(0, str(root))
    import cv2
    import numpy as np
    from PIL import Image

    from photoguard.detect import barcodes

    cv2.setNumThreads(1)
    files = sorted({f for p in patterns for f in glob.glob(p, recursive=True)})
    result = {}
    for f in (f for f in files if f.lower().endswith(IMAGES)):
        with Image.open(f) as im:
            rgb = np.ascontiguousarray(np.asarray(im.convert("RGB")))
        started = time.process_time()
        hits = barcodes.find_barcodes(rgb)
        cpu = time.process_time() - started
        result[f] = {
            "cpu": cpu,
            "hits": sorted(
                json.dumps(
                    [h.format, h.polygon, _box(h.box), h.valid, _digest(h.content)], default=list
                )
                for h in hits
            ),
        }
    out.write_text(json.dumps(result))
    cpu = sum(r["cpu"] for r in result.values())
    print(f"{barcodes.__file__}: {len(result)} images, {cpu:.2f} CPU-s")


def _box(box) -> list[int]:
    return [box.x0, box.y0, box.x1, box.y1]


def _digest(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()[:8]


def diff(before: Path, after: Path) -> int:
    """Print the images whose hits differ; 1 if any does."""
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    common = [f for f in a if f in b]
    changed = [f for f in common if a[f]["hits"] != b[f]["hits"]]
    for f in changed:
        print("DIFF", f)
        print(*(f"   - {h}" for h in sorted(set(a[f]["hits"]) - set(b[f]["hits"]))), sep="\n")
        print(*(f"   + {h}" for h in sorted(set(b[f]["hits"]) - set(a[f]["hits"]))), sep="\n")
    ca, cb = (sum(d[f]["cpu"] for f in common) for d in (a, b))
    print(f"{len(common) - len(changed)}/{len(common)} identical; CPU-s {ca:.2f} -> {cb:.2f}")
    return 1 if changed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("images", nargs="+", help="globs (quote them; ** recurses)")
    d.add_argument("--root", type=Path, default=ROOT, help="folder holding photoguard/")
    c = sub.add_parser("diff")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "dump":
        dump(args.out, args.images, args.root)
        return 0
    return diff(args.before, args.after)


if __name__ == "__main__":
    raise SystemExit(main())

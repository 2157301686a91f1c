"""Which text stage saw each PHI string that leaked on the hard text set (bench/leaks.py).

For every leaked string of a seed already run by ``bench/leaks.py --seed N`` (its set and
``metrics.json`` under bench/_work/leaks/), the text stage is run again on the original photo,
in process, and each stage's boxes are intersected with the string's label polygon: the coarse
DB lines, the glyph finder's regions (with their DB support), the finer look (``secondlook``),
the small-text tiles (``smalltext``), the glyph candidates kept for reading, the fail-closed
blobs, the lines read (confident or not) and the regions ``check`` reported. Each string then
gets a class:

- ``unfound``: no stage's box covers a third of it (no detector saw it);
- ``glyphs-only``: only the glyph finder's regions covered it (``support``: the coarse DB map's
  support, ~0 for tilted or blurred small text the detector melts or misses);
- ``dropped``: a DB line, finer/fine line or blob covered it, but no line was kept;
- ``published``: a kept line covers it and ``check`` redacted less than a third of it (read
  with confidence and no PHI: a fail-open reading);
- ``partial``: ``check`` redacted a third of it or more, but the pixels still leak.

Usage: ``python bench/leakstages.py --seed 1 --seed 4`` (after bench/leaks.py ran those seeds;
never on the held-out seeds). Output lists texts of the synthetic set, as leak_score -v does.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.leaks import HELD_OUT, WORK  # noqa: E402
from bench.text import coverage  # noqa: E402

_SEEN = 1 / 3  # share of a string a box must cover to count as having seen it
_STAGES = ("finer_lines", "fine_lines", "find_text_regions", "_glyph_candidates", "_blobs")


class _Recorder:
    """Wraps the text stage's steps (module attributes of ``detect.text``) to keep what each
    returned for the last photo read."""

    def __init__(self) -> None:
        from photoguard.detect import text

        self.seen: dict[str, object] = {}
        for name in _STAGES:
            setattr(text, name, self._wrap(name, getattr(text, name)))
        text.pp = _PpProxy(text.pp, self.seen)

    def _wrap(self, name, fn):
        def wrapped(*args, **kwargs):
            self.seen[name] = out = fn(*args, **kwargs)
            return out

        return wrapped


class _PpProxy:
    """``ocr_ppocr`` as ``detect.text`` sees it, keeping the coarse DB lines and map."""

    def __init__(self, module, seen: dict) -> None:
        self._module, self._seen = module, seen

    def __getattr__(self, name: str):
        return getattr(self._module, name)

    def detect_lines(self, rgb):
        self._seen["coarse"] = out = self._module.detect_lines(rgb)
        return out


def _cover(poly, quad, shape) -> float:
    """Share of the label polygon ``poly`` inside ``quad`` (four corners)."""
    return coverage(poly, [tuple(map(tuple, quad))], shape)


def _best(poly, boxes, shape) -> tuple[float, object]:
    scored = [(_cover(poly, b.corners(), shape), b) for b in boxes]
    return max(scored, key=lambda t: t[0], default=(0.0, None))


def diagnose(seed: int, n: int, work: Path) -> list[dict]:
    """One row per leaked PHI string of ``seed``: its kind, stage coverages and class."""
    import numpy as np
    from PIL import Image

    from photoguard.detect import text

    if seed in HELD_OUT:
        raise SystemExit(f"seed {seed} is held out: its leaks are never looked at")
    folder, run = work / f"set-{seed}-{n}", work / f"run-{seed}-{n}"
    labels = {}
    for line in (folder / "labels.jsonl").read_text().splitlines():
        rec = json.loads(line)
        labels[rec["file"]] = rec
    leaked = [i for i in json.loads((run / "metrics.json").read_text())["phi"] if i["leak_px"]]
    reports = json.loads((run / "check.json").read_text())["files"]
    regions = {Path(f["path"]).name: f["regions"] for f in reports}
    rec = _Recorder()
    rows = []
    for file in sorted({i["file"] for i in leaked}):
        rgb = np.asarray(Image.open(folder / file).convert("RGB"))
        lines = text.read_lines(rgb)
        seen, shape = rec.seen, rgb.shape[:2]
        boxes, pm = seen["coarse"]
        glyph = [text._padded(r) for r in seen["find_text_regions"]]
        for item in (i for i in leaked if i["file"] == file):
            label = next(t for t in labels[file]["phi_text"] if t["text"] == item["text"])
            poly = label["poly"]
            row = dict(seed=seed, file=Path(file).name, kind=item["kind"], text=item["text"])
            row["height"] = label["text_height_px"]
            row["coarse"] = _best(poly, boxes, shape)[0]
            cov, box = _best(poly, glyph, shape)
            row["glyphs"], row["support"] = cov, pm.support(box) if box is not None else 0.0
            row["finer"] = _best(poly, seen["finer_lines"], shape)[0]
            row["fine"] = _best(poly, seen["fine_lines"], shape)[0]
            row["cand"] = _best(poly, [b for b, _ in seen["_glyph_candidates"]], shape)[0]
            row["blobs"] = _best(poly, [b for b, _r, _l in seen["_blobs"]], shape)[0]
            kept = [(_cover(poly, ln.quad, shape), ln.confident) for ln in lines]
            row["line"], sure = max(kept, key=lambda t: t[0], default=(0.0, False))
            row["sure"] = sure and row["line"] > 0  # the confidence of the line covering it
            polys = [r["polygon"] for r in regions[Path(file).name] if r.get("polygon")]
            row["redacted"] = max((_cover(poly, p, shape) for p in polys), default=0.0)
            row["class"] = _classify(row)
            rows.append(row)
    return rows


def _classify(row: dict) -> str:
    if row["redacted"] >= _SEEN:
        return "partial"
    if row["line"] >= _SEEN:
        return "published" if row["sure"] else "dropped"
    if any(row[s] >= _SEEN for s in ("coarse", "finer", "fine", "blobs")):
        return "dropped"
    if row["glyphs"] >= _SEEN or row["cand"] >= _SEEN:
        # only the glyph finder saw it: the DB map does not support it (at most _WEAK-ish)
        return "glyphs-only"
    return "unfound"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, action="append", required=True)
    ap.add_argument("--n", type=int, default=8, help="scenes per seed (as bench/leaks.py ran)")
    ap.add_argument("--work", type=Path, default=WORK)
    args = ap.parse_args(argv)
    counts: Counter[str] = Counter()
    cols = ("coarse", "glyphs", "support", "finer", "fine", "cand", "blobs", "line", "redacted")
    print("seed file kind h class " + " ".join(cols) + " sure text")
    for seed in args.seed:
        for r in diagnose(seed, args.n, args.work):
            counts[r["class"]] += 1
            vals = " ".join(f"{r[c]:.2f}" for c in cols)
            print(
                f"{r['seed']} {r['file']} {r['kind']} {r['height']:.1f} {r['class']} {vals} "
                f"{r['sure']} {r['text']!r}",
                flush=True,
            )
    print("classes:", dict(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

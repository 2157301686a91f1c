"""Does a speed change leave the check's outputs as they were? Dump every decision, diff two dumps.

For each image: verdict, reasons, every region (kind, box, action, label, detector, score,
polygon) and the text lines published as read safe (their boxes: verification relies on them),
plus the CPU-s of the check. Never any text read. Sets: hard-set seeds (bench/leaks.py, each
with its own policy, no registry), ../shared/corpus (default policy, no registry) and the 12 MP
speed photos (a registry of one, as bench/speed.py). Run the "before" from a copy of the package
(``git archive HEAD photoguard | tar -x -C /tmp/before``, then ``--root /tmp/before``).

Usage:
  python bench/same_check.py dump OUT.json [--seeds 0 1 2] [--corpus] [--speed 6] [--root DIR]
  python bench/same_check.py diff BEFORE.json AFTER.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "images"


def _region(r) -> list:
    box = [r.box.x0, r.box.y0, r.box.x1, r.box.y1]
    poly = [list(p) for p in r.polygon] if r.polygon else None
    return [str(r.kind), box, str(r.action), r.frame, r.label, r.detector, r.score, poly]


def _one(path: Path, ctx) -> dict:
    from bench.scale import cpu_seconds
    from photoguard.pipeline import _check

    started = cpu_seconds()
    result, _image, read = _check(path, ctx)
    cpu = cpu_seconds() - started
    return {
        "cpu": cpu,
        "verdict": str(result.verdict),
        "reasons": list(result.reasons),
        "regions": sorted(json.dumps(_region(r)) for r in result.regions),
        "read": sorted(json.dumps([d.box.x0, d.box.y0, d.box.x1, d.box.y1, d.label]) for d in read),
        "runs": [[d.name, d.version, d.ok] for d in result.detectors],
    }


def dump(out: Path, seeds: list[int], corpus: bool, speed: int) -> None:
    from bench import leaks
    from photoguard.scan import CheckContext
    from photoguard.settings import load_settings

    sets: list[tuple[str, list[Path], object]] = []
    for seed in seeds:
        folder = leaks.generate(seed, leaks.BENCH_N, leaks.WORK)
        ctx = CheckContext(settings=load_settings(folder / "photoguard.toml"))
        files = sorted(p for p in (folder / "images").rglob("*") if p.is_file())
        sets.append((f"seed{seed}", files, ctx))
    if corpus:
        files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
        sets.append(("corpus", files, CheckContext(settings=load_settings(None))))
    if speed:
        from bench.speed import build_photos, registry_context

        sets.append(("12mp", build_photos(speed), registry_context()))
    result: dict[str, dict] = {}
    for name, files, ctx in sets:
        for f in files:
            result[f"{name}/{f.name}"] = _one(f, ctx)
        cpu = sum(v["cpu"] for k, v in result.items() if k.startswith(f"{name}/"))
        print(f"{name}: {len(files)} files, {cpu:.1f} CPU-s", flush=True)
    out.write_text(json.dumps(result, indent=0))


def diff(before: Path, after: Path) -> int:
    """Print the files whose outputs differ; 1 if any does."""
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    common = [f for f in a if f in b]
    changed = 0
    for f in common:
        keys = [k for k in ("verdict", "reasons", "regions", "read", "runs") if a[f][k] != b[f][k]]
        if not keys:
            continue
        changed += 1
        print("DIFF", f, keys)
        for k in keys:
            if isinstance(a[f][k], list):
                print(*(f"   - {x}" for x in a[f][k] if x not in b[f][k]), sep="\n")
                print(*(f"   + {x}" for x in b[f][k] if x not in a[f][k]), sep="\n")
            else:
                print(f"   {a[f][k]} -> {b[f][k]}")
    groups = sorted({f.split("/")[0] for f in common})
    for g in groups:
        ca = sum(a[f]["cpu"] for f in common if f.startswith(g + "/"))
        cb = sum(b[f]["cpu"] for f in common if f.startswith(g + "/"))
        print(f"{g}: CPU-s {ca:.1f} -> {cb:.1f}")
    print(f"{len(common) - changed}/{len(common)} identical")
    return 1 if changed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    d.add_argument("--corpus", action="store_true")
    d.add_argument("--speed", type=int, default=0, help="this many 12 MP photos of bench/speed")
    d.add_argument("--root", type=Path, default=ROOT, help="folder holding photoguard/")
    c = sub.add_parser("diff")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "dump":
        sys.path.insert(0, str(ROOT))
        # the bench modules put this worktree first on the path as they load: import them, then
        # put the package under --root ahead of it (nothing has imported photoguard yet)
        from bench import leaks, scale, speed  # noqa: F401

        if "photoguard" in sys.modules:
            raise SystemExit("photoguard was imported before --root could take effect")
        sys.path.insert(0, str(args.root))
        started = time.perf_counter()
        dump(args.out, args.seeds, args.corpus, args.speed)
        import photoguard

        print(f"{photoguard.__file__}: {time.perf_counter() - started:.0f} s wall")
        return 0
    return diff(args.before, args.after)


if __name__ == "__main__":
    raise SystemExit(main())

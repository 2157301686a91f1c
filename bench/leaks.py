"""What a reader of the published copies could still see, on the hard text set (bench/hardset.py).

For each seed: generate the set (cached under bench/_work/leaks/, regenerated when the
generator changes), run ``photoguard check --json`` and ``photoguard redact --out --json`` on it
(no registry; the set's policy allows the organisation's own QR code), then score the written
copies with ../shared/tools/leak_score.py, the scoring the unseen set is judged by.

Reported per seed: PHI strings leaked (leak_score's pixel rule: >= 1/3 of a string's detail
still visible), barcodes leaked, decoys kept (>= 2/3 unchanged), files blocked by verification
(check said pass/redact, redact then refused to write) and all blocked files.

Seed ``TUNING`` (0) and any seed below 1000 may be looked at (``--verbose`` lists each leak);
``HELD_OUT`` seeds are never looked at: only their totals are printed, ``--verbose`` is refused.

Usage: ``python bench/leaks.py --seed 0 --n 12`` (one seed, a few minutes on 2 cores);
``python bench/leaks.py --bench --out bench/RESULTS-leaks.md`` (tuning + held-out seeds).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import hardcards, hardkinds, hardset  # noqa: E402

TUNING = 0
HELD_OUT = (1001, 1002, 1003)  # 1003: first run at the 2026-12-01 stop, once
BENCH_N = 12
WORK = ROOT / "bench" / "_work" / "leaks"
LEAK_SCORE = ROOT.parent / "shared" / "tools" / "leak_score.py"
PHOTOGUARD = Path(sys.executable).parent / "photoguard"


def _stamp(seed: int, n: int) -> str:
    """Changes when the generator, the seed, the count or the installed fonts change."""
    h = hashlib.sha256(f"{seed}:{n}:{hardcards.fonts_used()}".encode())
    for mod in (hardset, hardcards, hardkinds):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()[:16]


def generate(seed: int, n: int, work: Path) -> Path:
    """The set for ``seed`` under ``work`` (reused when its stamp matches)."""
    folder = work / f"set-{seed}-{n}"
    stamp = _stamp(seed, n)
    if (folder / "STAMP").exists() and (folder / "STAMP").read_text() == stamp:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    hardset.write_set(seed, n, folder)
    (folder / "STAMP").write_text(stamp)
    return folder


def _photoguard(args: list[str], log: Path, policy: Path) -> float:
    """Run the CLI (exit 0/1/4/5 are verdicts; 2 and 3 are failures); returns CPU seconds."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    before = os.times()
    with log.open("a") as fh:
        proc = subprocess.run(
            [str(PHOTOGUARD), "--config", str(policy), *args], stdout=fh, stderr=fh, env=env
        )
    after = os.times()
    if proc.returncode not in (0, 1, 4, 5):
        raise SystemExit(f"photoguard {args[0]} failed (exit {proc.returncode}); see {log}")
    return (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def run_seed(seed: int, n: int, work: Path, workers: int, ocr: bool, verbose: bool) -> dict:
    """Generate, check, redact and score one seed; returns the figures."""
    if verbose and seed in HELD_OUT:
        raise SystemExit(f"seed {seed} is held out: its leaks are never looked at")
    folder = generate(seed, n, work)
    run = work / f"run-{seed}-{n}"
    shutil.rmtree(run, ignore_errors=True)
    (run / "out").mkdir(parents=True)
    log, policy, images = run / "cli.log", folder / "photoguard.toml", folder / "images"
    common = ["--no-registry", "--quiet", "--workers", str(workers)]
    started = time.perf_counter()
    cpu = _photoguard(
        ["check", str(images), "--json", str(run / "check.json"), *common], log, policy
    )
    cpu += _photoguard(
        [
            "redact",
            str(images),
            "--out",
            str(run / "out" / "images"),
            "--json",
            str(run / "redact.json"),
            *common,
        ],
        log,
        policy,
    )
    wall = time.perf_counter() - started
    cmd = [
        sys.executable,
        str(LEAK_SCORE),
        str(folder),
        str(run / "check.json"),
        str(run / "out"),
        "--json",
        str(run / "metrics.json"),
        "--cli-log",
        str(log),
        "--no-exiftool",
    ]
    cmd += [] if ocr else ["--no-ocr"]
    cmd += ["--verbose"] if verbose else []
    scored = subprocess.run(cmd, capture_output=True, text=True)
    if scored.returncode != 0:
        raise SystemExit(f"leak_score failed: {scored.stderr.strip()[-300:]}")
    if verbose:
        print(scored.stdout)
    return _figures(seed, n, run, wall, cpu)


def _verdicts(report: Path) -> dict[str, str]:
    files = json.loads(report.read_text()).get("files", [])
    return {Path(f["path"]).name: f["verdict"] for f in files}


def _figures(seed: int, n: int, run: Path, wall: float, cpu: float) -> dict:
    m = json.loads((run / "metrics.json").read_text())
    checked, redacted = _verdicts(run / "check.json"), _verdicts(run / "redact.json")
    verification = sum(
        1 for f, v in checked.items() if v in ("pass", "redact") and redacted.get(f) == "block"
    )
    phi, bars = m["phi"], m["barcodes"]
    decoys = [d for d in m["decoys"] if d["kind"] != "allowed_code"]
    allowed = [d for d in m["decoys"] if d["kind"] == "allowed_code"]
    return dict(
        seed=seed,
        n=n,
        phi=len(phi),
        phi_leaks=sum(i["leak_px"] for i in phi),
        phi_ocr=sum(bool(i.get("leak_ocr")) for i in phi),
        phi_blocked=sum(not i["written"] for i in phi),
        codes=len(bars),
        code_leaks=sum(i["leak_px"] for i in bars),
        code_decodes=sum(bool(i.get("leak_decode")) for i in bars),
        decoys=len(decoys),
        decoys_kept=sum(d["kept"] for d in decoys),
        allowed=len(allowed),
        allowed_kept=sum(d["kept"] for d in allowed),
        verification_blocks=verification,
        blocked=sum(v == "block" for v in redacted.values()),
        wall=wall,
        cpu=cpu,
        by_kind=_by_kind(phi),
    )


def _by_kind(items) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i in items:
        k = out.setdefault(i["kind"], [0, 0])
        k[0] += bool(i["leak_px"])
        k[1] += 1
    return dict(sorted(out.items()))


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f} % ({a}/{b})" if b else "n/a"


def line(f: dict) -> str:
    """One markdown table row."""
    role = "held out" if f["seed"] in HELD_OUT else "tuning" if f["seed"] == TUNING else "dev"
    return (
        f"| {f['seed']} ({role}) | {f['n']} | {_pct(f['phi_leaks'], f['phi'])} | "
        f"{f['phi_ocr']} | {f['code_leaks']}/{f['codes']} ({f['code_decodes']} decode) | "
        f"{_ratio(f['decoys_kept'], f['decoys'])} | {f['allowed_kept']}/{f['allowed']} | "
        f"{f['verification_blocks']} | {f['blocked']} | {f['cpu'] / f['n']:.1f} |"
    )


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f} ({a}/{b})" if b else "n/a"


HEADER = (
    "| seed | scenes | PHI leaked (pixel rule) | PHI read back by OCR | barcodes leaked | "
    "decoys kept | own QR kept | verification blocks | files blocked | CPU-s/scene |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def report(figures: list[dict], ocr: bool) -> str:
    out = [
        "## PHI leaks on the hard text set",
        "",
        "bench/leaks.py: bench/hardset.py scenes (curved/tilted/upside-down/vertical cards, "
        "7-45 px text, handwriting fonts, EHR screens and monitors, glare, blur, JPEG q30-92, "
        "small rotated and damaged codes, texture backgrounds; "
        f"{hardcards.fonts_used()}), `photoguard check` + `photoguard redact`, scored by "
        "../shared/tools/leak_score.py (leaked = >= 1/3 of the detail still visible in the "
        "written copy; a blocked file leaks nothing and is counted under files blocked). "
        f"Seed {TUNING} is the tuning seed; seeds {', '.join(map(str, HELD_OUT))} are held out "
        "(never looked at)." + ("" if ocr else " OCR read-back not run (--no-ocr)."),
        "",
        HEADER,
        *[line(f) for f in figures],
        "",
    ]
    for f in figures:
        if f["seed"] not in HELD_OUT:
            kinds = ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in f["by_kind"].items())
            out.append(f"Seed {f['seed']} PHI leaked by kind: {kinds}.")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, action="append", help="seed(s) to run (default 0)")
    ap.add_argument("--n", type=int, default=BENCH_N, help="scenes per seed")
    ap.add_argument("--bench", action="store_true", help="the tuning seed and the held-out seeds")
    ap.add_argument("--workers", "-j", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-ocr", action="store_true", help="skip leak_score's OCR read-back")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every leak (not held out)")
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--out", type=Path, help="write the markdown section here")
    args = ap.parse_args(argv)
    if not LEAK_SCORE.exists():
        raise SystemExit(f"{LEAK_SCORE} is missing: the scorer lives in ../shared/tools")
    seeds = [TUNING, *HELD_OUT] if args.bench else (args.seed or [TUNING])
    figures = []
    for seed in seeds:
        f = run_seed(seed, args.n, args.work, args.workers, not args.no_ocr, args.verbose)
        figures.append(f)
        print(
            HEADER.splitlines()[0] if len(figures) == 1 else "",
            end="\n" if len(figures) == 1 else "",
        )
        print(line(f), flush=True)
    text = report(figures, not args.no_ocr)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

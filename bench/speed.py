"""Throughput on 12-megapixel JPEGs: full check per stage, against the decode floor and deface.

Photos are built from ../shared/corpus images by Lanczos upscaling to 4000x3000 (written under
bench/_work, never committed). Every figure is measured in this run; ratios compare figures of
the same run, because the machine is shared and noisy.

Run: .venv/bin/python bench/speed.py [--photos 6] [--out bench/RESULTS-speed.md]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))
from bench.scale import cpu_seconds, demo_registry, measure_cli_workers  # noqa: E402

WORK = ROOT / "bench" / "_work"
CORPUS = ROOT.parent / "shared" / "corpus"
SIZE = (4000, 3000)


def build_photos(count: int) -> list[Path]:
    """12 MP JPEGs from the corpus photos with the most faces (crowds are the hard case)."""
    folder = WORK / f"12mp-{count}"
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


@dataclass
class Times:
    """Wall and CPU seconds per photo of one stage."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)


def timed(times: Times, fn, *args):
    started, cpu = time.perf_counter(), cpu_seconds()
    value = fn(*args)
    times.add(time.perf_counter() - started, cpu_seconds() - cpu)
    return value


def registry_context():
    """A check context as with a registry of one authorization (the demo's Eileen Collins), so
    that faces are encoded and matched as in a real run."""
    from photoguard.detect.faces import encode_faces
    from photoguard.detect.registry import get
    from photoguard.pipeline import CheckContext
    from photoguard.settings import load_settings
    from photoguard.types import EnrolledPerson, MatchStatus

    reference = np.asarray(Image.open(ROOT / "consents" / "people" / "eileen-collins.png"))
    reference = np.ascontiguousarray(reference[..., :3])
    [face] = get("faces").detect(reference)
    [encoding] = encode_faces(reference, [face.box])
    person = EnrolledPerson("P1", encoding[None], False, MatchStatus.CONSENTED, "AUTH-000001")
    return CheckContext(settings=load_settings(None), enrolled=(person,))


def measure_photoguard(paths: list[Path]) -> dict[str, Times]:
    """Each stage on its own (as the pipeline calls it), then the whole pipeline per file."""
    from photoguard import render
    from photoguard.detect.faces import encode_faces, recognisable
    from photoguard.load import load_image
    from photoguard.pipeline import check_file, find
    from photoguard.policy import decide

    ctx = registry_context()
    no_registry = replace(ctx, enrolled=None)
    policy = ctx.settings.policy
    check_file(paths[0], ctx)  # model loads are not per-photo costs
    stages = {k: Times() for k in STAGES}
    for path in paths:
        image = timed(stages["decode"], load_image, path)
        frame = image.frames[0]
        # faces, text and barcodes as the pipeline runs them, without encodings, one after
        # another (the full check below runs text beside the others: scan.CONCURRENT)
        findings = _in_turn(find, image, no_registry)
        for run in findings.runs:  # wall as the pipeline recorded it; CPU measured below
            stages[run.name].wall.append(run.seconds)
        boxes = [f.detection.box for f in findings.faces if recognisable(f.detection.box)]
        timed(stages["encodings"], encode_faces, frame, boxes)
        decision = timed(stages["decide"], decide, findings, policy)
        redacted = timed(stages["render"], render.redact_image, image, decision.regions, policy)
        timed(stages["render"], render.encode, redacted, image)
        timed(stages["full check"], check_file, path, ctx)
    for path in paths:  # CPU per stage: the detection stages again, one at a time
        for stage, cpu in _stage_cpu(load_image(path), no_registry).items():
            stages[stage].cpu.append(cpu)
    return stages


def _stage_cpu(image, ctx) -> dict[str, float]:
    """CPU-s of faces, text and barcodes on one image (Tesseract's processes included).

    Each stage is timed around its own call inside one ``scan.find`` (the stages run one after
    another there), not as the difference of runs with a stage on and off: a difference carries
    the whole run's noise (the face stage's own swing was larger than the barcode stage).
    """
    from photoguard import scan

    spent: dict[str, float] = {}
    originals = {name: getattr(scan, f"_{name}") for name in ("faces", "text", "barcodes")}

    def timed_stage(name, call):
        def run(*args, **kwargs):
            started = cpu_seconds()
            try:
                return call(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + cpu_seconds() - started

        return run

    try:
        for name, call in originals.items():
            setattr(scan, f"_{name}", timed_stage(name, call))
        _in_turn(scan.find, image, ctx)  # concurrent stages' CPU would count in each other's
    finally:
        for name, call in originals.items():
            setattr(scan, f"_{name}", call)
    return {name: spent.get(name, 0.0) for name in originals}


def _in_turn(fn, *args):
    """``fn(*args)`` with the pipeline's stages run one after another (``scan.CONCURRENT``)."""
    from photoguard import scan

    was, scan.CONCURRENT = scan.CONCURRENT, False
    try:
        return fn(*args)
    finally:
        scan.CONCURRENT = was


STAGES = (
    "decode",
    "faces",
    "encodings",
    "text",
    "barcodes",
    "decide",
    "render",
    "full check",
)


def measure_decode_floor(paths: list[Path]) -> Times:
    out = Times()
    for path in paths:

        def decode(p=path):
            with Image.open(p) as im:
                im.load()
                if im.mode != "RGB":
                    raise RuntimeError(f"{p.name}: the 12 MP set is RGB JPEG, not {im.mode}")
                return np.asarray(im)  # the decode and one copy out of PIL, nothing more

        timed(out, decode)
    return out


def measure_deface(paths: list[Path]) -> Times:
    """deface at its defaults: CenterFace at full resolution, threshold 0.2, blur and save."""
    from deface.centerface import CenterFace
    from deface.deface import anonymize_frame

    centerface = CenterFace(in_shape=None, backend="auto")
    out = Times()

    def one(path: Path) -> None:
        frame = np.asarray(Image.open(path).convert("RGB")).copy()
        dets, _ = centerface(frame, threshold=0.2)
        anonymize_frame(
            dets,
            frame,
            mask_scale=1.3,
            replacewith="blur",
            ellipse=True,
            draw_scores=False,
            replaceimg=None,
            mosaicsize=20,
        )
        Image.fromarray(frame).save(WORK / "deface-out.jpg", quality=90)

    one(paths[0])  # model load
    for path in paths:
        timed(out, one, path)
    return out


def measure_presidio(paths: list[Path]) -> Times:
    """presidio-image-redactor (text only): analyze + fill, from the decoded photo."""
    from bench.peers import Presidio

    engine = Presidio()
    out = Times()

    def one(path: Path) -> None:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        engine.redact(rgb).save(WORK / "presidio-out.jpg", quality=90)

    for path in paths:
        timed(out, one, path)
    return out


def measure_cli_redact(paths: list[Path], registry: Path, workers: int = 2) -> tuple[float, float]:
    """`photoguard redact` of the 12 MP set into a fresh folder: (wall, CPU) per photo.

    Besides the check, each copy is rendered, encoded and re-checked on its written pixels
    (faces, text, barcodes; no encodings), once more per round that found something more.
    """
    import resource
    import shutil
    import subprocess

    out = WORK / "redact-out"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(ROOT / ".venv" / "bin" / "photoguard"), "--db", f"sqlite:///{registry}"]
    cmd += ["redact", str(paths[0].parent), "--out", str(out), "--workers", str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([*cmd, "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode not in (0, 1, 4, 5):
        raise RuntimeError(f"photoguard redact exited {proc.returncode}: {proc.stderr[-300:]!r}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall / len(paths), cpu / len(paths)


def accuracy(text_scenes: int) -> dict[str, str]:
    """Face recall/precision on the corpus and text coverage on the dev set, as configured."""
    from bench import faces as face_bench
    from bench import text as text_bench

    tallies = face_bench.run_methods(
        {"faces": face_bench.photoguard_method("faces")}, face_bench.load_corpus(CORPUS)
    )
    face = face_bench.summary(tallies["faces"])
    run = text_bench.photoguard_stages(text_bench.DEV_RULES, text_bench.DEV_CODES)
    dev = text_bench.run_devset(0, text_scenes, run)
    return {
        "face recall (corpus, >= 24 px)": f"{face['recall']:.3f}",
        "face precision (corpus)": f"{face['precision']:.3f}",
        f"PHI text found (dev set, {text_scenes} scenes)": f"{dev.phi_found}/{dev.phi}",
        "codes found (dev set)": f"{dev.codes_found}/{dev.codes}",
    }


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    spread = (max(values) - min(values)) / 2
    return f"{med:.3f} ± {spread:.3f}"


def med(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def throughput_table(stages, floor: Times, deface: Times, presidio: Times | None, workers):
    """One table: every stage and peer, wall and CPU, and each as a multiple of the floor."""
    check = stages["full check"]
    lines = [
        "| what (per 12 MP photo) | wall s | CPU-s | wall x decode floor | CPU x decode floor |",
        "|---|---|---|---|---|",
    ]

    def row(label: str, t: Times) -> str:
        return (
            f"| {label} | {fmt(t.wall)} | {fmt(t.cpu)} | {med(t.wall) / med(floor.wall):.1f} "
            f"| {med(t.cpu) / med(floor.cpu):.1f} |"
        )

    lines.append(row("decode floor (PIL decode, one copy to an array)", floor))
    for stage in STAGES[:-1]:
        lines.append(row(f"stage: {stage}", stages[stage]))
    lines.append(row("**full check** (pipeline, registry of one, one process)", check))
    for n, (wall, cpu, more_wall, more_cpu, *_start) in workers.items():
        for label, w, c in (
            ("whole run / photos", wall, cpu),
            (f"each photo past the first {n} (start-up taken out)", more_wall, more_cpu),
        ):
            lines.append(
                f"| `photoguard check --workers {n}` (CLI, {label}) | {w:.3f} | {c:.3f} "
                f"| {w / med(floor.wall):.1f} | {c / med(floor.cpu):.1f} |"
            )
    lines.append(row(f"peer: deface {_version('deface')} (faces only, defaults)", deface))
    if presidio:
        lines.append(row(f"peer: presidio-image-redactor {presidio_version()} (text)", presidio))
    return lines


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def presidio_version() -> str:
    from bench.peers import presidio_version as version

    return version()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=6)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-speed.md")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--no-peers", action="store_true", help="skip presidio")
    parser.add_argument("--text-scenes", type=int, default=12, help="dev-set scenes for coverage")
    args = parser.parse_args(argv)
    from bench.peers import PRESIDIO_SETUP, presidio_available
    from bench.scale import MachineLoad, measure_scale

    paths = build_photos(args.photos)
    load = MachineLoad()
    floor = measure_decode_floor(paths)
    stages = measure_photoguard(paths)
    deface = measure_deface(paths)
    presidio = measure_presidio(paths) if presidio_available() and not args.no_peers else None
    registry = demo_registry()
    workers = measure_cli_workers(paths, registry)
    redact = measure_cli_redact(paths, registry)
    check = stages["full check"]
    lines = [
        "## Throughput on 12 MP JPEGs",
        "",
        f"{len(paths)} photos of {SIZE[0]}x{SIZE[1]} upscaled from the corpus's most crowded "
        "photos; median ± half-range per photo. CPU-s counts every thread and child process "
        "(Tesseract); on this shared machine it is steadier than wall time. Stages are timed as "
        "the pipeline runs them, each around its own call (CPU too); `encodings` is the faces a "
        "registry would have encoded; the "
        "full check is `check_file` with a registry of one authorization (decode, faces, "
        "encodings, text, barcodes, decide) plus render + encode of the redacted copy above it.",
        "",
        *throughput_table(stages, floor, deface, presidio, workers),
        f"| `photoguard redact --workers 2` (CLI, whole run / photos) | {redact[0]:.3f} "
        f"| {redact[1]:.3f} | {redact[0] / med(floor.wall):.1f} "
        f"| {redact[1] / med(floor.cpu):.1f} |",
        "",
    ]
    one, two = workers[1][0], workers[2][0]
    steady = {n: w[2] for n, w in workers.items()}
    busy = {n: w[3] / w[2] for n, w in workers.items() if w[2] > 0}  # CPU-s per wall s
    lines += [
        f"- deface / full check: **{med(deface.wall) / med(check.wall):.2f}x** wall, "
        f"{med(deface.cpu) / med(check.cpu):.2f}x CPU (goal: >= 3x)",
        f"- full check / decode floor: **{med(check.wall) / med(floor.wall):.1f}x** wall, "
        f"{med(check.cpu) / med(floor.cpu):.1f}x CPU (goal: <= 15x)",
        f"- the same by means (the CLI rows are means, total / photos; a photo's text costs "
        f"3-13 CPU-s, so the median hides the heavy ones): deface / full check "
        f"{mean(deface.wall) / mean(check.wall):.2f}x wall, "
        f"{mean(deface.cpu) / mean(check.cpu):.2f}x CPU; full check / decode floor "
        f"{mean(check.wall) / mean(floor.wall):.1f}x wall, "
        f"{mean(check.cpu) / mean(floor.cpu):.1f}x CPU",
        f"- deface (mean) / `photoguard check --workers 2` (both on every core, per photo): "
        f"**{mean(deface.wall) / two:.2f}x** wall, start-up taken out "
        f"{mean(deface.wall) / steady[2]:.2f}x",
        f"- parallel efficiency, 2 workers vs 1 (CLI): {one / (2 * two):.2f} "
        f"({one / two:.2f}x throughput); start-up taken out: "
        f"{steady[1] / (2 * steady[2]):.2f}",
        "- cores kept busy past start-up (CPU-s / wall s): "
        + ", ".join(f"{n} worker(s) {b:.2f}" for n, b in busy.items())
        + f" of {_cores()}: one process runs onnxruntime and OpenCV on every core, so at the "
        f"same CPU-s per photo more workers can raise throughput at most "
        f"{_cores() / busy.get(1, 1.0):.2f}x (cores / one worker's figure; efficiency at most "
        f"that / {_cores()})",
        f"- redact / check (CLI, 2 workers, whole runs): {redact[0] / two:.2f}x wall, "
        f"{redact[1] / workers[2][1]:.2f}x CPU (each copy re-checked on its written pixels, "
        "again after each round that found more; no encodings)",
        "- start-up of a run (imports, registry, model loads; the first N photos' run less N "
        "photos past them): "
        + "; ".join(
            f"{n} worker(s) {w[4]:.2f} s wall, {w[5]:.2f} CPU-s" for n, w in workers.items()
        ),
    ]
    if presidio:
        lines.append(
            f"- presidio / full check: {med(presidio.wall) / med(check.wall):.2f}x wall, "
            f"{med(presidio.cpu) / med(check.cpu):.2f}x CPU"
        )
        lines += ["", "presidio setup: " + PRESIDIO_SETUP.format(version=presidio_version())]
    lines += ["", "Accuracy of the configuration timed above:", ""]
    lines += [f"- {k}: {v}" for k, v in accuracy(args.text_scenes).items()]
    if not args.skip_scale:
        lines += [
            "",
            "## Scale",
            "",
            "`photoguard check --no-registry` (faces, text, barcodes) on copies of a 1200x630 "
            "group photo; memory sampled every 50 ms over the whole process tree (workers and "
            "Tesseract included).",
            "",
            "| photos | workers | seconds | s/photo | peak RSS, all processes (MB) | "
            "peak RSS, largest process (MB) |",
            "|---|---|---|---|---|---|",
        ]
        lines += measure_scale()
    lines += ["", load.summary()]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Consent matching on the corpus's identity labels: true- and false-accept rates by threshold.

Faces go through the real path: the default detector finds them, each labelled face is paired
with the detection covering it, face_recognition encodes the detection, and photoguard.match
decides (nearest identity, threshold, margin, near-miss band). Two protocols:

* enrolled: one reference photo per identity (``recognition_role: enroll``) in the gallery; every
  other labelled photo of an enrolled identity is a genuine query; faces with no identity are
  impostors;
* leave-one-identity-out: each identity in turn is removed from the gallery, and all its query
  faces become impostors. This is "a different person never matches", for everyone.

A false accept publishes a patient, so the default threshold must give zero false accepts here.

Run: .venv/bin/python bench/match.py [--out bench/RESULTS-match.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"
THRESHOLDS = (0.35, 0.40, 0.45, 0.50, 0.55, 0.60)


def covers(det, label) -> bool:
    return det.iou(label) >= 0.3 or det.intersection(label) >= 0.6 * label.area


def encode_corpus(corpus: Path):
    """(identity or None, role, file, encoding or None) for every labelled face."""
    from photoguard.detect import registry
    from photoguard.detect.faces import DEFAULT_FACE_DETECTORS, encode_faces, merge_faces
    from photoguard.load import load_image
    from photoguard.types import Box

    faces = []
    for line in (corpus / "labels.jsonl").open():
        record = json.loads(line)
        if not record["faces"]:
            continue
        image = load_image(corpus / record["file"])
        frame = image.frames[0]
        detections = merge_faces(
            [d for n in DEFAULT_FACE_DETECTORS for d in registry.get(n).detect(frame)]
        )
        for box, identity in zip(record["faces"], record["face_identities"], strict=True):
            label = Box(*box)
            hits = [d for d in detections if covers(d.box, label)]
            encoding = None
            if hits:
                best = max(hits, key=lambda d: d.box.iou(label))
                [encoding] = encode_faces(frame, [best.box])
            faces.append((identity, record.get("recognition_role"), record["file"], encoding))
    return faces


def encode_scaled(corpus: Path, side: int):
    """Like encode_corpus, but each labelled face encoded in a copy of its photo shrunk so that
    the face is ``side`` px tall (its label box, dlib-style, encoded directly; never upscaled)."""
    import cv2

    from photoguard.detect import dlib_faces
    from photoguard.load import load_image
    from photoguard.types import Box

    floor, dlib_faces.MIN_ENCODE_SIDE = dlib_faces.MIN_ENCODE_SIDE, 1  # measure below the floor
    faces = []
    try:
        for line in (corpus / "labels.jsonl").open():
            record = json.loads(line)
            if not record["faces"]:
                continue
            frame = load_image(corpus / record["file"]).frames[0]
            for box, identity in zip(record["faces"], record["face_identities"], strict=True):
                label = Box(*box)
                k = min(1.0, side / max(1, label.height))
                small = cv2.resize(frame, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
                scaled = Box.from_float(label.x0 * k, label.y0 * k, label.x1 * k, label.y1 * k)
                [encoding] = dlib_faces.encode_faces(small, [scaled])
                faces.append((identity, record.get("recognition_role"), record["file"], encoding))
    finally:
        dlib_faces.MIN_ENCODE_SIDE = floor
    return faces


def by_size(corpus: Path, faces, threshold: float, margin: float) -> list[str]:
    """Matching of queries shrunk to a face size against the full-resolution gallery."""
    lines = [
        "",
        f"### By face size (queries shrunk, gallery at full resolution, threshold {threshold})",
        "",
        "A face too small to recognise is unconsented by rule (never matched): the floor is the "
        "smallest size at which no impostor is accepted and genuine faces still match.",
        "",
        "| face side (px) | encoded | TAR | to review | wrong person | false accepts | FAR |",
        "|---|---|---|---|---|---|---|",
    ]
    for side in SIZES:
        queries = encode_scaled(corpus, side)
        r = evaluate(faces, threshold, margin, 0.04, queries=queries)
        encoded = sum(e is not None for *_, e in queries)
        lines.append(
            f"| {side} | {encoded}/{len(queries)} "
            f"| {r['accepted'] / max(1, r['genuine']):.3f} ({r['accepted']}/{r['genuine']}) "
            f"| {r['review']} | {r['wrong']} | {r['false_accepts']} "
            f"| {r['false_accepts'] / max(1, r['impostors']):.4f} |"
        )
    return lines


SIZES = (20, 24, 28, 32, 40, 48, 64)


def evaluate(faces, threshold: float, margin: float, near_miss: float, queries=None):
    from photoguard.match import MatchRules, match_faces
    from photoguard.types import EnrolledPerson, MatchStatus

    rules = MatchRules(
        threshold=threshold, threshold_minor=threshold, margin=margin, near_miss=near_miss
    )
    gallery = defaultdict(list)
    for identity, role, _file, enc in faces:
        if role == "enroll" and identity and enc is not None:
            gallery[identity].append(enc)
    people = {
        i: EnrolledPerson(i, np.stack(e), False, MatchStatus.CONSENTED, f"AUTH-{i}")
        for i, e in gallery.items()
    }
    queries = faces if queries is None else queries
    genuine = [(i, e) for i, r, _f, e in queries if r != "enroll" and i in people]
    strangers = [e for i, r, _f, e in queries if i is None]
    out = {
        "genuine": len(genuine),
        "accepted": 0,
        "wrong": 0,
        "review": 0,
        "unencodable": 0,
        "impostors": 0,
        "false_accepts": 0,
    }
    for identity, enc in genuine:
        [m] = match_faces([enc], list(people.values()), rules)
        out["accepted"] += m.authorization == f"AUTH-{identity}"
        out["wrong"] += m.authorization not in (None, f"AUTH-{identity}")
        out["review"] += m.status is MatchStatus.AMBIGUOUS
        out["unencodable"] += m.status is MatchStatus.UNENCODABLE
    # impostors: faces with no identity against the full gallery, and every identity's faces
    # (queries and its enrolment photo) against the gallery without that identity
    outsiders = [e for i, _r, _f, e in queries if i is not None and i not in people]
    trials = [(enc, list(people.values())) for enc in strangers + outsiders]
    for identity in people:
        others = [p for k, p in people.items() if k != identity]
        trials += [(e, others) for i, _r, _f, e in queries if i == identity]
    for enc, others in trials:
        [m] = match_faces([enc], others, rules)
        out["impostors"] += 1
        out["false_accepts"] += m.authorization is not None
    return out


def main(argv=None) -> int:
    from photoguard.settings import Policy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-match.md")
    args = parser.parse_args(argv)
    policy = Policy()
    faces = encode_corpus(args.corpus)
    encoded = sum(e is not None for *_, e in faces)
    lines = [
        "## Consent matching (face_recognition 128-d, nearest identity + margin)",
        "",
        f"{len(faces)} labelled faces ({encoded} detected and encoded) over "
        f"{len({i for i, *_ in faces if i})} identities; margin {policy.match_margin}, "
        "near-miss band 0.04 (a best match just outside the threshold goes to review). "
        "TAR: genuine queries accepted as the right person. FAR: impostor trials (unlabelled "
        "faces, and each identity against the gallery without it, and identities never "
        "enrolled) accepted as anyone.",
        "",
        "| threshold | TAR | to review | wrong person | impostor trials | false accepts | FAR |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in THRESHOLDS:
        r = evaluate(faces, t, policy.match_margin, 0.04)
        mark = " (default)" if abs(t - policy.match_threshold) < 1e-9 else ""
        tar = r["accepted"] / max(1, r["genuine"])
        lines.append(
            f"| {t:.2f}{mark} | {tar:.3f} ({r['accepted']}/{r['genuine']}) "
            f"| {r['review']} | {r['wrong']} | {r['impostors']} | {r['false_accepts']} "
            f"| {r['false_accepts'] / max(1, r['impostors']):.4f} |"
        )
    lines += by_size(args.corpus, faces, policy.match_threshold, policy.match_margin)
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

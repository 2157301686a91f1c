"""The hard text set: generated hospital scenes labelled in the corpus schema, for leak_score.py.

Harder and more varied than bench/textset.py, and made the way the unseen set is scored:

* cards (bench/hardkinds.py): curved wristbands, 7-12 px specimen labels with tiny codes,
  handwritten whiteboards, EHR screens (light/dark, many lines, scan lines), bedside monitors,
  forms with handwritten values and signatures, door tags, decoy-only signs ("Welcome",
  "Cardiology", "EXIT" - text that must be kept), badges with the organisation's own QR code
  (allow-listed by the set's policy), and stand-alone small 1-D/2-D codes, some damaged
  (low contrast, scratched, a covered corner) so that they do not decode;
* placement: a perspective (keystone) tilt, any angle up to +-40 deg, upside down (180 +- 20) or
  vertical (+-90 +- 8); body text 7-45 px high;
* backgrounds: wood, fabric checks, tiles, foliage noise, blurred clutter, a keyboard-like grid
  and, when ../shared/corpus is present, its photos without people or text (read by path at run
  time, never copied); texture patches are placed next to the cards;
* degradations: glare (a bright highlight over a card), screen scan lines, Gaussian or motion
  blur, noise, uneven light, JPEG quality 30-90 (the file itself is written at that quality).

``write_set(seed, n, folder)`` writes ``folder/images/*.jpg``, ``folder/labels.jsonl``
(phi_text/decoy_text with text, kind, box, poly, text_height_px; barcodes + barcode_details;
faces []; expect) and ``folder/photoguard.toml`` (the set's policy: the organisation's URL is an
allowed barcode). Deterministic for a seed and the installed fonts.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from bench import hardcards as hc
from bench import hardkinds

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
PHOTO_BACKGROUNDS = (
    "images/dlib__dogs.jpg",
    "images/dlib__ffmpeg_dog.jpg",
    "images/dlib__ffmpeg_eagle.jpg",
    "images/dlib__ffmpeg_giraffe.jpg",
    "images/dlib__ffmpeg_horses.jpg",
    "images/presidio__no_ocr.jpg",
)
POLICY = f'[policy]\nbarcode_allow = ["{hc.ORG_URL.replace(".", "[.]")}(/.*)?"]\n'
SIZES = ((1600, 1200), (1600, 1200), (2400, 1800), (2400, 1800), (1200, 1600), (4000, 3000))


# -- backgrounds -------------------------------------------------------------------------------


def _noise(nrng, h, w, cell):
    small = nrng.normal(0, 1, (max(2, h // cell + 2), max(2, w // cell + 2))).astype(np.float32)
    import cv2

    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def texture(rng: random.Random, w: int, h: int, kind: str | None = None) -> Image.Image:
    """A texture-rich RGB image: wood, checks, tiles, foliage, clutter, keys or a photo."""
    kinds = ["wood", "checks", "tiles", "foliage", "clutter", "keys"]
    if all((CORPUS / p).exists() for p in PHOTO_BACKGROUNDS):
        kinds.append("photo")
    kind = kind or rng.choice(kinds)
    nrng = np.random.default_rng(rng.randint(0, 2**31))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c1 = np.array([rng.randint(40, 220) for _ in range(3)], np.float32)
    c2 = np.array([rng.randint(0, 255) for _ in range(3)], np.float32)
    if kind == "wood":
        t = np.sin((xx * 0.02 + 6 * _noise(nrng, h, w, 80)) * rng.uniform(2, 6)) * 0.5 + 0.5
        arr = c1 * (0.6 + 0.4 * t[..., None])
    elif kind == "checks":
        p = rng.randint(12, 60)
        t = (
            (np.sin(xx * 2 * math.pi / p) > 0) ^ (np.sin(yy * 2 * math.pi / (p * 1.3)) > 0)
        ).astype(np.float32)
        arr = c1 + (c2 - c1) * t[..., None] * 0.7 + 20 * np.sin(xx / 3)[..., None]
    elif kind == "tiles":
        p = rng.randint(40, 160)
        t = ((xx % p < 3) | (yy % p < 3)).astype(np.float32)
        arr = c1 * (1 - 0.5 * t[..., None]) + 10 * _noise(nrng, h, w, 8)[..., None]
    elif kind == "foliage":
        t = sum(_noise(nrng, h, w, c) / k for k, c in ((1, 64), (2, 16), (3, 4), (4, 2)))
        arr = c1 + 35 * t[..., None] * np.array([0.6, 1.0, 0.5], np.float32)
    elif kind == "keys":
        p = rng.randint(24, 60)
        t = ((xx % p > 4) & (yy % p > 4)).astype(np.float32)
        arr = (40 + 150 * t)[..., None] * np.ones(3, np.float32)
    elif kind == "photo":
        photo = Image.open(CORPUS / rng.choice(PHOTO_BACKGROUNDS)).convert("RGB")
        s = max(w / photo.width, h / photo.height)
        photo = photo.resize((math.ceil(photo.width * s), math.ceil(photo.height * s)))
        return photo.crop((0, 0, w, h))
    else:
        return _clutter(rng, nrng, w, h)
    arr = arr + nrng.normal(0, 4, (h, w, 1))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _clutter(rng, nrng, w, h):
    base = np.stack(
        [
            a + b * np.arange(w)[None] / w + 0 * np.arange(h)[:, None] + c
            for a, b, c in nrng.uniform(-40, 200, (3, 3))
        ],
        -1,
    )
    im = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(rng.randint(10, 25)):
        x, y, r = rng.randint(0, w), rng.randint(0, h), rng.randint(10, max(11, w // 5))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)(
            (x - r, y - r // 2, x + r, y + r // 2),
            fill=tuple(rng.randint(0, 255) for _ in range(3)),
        )
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(1, 5)))
    d = ImageDraw.Draw(im)
    for _ in range(rng.randint(8, 20)):
        d.line(
            [(rng.randint(0, w), rng.randint(0, h)), (rng.randint(0, w), rng.randint(0, h))],
            fill=tuple(rng.randint(0, 255) for _ in range(3)),
            width=rng.randint(1, 5),
        )
    return im


# -- placement ---------------------------------------------------------------------------------


def _orientation(rng, card) -> tuple[float, str]:
    r = rng.random()
    if r < 0.12:
        return 180 + rng.uniform(-20, 20), "upside-down"
    if r < 0.27 and card.kind not in ("sign", "ehr"):
        return rng.choice([90, -90]) + rng.uniform(-8, 8), "vertical"
    return rng.uniform(-40, 40) if rng.random() < 0.6 else rng.uniform(-8, 8), "tilted"


def _curve(card, rng):
    """Bend the card like a band round a wrist; returns the point map (card px -> bent px)."""
    import cv2

    amp = rng.uniform(0.15, 0.45) * card.im.height * rng.choice([-1, 1])
    pad = int(abs(amp)) + 2
    w, h = card.im.size
    src = np.asarray(card.im)
    xs = np.arange(w, dtype=np.float32)
    yy, xx = np.mgrid[0 : h + 2 * pad, 0:w].astype(np.float32)
    mapy = yy - pad - amp * np.sin(np.pi * xs / w)[None, :]
    card.im = Image.fromarray(cv2.remap(src, xx, mapy, cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0)))
    return lambda x, y: (x, y + pad + amp * math.sin(math.pi * x / w))


def _homography(card, rng, cell, angle):
    """Card px -> scene px: keystone, rotation, scale (text at card.target) and position."""
    import cv2

    w, h = card.im.size
    s = rng.uniform(*card.target) / card.main_px
    kx, ky = rng.uniform(-0.15, 0.15), rng.uniform(-0.12, 0.12)
    corners = np.array(
        [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)], np.float64
    )
    bent = np.array([(x * (1 + kx * y / (h / 2)), y * (1 + ky * x / (w / 2))) for x, y in corners])
    a = math.radians(-angle)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    dst = bent @ rot.T
    cx0, cy0, cx1, cy1 = cell
    span = dst.max(0) - dst.min(0)
    s = min(s, 0.95 * (cx1 - cx0) / span[0], 0.95 * (cy1 - cy0) / span[1])
    dst *= s
    lo, hi = dst.min(0), dst.max(0)
    cx = rng.uniform(cx0 - lo[0], max(cx0 - lo[0], cx1 - hi[0]))
    cy = rng.uniform(cy0 - lo[1], max(cy0 - lo[1], cy1 - hi[1]))
    dst += (cx, cy)
    src = corners + (w / 2, h / 2)
    return cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32)), s


def place(scene: Image.Image, card, rng, cell) -> tuple[list[dict], list[dict], str]:
    """Composite ``card`` into ``cell`` of ``scene``; returns (texts, codes, how) in scene px."""
    import cv2

    bend = None
    if card.curvable and rng.random() < 0.55:
        bend = _curve(card, rng)
    if getattr(card, "screen", False) and rng.random() < 0.5:
        _scanlines(card, rng)
    angle, how = _orientation(rng, card)
    m, s = _homography(card, rng, cell, angle)
    pre = min(1.0, s * 1.5)  # shrink with area averaging first: warpPerspective only interpolates
    small = (
        card.im.resize(
            (max(1, round(card.im.width * pre)), max(1, round(card.im.height * pre))),
            Image.Resampling.BOX,
        )
        if pre < 1
        else card.im
    )
    mm = m @ np.diag([1 / pre, 1 / pre, 1.0])
    warped = cv2.warpPerspective(
        np.asarray(small), mm, scene.size, flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0)
    )
    scene.paste(Image.fromarray(warped[..., :3]), (0, 0), Image.fromarray(warped[..., 3]))

    def tr(x, y):
        if bend is not None:
            x, y = bend(x, y)
        v = m @ (x, y, 1.0)
        return v[0] / v[2], v[1] / v[2]

    texts = [dict(text=t, kind=k, **_truth(q, tr), **extra) for t, k, q, extra in card.texts]
    codes = [dict(payload=p, symbology=f, **_truth(q, tr)) for p, f, q in card.codes]
    return texts, codes, f"{card.kind}:{how}{':curved' if bend else ''}:{angle:.0f}"


def _truth(quad, tr) -> dict:
    """The scene polygon (TL, TR, BR, BL in reading order) covering a card quad, bent or not."""
    import cv2

    q = np.array(quad, np.float64)
    edge = [q[0] + (q[1] - q[0]) * t for t in np.linspace(0, 1, 9)]
    edge += [q[3] + (q[2] - q[3]) * t for t in np.linspace(0, 1, 9)]
    pts = np.array([tr(*p) for p in edge], np.float32)
    corners = np.array([tr(*p) for p in q])
    rect = cv2.boxPoints(cv2.minAreaRect(pts)).astype(np.float64)
    best = min(
        (np.roll(order, -k, 0) for order in (rect, rect[::-1]) for k in range(4)),
        key=lambda r: float(np.linalg.norm(r - corners, axis=1).sum()),
    )
    height = float(np.linalg.norm((best[3] - best[0] + best[2] - best[1]) / 2))
    poly = [[round(float(x), 1), round(float(y), 1)] for x, y in best]
    xs, ys = best[:, 0], best[:, 1]
    box = [
        int(math.floor(xs.min())),
        int(math.floor(ys.min())),
        int(math.ceil(xs.max())) + 1,
        int(math.ceil(ys.max())) + 1,
    ]
    return dict(box=box, poly=poly, text_height_px=round(height, 1))


# -- degradations ------------------------------------------------------------------------------


def _scanlines(card, rng):
    arr = np.asarray(card.im).astype(np.float32)
    period = rng.uniform(2.5, 5)
    rows = 1 - 0.2 * (np.sin(np.arange(arr.shape[0]) * 2 * math.pi / period) > 0.3)
    arr[..., :3] *= rows[:, None, None]
    card.im = Image.fromarray(arr.astype(np.uint8))


def _glare(arr, rng, at, radius):
    h, w = arr.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    g = np.exp(
        -(((xx - at[0]) / radius) ** 2 + ((yy - at[1]) / (radius * rng.uniform(0.4, 1))) ** 2)
    )
    a = rng.uniform(0.45, 0.85) * g[..., None]
    return arr * (1 - a) + 255 * a


def degrade(scene: Image.Image, rng, glare_at=None) -> tuple[Image.Image, int, list[str]]:
    """Light, glare, blur, noise; returns the image, the JPEG quality to write and what was done."""
    import cv2

    done = []
    arr = np.asarray(scene).astype(np.float32)
    h, w = arr.shape[:2]
    light = np.linspace(rng.uniform(0.7, 1.0), rng.uniform(0.9, 1.15), w, dtype=np.float32)
    arr = arr * light[None, :, None]
    if glare_at is not None and rng.random() < 0.4:
        arr = _glare(arr, rng, glare_at[0], glare_at[1])
        done.append("glare")
    r = rng.random()
    if r < 0.35:
        arr = cv2.GaussianBlur(arr, (0, 0), rng.uniform(0.6, 1.8))
        done.append("blur")
    elif r < 0.55:
        k = rng.randint(3, 7)
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2] = 1 / k
        m = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1)
        arr = cv2.filter2D(arr, -1, cv2.warpAffine(kernel, m, (k, k)))
        done.append("motion-blur")
    arr = arr + np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(2, 7), arr.shape)
    quality = rng.choice([30, 30, 40, 55, 70, 85, 92])
    done.append(f"q{quality}")
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), quality, done


# -- scenes ------------------------------------------------------------------------------------


def make_scene(seed: int, index: int) -> tuple[Image.Image, int, dict]:
    """Scene ``index`` of set ``seed``: the image, its JPEG quality and its label record."""
    rng = random.Random(seed * 7_919 + index * 104_729 + 17)
    w, h = rng.choice(SIZES)
    scene = texture(rng, w, h)
    cols, rows = (2, 2) if w * h < 5e6 else (3, 2)
    cells = [
        (w * c / cols, h * r / rows, w * (c + 1) / cols, h * (r + 1) / rows)
        for r in range(rows)
        for c in range(cols)
    ]
    rng.shuffle(cells)
    first = hardkinds.CARDS[index % len(hardkinds.CARDS)]
    makers = [first] + [rng.choice(hardkinds.CARDS) for _ in range(rng.randint(0, len(cells) - 2))]
    for cell in cells[len(makers) : len(makers) + 1]:  # a texture patch beside the cards
        x0, y0, x1, y1 = (round(v) for v in cell)
        pw, ph = round((x1 - x0) * rng.uniform(0.5, 0.9)), round((y1 - y0) * rng.uniform(0.5, 0.9))
        scene.paste(
            texture(rng, pw, ph),
            (x0 + rng.randint(0, x1 - x0 - pw), y0 + rng.randint(0, y1 - y0 - ph)),
        )
    texts, codes, hows, glare_at = [], [], [], None
    for make, cell in zip(makers, cells, strict=False):
        t, c, how = place(scene, make(rng), rng, cell)
        texts += t
        codes += c
        hows.append(how)
        if glare_at is None and t:
            p = np.array(t[0]["poly"])
            glare_at = (tuple(p.mean(0)), max(40.0, float(np.ptp(p[:, 0])) * rng.uniform(0.4, 1.0)))
    image, quality, done = degrade(scene, rng, glare_at)
    phi = [t for t in texts if t["kind"] not in ("decoy", "allowed_code")]
    decoys = [
        dict(t, kind=t["kind"] if t["kind"] == "allowed_code" else "sign")
        for t in texts
        if t not in phi
    ]
    name = f"h{seed}-{index:03d}-{first.__name__}.jpg"
    record = dict(
        file=f"images/{name}",
        source="bench/hardset.py",
        faces=[],
        face_identities=[],
        faces_complete=True,
        phi_text=[_clip(t, w, h) for t in phi],
        decoy_text=[_clip(t, w, h) for t in decoys],
        barcodes=[_clip(c, w, h)["box"] for c in codes],
        barcode_details=[_clip(c, w, h) for c in codes],
        expect="redact" if phi or codes else "pass",
        width=w,
        height=h,
        notes="; ".join(hows + done),
        human_verified=False,
    )
    return image, quality, record


def _clip(item: dict, w: int, h: int) -> dict:
    x0, y0, x1, y1 = item["box"]
    return dict(item, box=[max(0, x0), max(0, y0), min(w, x1), min(h, y1)])


def write_set(seed: int, n: int, folder: Path) -> Path:
    """Write ``n`` scenes of set ``seed`` under ``folder`` (images/, labels.jsonl, policy)."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n):
        image, quality, record = make_scene(seed, i)
        image.save(folder / record["file"], "JPEG", quality=quality)
        lines.append(json.dumps(record))
    (folder / "labels.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "photoguard.toml").write_text(POLICY)
    return folder


if __name__ == "__main__":  # pragma: no cover - a quick look: python -m bench.hardset SEED N DIR
    import sys

    seed, n = int(sys.argv[1]), int(sys.argv[2])
    print(write_set(seed, n, Path(sys.argv[3])))

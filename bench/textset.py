"""A labelled dev set of synthetic PHI scenes, generated deterministically from a seed.

Every scene is a "photo" (a cluttered synthetic background) with one or more cards composited
on it: wristbands, chart labels, door tags, whiteboards, monitors and badges, each in a random
font, size and angle (wristbands also vertical), then blurred, noised and JPEG-compressed.
Ground truth is kept as polygons in scene pixels: PHI strings (value only, never the field
label), decoy text that must stay, and barcodes. Nothing is written to disk.

``render_wristband`` builds the single wristband composite that ``samples/`` uses.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansCondensed.ttf",
    "DejaVuSerifCondensed-Bold.ttf",
)
ORGS = (
    "Mercy General Hospital",
    "St. Luke's Medical Center",
    "Riverside Health",
    "Lakeview Clinic",
)
ORG_URL = "https://www.mercy-general.example.org"
FIRST = (
    "James",
    "Maria",
    "Robert",
    "Linda",
    "Ahmed",
    "Mei",
    "Olga",
    "Carlos",
    "Priya",
    "Kevin",
    "Fatima",
    "Dmitri",
    "Grace",
    "Hiroshi",
    "Anna",
    "Tomasz",
    "Keisha",
    "Liam",
    "Sofia",
    "Noah",
)
LAST = (
    "Garcia",
    "Okafor",
    "Smith",
    "Nguyen",
    "Kowalski",
    "Johnson",
    "Haddad",
    "Lindqvist",
    "Brown",
    "Tanaka",
    "Petrov",
    "Williams",
    "Moreau",
    "Singh",
    "O'Brien",
    "Rossi",
    "Davis",
)
STREETS = ("Elm Street", "Oak Ave", "Maple Road", "Cedar Lane", "Harbor Blvd", "Pine Dr")
DECOYS = (
    "Welcome",
    "Visiting Hours 8am - 8pm",
    "Hand Hygiene Saves Lives",
    "Fall Risk",
    "Nurse Station",
    "Cardiology",
    "Please knock",
    "Patient Safety First",
    "Quiet Please",
    "Level 3 East",
    "Pain scale 0-10",
    "EXIT",
)


@dataclass(frozen=True, slots=True)
class TextTruth:
    """A labelled string: ``kind`` is a PHI kind or ``"decoy"``; polygon in scene pixels."""

    text: str = field(repr=False)
    kind: str
    polygon: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class BarcodeTruth:
    """A barcode drawn into the scene; ``allowed`` if its content is the organisation's URL."""

    content: str = field(repr=False)
    format: str
    polygon: tuple[tuple[float, float], ...]
    allowed: bool = False


@dataclass(frozen=True, slots=True)
class Scene:
    """One generated photo and its truth."""

    name: str
    image: np.ndarray
    texts: tuple[TextTruth, ...]
    barcodes: tuple[BarcodeTruth, ...]

    @property
    def phi(self) -> tuple[TextTruth, ...]:
        return tuple(t for t in self.texts if t.kind != "decoy")

    @property
    def decoys(self) -> tuple[TextTruth, ...]:
        return tuple(t for t in self.texts if t.kind == "decoy")


class _Card:
    """A card being drawn: an RGBA canvas plus truth in card pixels."""

    def __init__(self, size: tuple[int, int], colour: tuple[int, int, int], rng: random.Random):
        self.im = Image.new("RGBA", size, colour + (255,))
        self.draw = ImageDraw.Draw(self.im)
        self.rng = rng
        self.texts: list[tuple[str, str, tuple]] = []
        self.codes: list[tuple[str, str, tuple, bool]] = []
        self.ink = (20, 20, 20)

    def text(self, xy, s: str, font, kind: str, label: str = "") -> float:
        """Draw ``label`` then ``s``; record ``s`` as ``kind``. Returns the x after the text."""
        x, y = xy
        if label:
            self.draw.text((x, y), label, font=font, fill=self.ink)
            x = self.draw.textbbox((x, y), label + " ", font=font)[2]
        x0, y0, x1, y1 = self.draw.textbbox((x, y), s, font=font)
        self.draw.text((x, y), s, font=font, fill=self.ink)
        self.texts.append((s, kind, ((x0, y0), (x1, y0), (x1, y1), (x0, y1))))
        return x1

    def barcode(self, xy, content: str, fmt: str, scale: int, allowed: bool = False) -> None:
        import zxingcpp

        code = zxingcpp.create_barcode(content, getattr(zxingcpp.BarcodeFormat, fmt))
        img = Image.fromarray(
            np.asarray(code.to_image(scale=scale, add_quiet_zones=False))
        ).convert("RGBA")
        quiet = (4 if fmt in ("QRCode", "DataMatrix") else 10) * scale
        x, y = xy[0] + quiet, xy[1] + quiet // 2
        room = self.im.height - y - quiet // 2 - 4
        if (
            fmt not in ("QRCode", "DataMatrix") and img.height > room
        ):  # bars shortened to fit the band
            img = img.resize((img.width, room), Image.Resampling.NEAREST)
        w, h = img.size
        self.draw.rectangle(
            (x - quiet, y - quiet // 2, x + w + quiet, y + h + quiet // 2), fill=(255, 255, 255)
        )
        self.im.paste(img, (x, y))
        self.codes.append((content, fmt, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)), allowed))


def _font(rng: random.Random, size: int):
    name = rng.choice(FONT_FILES + ("default",))
    if name == "default" or not (FONT_DIR / name).exists():
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(FONT_DIR / name), size)


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST), rng.choice(LAST)


def _dob(rng: random.Random) -> str:
    y, m, d = rng.randint(1925, 2020), rng.randint(1, 12), rng.randint(1, 28)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return rng.choice(
        [
            f"{m:02d}/{d:02d}/{y}",
            f"{d:02d}-{months[m - 1]}-{y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{m}/{d}/{y}",
        ]
    )


def _mrn(rng: random.Random) -> tuple[str, str]:
    label = rng.choice(["MRN:", "MRN", "MR#", "FIN:", "Acct#"])
    return label, "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 10)))


def _phone(rng: random.Random) -> str:
    a, b, c = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
    return rng.choice([f"({a}) {b}-{c:04d}", f"{a}-{b}-{c:04d}", f"{a}.{b}.{c:04d}"])


def wristband(rng: random.Random, *, name=None, dob=None, mrn=None, org=None) -> _Card:
    """A patient band: name (LAST, FIRST), DOB, MRN, a Code 128 of the MRN, the org's name."""
    fs = rng.randint(22, 30)
    font, small = _font(rng, fs), _font(rng, int(fs * 0.8))
    card = _Card(
        (rng.randint(1000, 1100), int(fs * 5.2)),
        rng.choice([(250, 250, 250), (255, 245, 200), (235, 245, 255)]),
        rng,
    )
    first, last = name or _person(rng)
    y = int(fs * 0.3)
    card.text((20, y), f"{last.upper()}, {first.upper()}", font, "name")
    label, number = mrn or _mrn(rng)
    card.text((20, y + int(fs * 1.3)), dob or _dob(rng), font, "dob", label="DOB:")
    card.text((20, y + int(fs * 2.6)), number, font, "mrn", label=label)
    card.text((20, y + int(fs * 3.9)), org or rng.choice(ORGS), small, "decoy")
    card.barcode((int(fs * 14), int(fs * 0.6)), number, "Code128", 3)
    return card


def chart_label(rng: random.Random) -> _Card:
    fs = rng.randint(18, 26)
    font = _font(rng, fs)
    card = _Card((rng.randint(560, 640), int(fs * 8.6)), (255, 255, 255), rng)
    first, last = _person(rng)
    y = lambda k: int(fs * (0.4 + 1.35 * k))  # noqa: E731
    card.text(
        (16, y(0)), f"{first} {last}", font, "name", label=rng.choice(["Name:", "Patient:", "Pt:"])
    )
    card.text((16, y(1)), _dob(rng), font, "dob", label=rng.choice(["DOB:", "D.O.B."]))
    card.text((16, y(2)), _mrn(rng)[1], font, "mrn", label="MRN:")
    card.text((16, y(3)), f"{rng.randint(90, 104)}", font, "age", label="Age:")
    card.text((16, y(4)), _phone(rng), font, "phone", label=rng.choice(["Tel:", "Phone:"]))
    card.text((16, y(5)), f"{rng.randint(10, 9999)} {rng.choice(STREETS)}", font, "address")
    if rng.random() < 0.5:
        code = "QRCode" if rng.random() < 0.5 else "DataMatrix"
        card.barcode((card.im.width - 150, 12), f"PT|{rng.randint(10**6, 10**7)}", code, 5)
    return card


def door_tag(rng: random.Random) -> _Card:
    fs = rng.randint(28, 44)
    font, big = _font(rng, fs), _font(rng, int(fs * 1.4))
    card = _Card(
        (rng.randint(600, 720), int(fs * 5)), rng.choice([(255, 255, 255), (210, 230, 250)]), rng
    )
    card.text((20, 10), f"Room {rng.randint(100, 899)}", big, "decoy")
    first, last = _person(rng)
    card.text(
        (20, int(fs * 2.0)),
        f"{first[0]}. {last}" if rng.random() < 0.3 else f"{last}, {first}",
        font,
        "name",
    )
    card.text((20, int(fs * 3.4)), rng.choice(DECOYS[:6]), _font(rng, int(fs * 0.7)), "decoy")
    return card


def whiteboard(rng: random.Random) -> _Card:
    fs = rng.randint(26, 40)
    card = _Card((rng.randint(900, 1100), int(fs * 9)), (245, 245, 242), rng)
    card.ink = rng.choice([(20, 40, 160), (20, 20, 20), (150, 20, 20)])
    font = _font(rng, fs)
    card.text((30, 20), f"Welcome to {rng.choice(ORGS)}", font, "decoy")
    first, last = _person(rng)
    card.text((30, 20 + int(fs * 1.6)), f"{first} {last}", font, "name", label="Patient:")
    card.text(
        (30, 20 + int(fs * 3.2)),
        f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/2024",
        font,
        "date",
        label="Admitted:",
    )
    card.text((30, 20 + int(fs * 4.8)), rng.choice(DECOYS), font, "decoy")
    card.text((30, 20 + int(fs * 6.4)), _phone(rng), font, "phone", label="Family:")
    return card


def monitor(rng: random.Random) -> _Card:
    fs = rng.randint(20, 30)
    card = _Card((rng.randint(760, 860), int(fs * 7)), (10, 14, 20), rng)
    card.ink = rng.choice([(90, 255, 90), (255, 255, 255), (80, 220, 255)])
    font = _font(rng, fs)
    first, last = _person(rng)
    card.text((20, 14), f"{last.upper()}, {first.upper()}", font, "name")
    card.text((20, 14 + int(fs * 1.5)), _mrn(rng)[1], font, "mrn", label="ID")
    card.text((20, 14 + int(fs * 3.0)), f"HR {rng.randint(55, 110)} bpm", font, "decoy")
    card.text((20, 14 + int(fs * 4.5)), f"SpO2 {rng.randint(90, 100)}%", font, "decoy")
    card.text(
        (int(card.im.width * 0.55), 14 + int(fs * 3.0)),
        f"{rng.randint(300, 999)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        font,
        "ssn",
        label="SSN",
    )
    return card


def badge(rng: random.Random) -> _Card:
    fs = rng.randint(22, 30)
    font = _font(rng, fs)
    card = _Card((rng.randint(420, 480), int(fs * 5.4) + 170), (255, 255, 255), rng)
    card.text((20, 14), rng.choice(ORGS), _font(rng, int(fs * 0.9)), "decoy")
    card.text((20, int(fs * 2.2)), "VISITOR", font, "decoy")
    first, last = _person(rng)
    card.text(
        (20, int(fs * 3.6)),
        f"{first.lower()}.{last.lower().replace(chr(39), '')}@mail.example.com",
        _font(rng, int(fs * 0.7)),
        "email",
    )
    card.barcode((20, int(fs * 5.0)), ORG_URL, "QRCode", 4, allowed=True)
    return card


CARDS = (wristband, chart_label, door_tag, whiteboard, monitor, badge)


def background(rng: random.Random, w: int, h: int) -> Image.Image:
    """A cluttered, photo-like background: gradient, blurred shapes, lines, noise."""
    nrng = np.random.default_rng(rng.randint(0, 2**31))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([a + b * xx / w + c * yy / h for a, b, c in nrng.uniform(-60, 200, (3, 3))], -1)
    im = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(rng.randint(8, 20)):
        x, y, r = rng.randint(0, w), rng.randint(0, h), rng.randint(20, w // 4)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)(
            (x - r, y - r // 2, x + r, y + r // 2), fill=colour
        )
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(2, 8)))
    d = ImageDraw.Draw(im)
    for _ in range(rng.randint(5, 15)):
        d.line(
            [(rng.randint(0, w), rng.randint(0, h)), (rng.randint(0, w), rng.randint(0, h))],
            fill=tuple(rng.randint(0, 255) for _ in range(3)),
            width=rng.randint(1, 6),
        )
    arr = np.asarray(im).astype(np.int16) + nrng.normal(0, 6, (h, w, 3)).astype(np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _place(
    scene: Image.Image, card: _Card, rng: random.Random, scale: float, angle: float, at=None
):
    """Composite ``card`` onto ``scene`` scaled and rotated; return its truth in scene pixels."""
    import cv2

    cw, ch = card.im.size
    rad = math.radians(angle)
    bw = abs(cw * math.cos(rad)) * scale + abs(ch * math.sin(rad)) * scale
    bh = abs(cw * math.sin(rad)) * scale + abs(ch * math.cos(rad)) * scale
    if at is None:
        at = (
            rng.uniform(bw / 2, max(bw / 2 + 1, scene.width - bw / 2)),
            rng.uniform(bh / 2, max(bh / 2 + 1, scene.height - bh / 2)),
        )
    m = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, scale)
    m[0, 2] += at[0] - cw / 2
    m[1, 2] += at[1] - ch / 2
    warped = cv2.warpAffine(
        np.asarray(card.im), m, scene.size, flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    )
    scene.alpha_composite(Image.fromarray(warped)) if scene.mode == "RGBA" else scene.paste(
        Image.fromarray(warped[..., :3]), (0, 0), Image.fromarray(warped[..., 3])
    )

    def tr(poly):
        return tuple(
            (float(m[0, 0] * x + m[0, 1] * y + m[0, 2]), float(m[1, 0] * x + m[1, 1] * y + m[1, 2]))
            for x, y in poly
        )

    texts = [TextTruth(s, k, tr(p)) for s, k, p in card.texts]
    codes = [BarcodeTruth(c, f, tr(p), a) for c, f, p, a in card.codes]
    return texts, codes


def _degrade(im: Image.Image, rng: random.Random) -> np.ndarray:
    if rng.random() < 0.6:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=rng.choice([45, 60, 75, 90]))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def make_scene(seed: int, index: int) -> Scene:
    """Scene ``index`` of the set generated from ``seed`` (1-3 cards, deterministic)."""
    rng = random.Random(seed * 100_003 + index)
    w, h = rng.choice([(1600, 1200), (1600, 1200), (2000, 1500), (4000, 3000)])
    scene = background(rng, w, h)
    texts, codes = [], []
    kinds = [CARDS[index % len(CARDS)]] + [rng.choice(CARDS) for _ in range(rng.randint(0, 1))]
    slots = [(w * 0.3, h * 0.3), (w * 0.7, h * 0.72)]
    for slot, make in zip(slots, kinds, strict=False):
        card = make(rng)
        vertical = make is wristband and rng.random() < 0.35
        angle = rng.choice([90.0, -90.0]) + rng.uniform(-5, 5) if vertical else rng.uniform(-30, 30)
        longest = max(card.im.size)
        scale = rng.uniform(0.65, 1.0) * min(1.6, 0.45 * min(w, h) / longest) * (w / 1600) ** 0.5
        t, c = _place(scene, card, rng, scale, angle, at=slot)
        texts += t
        codes += c
    return Scene(
        f"s{seed}-{index:03d}-{kinds[0].__name__}", _degrade(scene, rng), tuple(texts), tuple(codes)
    )


def generate(seed: int = 0, count: int = 36) -> list[Scene]:
    """The dev set: ``count`` scenes from ``seed`` (card types cycle, so every type appears)."""
    return [make_scene(seed, i) for i in range(count)]


def render_wristband(
    photo: np.ndarray | None = None,
    *,
    name: tuple[str, str] = ("Jane", "Doe"),
    dob: str = "03/14/1962",
    mrn: str = "00482913",
    org: str = "Mercy General Hospital",
    angle: float = -12.0,
    seed: int = 0,
) -> Scene:
    """A wristband with name, DOB, MRN and a Code 128 composited on ``photo`` (or a background).

    Args:
        photo: RGB uint8 array to draw on (not modified); a synthetic background when None.
        name: (first, last), printed as ``LAST, FIRST``.
        dob, mrn, org: the printed date of birth, MRN and organisation name.
        angle: rotation of the band in degrees.
        seed: seeds the font choice and the background.

    Returns:
        A ``Scene`` with the composite and its truth.
    """
    rng = random.Random(seed)
    card = wristband(rng, name=name, dob=dob, mrn=("MRN:", mrn), org=org)
    scene = (
        Image.fromarray(photo).convert("RGB") if photo is not None else background(rng, 1600, 1200)
    )
    scale = 0.55 * scene.width / card.im.width
    texts, codes = _place(scene, card, rng, scale, angle, at=(scene.width / 2, scene.height * 0.6))
    return Scene("wristband", np.asarray(scene.convert("RGB")), tuple(texts), tuple(codes))


if __name__ == "__main__":  # pragma: no cover - a quick look at the set
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/_work/textset")
    out.mkdir(parents=True, exist_ok=True)
    for s in generate():
        Image.fromarray(s.image).save(out / f"{s.name}.jpg", quality=90)

"""The cards of the hard text set (bench/hardset.py): what is printed, where, and its truth.

A card is an RGBA canvas plus truth in card pixels: every string as ``(text, kind, quad)`` where
``kind`` is a PHI kind or ``"decoy"`` (text that must stay), and every code as
``(payload, symbology, quad)``. Lines may be drawn with a small tilt of their own (handwriting);
codes may be damaged (scratches, low contrast, a covered corner). Fonts are the installed
DejaVu/Liberation faces and, for handwriting, the Debian handwriting fonts the Makefile installs
(fonts-humor-sans, fonts-dkg-handwriting, fonts-comic-neue, fonts-femkeklaver, fonts-breip,
fonts-kristi, fonts-dancingscript); missing ones are skipped (the set then differs, and
``fonts_used`` says so).
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.textset import FIRST, LAST, ORG_URL, ORGS, STREETS  # noqa: F401 (hardkinds uses them)

_PRINT = (
    "truetype/dejavu/DejaVuSans.ttf",
    "truetype/dejavu/DejaVuSans-Bold.ttf",
    "truetype/dejavu/DejaVuSerif.ttf",
    "truetype/dejavu/DejaVuSansMono.ttf",
    "truetype/dejavu/DejaVuSansCondensed.ttf",
    "truetype/liberation/LiberationSans-Regular.ttf",
    "truetype/liberation/LiberationSans-Bold.ttf",
    "truetype/liberation/LiberationSerif-Regular.ttf",
    "truetype/liberation/LiberationMono-Regular.ttf",
    "truetype/liberation/LiberationSansNarrow-Regular.ttf",
)
_HAND = (
    "truetype/humor-sans/Humor-Sans.ttf",
    "truetype/fifthhorseman/dkg.ttf",
    "opentype/comic-neue/ComicNeue-Regular.otf",
    "opentype/comic-neue/ComicNeue-Bold.otf",
    "truetype/femkeklaver/femkeklaver.ttf",
    "truetype/breip/Breip.ttf",
    "truetype/kristi/Kristi.ttf",
    "opentype/dancingscript/DancingScript-Regular.otf",
)
FONT_ROOT = Path("/usr/share/fonts")
PRINT_FONTS = tuple(p for p in _PRINT if (FONT_ROOT / p).exists())
HAND_FONTS = tuple(p for p in _HAND if (FONT_ROOT / p).exists())

# The dev set's names and places (bench/textset.py), with more names of other shapes: the hard
# set draws from these in this order (same seed, same set).
FIRST = [*FIRST, "Aaliyah", "Bogdan", "Chen", "Esperanza", "Ingrid", "Kwame", "Yusuf", "Zoe"]
LAST = [*LAST, "Abernathy", "Fitzgerald", "Nakamura", "Oyelaran", "Schwartz", "Dubois"]
SIGNS = (
    "Welcome",
    "Cardiology",
    "EXIT",
    "Radiology",
    "Visiting Hours 8am - 8pm",
    "Hand Hygiene Saves Lives",
    "Nurse Station",
    "Level 3 East",
    "Quiet Please",
    "Emergency",
    "Pharmacy",
    "Elevators",
    "Please knock",
    "Patient Safety First",
    "Oncology",
    "Pediatrics",
)
BOARD_DECOYS = (
    "Goal: walk 3x today",
    "Pain scale 0-10",
    "Call light in reach",
    "NPO after midnight",
)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def font(rng: random.Random, size: int, hand: bool = False) -> ImageFont.FreeTypeFont:
    """A print (or handwriting) font of ``size`` px; PIL's own font when none is installed."""
    pool = (HAND_FONTS if hand else PRINT_FONTS) or PRINT_FONTS
    if not pool:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(FONT_ROOT / rng.choice(pool)), max(6, size))


def fonts_used() -> str:
    return f"{len(PRINT_FONTS)} print + {len(HAND_FONTS)} handwriting fonts"


class Card:
    """A card being drawn: an RGBA canvas plus truth in card pixels."""

    def __init__(self, kind: str, size, colour, rng: random.Random, ink=(20, 20, 20)):
        self.kind = kind
        self.im = Image.new("RGBA", (int(size[0]), int(size[1])), tuple(colour) + (255,))
        self.draw = ImageDraw.Draw(self.im)
        self.rng = rng
        self.ink = ink
        self.texts: list[tuple[str, str, tuple, dict]] = []
        self.codes: list[tuple[str, str, tuple]] = []
        self.curvable = False

    def text(self, xy, s: str, fnt, kind: str, label: str = "", tilt: float = 0.0, **extra):
        """Draw ``label`` then ``s`` (tilted ``tilt`` degrees); record ``s``. Returns end x."""
        x, y = xy
        if label:
            self._line((x, y), label, fnt, tilt, None)
            x = self.draw.textbbox((x, y), label + " ", font=fnt)[2]
        return self._line((x, y), s, fnt, tilt, (kind, extra))

    def _line(self, xy, s, fnt, tilt, record):
        x, y = xy
        x0, y0, x1, y1 = self.draw.textbbox((x, y), s, font=fnt)
        if not tilt:
            self.draw.text((x, y), s, font=fnt, fill=self.ink)
            quad = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
        else:
            w, h = x1 - x0 + 8, y1 - y0 + 8
            layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
            ImageDraw.Draw(layer).text((4 - (x0 - x), 4 - (y0 - y)), s, font=fnt, fill=self.ink)
            rot = layer.rotate(tilt, resample=Image.Resampling.BICUBIC, expand=True)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            self.im.alpha_composite(rot, (round(cx - rot.width / 2), round(cy - rot.height / 2)))
            a = math.radians(-tilt)
            hw, hh = (x1 - x0) / 2, (y1 - y0) / 2
            quad = tuple(
                (cx + dx * math.cos(a) - dy * math.sin(a), cy + dx * math.sin(a) + dy * math.cos(a))
                for dx, dy in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh))
            )
        if record is not None:
            self.texts.append((s, record[0], quad, record[1]))
        return x1

    def code(self, xy, payload: str, fmt: str, module: int, *, height=None, damage=None):
        """Draw a code of ``module`` px per module at ``xy`` (top-left of its quiet zone)."""
        import zxingcpp

        code = zxingcpp.create_barcode(payload, getattr(zxingcpp.BarcodeFormat, fmt))
        img = Image.fromarray(np.asarray(code.to_image(scale=1, add_quiet_zones=False)))
        img = img.convert("L")
        w, h = img.width * module, img.height * module
        linear = fmt in ("Code128", "Code39", "Code93", "ITF", "Codabar", "EAN13")
        if linear:
            h = height or max(h, int(w * self.rng.uniform(0.18, 0.35)))
        img = img.resize((w, h), Image.Resampling.NEAREST)
        quiet = module * (10 if linear else 3)
        x, y = xy[0] + quiet, xy[1] + quiet // 2
        self.draw.rectangle((xy[0], xy[1], x + w + quiet, y + h + quiet // 2), fill=(255, 255, 255))
        arr = np.asarray(img).astype(np.float32)
        if damage == "low-contrast":
            lo, hi = self.rng.uniform(90, 140), self.rng.uniform(180, 225)
            arr = lo + arr / 255 * (hi - lo)
        rgb = np.repeat(arr.astype(np.uint8)[..., None], 3, -1)
        self.im.paste(Image.fromarray(rgb), (x, y))
        if damage == "scratched":
            for _ in range(self.rng.randint(3, 7)):
                yy = self.rng.uniform(y, y + h)
                self.draw.line(
                    (x - 4, yy, x + w + 4, yy + self.rng.uniform(-h / 3, h / 3)),
                    fill=(255, 255, 255),
                    width=max(1, module),
                )
        elif damage == "covered":
            cw, ch = w * self.rng.uniform(0.25, 0.4), h * self.rng.uniform(0.3, 0.5)
            cx = x + (w - cw if self.rng.random() < 0.5 else 0)
            self.draw.ellipse(
                (cx, y - 4, cx + cw, y + ch), fill=self.rng.choice([(240, 240, 240), (90, 90, 120)])
            )
        self.codes.append((payload, fmt, ((x, y), (x + w, y), (x + w, y + h), (x, y + h))))
        return x + w + quiet


# -- content -------------------------------------------------------------------------------------


def person(rng):
    return rng.choice(FIRST), rng.choice(LAST)


def dob(rng):
    y, m, d = rng.randint(1925, 2022), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        [
            f"{m:02d}/{d:02d}/{y}",
            f"{d:02d}-{MONTHS[m - 1]}-{y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{m}/{d}/{y}",
            f"{d:02d}.{m:02d}.{y}",
            f"{MONTHS[m - 1]} {d}, {y}",
        ]
    )


def recent_date(rng):
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        [
            f"{m:02d}/{d:02d}/2026",
            f"{m}/{d}/26",
            f"2026-{m:02d}-{d:02d}",
            f"{d} {MONTHS[m - 1]} 2026",
        ]
    )


def mrn(rng):
    n = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 10)))
    return rng.choice(["MRN:", "MRN", "MR#", "FIN:", "Acct#", "ID:"]), rng.choice(
        [n, n, "M" + n, n[:3] + "-" + n[3:]]
    )


def phone(rng):
    a, b, c = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
    return rng.choice([f"({a}) {b}-{c:04d}", f"{a}-{b}-{c:04d}", f"{a}.{b}.{c:04d}"])


def name_as(rng, first, last, style=None):
    style = style or rng.choice(
        ["LAST, FIRST M", "First Last", "Last, First", "F. Last", "LASTFIRST"]
    )
    mid = rng.choice("ABCDEJKLMRST")
    return {
        "LAST, FIRST M": f"{last.upper()}, {first.upper()} {mid}",
        "First Last": f"{first} {last}",
        "Last, First": f"{last}, {first}",
        "F. Last": f"{first[0]}. {last}",
        "LASTFIRST": f"{last.upper()},{first.upper()}",
    }[style]


def payload(rng):
    label, number = mrn(rng)
    return rng.choice([number, f"PT|{number}", f"{number}^{rng.randint(10, 99)}", f"A{number}"])


def code_format(rng, two_d: bool):
    return rng.choice(
        ["QRCode", "DataMatrix", "PDF417", "Aztec"] if two_d else ["Code128", "Code128", "Code39"]
    )


def damage(rng):
    return rng.choice([None, None, "low-contrast", "scratched", "covered"])

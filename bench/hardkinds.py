"""The card types of the hard text set: wristbands, specimen labels, whiteboards, EHR screens,
monitors, door tags, signs, forms, code stickers and badges (see bench/hardset.py)."""

from __future__ import annotations

from PIL import Image, ImageDraw

from bench.hardcards import (
    BOARD_DECOYS,
    ORG_URL,
    ORGS,
    SIGNS,
    STREETS,
    Card,
    code_format,
    damage,
    dob,
    font,
    mrn,
    name_as,
    payload,
    person,
    phone,
    recent_date,
)

# -- card types: each returns a Card with ``main_px`` (its body font size) and ``target``
# (the range of body text heights, in scene pixels, it is shown at) -----------------------------


def wristband(rng):
    fs = rng.randint(22, 30)
    fnt, small = font(rng, fs), font(rng, int(fs * 0.75))
    card = Card(
        "wristband",
        (2000, int(fs * 5.6)),  # cropped to its content below
        rng.choice([(250, 250, 250), (255, 245, 200), (235, 245, 255), (255, 225, 235)]),
        rng,
    )
    first, last = person(rng)
    y = int(fs * 0.35)
    card.text(
        (24, y),
        name_as(rng, first, last, rng.choice(["LAST, FIRST M", "Last, First", "LASTFIRST"])),
        fnt,
        "name",
    )
    card.text(
        (24, y + int(fs * 1.3)), dob(rng), fnt, "dob", label=rng.choice(["DOB:", "DOB", "D.O.B."])
    )
    label, number = mrn(rng)
    x = card.text((24, y + int(fs * 2.6)), number, fnt, "mrn", label=label)
    if rng.random() < 0.6:
        card.text((x + fs, y + int(fs * 2.6)), recent_date(rng), small, "date", label="Adm:")
    card.text((24, y + int(fs * 3.9)), rng.choice(ORGS), small, "decoy")
    x = max(q[1][0] for _, _, q, _ in card.texts) + fs  # codes to the right of the text
    if rng.random() < 0.8:
        x = card.code(
            (x, int(fs * 0.4)),
            number,
            rng.choice(["Code128", "Code128", "Code39"]),
            3,
            height=int(fs * 2.8),
            damage=damage(rng),
        )
    if rng.random() < 0.35:
        x = card.code((x + fs // 2, int(fs * 0.6)), f"PT|{number}", "DataMatrix", max(2, fs // 9))
    card.im = card.im.crop(
        (0, 0, min(card.im.width, int(x + fs * rng.uniform(0.5, 3))), card.im.height)
    )
    card.draw = ImageDraw.Draw(card.im)
    card.main_px, card.target, card.curvable = fs, (12, 26), True
    return card


def specimen_label(rng):
    fs = rng.randint(16, 20)
    fnt = font(rng, fs)
    card = Card("specimen", (rng.randint(420, 520), int(fs * 7.4)), (255, 255, 255), rng)
    first, last = person(rng)
    y = lambda k: int(fs * (0.3 + 1.2 * k))  # noqa: E731
    card.text((10, y(0)), name_as(rng, first, last, "LAST, FIRST M"), fnt, "name")
    card.text((10, y(1)), dob(rng), fnt, "dob", label="DOB")
    label, number = mrn(rng)
    card.text((10, y(2)), number, fnt, "mrn", label=label)
    card.text(
        (10, y(3)),
        f"{recent_date(rng)} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        fnt,
        "date",
        label="Coll",
    )
    card.code((6, y(4) - 2), f"A{number}", "Code128", 2, height=int(fs * 1.6), damage=damage(rng))
    card.main_px, card.target, card.curvable = fs, (7, 12), True
    return card


def whiteboard(rng):
    fs = rng.randint(30, 44)
    card = Card(
        "whiteboard",
        (rng.randint(950, 1200), int(fs * 10.5)),
        (246, 246, 243),
        rng,
        ink=rng.choice([(20, 40, 160), (20, 20, 20), (150, 20, 20), (20, 110, 40)]),
    )
    hand = lambda k=1.0: font(rng, int(fs * k), hand=True)  # noqa: E731
    tilt = lambda: rng.uniform(-4, 4)  # noqa: E731
    first, last = person(rng)
    rows = [
        (f"Welcome to Room {rng.randint(100, 899)}", "decoy", "", {}),
        (
            rng.choice(
                [f"{first} {last}", f"{first} {last[0]}.", f"Mr. {last}", f"Ms. {last}", first]
            ),
            "name",
            rng.choice(["Patient:", "Pt:", "Name:", ""]),
            {},
        ),
        (rng.choice(["Jen", "Mark", "Ana", "Tom"]), "decoy", "Nurse:", {"ambiguous": True}),
        (recent_date(rng), "date", rng.choice(["Discharge:", "D/C:", "Admitted:"]), {}),
        (rng.choice(BOARD_DECOYS), "decoy", "", {}),
        (phone(rng), "phone", rng.choice(["Family:", "Daughter:", "Call:"]), {}),
    ]
    for k, (s, kind, label, extra) in enumerate(rows):
        card.text(
            (30 + rng.randint(0, 40), 16 + int(fs * 1.65 * k)),
            s,
            hand(rng.uniform(0.85, 1.1)),
            kind,
            label=label,
            tilt=tilt(),
            **extra,
        )
    card.main_px, card.target = fs, (14, 45)
    return card


def ehr_screen(rng):
    fs = rng.randint(16, 22)
    dark = rng.random() < 0.4
    bg, ink = ((18, 22, 30), (225, 230, 235)) if dark else ((250, 250, 252), (25, 25, 30))
    w, rows = rng.randint(1000, 1250), rng.randint(10, 16)
    card = Card("ehr", (w, int(fs * (rows * 1.45 + 6))), (40, 40, 44), rng, ink=ink)
    card.draw.rectangle((14, 14, w - 14, card.im.height - 14), fill=bg)
    card.draw.rectangle((14, 14, w - 14, 14 + int(fs * 1.6)), fill=(40, 90, 160))
    fnt, bold = font(rng, fs), font(rng, int(fs * 1.2))
    card.ink = (255, 255, 255)
    card.text(
        (24, 16), rng.choice(["ChartView EHR", "Patient Summary", "Results Review"]), fnt, "decoy"
    )
    card.ink = ink
    first, last = person(rng)
    y = 14 + int(fs * 2.1)
    x = card.text(
        (24, y),
        name_as(rng, first, last, rng.choice(["LAST, FIRST M", "Last, First"])),
        bold,
        "name",
    )
    x = card.text((x + fs * 2, y + 2), dob(rng), fnt, "dob", label="DOB:")
    label, number = mrn(rng)
    card.text((x + fs * 2, y + 2), number, fnt, "mrn", label=label)
    age = rng.randint(20, 104)
    y += int(fs * 1.7)
    card.text((24, y), f"{age} y", fnt, "age" if age > 89 else "decoy", label="Age:")
    if rng.random() < 0.5:
        card.text((24 + fs * 8, y), phone(rng), fnt, "phone", label="Home:")
    dated = rng.randint(1, 4)  # result rows with a date (PHI); the rest are medication rows
    for k in range(rows - 3):
        y += int(fs * 1.45)
        if k < dated:
            test = rng.choice(["Hemoglobin", "Sodium", "Potassium", "Glucose", "Creatinine", "WBC"])
            card.text((24, y), recent_date(rng), fnt, "date")
            card.draw.text(
                (24 + fs * 8, y), f"{test}   {rng.uniform(1, 200):.1f}", font=fnt, fill=ink
            )
        else:
            drug = rng.choice(
                ["Metoprolol 25 mg", "Heparin 5000 units", "Insulin lispro", "Aspirin 81 mg"]
            )
            card.draw.text(
                (24, y),
                f"{drug}   {rng.choice(['PO', 'IV', 'SC'])} {rng.choice(['BID', 'daily', 'q6h'])}",
                font=fnt,
                fill=ink,
            )
    if rng.random() < 0.4:
        card.code((w - 150, card.im.height - 150), payload(rng), "QRCode", 3)
    card.main_px, card.target, card.screen = fs, (9, 20), True
    return card


def vitals_monitor(rng):
    fs = rng.randint(22, 30)
    card = Card(
        "monitor",
        (rng.randint(760, 900), int(fs * 8)),
        (8, 12, 18),
        rng,
        ink=rng.choice([(90, 255, 90), (255, 255, 255), (80, 220, 255)]),
    )
    fnt, big = font(rng, fs), font(rng, int(fs * 2.2))
    first, last = person(rng)
    card.text((20, 12), name_as(rng, first, last, "LAST, FIRST M"), fnt, "name")
    card.text((20, 12 + int(fs * 1.4)), mrn(rng)[1], fnt, "mrn", label="ID")
    card.text((20, int(fs * 3.4)), f"HR {rng.randint(55, 110)}", big, "decoy")
    card.text(
        (int(card.im.width * 0.55), int(fs * 3.4)), f"SpO2 {rng.randint(90, 100)}", big, "decoy"
    )
    card.text((20, int(fs * 6.3)), f"Bed {rng.randint(1, 30)}", fnt, "decoy")
    card.main_px, card.target, card.screen = fs, (10, 24), True
    return card


def door_sign(rng):
    fs = rng.randint(30, 44)
    colour, ink = rng.choice(
        [
            ((255, 255, 255), (20, 20, 20)),
            ((20, 60, 140), (255, 255, 255)),
            ((210, 230, 250), (10, 30, 80)),
        ]
    )
    card = Card("door", (rng.randint(620, 760), int(fs * 5.4)), colour, rng, ink=ink)
    card.text((20, 10), rng.choice(SIGNS[:4] + SIGNS[13:]), font(rng, int(fs * 1.3)), "decoy")
    first, last = person(rng)
    card.text(
        (20, int(fs * 2.1)),
        name_as(rng, first, last, rng.choice(["F. Last", "Last, First"])),
        font(rng, fs, hand=rng.random() < 0.4),
        "name",
        label=f"{rng.randint(100, 899)}",
    )
    card.text((20, int(fs * 3.7)), rng.choice(SIGNS), font(rng, int(fs * 0.7)), "decoy")
    card.main_px, card.target = fs, (16, 40)
    return card


def sign(rng):
    fs = rng.randint(40, 60)
    colour, ink = rng.choice(
        [
            ((0, 120, 60), (255, 255, 255)),
            ((200, 20, 20), (255, 255, 255)),
            ((255, 255, 255), (20, 20, 20)),
            ((20, 60, 140), (255, 255, 255)),
        ]
    )
    text = rng.choice(SIGNS)
    fnt = font(rng, fs)
    w = int(ImageDraw.Draw(Image.new("L", (1, 1))).textlength(text, font=fnt)) + 60
    card = Card("sign", (w, int(fs * 1.8)), colour, rng, ink=ink)
    card.text((30, int(fs * 0.3)), text, fnt, "decoy")
    card.main_px, card.target = fs, (18, 45)
    return card


def form(rng):
    fs = rng.randint(18, 24)
    card = Card("form", (rng.randint(760, 900), int(fs * 13)), (252, 252, 248), rng)
    fnt, hand = font(rng, fs), font(rng, int(fs * 1.2), hand=True)
    card.text((20, 10), rng.choice(ORGS), font(rng, int(fs * 1.2)), "decoy")
    first, last = person(rng)
    rows = [
        ("Patient:", name_as(rng, first, last, "First Last"), "name"),
        ("DOB:", dob(rng), "dob"),
        ("SSN:", f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}", "ssn"),
        ("Address:", f"{rng.randint(10, 9999)} {rng.choice(STREETS)}", "address"),
        ("Phone:", phone(rng), "phone"),
        (
            "Email:",
            f"{first.lower()}.{last.lower().replace(chr(39), '')}@mail.example.com",
            "email",
        ),
        ("Insurance ID:", mrn(rng)[1], "mrn"),
    ]
    for k, (label, value, kind) in enumerate(rows):
        y = int(fs * (2.2 + 1.4 * k))
        card.draw.text((20, y), label, font=fnt, fill=card.ink)
        card.ink = rng.choice([(20, 30, 120), (20, 20, 20)])
        card.text(
            (20 + fs * 8, y - 2),
            value,
            hand if rng.random() < 0.5 else fnt,
            kind,
            tilt=rng.uniform(-2, 2),
        )
        card.ink = (20, 20, 20)
    card.text(
        (20, int(fs * 11.6)),
        name_as(rng, first, last, "First Last"),
        hand,
        "name",
        label="Signature:",
    )
    card.main_px, card.target = fs, (9, 22)
    return card


def code_sticker(rng):
    two_d = rng.random() < 0.55
    fmt = code_format(rng, two_d)
    module = rng.choice([2, 3, 4])
    size = (module * 60 + 80, module * 60 + 80) if two_d else (module * 160 + 60, module * 60 + 40)
    card = Card("codes", size, rng.choice([(255, 255, 255), (245, 240, 225)]), rng)
    card.code(
        (4, 4), payload(rng) if fmt != "Code39" else mrn(rng)[1], fmt, module, damage=damage(rng)
    )
    card.main_px, card.target = module * 6, (6, 24)  # a module of 1-4 px in the scene
    return card


def badge(rng):
    fs = rng.randint(22, 30)
    card = Card("badge", (rng.randint(420, 480), int(fs * 5.4) + 180), (255, 255, 255), rng)
    card.text((20, 14), rng.choice(ORGS), font(rng, int(fs * 0.9)), "decoy")
    card.text(
        (20, int(fs * 2.2)), rng.choice(["VISITOR", "STAFF", "VOLUNTEER"]), font(rng, fs), "decoy"
    )
    card.code((20, int(fs * 3.6)), ORG_URL, "QRCode", 4)
    payload_, fmt, quad = card.codes.pop()  # the organisation's own code: allow-listed, kept
    card.texts.append((payload_, "allowed_code", quad, {}))
    card.main_px, card.target = fs, (14, 30)
    return card


CARDS = (
    wristband,
    specimen_label,
    whiteboard,
    ehr_screen,
    code_sticker,
    form,
    door_sign,
    vitals_monitor,
    sign,
    badge,
)

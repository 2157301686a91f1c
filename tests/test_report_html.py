"""The HTML contact sheet in a real browser: counts match the JSON, previews are redacted."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from conftest import SAMPLE_FACES, run_cli, unavailable
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sheet")
    report, page = folder / "r.json", folder / "sheet.html"
    result = run_cli(
        "check", "samples", "--no-registry", "--json", str(report), "--html", str(page)
    )
    assert result.returncode == 5, result.stderr
    return json.loads(report.read_text()), page


def test_page_is_self_contained_and_counts_match_the_json(sheet):
    data, page = sheet
    text = page.read_text()
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", text), "the page must load nothing"
    for verdict, count in data["summary"].items():
        assert f'id="count-{verdict}">{count}<' in text
        assert text.count(f'data-verdict="{verdict}"') == count
    words = re.sub(r"base64,[A-Za-z0-9+/=]+", "", text)  # the thumbnails' bytes are not text
    for phi in ("DOE", "Doe", "00482913"):
        assert phi not in words


def test_previews_hide_the_faces_they_mark(sheet):
    data, page = sheet
    text = page.read_text()
    visit = next(f for f in data["files"] if f["path"].endswith("visit.jpg"))
    [card] = [c for c in text.split("<article")[1:] if "samples/visit.jpg" in c]
    [data_uri] = re.findall(r"base64,([^\"]+)", card)
    thumb = Image.open(io.BytesIO(base64.b64decode(data_uri)))
    original = Image.open("samples/visit.jpg").resize(thumb.size)
    scale = thumb.size[0] / visit["width"]
    assert sum(region["kind"] == "face" for region in visit["regions"]) == 2
    for box in SAMPLE_FACES["visit.jpg"]:  # hand labels: a missed face fails here
        x0, y0, x1, y1 = (round(v * scale) for v in box)
        a = np.asarray(original.convert("L"), float)[y0:y1, x0:x1]
        b = np.asarray(thumb.convert("L"), float)[y0:y1, x0:x1]
        assert np.abs(a - b).mean() > 12, "a redacted face must not look like the original"


def test_rendered_in_chromium(sheet, tmp_path):
    if CHROMIUM is None:
        unavailable("chromium is not installed (.ci/run installs it)")
    data, page = sheet
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert dom.count('class="card"') == len(data["files"])
    for verdict, count in data["summary"].items():
        assert dom.count(f'data-verdict="{verdict}"') == count
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            f"--screenshot={shot}",
            "--window-size=1280,900",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (900, 1280)
    assert pixels.std() > 20, "the screenshot is blank"
    header = pixels[:40, :, :].reshape(-1, 3).mean(axis=0)
    assert header.max() < 80, "the dark header should be rendered at the top"


def test_cards_come_worst_first(sheet):
    _data, page = sheet
    order = re.findall(r'<article class="card" data-verdict="(\w+)"', page.read_text())
    rank = {"block": 0, "review": 1, "redact": 2, "pass": 3}
    assert order[0] == "block"
    assert [rank[v] for v in order] == sorted(rank[v] for v in order)


def test_labels_stay_inside_and_a_crowd_labels_only_what_fits():
    from photoguard.report.html import _placement
    from photoguard.types import Box

    shown: list = []
    # a face at the top edge: its label goes below the box, not above the picture
    assert "below" in _placement(Box(10, 0, 60, 50), "face · redact", 1000, 800, shown)
    # a face at the right edge: the label is anchored at the box's right side
    assert "right" in _placement(Box(900, 300, 990, 390), "face · redact", 1000, 800, shown)
    # a crowd: faces side by side, each label would cover its neighbour's
    crowd = [_placement(Box(x, 400, x + 40, 440), "face · redact", 1000, 800, shown)
             for x in range(100, 600, 45)]  # fmt: skip
    assert "quiet" not in crowd[0]
    assert sum("quiet" in c for c in crowd) >= len(crowd) // 2


def test_a_blocked_card_without_preview_shows_where_it_was_found():
    from pathlib import Path

    from photoguard.report.html import render_html
    from photoguard.settings import Settings
    from photoguard.types import Action, Box, PhotoResult, Region, RegionKind, Verdict

    found = Region(RegionKind.FACE, Box(100, 50, 200, 170), Action.REDACT, label="face")
    blocked = PhotoResult(
        path=Path("x.jpg"), sha256="0" * 64, verdict=Verdict.BLOCK,
        reasons=("not written: verification found 1 face in the redacted copy",),
        regions=(found,), width=400, height=300, thumbnail=None,
    )  # fmt: skip
    page = render_html([blocked], Settings())
    [card] = page.split("<article")[1:]
    assert 'class="plan"' in card and "aspect-ratio:400/300" in card
    assert "left:25.00%;top:16.67%" in card  # the box, placed on a blank frame
    assert "<img" not in card  # still no pixels of a file that was not written

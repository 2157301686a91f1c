"""A self-contained HTML contact sheet: one card per file, redacted thumbnails only.

The page embeds its thumbnails (data URIs), styles and script; it loads nothing from anywhere.
A thumbnail exists only for a fully checked file and is made from the redacted pixels (the
first pass's regions). Thumbnails are not re-verified like published copies: what the first
pass missed can show in them, so the sheet is for the people running the check, not for sharing.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from photoguard import __version__
from photoguard.fsutil import atomic_write
from photoguard.report.json import summary
from photoguard.settings import Settings
from photoguard.types import Box, MatchStatus, PhotoResult, Region, RegionKind, Verdict

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:16px 24px}
header h1{margin:0 0 4px;font-size:20px} header p{margin:0;color:#c9cedb;font-size:12px}
nav{display:flex;gap:8px;padding:12px 24px;flex-wrap:wrap}
nav button{border:0;border-radius:16px;padding:6px 14px;font-weight:600;cursor:pointer;background:#dfe3ea}
nav button.on{outline:3px solid #1d2330}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:16px;padding:0 24px 24px}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;overflow:hidden}
.card[hidden]{display:none}
figure{position:relative;margin:0;background:#222;line-height:0;overflow:hidden}
figure img{width:100%;height:auto}
figure.plan{background:repeating-linear-gradient(45deg,#2a2f3a 0 10px,#323846 10px 20px)}
.none{display:flex;align-items:center;justify-content:center;height:160px;color:#ddd;line-height:1.4;padding:0 16px;text-align:center}
.box{position:absolute;border:2px solid;box-sizing:border-box}
.box span{position:absolute;left:-2px;top:-16px;font:600 10px/14px system-ui;padding:0 3px;color:#fff;white-space:nowrap;z-index:1}
.box.below span{top:auto;bottom:-16px}.box.inside span{top:0;bottom:auto}.box.right span{left:auto;right:-2px}
.box.quiet span{display:none}.box.quiet:hover span,.box.quiet:focus span{display:block;z-index:2}
.box.act-keep{border-color:#18a558}.box.act-keep span{background:#18a558}
.box.act-redact{border-color:#e03c31}.box.act-redact span{background:#e03c31}
.box.act-review{border-color:#8e44ad;border-style:dashed}.box.act-review span{background:#8e44ad}
.body{padding:10px 12px}
.path{font-weight:600;word-break:break-all}
.verdict{display:inline-block;border-radius:10px;padding:1px 10px;font-weight:700;color:#fff;margin:6px 0}
.pass{background:#18a558}.redact{background:#d98b00}.review{background:#8e44ad}.block{background:#e03c31}
ul{margin:4px 0 0;padding-left:18px;color:#444}
"""

_JS = """
const buttons=[...document.querySelectorAll('nav button')];
buttons.forEach(b=>b.addEventListener('click',()=>{
  buttons.forEach(x=>x.classList.toggle('on',x===b));
  document.querySelectorAll('.card').forEach(c=>{
    c.hidden=!(b.dataset.filter==='all'||c.dataset.verdict===b.dataset.filter);
  });
}));
"""


LABEL_ROOM = 0.08
"""A label needs about this share of the preview's height above (or below) its box."""
LABEL_PX = (14, 6, 8)
"""A label's height, width per character and padding in CSS pixels, in a card about
``CARD_PX`` wide: enough to tell where labels of neighbouring boxes would cover each other."""
CARD_PX = 340


def render_html(results: list[PhotoResult], settings: Settings, title: str = "photoguard") -> str:
    """The whole page as a string; cards of what needs attention first (block, review, redact,
    pass), then by path."""
    results = sorted(results, key=lambda r: (-r.verdict.severity, str(r.path)))
    counts = summary(results)
    buttons = [
        f'<button class="on" data-filter="all">all <b id="count-all">{len(results)}</b></button>'
    ]
    buttons += [
        f'<button class="{v}" data-filter="{v}">{v} <b id="count-{v}">{counts[v]}</b></button>'
        for v in ("pass", "redact", "review", "block")
    ]
    policy = settings.policy
    meta = (
        f"{_plural(len(results), 'file')} · policy {policy.digest()[:12]} · channel {policy.channel} · "
        f"purpose {policy.purpose} · as of {settings.as_of or 'today'} · photoguard {__version__} · "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    cards = "\n".join(_card(r) for r in results)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}: what may be published</h1><p>{html.escape(meta)}</p></header>"
        f"<nav>{''.join(buttons)}</nav><main>{cards}</main><script>{_JS}</script></body></html>"
    )


def _card(result: PhotoResult) -> str:
    verdict = result.verdict.value
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in result.reasons)
    return (
        f'<article class="card" data-verdict="{verdict}">{_figure(result)}<div class="body">'
        f'<div class="path">{html.escape(str(result.path))}</div>'
        f'<span class="verdict {verdict}">{verdict}</span><ul>{reasons}</ul></div></article>'
    )


def _figure(result: PhotoResult) -> str:
    w, h = result.width or 1, result.height or 1
    shown: list[Box] = []  # labels already placed, in image pixels
    boxes = "".join(_box(r, w, h, shown) for r in result.regions if r.frame == 0)
    if result.thumbnail is None:
        if result.width and result.height and boxes:
            # No picture (it could show what was found), but where: the boxes on a blank frame.
            return (
                f'<figure class="plan" style="aspect-ratio:{w}/{h}" title="no preview: '
                f'boxes show where it was found">{boxes}</figure>'
            )
        why = (
            "no preview: the file was not fully checked"
            if result.verdict is Verdict.BLOCK
            else "no preview"
        )
        return f'<figure><div class="none">{why}</div></figure>'
    data = base64.b64encode(result.thumbnail).decode()
    return (
        f'<figure><img alt="redacted preview" src="data:image/jpeg;base64,{data}">{boxes}</figure>'
    )


def _box(region: Region, w: int, h: int, shown: list[Box]) -> str:
    b = region.box
    style = (
        f"left:{100 * b.x0 / w:.2f}%;top:{100 * b.y0 / h:.2f}%;"
        f"width:{100 * b.width / w:.2f}%;height:{100 * b.height / h:.2f}%"
    )
    action = box_action(region)
    label = f"{region.label or region.kind.value} · {action}"
    place = _placement(b, label, w, h, shown)
    return (
        f'<div class="box act-{action}{place}" data-kind="{region.kind.value}" style="{style}" '
        f'tabindex="0" title="{html.escape(label)}"><span>{html.escape(label)}</span></div>'
    )


def _placement(b: Box, label: str, w: int, h: int, shown: list[Box]) -> str:
    """CSS classes that keep a label inside the preview and off its neighbours' labels.

    A label goes above its box, below it when there is no room above, inside when neither
    fits; it is anchored at the box's right edge in the right part of the image. A label that
    would cover one already placed shows only on hover (a crowd's labels would hide the
    picture); every box keeps its label as a tooltip.
    """
    scale = w / CARD_PX  # image pixels per CSS pixel of the card
    height, per_char, pad = LABEL_PX
    lh, lw = round(height * scale), round((len(label) * per_char + pad) * scale)
    classes, top = [], b.y0 - lh
    if top < 0:
        below = b.y1 + lh <= h
        classes.append("below" if below else "inside")
        top = b.y1 if below else b.y0
    left = b.x0
    if b.x0 > 0.6 * w:
        classes.append("right")
        left = b.x1 - lw
    rect = Box(max(0, left), max(0, top), min(w, max(left, 0) + lw), min(h, max(top, 0) + lh))
    if any(rect.intersection(other) > 0 for other in shown):
        classes.append("quiet")
    else:
        shown.append(rect)
    return "".join(f" {c}" for c in classes)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def box_action(region: Region) -> str:
    """What a box's label says: ``keep``, ``redact``, or ``review`` for a face a person must
    confirm (it is redacted until someone does)."""
    if region.kind is RegionKind.FACE and region.match == MatchStatus.AMBIGUOUS.value:
        return "review"
    return region.action.value


def write_html(path: Path, results: Iterable[PhotoResult], settings: Settings) -> None:
    """Write the contact sheet atomically."""
    page = render_html(list(results), settings)
    with atomic_write(path, "w") as fh:
        fh.write(page)

"""The review page: a Starlette app over one ReviewSession, for 127.0.0.1 only.

Every path starts with the session's random token (``/<token>/``); any request without it is
404, and a Host other than 127.0.0.1 is 400 (DNS rebinding). Pictures are made in memory for
each request (uncertain faces shown, everything else the check would redact covered) and sent
with ``Cache-Control: no-store``; nothing is written to disk. The page shows no OCR text: text
boxes are labelled with their kind only. It needs no script and loads nothing from elsewhere.
"""

from __future__ import annotations

import secrets
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.templating import Jinja2Templates

from photoguard.errors import PhotoguardError
from photoguard.report.html import box_action
from photoguard.review.session import Item, ReviewSession, faces_of, is_uncertain
from photoguard.types import Region, RegionKind, Verdict

HOST = "127.0.0.1"
HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}
"""On every response: the token-bearing URL never leaves as a referrer (same-origin only, so
that the browser still sends the Origin that ``decide`` checks), nothing is cached."""


class TokenGuard:
    """ASGI middleware: only paths under ``/<token>/`` reach the app; the rest is 404."""

    def __init__(self, app, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            first = scope.get("path", "").lstrip("/").split("/", 1)[0]
            if scope["type"] == "websocket" or not secrets.compare_digest(
                first.encode("utf-8", "replace"), self.token
            ):
                await PlainTextResponse("not found", 404)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """ASGI middleware: adds ``HEADERS`` to every response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(session: ReviewSession, token: str) -> Starlette:
    """The review page for ``session`` under ``/<token>/``."""
    pages = _Pages(session, token)
    routes = [
        Mount(
            f"/{token}",
            routes=[
                Route("/", pages.index),
                Route("/image/{item:int}/{frame:int}.jpg", pages.image),
                Route("/decide", pages.decide, methods=["POST"]),
            ],
        )
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(TrustedHostMiddleware, allowed_hosts=[HOST]),
        Middleware(TokenGuard, token=token),
    ]
    return Starlette(routes=routes, middleware=middleware)


class _Pages:
    """The page's three routes over one review session."""

    def __init__(self, session: ReviewSession, token: str) -> None:
        self.session, self.token = session, token
        self.templates = Jinja2Templates(env=_environment())
        self.flash: list[str] = []
        """Errors of the last decisions, shown once on the next page."""

    def index(self, request: Request) -> Response:
        session = self.session
        context = {
            "cards": [_card(session, item) for item in session.items],
            "folder_note": _counts(session),
            "reviewer": session.reviewer,
            "errors": list(self.flash),
        }
        self.flash.clear()
        return self.templates.TemplateResponse(request, "review.html", context)

    def image(self, request: Request) -> Response:
        index, frame = request.path_params["item"], request.path_params["frame"]
        if not 0 <= index < len(self.session.items):
            return PlainTextResponse("not found", 404)
        try:
            data = self.session.preview(index, frame)
        except PhotoguardError as exc:
            return PlainTextResponse(str(exc), 409)
        if data is None:
            return PlainTextResponse("no preview", 404)
        return Response(data, media_type="image/jpeg")

    async def decide(self, request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and origin != f"http://{request.headers.get('host', '')}":
            return PlainTextResponse("forbidden", 403)
        form = await request.form()
        try:
            index, number = int(str(form["item"])), int(str(form["face"]))
            choice = str(form["choice"])
            if not 0 <= index < len(self.session.items):
                raise ValueError(index)
        except (KeyError, ValueError):
            return PlainTextResponse("bad request", 400)
        authorization = choice[3:] if choice.startswith("is:") else None
        try:
            await run_in_threadpool(self.session.decide, index, number, authorization)
        except PhotoguardError as exc:
            self.flash.append(f"{self.session.items[index].label}, face {number}: {exc}")
        return RedirectResponse(f"/{self.token}/#file-{index}", status_code=303)


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("photoguard.review", "templates"),
        autoescape=select_autoescape(default=True),
    )


def _counts(session: ReviewSession) -> str:
    open_ = sum(i.result.verdict in (Verdict.REVIEW, Verdict.BLOCK) for i in session.items)
    return f"{len(session.items)} file(s) needed a person; {open_} still do"


def _card(session: ReviewSession, item: Item) -> dict[str, Any]:
    result = item.result
    faces = faces_of(result)
    numbers = {id(f.region): f.number for f in faces}
    fully_checked = bool(result.detectors) and all(d.ok for d in result.detectors)
    shown = {0} | {f.region.frame for f in faces if f.uncertain}
    frames = sorted(shown) if fully_checked and result.sha256 else []
    decided = session.decisions(item.index) if any(f.uncertain for f in faces) else {}
    return {
        "index": item.index,
        "label": item.label,
        "verdict": result.verdict.value,
        "first_verdict": item.first_verdict.value,
        "reasons": result.reasons,
        "frames": [
            {
                "frame": n,
                "boxes": [_box(r, result, numbers) for r in result.regions if r.frame == n],
            }
            for n in frames
        ],  # fmt: skip
        "faces": [
            {
                "number": f.number,
                "frame": f.region.frame,
                "state": box_action(f.region),
                "candidates": [(c, session.names.get(c, "")) for c in f.region.candidates],
                "decision": _decision_text(decided.get(f.number), session.names),
            }
            for f in faces
            if f.uncertain
        ],
    }


def _box(region: Region, result, numbers: dict[int, int]) -> dict[str, str]:
    w, h = result.width or 1, result.height or 1
    b = region.box
    style = (
        f"left:{100 * b.x0 / w:.2f}%;top:{100 * b.y0 / h:.2f}%;"
        f"width:{100 * b.width / w:.2f}%;height:{100 * b.height / h:.2f}%"
    )
    action = box_action(region)
    if region.kind is RegionKind.FACE:
        label = f"face {numbers.get(id(region), '?')} · {action}"
    else:
        label = f"{region.label or region.kind.value} · {action}"
    return {"style": style, "action": action, "label": label, "uncertain": is_uncertain(region)}


def _decision_text(decision, names: dict[str, str]) -> str | None:
    if decision is None:
        return None
    when = f"{decision.decided_at:%Y-%m-%d %H:%M} UTC"
    if decision.confirmed:
        who = names.get(decision.authorization or "", "")
        what = f"this is {who} ({decision.authorization})" if who else decision.authorization
    else:
        what = "none of the candidates: redact"
    return f"decided by {decision.reviewer}, {when}: {what}"

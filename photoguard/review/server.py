"""Serve the review page with uvicorn on 127.0.0.1, behind a random token in the URL."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass

from photoguard.review.app import HOST, create_app
from photoguard.review.session import ReviewSession

TOKEN_BYTES = 32


def bind(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 only (``port`` 0: any free port).

    Raises:
        OSError: the port is taken.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@dataclass(frozen=True)
class Page:
    """A bound, not yet serving, review page."""

    sock: socket.socket
    token: str

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"http://{host}:{port}/{self.token}/"


def open_page(port: int = 0) -> Page:
    """Bind the socket and draw the token (before the URL is shown anywhere)."""
    return Page(bind(port), secrets.token_urlsafe(TOKEN_BYTES))


def serve(page: Page, session: ReviewSession, on_ready: Callable[[], None] | None = None) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM); uvicorn's access log is off (URLs hold the
    token)."""
    import uvicorn

    config = uvicorn.Config(
        create_app(session, page.token),
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready()
    try:
        server.run(sockets=[page.sock])
    finally:
        page.sock.close()

"""A real Chromium, the real Launch server, and pages served from other origins.

- The Launch server runs `make run`'s server command with its default settings plus
  `FRONTEND_URL` (tests/support/launch_server.py), on the test database.
- One small static site on 127.0.0.1 serves tests/browser/page.html, which calls the API
  the way the upstream SPA does. Reached as `http://localhost:<port>` it is the front
  end (`FRONTEND_URL`); reached on another port, or as `http://127.0.0.1:<port>`, it is
  a page the API does not trust (same site, or another site).
- Chromium is Debian's package (`make test-browser` installs it), driven by Playwright.

Each test starts its own server (a few seconds), so every test sees a server whose
caches match the database it gets: transactional tests flush it after each test.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.launch_server import LaunchServer
from tests.support.ports import free_port

PAGE = (Path(__file__).parent / "page.html").read_bytes()
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticSite:
    """tests/browser/page.html on a loopback port, for any path."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), _PageHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def origin(self, host: str = "localhost") -> str:
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def front_end() -> Iterator[StaticSite]:
    """The site FRONTEND_URL names (as http://localhost:<port>)."""
    site = StaticSite()
    yield site
    site.close()


@pytest.fixture(scope="session")
def other_site() -> Iterator[StaticSite]:
    """A site nobody configured: http://localhost:<port> is the same site as the API
    (cookies travel), http://127.0.0.1:<port> is another site."""
    site = StaticSite()
    yield site
    site.close()


def start_server(front_end: StaticSite, **extra_env: str) -> LaunchServer:
    return LaunchServer(
        free_port(), extra_env={"FRONTEND_URL": front_end.origin(), **extra_env}
    ).start()


@pytest.fixture
def server(front_end: StaticSite) -> Iterator[LaunchServer]:
    """Launch on `make run`'s defaults plus FRONTEND_URL, nothing else."""
    launch = start_server(front_end)
    yield launch
    launch.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not executable:
        pytest.fail("Chromium is not installed: `make test-browser` installs it (apt).")
    # Playwright's sync API keeps an event loop on this thread, which makes Django refuse
    # database calls from it (the tests' own checks); nothing here runs async code.
    mp = pytest.MonkeyPatch()
    mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        mp.undo()


class Page:
    """A tab showing page.html from `origin`, calling the API at `api`."""

    def __init__(self, context: Any, origin: str, api: str) -> None:
        self.context = context
        self.api_url = api
        self.tab = context.new_page()
        self.tab.goto(f"{origin}/?api={api}")

    def call(self, method: str, path: str, kind: str | None = None, data: Any = None) -> Any:
        return self.tab.evaluate(
            "([m, p, k, d]) => window.api(m, p, k, d)", [method, path, kind, data]
        )

    def call_all(self, calls: list[list[Any]]) -> list[Any]:
        return self.tab.evaluate("(calls) => window.apiAll(calls)", calls)

    def form_post(self, path: str, fields: dict[str, str]) -> Any:
        """Submit a plain HTML form; returns the navigation's response."""
        with self.tab.expect_navigation() as navigation:
            self.tab.evaluate("([p, f]) => window.formPost(p, f)", [path, fields])
        return navigation.value

    def auth_cookies(self) -> dict[str, Any]:
        return {
            cookie["name"]: cookie
            for cookie in self.context.cookies()
            if cookie["name"] in ("access_token", "refresh_token")
        }


@pytest.fixture
def browser_context(chromium: Any) -> Iterator[Any]:
    """A fresh browser profile: no cookies."""
    context = chromium.new_context()
    yield context
    context.close()

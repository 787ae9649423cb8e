"""Helpers for the dashboard's tests: a built example site, hostile repositories, a local
web server on 127.0.0.1, and Debian's Chromium driven by Playwright.

Imported by the test modules (fixtures live in the modules themselves); nothing here
reaches beyond loopback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import http.server
import os
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

import pytest

from paths import EXAMPLE, ROOT

TODAY = dt.date(2026, 11, 22)
CHROMIUM = Path(os.environ.get("RELEAD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
INSTALL_HINT = ("the browser tests need Debian's Chromium and Playwright: "
                "`apt-get install chromium` and `make install` (no Playwright browser download)")

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_JINJA = "{{ 7*7 }} Industries"
HOSTILE_LEADS = f"""
  - id: hostile-script
    name: "{HOSTILE_NAME}"
    company: "{HOSTILE_JINJA}"
    title: "\\"><svg onload=alert(1)>"
    email: script@hostile.example
    source: "{HOSTILE_IMG}"
    owner: sam
    value: 99000
    interest: "{{% raw %}}{{{{ 7*7 }}}}{{% endraw %}} scanners"
    reached: {{new: 2026-01-05, contacted: 2026-01-06, proposal: 2026-02-01}}
    lost: {{date: 2026-03-01, reason: not_ready, temperature: hot, note: "{HOSTILE_IMG}"}}
    notes: "</textarea><script>alert(2)</script> {{{{ lead.email }}}}"
  - id: hostile-img
    name: "{HOSTILE_IMG}"
    company: "<b onmouseover=alert(1)>Bold & Co</b>"
    email: img@hostile.example
    owner: priya
    value: 88000
    reached: {{new: 2026-01-05, contacted: 2026-01-09}}
    lost: {{date: 2026-03-02, reason: went_dark, temperature: warm}}
"""
HOSTILE_PAGE = """---
title: "<script>alert(3)</script> Notes"
order: 9
---
# Hostile <script>alert(4)</script>

<img src=x onerror=alert(5)> [click](javascript:alert(6)) [elsewhere](https://example.com/)
"""


def chromium_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)


def require_chromium() -> None:
    """Skip (or, with RELEAD_REQUIRE_BROWSER=1 as in CI, fail) when there is no browser."""
    if chromium_available():
        return
    if os.environ.get("RELEAD_REQUIRE_BROWSER") == "1":
        pytest.fail("RELEAD_REQUIRE_BROWSER=1 but " + INSTALL_HINT)
    pytest.skip(INSTALL_HINT)


def copy_example(dest: Path) -> Path:
    """The example repository (leads.yaml, content/, history/) copied to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(EXAMPLE / "leads.yaml", dest / "leads.yaml")
    for folder in ("content", "history"):
        shutil.copytree(EXAMPLE / folder, dest / folder)
    return dest


def hostile_repo(dest: Path) -> Path:
    """The example repository plus leads and a content page made of HTML, script and Jinja."""
    copy_example(dest)
    with open(dest / "leads.yaml", "a", encoding="utf-8") as fh:
        fh.write(HOSTILE_LEADS)
    (dest / "content" / "pages" / "hostile.md").write_text(HOSTILE_PAGE, encoding="utf-8")
    return dest


class Links(HTMLParser):
    """Every src and href in a page, and whether it has inline event handlers."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []    # (tag, attribute, value)
        self.handlers: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        for name, value in attrs:
            if name in ("src", "href", "action", "xlink:href", "srcset", "poster", "data"):
                self.urls.append((tag, name, value or ""))
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}>")


def links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    parser.close()
    return parser


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian Chromium through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class PageWatch:
    """Console errors, page errors, dialogs and every request of one browser page."""

    def __init__(self, page, base: str):
        self.page = page
        self.base = base
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("dialog", self._dialog)
        page.on("request", lambda r: self.requests.append(r.url))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def open(self, rel: str) -> None:
        self.page.goto(self.base + rel, wait_until="load")

    def outside(self) -> list[str]:
        """Requests that went anywhere but the local server."""
        return [u for u in self.requests if not u.startswith(self.base)]

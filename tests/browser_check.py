"""Headless Chromium check of the built book: ``python -m tests.browser_check _build/html``.

Serves the book on localhost (no other network), loads every page in
Chromium, lets its scripts run, and checks the rendered DOM:

- the page renders: its article has text;
- no traceback or cell error is shown;
- math is typeset by the locally served MathJax (``mjx-container`` elements,
  no ``mjx-merror``) on every page whose source has math;
- every image the page references exists in the build and is not empty;
- no script or style sheet is loaded from another host.

Chromium is found as ``$CHROMIUM``, ``chromium``, ``chromium-browser`` or
``google-chrome``. Without it the check explains how to install it; under
``CI=true`` that is an error.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--mute-audio", "--hide-scrollbars",
]
INSTALL_HINT = (
    "The browser check needs Chromium. Install it with `sudo apt-get install chromium` (Debian/Ubuntu) or "
    "`brew install --cask chromium` (macOS), or point CHROMIUM at a Chrome/Chromium binary."
)
SKIP_PAGES = {"genindex.html", "search.html"}


def find_chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"]
    return next((shutil.which(c) for c in candidates if c and shutil.which(c)), None)


class PageParser(HTMLParser):
    """Collects what the checks need from a rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.external: list[str] = []
        self.tags: dict[str, int] = {}
        self.text: list[str] = []
        self._in_main = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "main":
            self._in_main += 1
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        url = attrs.get("src") if tag == "script" else attrs.get("href") if tag == "link" and attrs.get("rel") == "stylesheet" else None
        if url and urlparse(url).scheme in ("http", "https") and urlparse(url).hostname not in ("127.0.0.1", "localhost"):
            self.external.append(url)

    def handle_endtag(self, tag):
        if tag == "main":
            self._in_main -= 1

    def handle_data(self, data):
        if self._in_main:
            self.text.append(data)


def render(chromium: str, url: str) -> str:
    """The DOM of ``url`` after its scripts ran (MathJax included), as HTML."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=20000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120,
        )
    return result.stdout


def check_page(chromium: str, root: Path, base_url: str, page: Path) -> list[str]:
    """Problems found on one page (empty if none)."""
    rel = page.relative_to(root).as_posix()
    url = urljoin(base_url, rel)
    dom = render(chromium, url)
    parser = PageParser()
    parser.feed(dom)
    text = " ".join(parser.text)
    problems = []
    if len(text.split()) < 20:
        problems.append("did not render (its article has almost no text)")
    if "Traceback (most recent call last)" in text or "output traceback" in dom:
        problems.append("shows a traceback")
    if "output stderr" in dom:
        problems.append("shows stderr output (a warning or error printed by a cell)")
    source = page.read_text(encoding="utf-8")
    if re.search(r'class="math[ "]', source):
        if not parser.tags.get("mjx-container"):
            problems.append("has math that MathJax did not typeset")
        if parser.tags.get("mjx-merror"):
            problems.append("has math that MathJax could not parse")
    for src in parser.images:
        target = urlparse(urljoin(url, src))
        if target.scheme == "data":
            continue
        if target.hostname not in ("127.0.0.1", "localhost"):
            problems.append(f"loads an image from another host: {src}")
            continue
        path = root / unquote(target.path.lstrip("/"))
        if not path.is_file() or path.stat().st_size == 0:
            problems.append(f"references a missing or empty image: {src}")
    problems += [f"loads from the network: {u}" for u in parser.external]
    return [f"{rel}: {p}" for p in problems]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # one line per request would bury the report
        pass


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "_build/html").resolve()
    if not (root / "index.html").exists():
        print(f"browser check: no built book at {root}; run `make book` first", file=sys.stderr)
        return 1
    chromium = find_chromium()
    if chromium is None:
        in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
        print(f"browser check {'FAILED' if in_ci else 'NOT RUN'}: {INSTALL_HINT}", file=sys.stderr)
        return 1 if in_ci else 0
    pages = sorted(p for p in root.rglob("*.html") if p.name not in SKIP_PAGES and "_static" not in p.parts)
    server, base_url = serve(root)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda p: check_page(chromium, root, base_url, p), pages))
    finally:
        server.shutdown()
    problems = [p for r in results for p in r]
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    print(f"browser check: {len(pages)} pages, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

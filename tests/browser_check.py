"""Chromium check of the built book, driven by Playwright: ``python -m tests.browser_check _build/html``.

Serves the book on localhost (nothing else is reachable: every other request
is blocked and reported), opens every page in the system Chromium, lets its
scripts run, and checks:

- the page renders: its article has text;
- no traceback, cell error or stderr output is shown;
- math is typeset by the locally served MathJax (``mjx-container`` elements,
  no ``mjx-merror``) on every page whose source has math;
- every image the page references exists in the build and is not empty;
- no request leaves localhost and the console logs no error;
- every kernel-free widget twin (``utils.reader.twin``) works: each of its first two
  controls is moved to two other positions, and the figure shown must change
  to the frame pre-rendered for exactly that setting.

Chromium is found as ``$CHROMIUM``, ``chromium``, ``chromium-browser`` or
``google-chrome``; Playwright drives it (no browser download). Without it the
check explains how to install it; under ``CI=true`` that is an error.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-quic", "--mute-audio", "--hide-scrollbars"]
LOCAL_HOSTS = ("127.0.0.1", "localhost")
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


def is_local(url: str) -> bool:
    """Whether fetching ``url`` stays on this machine (localhost, or inline ``data:`` / ``blob:`` content)."""
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname in LOCAL_HOSTS


def dom_problems(dom: str, source: str, root: Path, url: str) -> list[str]:
    """What is wrong in a rendered DOM: no text, tracebacks, untypeset math, missing images, remote assets."""
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
    if re.search(r'class="math[ "]', source):
        if not parser.tags.get("mjx-container"):
            problems.append("has math that MathJax did not typeset")
        if parser.tags.get("mjx-merror"):
            problems.append("has math that MathJax could not parse")
    for src in parser.images:
        target = urlparse(urljoin(url, src))
        if target.scheme == "data":
            continue
        if target.hostname not in LOCAL_HOSTS:
            problems.append(f"loads an image from another host: {src}")
            continue
        path = root / unquote(target.path.lstrip("/"))
        if not path.is_file() or path.stat().st_size == 0:
            problems.append(f"references a missing or empty image: {src}")
    return problems + [f"loads from the network: {u}" for u in parser.external]


def twin_state(twin) -> dict:
    """What a twin shows now: its frame key, the image source and the message."""
    return twin.evaluate("""root => ({key: root.dataset.frame, src: root.querySelector("img.twin-frame").src,
                                      message: root.querySelector(".twin-message").textContent})""")


def set_control(control, position: int, values: list) -> None:
    """Move one twin control to ``position`` the way a reader would (drag, tick, choose)."""
    kind = control.evaluate("el => el.tagName === 'SELECT' ? 'select' : el.type")
    if kind == "select":
        control.select_option(str(position))
    elif kind == "checkbox":
        control.set_checked(bool(values[position]))
    else:
        control.fill(str(position))  # a range input takes its new value and fires input and change


def exercise_twin(twin) -> list[str]:
    """Move the twin's first two controls to two other positions each; the frame must follow exactly."""
    data = json.loads(twin.locator("script.twin-data").text_content())
    controls = twin.locator("[data-control]:not([type=hidden])")
    problems = []
    for c in range(min(2, controls.count())):
        control = controls.nth(c)
        index = int(control.get_attribute("data-control"))
        values = data["values"][index]
        start = twin_state(twin)
        current = int(start["key"].split(",")[index])
        for position in [p for p in range(len(values)) if p != current][:2]:
            before = twin_state(twin)
            set_control(control, position, values)
            after = twin_state(twin)
            expected_key = before["key"].split(",")
            expected_key[index] = str(position)
            expected_key = ",".join(expected_key)
            frame = data["frames"][expected_key]
            if after["key"] != expected_key:
                problems.append(f"twin control {index} at {position}: shows frame {after['key']}, not {expected_key}")
            elif isinstance(frame, int) and after["src"] != data["images"][frame]:
                problems.append(f"twin control {index} at {position}: the image is not the frame's")
            elif not isinstance(frame, int) and after["message"] != frame:
                problems.append(f"twin control {index} at {position}: the refusal message is missing")
            elif before["src"] == after["src"] and before["message"] == after["message"] and frame != data["frames"][before["key"]]:
                problems.append(f"twin control {index} at {position}: the figure did not change")
    return problems


def check_page(browser, root: Path, base_url: str, page_path: Path) -> tuple[list[str], int]:
    """Problems found on one page (empty if none), and how many twins it has."""
    rel = page_path.relative_to(root).as_posix()
    url = urljoin(base_url, rel)
    context = browser.new_context()
    remote, errors = [], []
    context.route("**/*", lambda route: route.continue_() if is_local(route.request.url)
                  else (remote.append(route.request.url), route.abort()))
    page = context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="networkidle")
    source = page_path.read_text(encoding="utf-8")
    if re.search(r'class="math[ "]', source):
        page.wait_for_selector("mjx-container", timeout=20000, state="attached")
    problems = dom_problems(page.content(), source, root, url)
    twins = page.locator(".course-twin")
    count = twins.count()
    for t in range(count):
        problems += exercise_twin(twins.nth(t))
    problems += [f"asked another host: {u}" for u in sorted(set(remote))]
    problems += [f"console error: {e}" for e in errors]
    context.close()
    return [f"{rel}: {p}" for p in problems], count


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
    from playwright.sync_api import sync_playwright

    pages = sorted(p for p in root.rglob("*.html") if p.name not in SKIP_PAGES and "_static" not in p.parts)
    server, base_url = serve(root)
    problems, twins = [], 0
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            for page in pages:
                found, count = check_page(browser, root, base_url, page)
                problems += found
                twins += count
            browser.close()
    finally:
        server.shutdown()
    chapters = [p for p in pages if "lectures" in p.parts]
    without = [p.name for p in chapters if 'class="course-twin"' not in p.read_text(encoding="utf-8")]
    problems += [f"{name}: has no kernel-free widget twin" for name in without]
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    print(f"browser check: {len(pages)} pages, {twins} widget twins moved, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

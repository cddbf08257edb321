"""Headless Chromium for tests of the pages a person reads (the admin, status pages).

Debian's ``chromium`` (``.ci/run`` installs it), driven by Playwright, which is told where the
browser is and so never downloads one of its own. A page is loaded as a person would see it, in
a window of the given size, optionally logged in with session cookies (``staff_session``)::

    with open_page(f"{live_server.url}/admin/", width=1280, height=800,
                   cookies=staff_session(user)) as page:
        page.screenshot(path=tmp_path / "admin.png")
        assert page.evaluate("document.title") == "Site administration | Django site admin"
        assert horizontal_overflow(page) == []

or in one call: ``page_screenshot(url, path, ...)``, ``page_evaluate(url, expression, ...)``.
"""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, sync_playwright

CHROMIUM_NAMES = ("chromium", "chromium-browser")
# What a test browser should not do on its own: reach the network, update, sync, show first-run
# pages. --no-sandbox: tests run as root in CI, where Chromium's sandbox refuses to start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOAD_TIMEOUT_MS = 30_000


def chromium_path() -> str:
    """The system's Chromium; an error that says how to install it when there is none."""
    for name in CHROMIUM_NAMES:
        if path := shutil.which(name):
            return path
    raise RuntimeError(
        "no Chromium for the browser tests: apt-get install chromium (.ci/run does it)"
    )


def staff_session(user) -> dict[str, str]:
    """Session cookies of ``user`` logged in (Django's test client, so no password is needed),
    for a live server on the same database."""
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


@contextmanager
def open_page(
    url: str,
    *,
    width: int = 1280,
    height: int = 800,
    cookies: dict[str, str] | None = None,
    still: bool = True,
) -> Iterator[Page]:
    """The page at ``url`` loaded (its ``load`` event fired) in a ``width`` by ``height``
    window of a fresh headless Chromium, with ``cookies`` set for the URL's host; a
    Playwright ``Page``. ``still``: what the page would load next is cancelled, a
    ``<meta http-equiv="refresh">`` too (the admin's live pages have one), so what the test
    reads is the page it loaded. The browser is closed on exit."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            if cookies:
                # For the whole site (a cookie given the page's URL is the page's path alone)
                parts = urlsplit(url)
                site = f"{parts.scheme}://{parts.netloc}/"
                context.add_cookies(
                    [{"name": name, "value": value, "url": site} for name, value in cookies.items()]
                )
            page = context.new_page()
            response = page.goto(url, wait_until="load", timeout=LOAD_TIMEOUT_MS)
            if response is None or not response.ok:
                status = response.status if response is not None else "no response"
                raise AssertionError(f"{url}: {status}")
            if still:
                page.evaluate("window.stop()")
            yield page
        finally:
            browser.close()


def page_screenshot(
    url: str,
    path: Path,
    *,
    width: int = 1280,
    height: int = 800,
    cookies: dict[str, str] | None = None,
) -> Path:
    """A PNG of the window's view of ``url`` (not the whole page) at ``path``."""
    with open_page(url, width=width, height=height, cookies=cookies) as page:
        page.screenshot(path=path)
    return path


def page_evaluate(
    url: str,
    expression: str,
    *,
    width: int = 1280,
    height: int = 800,
    cookies: dict[str, str] | None = None,
) -> Any:
    """The value of a JavaScript ``expression`` in the loaded page (JSON-like values)."""
    with open_page(url, width=width, height=height, cookies=cookies) as page:
        return page.evaluate(expression)


# Elements wider than the window, and boxes whose content is wider than they are (scrolled or
# clipped sideways): a description of each, so a failure says what does not fit.
_OVERFLOW_JS = """() => {
    const found = [];
    const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (el.classList.length ? "." + [...el.classList].join(".") : "");
    const root = document.documentElement;
    if (root.scrollWidth > window.innerWidth) {
        found.push(`page: ${root.scrollWidth}px wide in a ${window.innerWidth}px window`);
    }
    const reported = [];  // what is inside one of these is not reported again
    for (const el of document.body.querySelectorAll("*")) {
        if (reported.some((outer) => outer.contains(el))) continue;
        const style = getComputedStyle(el);
        if (style.display === "none" || style.visibility === "hidden") continue;
        const box = el.getBoundingClientRect();
        if (box.width <= 1 || box.height <= 1) continue;  // nothing shown (visually-hidden)
        if (box.right > window.innerWidth + 1) {
            found.push(`${name(el)}: right edge at ${Math.round(box.right)}px`);
            reported.push(el);
        } else if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)
                   && el.scrollWidth > el.clientWidth + 1) {
            found.push(`${name(el)}: ${el.scrollWidth}px of content in ${el.clientWidth}px`);
            reported.push(el);
        }
    }
    return found;
}"""


def horizontal_overflow(page: Page) -> list[str]:
    """What does not fit the window's width: the page itself, any element reaching past its
    right edge, or any box scrolling or clipping its content sideways. Empty when all fits."""
    return page.evaluate(_OVERFLOW_JS)

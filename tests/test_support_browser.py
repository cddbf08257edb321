"""tests/support/browser.py: pages load in headless Chromium at the size asked, with the cookies
given; what does not fit the window's width is reported, and nothing when all fits."""

import struct
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from tests.support.browser import horizontal_overflow, open_page, page_evaluate, page_screenshot
from tests.support.loopback import loopback_server, server_url

PAGES = {
    "/fits": "<p>Short.</p>",
    "/too-wide": '<div style="width: 1500px">wide</div>',
    "/scrolls": '<div id="box" style="overflow-x: auto"><table><tr>'
    + '<td style="min-width: 1200px">a</td>' * 2
    + "</tr></table></div>",
    "/cookies": "<pre></pre>",
    "/refreshes": '<meta http-equiv="refresh" content="1; url=/fits"><p>Live.</p>',
}


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path not in PAGES:
            self.send_error(404)
            return
        body = PAGES[self.path]
        if self.path == "/cookies":
            body = f"<pre>{self.headers.get('Cookie', '')}</pre>"
        data = f"<!doctype html><html><body>{body}</body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with loopback_server(_Pages) as httpd:
        yield server_url(httpd)


def test_overflow_is_reported_for_a_wide_page_and_a_box_that_scrolls_sideways(site):
    with open_page(f"{site}/too-wide", width=1280, height=800) as page:
        too_wide = horizontal_overflow(page)
    with open_page(f"{site}/scrolls", width=1280, height=800) as page:
        scrolls = horizontal_overflow(page)
    with open_page(f"{site}/fits", width=1280, height=800) as page:
        fits = horizontal_overflow(page)

    assert too_wide == ["page: 1508px wide in a 1280px window", "div: right edge at 1508px"]
    assert scrolls == ["div#box: 2410px of content in 1264px"]
    assert fits == []


def test_screenshot_is_a_png_of_the_window(site, tmp_path):
    path = page_screenshot(f"{site}/fits", tmp_path / "fits.png", width=640, height=480)

    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (640, 480)


def test_cookies_are_sent_and_expressions_evaluated_in_the_page(site):
    text = page_evaluate(
        f"{site}/cookies",
        "[document.body.innerText.trim(), window.innerWidth]",
        width=1024,
        height=700,
        cookies={"sessionid": "abc123"},
    )

    assert text == ["sessionid=abc123", 1024]


def test_a_page_that_fails_to_load_is_an_error(site):
    with pytest.raises(AssertionError, match="/missing: 404"), open_page(f"{site}/missing"):
        pass


@pytest.mark.parametrize(("still", "then"), [(True, "/refreshes"), (False, "/fits")])
def test_a_page_that_refreshes_itself_is_held_still(site, still, then):
    with open_page(f"{site}/refreshes", still=still) as page:
        page.wait_for_timeout(2500)
        url = page.url

    assert url == f"{site}{then}"

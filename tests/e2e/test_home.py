"""``/`` on a real server (gunicorn): its instructions name the node's own URL, its links work."""

import re
from html import unescape

import httpx
import pytest

from tests.support.dists import DistSpec, build_wheel
from tests.support.servers import live_server

pytestmark = pytest.mark.e2e


def test_front_page_points_clients_at_this_node_and_every_link_answers(tmp_path):
    wheel = build_wheel(DistSpec("demo", "1.0"), tmp_path)
    with (
        live_server(dists=[wheel], workers=1, threads=2) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        response = client.get("/")
        assert response.status_code == 200
        html = response.text
        text = unescape(re.sub(r"<[^>]+>", "", html))
        assert f"pip install --index-url {server.url}/simple/ NAME" in text
        assert f"uv add --default-index {server.url}/simple/ NAME" in text
        assert f"master = {server.url}\nallow-non-https = true" in text

        hrefs = set(re.findall(r'href="([^"]+)"', html))
        assert {"/simple/", "/last-modified", "/healthz", "/readyz", "/admin/"} <= hrefs
        for href in hrefs:
            assert client.get(href, follow_redirects=True).status_code == 200, href

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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 400])
def test_front_page_reads_in_a_browser(live_server, width, tmp_path):
    """What a person sees: the upstream and its lag, the instructions, nothing wider than the
    window (a phone's too), and the instructions' URL being the page's own."""
    from django.utils import timezone

    from apps.replication.models import SyncRun, Upstream
    from tests.support.browser import horizontal_overflow, open_page

    pypi = Upstream.objects.create(
        name="pypi", url="https://user:s3cret@pypi.org", protocol="pypi-json"
    )
    SyncRun.objects.create(
        upstream=pypi, trigger="schedule", state="succeeded", serial_to=123, finished=timezone.now()
    )

    with open_page(f"{live_server.url}/", width=width, height=900) as page:
        page.screenshot(path=tmp_path / f"home-{width}.png", full_page=True)
        text = page.inner_text("body")
        overflow = horizontal_overflow(page)

    assert "pypi" in text and "s3cret" not in text
    assert f"pip install --index-url {live_server.url}/simple/ NAME" in text
    assert overflow == [], f"{overflow}: see {tmp_path / f'home-{width}.png'}"

"""The production settings behind a TLS proxy, with their defaults (DJANGO_SECURE_*): plain http
is sent to https, the probes are not, and https answers carry HSTS (finding 6 of issue 12)."""

from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import LiveServer, live_server

pytestmark = pytest.mark.e2e

HTTPS = {"X-Forwarded-Proto": "https"}  # what nginx says of a client that came over https


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server(env={"DJANGO_SECURE_SSL_REDIRECT": "true"}) as live:
        yield live


def test_plain_http_is_redirected_to_https(server):
    response = httpx.get(f"{server.url}/simple/?a=1")

    assert response.status_code == 301
    assert response.headers["location"] == f"https{server.url.removeprefix('http')}/simple/?a=1"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_over_plain_http(server, path):
    response = httpx.get(f"{server.url}{path}", timeout=30)

    assert response.status_code == 200
    assert "strict-transport-security" not in response.headers


def test_https_through_the_proxy_is_served_with_hsts(server):
    response = httpx.get(f"{server.url}/simple/", headers=HTTPS)

    assert response.status_code == 200
    assert response.headers["strict-transport-security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )

"""A mirror reports to its hub over real HTTP: a live hub (gunicorn, production settings), mirrors
registered with ``manage.py mirror_add`` as an operator would, reports posted with httpx."""

from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import LiveServer, live_server

pytestmark = pytest.mark.e2e

REPORT = {"state": "idle", "serial": 42, "software": "pypimirror", "version": "0.1.0",
          "free_disk_bytes": 5 * 10**11}  # fmt: skip


@pytest.fixture(scope="module")
def hub() -> Iterator[LiveServer]:
    with live_server() as server:
        yield server


@pytest.fixture(scope="module")
def tokens(hub) -> dict[str, str]:
    added = {}
    for name, country in (("alpha", "DE"), ("beta", "JP")):
        result = hub.manage(
            "mirror_add", name, f"https://{name}.example.org/", "--country", country
        )
        added[name] = result.stdout.strip()
    return added


def post(hub: LiveServer, name: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{hub.url}/api/v1/mirrors/{name}/reports/", json=REPORT, headers=headers, timeout=10
    )


def test_a_mirror_posts_its_report_and_the_hub_shows_it(hub, tokens):
    response = post(hub, "alpha", {"Authorization": f"Bearer {tokens['alpha']}"})

    assert response.status_code == 201, response.text
    shown = httpx.get(f"{hub.url}/api/v1/mirrors/alpha/", timeout=10).json()
    assert shown["latest_report"]["serial"] == 42
    assert (shown["country"], shown["continent"]) == ("DE", "EU")
    assert shown["urls"][0]["url"] == "https://alpha.example.org/"


def test_another_mirrors_token_is_forbidden_and_no_token_unauthorized(hub, tokens):
    assert post(hub, "alpha", {"Authorization": f"Token {tokens['beta']}"}).status_code == 403
    refused = post(hub, "alpha", {})
    assert refused.status_code == 401
    assert "Bearer" in refused.headers["WWW-Authenticate"]
    forged = post(hub, "alpha", {"Authorization": "Bearer pmt_" + "x" * 43})
    assert forged.status_code == 401
    assert "Unknown or revoked mirror token" in forged.json()["detail"]


def test_the_hubs_database_holds_no_token_in_clear(hub, tokens):
    dump = hub.shell(
        "from apps.network.models import MirrorToken\nprint(list(MirrorToken.objects.values()))"
    ).stdout

    assert "pmt_" in dump  # the shown prefixes are there...
    for token in tokens.values():
        assert token not in dump  # ...the tokens are not
        assert token[12:] not in dump

"""pypimirror/throttling.py: anonymous API clients are throttled at PYPIMIRROR_API_ANON_RATE,
counted in this process's cache; a mirror's token, a staff session and the index are not."""

import pytest

from apps.network.services import mirror_create, mirror_token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_a_minute(settings):
    settings.PYPIMIRROR_API_ANON_RATE = "3/minute"


def test_an_anonymous_client_is_throttled_past_the_rate(client, three_a_minute):
    answers = [client.get("/api/v1/mirrors/").status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    refused = client.get("/api/v1/network/status/")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "throttled" in refused.json()["detail"].lower()


def test_each_client_address_has_its_own_count(client, three_a_minute):
    for _ in range(3):
        client.get("/api/v1/mirrors/")

    elsewhere = client.get("/api/v1/mirrors/", REMOTE_ADDR="192.0.2.7")

    assert elsewhere.status_code == 200
    assert client.get("/api/v1/mirrors/").status_code == 429


def test_forwarded_for_counts_only_behind_the_proxies_configured(client, settings, three_a_minute):
    for n in range(3):  # a client cannot escape by sending its own X-Forwarded-For
        client.get("/api/v1/mirrors/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert client.get("/api/v1/mirrors/", HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 429

    settings.PYPIMIRROR_TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's address: nginx's

    assert client.get("/api/v1/mirrors/", HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 200


def test_staff_and_a_mirrors_token_are_not_throttled(client, admin_client, three_a_minute):
    _, token = mirror_token_issue(mirror=mirror_create(name="alpha", url="https://a.example/"))
    for _ in range(3):
        client.get("/api/v1/mirrors/")

    assert [admin_client.get("/api/v1/mirrors/").status_code for _ in range(5)] == [200] * 5
    posted = [
        client.post("/api/v1/mirrors/alpha/reports/", {"state": "idle"},
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {token}").status_code
        for _ in range(5)
    ]  # fmt: skip
    assert posted == [201] * 5


def test_the_index_is_not_throttled(client, three_a_minute):
    answers = {client.get("/simple/").status_code for _ in range(6)}

    assert 429 not in answers


def test_an_empty_rate_turns_the_throttle_off(client, settings):
    settings.PYPIMIRROR_API_ANON_RATE = ""

    assert {client.get("/api/v1/mirrors/").status_code for _ in range(200)} == {200}

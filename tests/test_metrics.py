"""``/metrics``: request latency by view, who may read it (pypimirror/metrics.py). In one
process, without PROMETHEUS_MULTIPROC_DIR: the e2e test (tests/e2e/test_metrics.py) scrapes
gunicorn's several workers."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apps.replication.models import Upstream

pytestmark = pytest.mark.django_db

DURATION = "pypimirror_http_request_duration_seconds"


@pytest.fixture(autouse=True)
def one_process(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


def scrape(client, **extra) -> dict[str, list]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "no-cache" in response["Cache-Control"]
    families = text_string_to_metric_families(response.content.decode())
    return {family.name: family.samples for family in families}


def request_count(samples, **labels) -> float:
    """The histogram's _count for these labels (0 when there is no such series yet)."""
    return sum(
        sample.value
        for sample in samples.get(DURATION, [])
        if sample.name == f"{DURATION}_count" and sample.labels == labels
    )


def test_requests_are_timed_by_url_name_method_and_status_class(client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/simple/missing/").status_code == 404
    assert client.head("/simple/").status_code == 200
    after = scrape(client)

    def grew(**labels) -> float:
        return request_count(after, **labels) - request_count(before, **labels)

    assert grew(view="index:healthz", method="GET", status="2xx") == 3
    assert grew(view="index:simple-project", method="GET", status="4xx") == 1
    assert grew(view="index:simple-root", method="HEAD", status="2xx") == 1
    assert grew(view="metrics", method="GET", status="2xx") == 1  # the first scrape
    buckets = [
        s
        for s in after[DURATION]
        if s.name == f"{DURATION}_bucket" and s.labels["view"] == "index:healthz"
    ]
    assert {s.labels["le"] for s in buckets} >= {"0.005", "1.0", "+Inf"}


def test_paths_and_methods_no_route_knows_are_labelled_as_such_not_by_themselves(client):
    before = scrape(client)
    client.get("/no/such/path/anywhere")
    client.generic("BREW", "/simple/")
    after = scrape(client)
    assert (
        request_count(after, view="unresolved", method="GET", status="4xx")
        - request_count(before, view="unresolved", method="GET", status="4xx")
    ) == 1
    assert request_count(after, view="index:simple-root", method="other", status="4xx") >= 1
    text = "".join(str(s.labels) for s in after[DURATION])
    assert "/no/such/path" not in text
    assert "BREW" not in text


def test_sync_figures_are_served_with_upstreams_named_not_located(client):
    Upstream.objects.create(name="private", url="https://alice:s3cret@private.example/simple/")
    response = client.get("/metrics")
    text = response.content.decode()
    assert 'pypimirror_upstream_enabled{upstream="private"} 1.0' in text
    assert "s3cret" not in text
    assert "private.example" not in text


def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(client):
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.decode().endswith("# EOF\n")


def test_other_addresses_are_refused(client, settings):
    response = client.get("/metrics", REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 403
    assert b"PYPIMIRROR_METRICS_ALLOW" in response.content
    assert b"pypimirror_" not in response.content

    settings.PYPIMIRROR_METRICS_ALLOW = ["192.0.2.0/24"]
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="::ffff:192.0.2.7").status_code == 200


def test_behind_a_proxy_the_forwarded_client_is_checked_only_from_a_trusted_proxy(client, settings):
    settings.PYPIMIRROR_METRICS_ALLOW = ["198.51.100.1"]
    forwarded = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    # Anyone could write that header: not believed from an untrusted peer.
    assert client.get("/metrics", **forwarded).status_code == 403
    settings.PYPIMIRROR_TRUSTED_PROXIES = ["127.0.0.1"]
    assert client.get("/metrics", **forwarded).status_code == 200
    # nginx proxying a client from elsewhere: refused, though nginx itself is on loopback.
    settings.PYPIMIRROR_METRICS_ALLOW = ["127.0.0.0/8"]
    elsewhere = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert client.get("/metrics", **elsewhere).status_code == 403


def test_only_get_and_head_are_answered(client):
    assert client.post("/metrics").status_code == 405
    assert client.head("/metrics").status_code == 200

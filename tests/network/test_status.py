"""apps/network/status.py and /api/v1/network/status/: where each URL stands, the network's
status document, and its cache."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.network.health import Health
from apps.network.services import mirror_disable, report_record
from apps.network.status import (
    STATUS_CACHE_SECONDS,
    check_cadence,
    mirror_health_of,
    network_status_document,
    url_status,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_url_status_reads_its_latest_probe_and_its_24_h_figures(
    make_mirror, make_probe, failed_probe_fields
):
    mirror = make_mirror("alpha", country="DE")
    url = mirror.urls.get()
    now = timezone.now()
    old = make_probe(url, ago=timedelta(hours=30), lag_seconds=5.0)  # outside the window
    good = make_probe(url, ago=timedelta(hours=2), lag_seconds=120.0, duration=0.5)
    failed = make_probe(url, ago=timedelta(minutes=5), **failed_probe_fields)

    status = url_status(url=url, probes=[failed, old, good], report_state="idle", now=now)

    assert (status.mirror, status.country, status.continent) == ("alpha", "DE", "EU")
    assert status.health is Health.FAILING
    assert (status.last_probe, status.last_probe_ok) == (failed.checked, False)
    assert status.last_error.startswith("ConnectTimeout")
    assert status.synced == good.last_modified  # by the latest good probe
    assert (status.figures.probes, status.figures.good) == (2, 1)
    assert status.figures.completion == 0.5
    assert status.figures.lag_seconds == 120.0
    assert status.figures.score == pytest.approx((120.0 + 0.5) / 0.25)


@pytest.mark.django_db
def test_without_last_modified_a_url_is_synced_at_its_probe_less_its_lag(make_mirror, make_probe):
    url = make_mirror("alpha").urls.get()
    probe = make_probe(url, last_modified=None, lag_seconds=600.0)

    status = url_status(url=url, probes=[probe], report_state=None, now=timezone.now())

    assert status.synced == probe.checked - timedelta(seconds=600)


@pytest.mark.django_db
def test_a_report_of_failed_syncs_degrades_a_url_probes_find_good(make_mirror, make_probe):
    url = make_mirror("alpha").urls.get()

    status = url_status(
        url=url, probes=[make_probe(url)], report_state="failed", now=timezone.now()
    )

    assert status.health is Health.DEGRADED


@pytest.mark.django_db
def test_a_mirror_is_as_healthy_as_its_best_active_url(make_mirror, make_probe):
    mirror = make_mirror("alpha")
    https = mirror.urls.get()
    http = mirror.urls.create(url="http://alpha.example.org/")
    now = timezone.now()
    good = url_status(url=https, probes=[make_probe(https)], report_state=None, now=now)
    bad = url_status(url=http, probes=[make_probe(http, http_status=502)], report_state=None,
                     now=now)  # fmt: skip

    assert mirror_health_of([bad, good]) is Health.HEALTHY
    assert mirror_health_of([bad]) is Health.FAILING
    assert mirror_health_of([]) is Health.UNKNOWN


def test_check_cadence_counts_rounds_and_the_mean_interval():
    hourly = [NOW - timedelta(hours=h) for h in range(0, 5)]  # 5 probes, 4 gaps of 3600 s
    half_hourly = [NOW - timedelta(minutes=30 * n) for n in range(3)]  # 3 probes, 2 of 1800 s
    too_old = [NOW - timedelta(hours=25)]

    rounds, frequency = check_cadence([hourly, half_hourly, too_old, []], now=NOW)

    assert rounds == 5
    assert frequency == pytest.approx((4 * 3600 + 2 * 1800) / 6)
    assert check_cadence([[NOW]], now=NOW) == (1, None)


@pytest.mark.django_db
def test_the_status_document_has_its_version_cutoff_checks_and_every_url(make_mirror, make_probe):
    url = make_mirror("alpha", country="JP").urls.get()
    now = timezone.now()
    probes = [make_probe(url, ago=timedelta(hours=h)) for h in (1, 2, 3)]
    status = url_status(url=url, probes=probes, report_state=None, now=now)

    document = network_status_document(
        statuses=[status], checks_by_url=[[p.checked for p in probes]], now=now
    )

    assert document["version"] == 1
    assert (document["cutoff"], document["num_checks"]) == (86400, 3)
    assert document["check_frequency"] == pytest.approx(3600.0)
    assert document["last_check"] == probes[0].checked.isoformat()
    [entry] = document["urls"]
    assert entry["url"] == "https://alpha.example.org/"
    assert (entry["mirror"], entry["country"], entry["continent"]) == ("alpha", "JP", "AS")
    assert (entry["health"], entry["active"], entry["completion"]) == ("healthy", True, 1.0)
    assert entry["probes"] == 3 and entry["score"] is not None


# The API


@pytest.mark.django_db
def test_the_network_status_lists_public_urls_with_health(client, make_mirror, make_probe):
    alpha = make_mirror("alpha", country="DE")
    make_probe(alpha.urls.get())
    broken = make_mirror("broken", country="FR")
    make_probe(broken.urls.get(), http_status=503, error="HTTP 503")
    mirror_disable(mirror=broken, reason="staff: moving")
    make_mirror("hidden", public=False)
    report_record(mirror=alpha, state="idle")

    response = client.get("/api/v1/network/status/")

    assert response.status_code == 200
    assert f"max-age={STATUS_CACHE_SECONDS}" in response.headers["Cache-Control"]
    document = response.json()
    assert (document["version"], document["num_checks"]) == (1, 1)
    entries = {entry["mirror"]: entry for entry in document["urls"]}
    assert set(entries) == {"alpha", "broken"}
    assert (entries["alpha"]["health"], entries["alpha"]["active"]) == ("healthy", True)
    assert entries["broken"]["health"] == "failing"
    assert (entries["broken"]["active"], entries["broken"]["disabled_reason"]) == (
        False,
        "staff: moving",
    )


@pytest.mark.django_db
def test_the_network_status_is_served_from_the_cache_for_a_while(client, make_mirror, make_probe):
    url = make_mirror("alpha").urls.get()
    first = client.get("/api/v1/network/status/").json()
    make_probe(url)

    again = client.get("/api/v1/network/status/").json()
    cache.clear()  # as when STATUS_CACHE_SECONDS have passed
    later = client.get("/api/v1/network/status/").json()

    assert again == first
    assert first["urls"][0]["health"] == "unknown"
    assert later["urls"][0]["health"] == "healthy"


@pytest.mark.django_db
def test_the_network_status_reads_in_a_fixed_number_of_queries(
    client, make_mirror, make_probe, django_assert_max_num_queries
):
    for n in range(6):
        url = make_mirror(f"m{n}").urls.get()
        for hours in range(5):
            make_probe(url, ago=timedelta(hours=hours, minutes=1))

    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/network/status/")

    assert len(response.json()["urls"]) == 6

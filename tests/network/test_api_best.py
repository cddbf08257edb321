"""GET /api/v1/mirrors/best/: the mirrors a client should use, through the API, from mirrors and
probes as the registry and the prober record them."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.network.models import Mirror
from apps.network.services import mirror_disable, mirror_url_add, report_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def healthy(make_mirror, make_probe):
    """``healthy(name, country, ...)``: a mirror probed good hourly for the last 3 hours."""

    def make(name, country, *, lag=60.0, ago=timedelta(0), **fields):
        mirror = make_mirror(name, country=country, **fields)
        for url in mirror.urls.all():
            for hours in (3, 2, 1):
                make_probe(url, ago=ago + timedelta(hours=hours, minutes=-5), lag_seconds=lag)
        return mirror

    return make


def best(client, **query):
    response = client.get("/api/v1/mirrors/best/", query)
    assert response.status_code == 200, response.content
    return response.json()


def test_five_mirrors_in_the_country_are_enough(client, healthy):
    for n in range(5):
        healthy(f"de{n}", "DE")
    healthy("fr", "FR")
    healthy("jp", "JP")

    found = best(client, country="DE", protocol="https")

    assert (found["country"], found["continent"], found["scope"]) == ("DE", "EU", "country")
    assert {m["name"] for m in found["mirrors"]} == {f"de{n}" for n in range(5)}
    first = found["mirrors"][0]
    assert first["url"] == f"https://{first['name']}.example.org/"
    assert (first["scope"], first["protocol"], first["figures"]["completion"]) == (
        "country",
        "https",
        1.0,
    )
    assert "excluded" not in found


def test_too_few_in_the_country_falls_back_to_the_continent_then_the_world(client, healthy):
    healthy("de", "DE")
    healthy("fr", "FR")
    healthy("at", "AT")
    healthy("jp", "JP")

    found = best(client, country="de")  # any case

    assert found["scope"] == "world"
    assert {m["name"]: m["scope"] for m in found["mirrors"]} == {
        "de": "country",
        "fr": "continent",
        "at": "continent",
        "jp": "world",
    }
    healthy("nl", "NL")
    healthy("es", "ES")
    cache.clear()  # best/ reads the network afresh at most a minute later
    trace = best(client, country="DE", trace="1")
    assert trace["scope"] == "continent"
    assert {m["name"] for m in trace["mirrors"]} == {"de", "fr", "at", "nl", "es"}
    assert [(e["name"], e["reason"]) for e in trace["excluded"]] == [("jp", "farther")]


def test_trace_says_why_each_mirror_was_left_out(
    client, healthy, make_mirror, make_probe, failed_probe_fields
):
    healthy("good", "DE")
    healthy("off", "DE")
    mirror_disable(mirror=Mirror.objects.get(name="off"), reason="staff: disk replaced")
    resting = healthy("resting", "DE")
    report_record(
        mirror=resting, state="paused", maintenance_until=timezone.now() + timedelta(hours=6)
    )
    down = healthy("down", "DE")
    make_probe(down.urls.get(), ago=timedelta(minutes=2), **failed_probe_fields)
    make_mirror("new", country="DE")  # never probed
    healthy("behind", "DE", lag=5 * 3600.0)
    healthy("plain", "DE", url="http://plain.example.org/")
    healthy("hidden", "DE", public=False)

    found = best(client, country="DE", protocol="https", trace="true")

    assert [m["name"] for m in found["mirrors"]] == ["good"]
    excluded = {e["name"]: (e["reason"], e["detail"]) for e in found["excluded"]}
    assert excluded["off"] == ("disabled", "disabled: staff: disk replaced")
    assert excluded["resting"][0] == "maintenance"
    assert excluded["down"] == (
        "unhealthy",
        "its latest probe failed: " + failed_probe_fields["error"],
    )
    assert excluded["new"] == ("unhealthy", "never probed")
    assert excluded["behind"][0] == "stale"
    assert excluded["plain"] == ("protocol", "serves http, not https")
    assert "hidden" not in excluded  # a private mirror is not named to anonymous clients
    assert set(excluded) == {"off", "resting", "down", "new", "behind", "plain"}


def test_staff_see_private_mirrors_left_out_as_private(admin_client, healthy):
    healthy("hidden", "DE", public=False)

    found = best(admin_client, trace=1)

    assert found["mirrors"] == []
    assert [(e["name"], e["reason"]) for e in found["excluded"]] == [("hidden", "private")]


def test_an_inactive_url_is_left_out_and_the_mirrors_other_url_offered(client, healthy):
    mirror = healthy("alpha", "DE")
    spare = mirror_url_add(mirror=mirror, url="https://alpha2.example.org/")
    spare.active = False
    spare.save()

    found = best(client, trace=1)

    assert [m["url"] for m in found["mirrors"]] == ["https://alpha.example.org/"]
    assert [(e["url"], e["reason"]) for e in found["excluded"]] == [
        ("https://alpha2.example.org/", "url-inactive")
    ]


def test_a_probe_outage_does_not_empty_the_list(client, healthy):
    for n in range(3):
        healthy(f"m{n}", "DE", ago=timedelta(days=2))  # no probe for two days

    found = best(client, country="DE", trace=1)

    assert {m["name"] for m in found["mirrors"]} == {"m0", "m1", "m2"}
    assert found["excluded"] == []


def test_the_first_mirror_varies_between_requests(client, healthy):
    for n in range(5):
        healthy(f"de{n}", "DE")

    firsts = {best(client, country="DE")["mirrors"][0]["name"] for _ in range(30)}

    assert len(firsts) > 1  # all 30 alike: probability 5 * (1/5)^30


def test_best_reads_the_network_once_a_minute_and_shuffles_each_time(
    client, healthy, django_assert_num_queries
):
    for n in range(5):
        healthy(f"de{n}", "DE")
    best(client, country="DE")

    with django_assert_num_queries(0):
        again = best(client, country="DE")
    healthy("de5", "DE")
    still = best(client, country="DE", trace=1)
    cache.clear()  # a minute later
    later = best(client, country="DE", trace=1)

    assert len(again["mirrors"]) == len(still["mirrors"]) == 5
    assert len(later["mirrors"]) == 6


def test_staff_read_the_network_afresh(admin_client, healthy):
    healthy("de0", "DE")
    best(admin_client)
    healthy("de1", "DE")

    assert len(best(admin_client)["mirrors"]) == 2


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"country": "XX"}, "country", "not an ISO 3166-1 alpha-2 country code"),
        ({"country": "Germany"}, "country", "not an ISO 3166-1 alpha-2 country code"),
        ({"protocol": "ftp"}, "protocol", "not a valid choice"),
        ({"trace": "perhaps"}, "trace", "valid boolean"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_parameter(client, query, field, message):
    response = client.get("/api/v1/mirrors/best/", query)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert message in response.json()[field][0]


def test_no_country_means_anywhere(client, healthy):
    healthy("jp", "JP")
    healthy("us", "US")

    found = best(client)

    assert (found["country"], found["continent"], found["scope"]) == ("", "", "world")
    assert {m["name"] for m in found["mirrors"]} == {"jp", "us"}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_best_is_read_only(client, method):
    response = getattr(client, method)("/api/v1/mirrors/best/", {}, content_type="application/json")

    assert response.status_code in {403, 405}

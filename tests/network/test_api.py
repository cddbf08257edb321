"""The mirrors' API through Django's test client: /api/v1/mirrors/ and a mirror's reports."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apps.network.models import Mirror, StatusReport
from apps.network.services import (
    mirror_disable,
    mirror_token_issue,
    mirror_token_revoke,
    report_record,
)

pytestmark = pytest.mark.django_db

REPORT = {"state": "idle", "serial": 1234, "software": "pypimirror", "version": "0.1.0",
          "free_disk_bytes": 10**12}  # fmt: skip


def post_report(client, name, token=None, *, scheme="Bearer", data=REPORT):
    headers = {"HTTP_AUTHORIZATION": f"{scheme} {token}"} if token is not None else {}
    return client.post(
        f"/api/v1/mirrors/{name}/reports/", data, content_type="application/json", **headers
    )


def test_a_mirror_posts_its_report_with_its_token(client, mirror_with_token):
    mirror, token = mirror_with_token

    response = post_report(client, "alpha", token)

    assert response.status_code == 201, response.content
    assert response.json()["state"] == "idle"
    report = StatusReport.objects.get()
    assert (report.mirror, report.serial, report.free_disk_bytes) == (mirror, 1234, 10**12)


def test_the_token_scheme_works_too(client, mirror_with_token):
    _, token = mirror_with_token

    assert post_report(client, "alpha", token, scheme="Token").status_code == 201


def test_another_mirrors_token_is_forbidden(client, mirror_with_token, make_mirror):
    _, alpha_token = mirror_with_token
    make_mirror("beta")

    response = post_report(client, "beta", alpha_token)

    assert response.status_code == 403
    assert "another mirror" in response.json()["detail"]
    assert not StatusReport.objects.exists()


def test_no_token_is_refused_as_unauthenticated(client, mirror_with_token):
    response = post_report(client, "alpha")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not StatusReport.objects.exists()


@pytest.mark.parametrize("token", ["pmt_forged0000000000000000000000000000000", "x", "a b"])
def test_a_forged_token_is_refused_saying_so(client, mirror_with_token, token):
    response = post_report(client, "alpha", token)

    assert response.status_code == 401
    assert response.json()["detail"]
    assert not StatusReport.objects.exists()


def test_a_revoked_token_is_refused(client, make_mirror):
    row, token = mirror_token_issue(mirror=make_mirror("alpha"))
    mirror_token_revoke(token=row)

    response = post_report(client, "alpha", token)

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_staff_session_cannot_post_a_mirrors_report(admin_client, mirror_with_token):
    assert post_report(admin_client, "alpha").status_code == 401


def test_a_bad_report_is_a_400_naming_the_field(client, mirror_with_token):
    _, token = mirror_with_token

    response = post_report(client, "alpha", token, data={"state": "great", "serial": -1})

    assert response.status_code == 400
    assert set(response.json()) == {"state", "serial"}


def test_a_private_mirror_posts_its_report(client, make_mirror):
    mirror = make_mirror("hidden", public=False)
    _, token = mirror_token_issue(mirror=mirror)

    assert post_report(client, "hidden", token).status_code == 201


def test_a_report_does_not_enable_a_disabled_mirror(client, mirror_with_token):
    mirror, token = mirror_with_token
    Mirror.objects.filter(pk=mirror.pk).update(active=False, disabled_by="probes")

    post_report(client, "alpha", token)

    mirror.refresh_from_db()
    assert not mirror.active


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_the_mirror_list_is_read_only(client, mirror_with_token, method):
    _, token = mirror_with_token

    response = getattr(client, method)(
        "/api/v1/mirrors/alpha/", {}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip

    assert response.status_code in {401, 403, 405}
    assert Mirror.objects.filter(name="alpha").exists()


def test_anonymous_clients_see_public_mirrors_with_urls_and_latest_report(client, make_mirror):
    alpha = make_mirror("alpha", country="DE", follows_url="https://pypi.org/")
    make_mirror("hidden", public=False)
    report_record(mirror=alpha, state="syncing", serial=1)
    latest = report_record(mirror=alpha, state="idle", serial=2)
    StatusReport.objects.filter(pk=latest.pk).update(received=timezone.now() + timedelta(1))

    response = client.get("/api/v1/mirrors/")

    assert response.status_code == 200
    [listed] = response.json()["results"]
    assert listed["name"] == "alpha"
    assert (listed["country"], listed["continent"], listed["tier"]) == ("DE", "EU", 1)
    assert listed["follows"] == "https://pypi.org/"
    [url] = listed["urls"]
    assert (url["url"], url["protocol"], url["active"]) == ("https://alpha.example.org/", "https",
                                                            True)  # fmt: skip
    assert (url["health"], url["last_probe"], url["figures"]["probes"]) == ("unknown", None, 0)
    assert listed["health"] == "unknown"  # never probed
    assert (listed["latest_report"]["state"], listed["latest_report"]["serial"]) == ("idle", 2)
    assert "admin_email" not in listed
    assert client.get("/api/v1/mirrors/hidden/").status_code == 404


def test_staff_see_private_mirrors(admin_client, make_mirror):
    make_mirror("hidden", public=False)

    response = admin_client.get("/api/v1/mirrors/hidden/")

    assert response.status_code == 200
    assert response.json()["latest_report"] is None


def test_a_logged_in_user_who_is_not_staff_sees_public_mirrors_only(client, make_mirror):
    make_mirror("hidden", public=False)
    client.force_login(User.objects.create_user("someone", password="x"))

    assert client.get("/api/v1/mirrors/").json()["results"] == []


@pytest.mark.parametrize("mirrors", [2, 8])
def test_the_mirror_list_reads_a_page_in_a_fixed_number_of_queries(
    client, make_mirror, make_probe, django_assert_num_queries, mirrors
):
    for n in range(mirrors):
        mirror = make_mirror(f"m{n}")
        report_record(mirror=mirror, state="idle")
        http = mirror.urls.create(url=f"http://m{n}.example.org/")
        for url in (mirror.urls.get(protocol="https"), http):
            make_probe(url, ago=timedelta(hours=30))  # older than the window: still the latest
            for hours in range(3):
                make_probe(url, ago=timedelta(hours=hours, minutes=1)) if n % 2 else None

    # count, mirrors, their URLs, their reports, their URLs' recent probes and older latest ones
    with django_assert_num_queries(6):
        response = client.get("/api/v1/mirrors/")

    results = response.json()["results"]
    assert len(results) == mirrors
    assert {len(m["urls"]) for m in results} == {2}
    assert results[1]["urls"][0]["figures"]["probes"] == 3
    assert results[0]["urls"][0]["figures"]["probes"] == 0
    assert results[0]["urls"][0]["last_probe"] is not None  # the 30 h old one


# Health and 24 h figures


def test_a_mirror_shows_its_health_and_each_urls_24_h_figures(
    client, make_mirror, make_probe, failed_probe_fields
):
    mirror = make_mirror("alpha", country="DE")
    url = mirror.urls.get()
    for hours, lag in ((3, 30.0), (2, 90.0)):
        make_probe(url, ago=timedelta(hours=hours), lag_seconds=lag, duration=0.2)
    make_probe(url, ago=timedelta(hours=1), **failed_probe_fields)
    latest = make_probe(url, ago=timedelta(minutes=3), lag_seconds=60.0, duration=0.2)

    shown = client.get("/api/v1/mirrors/alpha/").json()

    assert shown["health"] == "healthy"
    [entry] = shown["urls"]
    assert (entry["health"], entry["last_probe_ok"]) == ("healthy", True)
    assert entry["last_probe"] == latest.checked.isoformat().replace("+00:00", "Z")
    figures = entry["figures"]
    assert (figures["probes"], figures["good"], figures["completion"]) == (4, 3, 0.75)
    assert figures["lag_seconds"] == pytest.approx(60.0)
    assert figures["duration_mean"] == pytest.approx(0.2)
    assert figures["score"] == pytest.approx((60.0 + 0.2) / 0.75**2)


def test_a_mirror_whose_last_probe_failed_is_failing(client, make_mirror, make_probe,
                                                     failed_probe_fields):  # fmt: skip
    url = make_mirror("alpha").urls.get()
    make_probe(url, ago=timedelta(hours=1))
    make_probe(url, ago=timedelta(minutes=1), **failed_probe_fields)

    shown = client.get("/api/v1/mirrors/alpha/").json()

    assert shown["health"] == "failing"
    assert shown["urls"][0]["last_error"].startswith("ConnectTimeout")


def test_a_report_of_failed_syncs_degrades_but_never_heals(client, make_mirror, make_probe,
                                                          failed_probe_fields):  # fmt: skip
    good = make_mirror("good")
    make_probe(good.urls.get())
    report_record(mirror=good, state="failed")
    bad = make_mirror("bad")
    make_probe(bad.urls.get(), **failed_probe_fields)
    report_record(mirror=bad, state="idle")

    health = {m["name"]: m["health"] for m in client.get("/api/v1/mirrors/").json()["results"]}

    assert health == {"good": "degraded", "bad": "failing"}


# Filters


@pytest.fixture
def network(make_mirror):
    make_mirror("de-https", country="DE")
    plain = make_mirror("fr-http", country="FR", url="http://fr.example.org/")
    make_mirror("jp-https", country="JP")
    off = make_mirror("us-off", country="US")
    mirror_disable(mirror=off, reason="staff: retired")
    return plain


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["de-https", "fr-http", "jp-https", "us-off"]),
        ("country=DE", ["de-https"]),
        ("continent=EU", ["de-https", "fr-http"]),
        ("protocol=http", ["fr-http"]),
        ("protocol=https&continent=EU", ["de-https"]),
        ("active=false", ["us-off"]),
        ("active=true&continent=AS", ["jp-https"]),
    ],
)
def test_the_mirror_list_filters(client, network, query, expected):
    response = client.get(f"/api/v1/mirrors/?{query}")

    assert response.status_code == 200
    assert [m["name"] for m in response.json()["results"]] == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [("country=XX", "country"), ("continent=EU1", "continent"), ("protocol=ftp", "protocol"),
     ("since=x", "since")],
)  # fmt: skip
def test_a_bad_filter_is_a_400_naming_it(client, network, query, field):
    path = "/api/v1/mirrors/de-https/probes/" if field == "since" else "/api/v1/mirrors/"

    response = client.get(f"{path}?{query}")

    assert response.status_code == 400
    assert field in response.json()


def test_a_filtered_out_mirror_is_still_found_by_name(client, network):
    assert client.get("/api/v1/mirrors/us-off/?active=true").status_code == 200


# Probes


def test_a_mirrors_probes_are_listed_newest_first_and_paginated(client, make_mirror, make_probe):
    url = make_mirror("alpha").urls.get()
    hours = [3, 1, 2, *range(4, 52)]  # 51: a page of 50 and one more
    probes = [make_probe(url, ago=timedelta(hours=h)) for h in hours]
    make_probe(make_mirror("beta").urls.get())

    first = client.get("/api/v1/mirrors/alpha/probes/").json()
    second = client.get(first["next"]).json()

    assert first["count"] == 51
    assert (len(first["results"]), len(second["results"])) == (50, 1)
    listed = [p["checked"] for p in first["results"] + second["results"]]
    expected = sorted((p.checked for p in probes), reverse=True)
    assert listed == [t.isoformat().replace("+00:00", "Z") for t in expected]
    shown = first["results"][0]
    assert (shown["url"], shown["location"], shown["ok"]) == ("https://alpha.example.org/",
                                                              "hub", True)  # fmt: skip
    assert (shown["http_status"], shown["lag_serials"], shown["integrity_ok"]) == (200, 0, True)


def test_probes_filter_by_time_and_outcome(client, make_mirror, make_probe, failed_probe_fields):
    url = make_mirror("alpha").urls.get()
    make_probe(url, ago=timedelta(hours=5))
    make_probe(url, ago=timedelta(hours=3), **failed_probe_fields)
    make_probe(
        url,
        ago=timedelta(hours=2),
        integrity_ok=False,
        integrity_findings=[{"file": "a-1.0.tar.gz", "problem": "sha256 differs"}],
    )
    make_probe(url, ago=timedelta(hours=1), integrity_ok=None)  # not sampled: still good
    since = (timezone.now() - timedelta(hours=4)).isoformat()

    def count(query):
        response = client.get("/api/v1/mirrors/alpha/probes/", query)
        assert response.status_code == 200, response.content
        return response.json()["count"]

    assert count({}) == 4
    assert count({"ok": "true"}) == 2
    assert count({"ok": "false"}) == 2
    assert count({"since": since}) == 3
    assert count({"since": since, "ok": "true"}) == 1
    assert count({"until": since}) == 1
    assert count({"url": "https://alpha.example.org/"}) == 4
    assert client.get("/api/v1/mirrors/alpha/probes/", {"since": "yesterday"}).status_code == 400


def test_a_private_or_unknown_mirrors_probes_are_not_found(client, admin_client, make_mirror,
                                                          make_probe):  # fmt: skip
    make_probe(make_mirror("hidden", public=False).urls.get())

    assert client.get("/api/v1/mirrors/hidden/probes/").status_code == 404
    assert client.get("/api/v1/mirrors/nobody/probes/").status_code == 404
    assert admin_client.get("/api/v1/mirrors/hidden/probes/").json()["count"] == 1


def test_the_probe_list_reads_a_page_in_a_fixed_number_of_queries(
    client, make_mirror, make_probe, django_assert_num_queries
):
    url = make_mirror("alpha").urls.get()
    for hours in range(10):
        make_probe(url, ago=timedelta(hours=hours))

    with django_assert_num_queries(3):  # the mirror, the count, the page
        response = client.get("/api/v1/mirrors/alpha/probes/")

    assert response.json()["count"] == 10


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_probes_cannot_be_written(client, make_mirror, method):
    make_mirror("alpha")

    response = getattr(client, method)("/api/v1/mirrors/alpha/probes/", {},
                                       content_type="application/json")  # fmt: skip

    assert response.status_code in {403, 405}


@pytest.mark.parametrize(
    ("since", "status"),
    [
        ("2026-01-01T00:00:00+16:34", 200),  # ISO allows it, PostgreSQL would not: sent as UTC
        ("2026-01-01T00:00:00-17:05", 200),
        ("0001-01-01T00:00:00+16:00", 400),  # before year 1 in UTC
        ("9999-12-31T23:59:59-10:00", 400),  # after 9999 in UTC
    ],
)
def test_probe_times_with_any_offset_are_read_in_utc_or_refused(client, make_mirror, since,
                                                                status):  # fmt: skip
    make_mirror("alpha")

    response = client.get("/api/v1/mirrors/alpha/probes/", {"since": since})

    assert response.status_code == status
    if status == 400:
        assert response.json() == {"since": ["This time is out of range."]}

"""The mirrors' API through Django's test client: /api/v1/mirrors/ and a mirror's reports."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apps.network.models import Mirror, StatusReport
from apps.network.services import mirror_token_issue, mirror_token_revoke, report_record

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
    assert listed["urls"] == [
        {"url": "https://alpha.example.org/", "protocol": "https", "active": True}
    ]
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


def test_the_mirror_list_reads_a_page_in_a_fixed_number_of_queries(
    client, make_mirror, django_assert_max_num_queries
):
    for n in range(5):
        mirror = make_mirror(f"m{n}")
        report_record(mirror=mirror, state="idle")

    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/mirrors/")

    assert len(response.json()["results"]) == 5

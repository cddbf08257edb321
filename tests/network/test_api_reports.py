"""``POST /api/v1/reports/``: a mirror's report, the mirror known by its token alone (what a
node with PYPIMIRROR_HUB_URL and PYPIMIRROR_HUB_TOKEN posts)."""

import pytest
from django.contrib.auth.models import User

from apps.network.models import StatusReport
from apps.network.services import mirror_token_issue, mirror_token_revoke

pytestmark = pytest.mark.django_db

REPORT = {"state": "syncing", "serial": 40, "upstream_serial": 1234, "software": "pypimirror",
          "version": "0.1.0", "free_disk_bytes": 10**12}  # fmt: skip


def post(client, token=None, data=REPORT):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return client.post("/api/v1/reports/", data, content_type="application/json", **headers)


def test_the_report_is_kept_for_the_tokens_mirror_and_names_it(client, mirror_with_token):
    mirror, token = mirror_with_token

    response = post(client, token)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["mirror"], body["state"], body["upstream_serial"]) == ("alpha", "syncing", 1234)
    report = StatusReport.objects.get()
    assert (report.mirror, report.serial, report.upstream_serial) == (mirror, 40, 1234)


def test_each_token_reports_for_its_own_mirror(client, mirror_with_token, make_mirror):
    beta = make_mirror("beta")
    _, beta_token = mirror_token_issue(mirror=beta)

    assert post(client, beta_token).json()["mirror"] == "beta"
    assert StatusReport.objects.get().mirror == beta


def test_without_a_token_it_is_unauthenticated(client, mirror_with_token):
    response = post(client)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not StatusReport.objects.exists()


def test_a_staff_session_is_no_mirrors_token(client, mirror_with_token):
    client.force_login(User.objects.create_user("staff", is_staff=True, is_superuser=True))

    assert post(client).status_code == 401
    assert not StatusReport.objects.exists()


def test_a_revoked_token_is_refused(client, mirror_with_token):
    mirror, token = mirror_with_token
    mirror_token_revoke(token=mirror.tokens.get())

    response = post(client, token)

    assert response.status_code == 401
    assert "Unknown or revoked" in response.json()["detail"]


@pytest.mark.parametrize(
    "bad", [{"state": "asleep"}, {"upstream_serial": -1}, {"free_disk_bytes": -5}]
)
def test_a_malformed_report_is_refused(client, mirror_with_token, bad):
    _, token = mirror_with_token

    assert post(client, token, {**REPORT, **bad}).status_code == 400
    assert not StatusReport.objects.exists()


def test_reading_is_not_offered(client, mirror_with_token):
    _, token = mirror_with_token

    response = client.get("/api/v1/reports/", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 405

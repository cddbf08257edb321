"""Verify runs and findings in the admin (read-only lists, filters by kind and run) and the API
(``/api/v1/verify-runs/``, ``/api/v1/verify-findings/``); the weekly schedule."""

import json

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from apps.verification.models import Finding, VerifyRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs() -> tuple[VerifyRun, VerifyRun]:
    first = VerifyRun.objects.create(state="finished", files_checked=3, findings_count=2)
    second = VerifyRun.objects.create(state="running", cursor=7, orphans_cursor="packages/3f")
    Finding.objects.create(run=first, kind="corrupt", path="packages/aa/x-1.0.tar.gz")
    Finding.objects.create(run=first, kind="orphan", path="packages/bb/lost.whl", repair="deleted")
    Finding.objects.create(run=second, kind="missing", path="packages/cc/y-1.0.tar.gz")
    return first, second


def test_the_weekly_verify_is_scheduled_by_the_migration():
    task = PeriodicTask.objects.get(task="apps.verification.tasks.verify_store")
    assert (task.interval.every, task.interval.period) == (7, "days")
    assert json.loads(task.kwargs) == {"repair": False, "delete_orphans": False}
    assert task.enabled


def test_the_admin_lists_findings_filtered_by_kind_and_run(admin_client, runs):
    first, _ = runs
    url = reverse("admin:verification_finding_changelist")

    everything = admin_client.get(url).content.decode()
    corrupt = admin_client.get(url, {"kind__exact": "corrupt"}).content.decode()
    of_first = admin_client.get(url, {"run__id__exact": first.pk}).content.decode()

    assert all(p in everything for p in ("x-1.0.tar.gz", "lost.whl", "y-1.0.tar.gz"))
    assert "x-1.0.tar.gz" in corrupt and "lost.whl" not in corrupt
    assert "lost.whl" in of_first and "y-1.0.tar.gz" not in of_first


def test_the_admin_is_read_only(admin_client, runs):
    first, _ = runs
    finding = first.findings.first()

    assert admin_client.get(reverse("admin:verification_verifyrun_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:verification_verifyrun_change", args=[first.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    listed = admin_client.get(reverse("admin:verification_verifyrun_changelist")).content
    assert b"done to packages/3f" in listed  # the orphan walk's cursor of the running one
    assert admin_client.get(reverse("admin:verification_finding_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:verification_finding_delete", args=[finding.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Finding.objects.filter(pk=finding.pk).exists()


def test_the_api_lists_runs_and_findings_filtered(client, runs):
    first, second = runs

    listed = client.get("/api/v1/verify-runs/").json()
    findings = client.get("/api/v1/verify-findings/", {"run": first.pk, "kind": "orphan"}).json()

    assert [r["id"] for r in listed["results"]] == [second.pk, first.pk]
    assert listed["results"][0]["cursor"] == 7
    assert listed["results"][0]["orphans_cursor"] == "packages/3f"
    assert [(f["path"], f["repair"]) for f in findings["results"]] == [
        ("packages/bb/lost.whl", "deleted")
    ]


@pytest.mark.parametrize(
    "query", [{"kind": "rotten"}, {"run": "x"}, {"run": "99999999999999999999"}]
)
def test_the_api_refuses_bad_filters_with_a_400(client, query):
    response = client.get("/api/v1/verify-findings/", query)

    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_the_api_is_read_only(client, runs):
    first, _ = runs
    assert client.post("/api/v1/verify-runs/", {}).status_code in (403, 405)
    assert client.delete(f"/api/v1/verify-runs/{first.pk}/").status_code in (403, 405)

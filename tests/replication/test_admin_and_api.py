import json

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from apps.replication.models import SyncRun, Upstream
from apps.replication.schedules import TASK

pytestmark = pytest.mark.django_db


def test_adding_an_upstream_in_the_admin_schedules_its_sync(admin_client, server):
    response = admin_client.post(
        reverse("admin:replication_upstream_add"),
        {"name": "pypi", "url": server.url, "enabled": "on"},
    )
    assert response.status_code == 302
    upstream = Upstream.objects.get(name="pypi")
    assert upstream.protocol == Upstream.Protocol.PYPI_JSON  # its first contact, before saving
    task = PeriodicTask.objects.get(task=TASK)
    assert json.loads(task.args) == [upstream.pk]
    assert (task.interval.every, task.interval.period) == (10, "minutes")
    assert task.enabled


def test_disabling_an_upstream_disables_its_schedule_but_keeps_the_interval(admin_client, server):
    admin_client.post(
        reverse("admin:replication_upstream_add"),
        {"name": "pypi", "url": server.url, "enabled": "on"},
    )
    upstream = Upstream.objects.get()
    task = PeriodicTask.objects.get(task=TASK)
    task.interval.every = 30
    task.interval.save()
    admin_client.post(
        reverse("admin:replication_upstream_change", args=[upstream.pk]),
        {"name": "pypi", "url": server.url},
    )
    task.refresh_from_db()
    assert not task.enabled
    assert task.interval.every == 30


def test_deleting_an_upstream_deletes_its_schedule(admin_client, server):
    admin_client.post(
        reverse("admin:replication_upstream_add"),
        {"name": "pypi", "url": server.url, "enabled": "on"},
    )
    upstream = Upstream.objects.get()
    admin_client.post(
        reverse("admin:replication_upstream_delete", args=[upstream.pk]), {"post": "yes"}
    )
    assert not PeriodicTask.objects.filter(task=TASK).exists()


@pytest.fixture
def run():
    upstream = Upstream.objects.create(name="up", url="http://127.0.0.1:9/")
    return SyncRun.objects.create(
        upstream=upstream,
        trigger=SyncRun.Trigger.COMMAND,
        state=SyncRun.State.RUNNING,
        projects_planned=4,
        projects_done=1,
        projects_failed=1,
        errors=[{"project": "x", "error": "HTTP 503"}],
    )


def test_running_sync_run_page_refreshes_itself_with_its_progress(admin_client, run):
    response = admin_client.get(reverse("admin:replication_syncrun_changelist"))
    assert b'http-equiv="refresh"' in response.content
    assert b"2/4" in response.content
    detail = admin_client.get(reverse("admin:replication_syncrun_change", args=[run.pk]))
    assert b'http-equiv="refresh"' in detail.content


def test_finished_runs_do_not_refresh(admin_client, run):
    run.state = SyncRun.State.PARTIAL
    run.save()
    response = admin_client.get(reverse("admin:replication_syncrun_changelist"))
    assert b'http-equiv="refresh"' not in response.content


def test_api_lists_sync_runs_read_only(client, run):
    response = client.get("/api/v1/sync-runs/")
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["upstream"] == "up"
    assert (item["projects_planned"], item["projects_failed"]) == (4, 1)
    assert item["errors"] == [{"project": "x", "error": "HTTP 503"}]
    assert client.get(f"/api/v1/sync-runs/{run.pk}/").json()["id"] == run.pk
    assert client.post("/api/v1/sync-runs/", {}).status_code == 405
    assert client.delete(f"/api/v1/sync-runs/{run.pk}/").status_code == 405


def test_api_filters_by_upstream_and_state(client, run):
    assert client.get("/api/v1/sync-runs/?state=running").json()["count"] == 1
    assert client.get("/api/v1/sync-runs/?state=failed").json()["count"] == 0
    assert client.get("/api/v1/sync-runs/?upstream=other").json()["count"] == 0

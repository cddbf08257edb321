import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.replication import admin as replication_admin
from apps.replication.models import ProjectSyncState, SyncRun, Upstream
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


def test_rules_are_edited_as_json_on_the_upstream_page_and_stored_normalized(admin_client):
    upstream = Upstream.objects.create(name="pypi", url="https://pypi.org")
    url = reverse("admin:replication_upstream_change", args=[upstream.pk])
    assert b'name="rules"' in admin_client.get(url).content

    response = admin_client.post(
        url,
        {
            "name": "pypi",
            "url": "https://pypi.org",
            "enabled": "on",
            "rules": json.dumps({"allow": ["Foo.Bar"], "prereleases": False}),
        },
    )

    assert response.status_code == 302
    upstream.refresh_from_db()
    assert upstream.rules == {"allow": ["foo-bar"], "prereleases": False}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ('{"allow": ["a"]', "Enter a valid JSON."),
        ('{"latest": -1}', "latest: must be a whole number of at least 1"),
        ('{"colour": "red"}', "unknown key(s): colour"),
    ],
)
def test_bad_rules_are_shown_by_the_form_and_nothing_is_saved(admin_client, rules, message):
    upstream = Upstream.objects.create(name="pypi", url="https://pypi.org", rules={"latest": 2})

    response = admin_client.post(
        reverse("admin:replication_upstream_change", args=[upstream.pk]),
        {"name": "renamed", "url": "https://pypi.org", "enabled": "on", "rules": rules},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    upstream.refresh_from_db()
    assert (upstream.name, upstream.rules) == ("pypi", {"latest": 2})


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


def test_sync_run_list_is_short_columns_with_counts_not_the_errors(admin_client, run):
    response = admin_client.get(reverse("admin:replication_syncrun_changelist"))

    assert response.context["cl"].list_display[1:] == [
        "id",
        "upstream",
        "state",
        "progress",
        "failed",
        "downloaded",
        "duration",
        "started",
    ]
    assert b'<progress max="4" value="2"></progress> 2/4' in response.content
    assert b'<td class="field-failed">1</td>' in response.content
    assert b"HTTP 503" not in response.content  # the errors are on the run's page
    detail = admin_client.get(reverse("admin:replication_syncrun_change", args=[run.pk]))
    assert b"<li><b>x</b>: HTTP 503</li>" in detail.content
    assert b"&quot;project&quot;" not in detail.content  # nor the JSON there


def test_sync_run_times_are_shown_to_the_second(admin_client, run):
    SyncRun.objects.update(started=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))

    response = admin_client.get(reverse("admin:replication_syncrun_changelist"))

    assert b"2026-01-02 03:04:05" in response.content


@pytest.mark.parametrize(("seconds", "shown"), [(3725.7, "1:02:05"), (97445, "1 d 3:04:05")])
def test_finished_run_shows_how_long_it_took(admin_client, run, seconds, shown):
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    SyncRun.objects.update(
        state=SyncRun.State.SUCCEEDED, started=start, finished=start + timedelta(seconds=seconds)
    )

    response = admin_client.get(reverse("admin:replication_syncrun_changelist"))

    assert f'<td class="field-duration">{shown}</td>'.encode() in response.content


def test_running_run_shows_how_long_it_has_run_so_far(admin_client, run):
    SyncRun.objects.update(started=timezone.now() - timedelta(seconds=65))

    response = admin_client.get(reverse("admin:replication_syncrun_changelist"))

    assert re.search(rb'<td class="field-duration">0:01:[01]\d</td>', response.content)


@pytest.mark.parametrize("state", [SyncRun.State.PLANNING, SyncRun.State.RUNNING])
def test_run_in_progress_cannot_be_deleted(admin_client, run, state):
    SyncRun.objects.update(state=state)
    delete_url = reverse("admin:replication_syncrun_delete", args=[run.pk])

    page = admin_client.get(reverse("admin:replication_syncrun_change", args=[run.pk]))

    assert page.status_code == 200
    assert delete_url.encode() not in page.content
    assert admin_client.get(delete_url).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert SyncRun.objects.filter(pk=run.pk).exists()


def test_finished_run_can_be_deleted(admin_client, run):
    SyncRun.objects.update(state=SyncRun.State.FAILED)
    delete_url = reverse("admin:replication_syncrun_delete", args=[run.pk])

    page = admin_client.get(reverse("admin:replication_syncrun_change", args=[run.pk]))
    response = admin_client.post(delete_url, {"post": "yes"})

    assert delete_url.encode() in page.content
    assert response.status_code == 302
    assert not SyncRun.objects.filter(pk=run.pk).exists()


def test_delete_action_deletes_the_finished_runs_and_keeps_those_in_progress(admin_client, run):
    finished = SyncRun.objects.create(
        upstream=run.upstream, trigger=SyncRun.Trigger.SCHEDULE, state=SyncRun.State.SUCCEEDED
    )
    url = reverse("admin:replication_syncrun_changelist")
    selected = {"action": "delete_selected", "_selected_action": [run.pk, finished.pk]}

    confirm = admin_client.post(url, selected)
    done = admin_client.post(url, {**selected, "post": "yes"}, follow=True)

    assert confirm.status_code == 200
    assert list(confirm.context["queryset"]) == [finished]
    assert f"Runs in progress are not deleted: #{run.pk}" in done.content.decode()
    assert list(SyncRun.objects.all()) == [run]


def test_delete_action_on_runs_in_progress_alone_deletes_nothing(admin_client, run):
    url = reverse("admin:replication_syncrun_changelist")

    response = admin_client.post(
        url, {"action": "delete_selected", "_selected_action": [run.pk]}, follow=True
    )

    assert f"Runs in progress are not deleted: #{run.pk}" in response.content.decode()
    assert SyncRun.objects.filter(pk=run.pk).exists()


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("state=bogus", '"bogus" is not a valid choice.'),
        ("state=%00", "is not a valid choice."),
        ("upstream=%00", "Null characters are not allowed."),
        ("upstream=" + "x" * 101, "no more than 100 characters"),
    ],
)
def test_api_filters_that_cannot_match_are_400_naming_the_parameter(
    client, run, settings, query, said
):
    # Without the middleware that refuses NUL everywhere: the filter's own check answers.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "ClientInputMiddleware" not in m]
    response = client.get(f"/api/v1/sync-runs/?{query}")
    assert response.status_code == 400
    [message] = next(iter(response.json().values()))
    assert said in message


def test_api_empty_filters_mean_no_filter(client, run):
    assert client.get("/api/v1/sync-runs/?state=&upstream=").json()["count"] == 1


@pytest.mark.parametrize("page", ["9" * 30, "9" * 5000, "-1", "x"])
def test_api_page_numbers_out_of_range_are_404(client, run, page):
    assert client.get(f"/api/v1/sync-runs/?page={page}").status_code == 404


def test_sync_run_year_past_a_c_int_is_a_bad_lookup_not_a_500(admin_client, run):
    admin_client.raise_request_exception = False
    url = reverse("admin:replication_syncrun_changelist") + "?started__year=99999999999999"
    response = admin_client.get(url)
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_sync_runs_are_filtered_by_their_start(admin_client, run):
    old = SyncRun.objects.create(upstream=run.upstream, trigger=SyncRun.Trigger.SCHEDULE)
    SyncRun.objects.filter(pk=old.pk).update(started=timezone.now() - timedelta(days=30))
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    response = admin_client.get(  # "Past 7 days", as the filter writes it
        reverse("admin:replication_syncrun_changelist"),
        {"started__gte": str(today - timedelta(days=7)), "started__lt": str(today + timedelta(1))},
    )
    assert list(response.context["cl"].result_list) == [run]


def test_the_upstreams_list_reads_their_last_runs_in_its_own_query(
    admin_client, django_assert_max_num_queries
):
    url = reverse("admin:replication_upstream_changelist")
    first = Upstream.objects.create(name="first", url="https://first.example")
    SyncRun.objects.create(upstream=first, trigger="schedule", state=SyncRun.State.FAILED)
    with CaptureQueriesContext(connection) as one:
        admin_client.get(url)
    for name in ("second", "third", "fourth"):
        upstream = Upstream.objects.create(name=name, url=f"https://{name}.example")
        for state in (SyncRun.State.FAILED, SyncRun.State.SUCCEEDED):
            last = SyncRun.objects.create(upstream=upstream, trigger="schedule", state=state)

    with django_assert_max_num_queries(len(one)):
        response = admin_client.get(url)

    assert f"#{last.pk} Succeeded" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "found"),
    [("Foo.Bar", {"foo-bar", "foo-bar-baz"}), ("bar", {"bar"}), ("", {"foo-bar", "foo-bar-baz",
     "bar", "xfoo-bar"})],
)  # fmt: skip
def test_sync_states_are_found_by_a_normalized_name_or_its_beginning(admin_client, query, found):
    upstream = Upstream.objects.create(name="pypi", url="https://pypi.example")
    for name in ("foo-bar", "foo-bar-baz", "bar", "xfoo-bar"):
        ProjectSyncState.objects.create(upstream=upstream, normalized_name=name, name=name)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(
            reverse("admin:replication_projectsyncstate_changelist"), {"q": query}
        )
    assert {s.normalized_name for s in response.context["cl"].result_list} == found
    assert not any("UPPER(" in q["sql"] for q in queries.captured_queries)


def test_a_name_beginning_more_sync_states_than_listed_says_so(admin_client, monkeypatch):
    monkeypatch.setattr(replication_admin, "STATES_AT_MOST", 2)
    upstream = Upstream.objects.create(name="pypi", url="https://pypi.example")
    for name in ("foo", "foo-bar", "foo-baz"):
        ProjectSyncState.objects.create(upstream=upstream, normalized_name=name, name=name)
    response = admin_client.get(
        reverse("admin:replication_projectsyncstate_changelist"), {"q": "foo"}
    )
    assert len(response.context["cl"].result_list) == 2
    assert "More than 2 projects have a name beginning with &#x27;foo&#x27;" in (
        response.content.decode()
    )

"""A node's report to its hub (hub_report.py): its state from its runs, sent to a live hub (this
project's own API on pytest-django's live server) with the mirror's token, and every way the
hub can fail to hear it a warning, never an error, never showing the token."""

import logging
import time
from http.server import BaseHTTPRequestHandler

import pytest
from django.utils import timezone

from apps.catalog.models import JournalEntry
from apps.network.models import StatusReport
from apps.network.services import mirror_create, mirror_token_issue
from apps.replication.clients import UpstreamUnusable
from apps.replication.hub_report import hub_report_send, hub_reports_url, node_report
from apps.replication.models import SyncRun, Upstream
from apps.replication.progress import run_count_outcomes
from apps.replication.services import sync_run_start
from apps.replication.signals import sync_run_finished
from tests.support.loopback import loopback_server, server_url

from .helpers import sync

pytestmark = pytest.mark.django_db

LOGGER = "apps.replication.hub_report"


def make_run(upstream: Upstream, state: str, serial_to: int | None = None) -> SyncRun:
    return SyncRun.objects.create(
        upstream=upstream,
        trigger=SyncRun.Trigger.COMMAND,
        state=state,
        serial_to=serial_to,
        finished=None if state in ("planning", "running") else timezone.now(),
    )


@pytest.fixture
def up(db) -> Upstream:
    return Upstream.objects.create(name="up", url="http://127.0.0.1:1", last_serial=90)


def test_a_node_without_upstreams_is_idle_at_its_journals_serial():
    for n in range(3):
        JournalEntry.objects.create(name="a", normalized_name="a", action=f"change {n}")

    report = node_report()

    assert (report.state, report.upstream_serial) == ("idle", None)
    assert report.serial == JournalEntry.objects.latest("id").id
    assert (report.software, report.version) == ("pypimirror", "0.1.0")
    assert report.free_disk_bytes > 0


@pytest.mark.parametrize(
    ("last_state", "reported"),
    [
        ("running", "syncing"),
        ("planning", "syncing"),
        ("failed", "failed"),
        ("partial", "idle"),  # its failed projects are retried next run
        ("succeeded", "idle"),
    ],
)
def test_the_state_is_that_of_the_last_run(up, last_state, reported):
    make_run(up, "succeeded", serial_to=80)

    make_run(up, last_state, serial_to=90)

    report = node_report()
    assert report.state == reported
    # the serial reached is that of the last run that succeeded as a whole
    assert report.upstream_serial == (90 if last_state == "succeeded" else 80)


def test_every_upstream_disabled_is_paused(up):
    make_run(up, "failed")
    Upstream.objects.update(enabled=False)

    assert node_report().state == "paused"


def test_a_disabled_upstreams_failure_does_not_count(up):
    make_run(up, "succeeded", serial_to=90)
    other = Upstream.objects.create(name="other", url="http://127.0.0.1:2", enabled=False)
    make_run(other, "failed")

    assert (node_report().state, node_report().upstream_serial) == ("idle", 90)


@pytest.mark.parametrize(
    ("hub", "expected"),
    [
        ("https://hub.example.org", "https://hub.example.org/api/v1/reports/"),
        ("https://hub.example.org/pypi/", "https://hub.example.org/pypi/api/v1/reports/"),
        ("https://hub.example.org/simple/", "https://hub.example.org/api/v1/reports/"),
    ],
)
def test_reports_go_to_the_hubs_reports_url(hub, expected):
    assert hub_reports_url(hub) == expected


class Silent(BaseHTTPRequestHandler):
    """A hub that accepts the connection and never answers."""

    def do_POST(self):
        time.sleep(3)

    def log_message(self, *args):
        pass


# The signal a run's end sends (the receiver posts the report)


@pytest.fixture
def finished_runs():
    ids = []

    def receiver(*, run_id, **_kwargs):
        ids.append(run_id)

    sync_run_finished.connect(receiver, dispatch_uid="test-finished-runs")
    yield ids
    sync_run_finished.disconnect(dispatch_uid="test-finished-runs")


def test_the_count_that_ends_a_run_announces_it_once(
    up, finished_runs, django_capture_on_commit_callbacks
):
    run = make_run(up, "running")
    SyncRun.objects.filter(pk=run.pk).update(projects_planned=2)

    with django_capture_on_commit_callbacks(execute=True):
        run_count_outcomes(run_id=run.pk, done=1)
        assert finished_runs == []
        run_count_outcomes(run_id=run.pk, failed=1, errors=[{"project": "b", "error": "x"}])
        run_count_outcomes(run_id=run.pk, done=1)  # a redelivered batch: the run has ended

    assert finished_runs == [run.pk]


@pytest.mark.django_db(transaction=True)
def test_a_sync_with_nothing_to_do_is_announced_as_it_starts(server, upstream, finished_runs):
    upstream.add_release("alpha", "1.0")
    first = sync(server)
    second = sync(server)  # nothing changed: it ends as it begins

    assert second.projects_planned == 0
    assert finished_runs == [first.pk, second.pk]


def test_a_run_that_cannot_start_is_announced(finished_runs, django_capture_on_commit_callbacks):
    with loopback_server(Silent) as httpd:
        url = server_url(httpd)
    unreachable = Upstream.objects.create(name="gone", url=url)  # its port is closed now

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(UpstreamUnusable):
        sync_run_start(upstream=unreachable, trigger=SyncRun.Trigger.COMMAND)

    [run] = SyncRun.objects.filter(upstream=unreachable)
    assert (run.state, finished_runs) == ("failed", [run.pk])


# Sending to a live hub


@pytest.fixture
def hub(live_server, settings):
    """This project as the hub (the node's own database: one process), a mirror registered on
    it, and the node's two settings pointing at it."""
    mirror = mirror_create(name="node-a", url="https://node-a.example.org/", country="DE")
    _, token = mirror_token_issue(mirror=mirror)
    settings.PYPIMIRROR_HUB_URL = live_server.url
    settings.PYPIMIRROR_HUB_TOKEN = token
    return mirror, token


@pytest.mark.django_db(transaction=True)
def test_the_report_reaches_the_hub_as_the_tokens_mirror(hub, caplog):
    mirror, token = hub
    up = Upstream.objects.create(name="up", url="http://127.0.0.1:1")
    make_run(up, "succeeded", serial_to=77)
    caplog.set_level(logging.INFO, logger=LOGGER)

    assert hub_report_send() is True

    report = StatusReport.objects.get(mirror=mirror)
    assert (report.state, report.upstream_serial, report.software) == ("idle", 77, "pypimirror")
    assert report.free_disk_bytes > 0
    assert "as mirror node-a: idle" in caplog.text
    assert token not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_wrong_token_is_a_warning_that_shows_no_token(hub, settings, caplog):
    wrong = "pmt_" + "w" * 43
    settings.PYPIMIRROR_HUB_TOKEN = wrong

    assert hub_report_send() is False

    assert not StatusReport.objects.exists()
    [record] = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.WARNING
    assert "refused: HTTP 401 (Unknown or revoked mirror token.)" in record.getMessage()
    assert wrong not in caplog.text and wrong[4:] not in caplog.text


def test_a_hub_that_does_not_answer_costs_the_timeout_and_a_warning(settings, caplog):
    settings.PYPIMIRROR_HUB_TOKEN = "pmt_" + "s" * 43
    with loopback_server(Silent) as httpd:
        settings.PYPIMIRROR_HUB_URL = server_url(httpd)
        started = time.monotonic()
        assert hub_report_send(timeout=0.5) is False
        took = time.monotonic() - started

    assert took < 2
    assert "not sent" in caplog.text
    assert settings.PYPIMIRROR_HUB_TOKEN not in caplog.text


def test_a_node_without_both_settings_sends_nothing(settings):
    calls = []

    class Counting(Silent):
        def do_POST(self):
            calls.append(self.path)
            self.send_response(201)
            self.end_headers()

    with loopback_server(Counting) as httpd:
        settings.PYPIMIRROR_HUB_URL = server_url(httpd)
        settings.PYPIMIRROR_HUB_TOKEN = ""
        assert hub_report_send() is False
        settings.PYPIMIRROR_HUB_URL, settings.PYPIMIRROR_HUB_TOKEN = "", "pmt_" + "t" * 43
        assert hub_report_send() is False

    assert calls == []


# The schedule


def test_the_report_is_scheduled_every_10_minutes_and_editable():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="apps.replication.tasks.report_to_hub")

    assert task.enabled
    assert (task.interval.every, task.interval.period) == (10, "minutes")


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_task_reports_and_does_nothing_unset(hub, settings):
    from apps.replication.tasks import report_to_hub

    mirror, _token = hub
    assert report_to_hub.apply().get() is True
    assert StatusReport.objects.filter(mirror=mirror).count() == 1

    settings.PYPIMIRROR_HUB_TOKEN = ""
    assert report_to_hub.apply().get() is False
    assert StatusReport.objects.filter(mirror=mirror).count() == 1

"""Each project counted once per run: a batch delivered again (its worker died) skips what the
run already counted and counts nothing twice; a run that can make no progress ends partial,
naming its lost projects, which the next run takes."""

import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from apps.replication import batch_sync, services
from apps.replication.models import ProjectSyncState, RunProject, SyncRun
from apps.replication.run_projects import (
    MAX_REDELIVERIES,
    run_batch_redelivered,
    run_finish_lost,
    run_projects_pending,
)
from apps.replication.runner import StallWatch, batch_requeue

from .helpers import assert_catalog_consistent, assert_node_mirrors, sync, upstream_for

pytestmark = pytest.mark.django_db(transaction=True)

PROJECTS = ["one", "two", "three", "four"]


@pytest.fixture
def served(server, upstream):
    for name in PROJECTS:
        upstream.add_release(name, "1.0")
    upstream.write()
    return server


def start(server) -> tuple[SyncRun, list[str]]:
    return services.sync_run_start(upstream=upstream_for(server), trigger=SyncRun.Trigger.COMMAND)


def test_a_run_keeps_its_plan_one_pending_row_a_project(served):
    run, names = start(served)

    assert sorted(run_projects_pending(run=run)) == sorted(names) == sorted(PROJECTS)


def test_a_batch_delivered_again_skips_what_the_run_counted(served, upstream, client):
    run, names = start(served)
    batch_sync.projects_sync(run=run, names=names[:2])  # then the worker died

    again = batch_sync.projects_sync(run=run, names=names, redelivered=True)

    run.refresh_from_db()
    assert len(again) == 2  # only the two the run had not counted
    assert (run.state, run.projects_done) == (SyncRun.State.SUCCEEDED, len(PROJECTS))
    for name in PROJECTS:
        assert_node_mirrors(client, upstream, name)
    assert_catalog_consistent()


def test_a_batch_done_twice_counts_each_project_once(served):
    run, names = start(served)
    batch_sync.projects_sync(run=run, names=names[:2])

    batch_sync.projects_sync(run=run, names=names[:2])  # the same batch, once more

    run.refresh_from_db()
    assert (run.state, run.projects_done) == (SyncRun.State.RUNNING, 2)
    assert not ProjectSyncState.objects.exclude(lease_owner="").exists()  # leases freed


def test_a_batch_delivered_again_leaves_a_project_another_worker_holds_uncounted(served):
    run, names = start(served)
    ProjectSyncState.objects.filter(normalized_name=names[0]).update(
        lease_owner="elsewhere:1:x", lease_until=timezone.now() + timedelta(minutes=1)
    )

    batch_sync.projects_sync(run=run, names=names, redelivered=True)

    run.refresh_from_db()
    assert (run.projects_done, run.projects_skipped) == (len(PROJECTS) - 1, 0)
    assert run_projects_pending(run=run) == [names[0]]


def queued_batches() -> list[tuple[list, dict, str | None]]:
    """The batches waiting in the broker's queue (the test settings' embedded one), taken off."""
    from queue import Empty

    from pypimirror.celery import app

    found = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(app.conf.task_default_queue)
        while True:
            try:
                message = queue.get(timeout=0.5)
            except Empty:
                return found
            message.ack()
            args, kwargs, _embed = message.payload
            found.append((args, kwargs, message.headers.get("eta")))


def test_a_project_another_worker_holds_is_queued_again_for_when_its_lease_lapses(served):
    run, names = start(served)
    queued_batches()
    ProjectSyncState.objects.filter(normalized_name=names[0]).update(
        lease_owner="elsewhere:1:x", lease_until=timezone.now() + timedelta(seconds=30)
    )

    batch_sync.projects_sync(run=run, names=names, redelivered=True, held_elsewhere=batch_requeue)

    [(args, kwargs, eta)] = queued_batches()
    assert (args, kwargs) == ([run.pk, [names[0]]], {"redelivered": True})
    wait = (datetime.fromisoformat(eta) - timezone.now()).total_seconds()
    assert 25 < wait <= 31


def test_a_batch_of_a_run_that_is_over_does_nothing(served):
    run, names = start(served)
    run_finish_lost(run=run)
    run.refresh_from_db()

    assert batch_sync.projects_sync(run=run, names=names, redelivered=True) == []
    assert not ProjectSyncState.objects.filter(serial_reached__gt=0).exists()


def test_a_lost_run_ends_partial_naming_its_projects_and_the_next_run_takes_them(served):
    run, names = start(served)
    batch_sync.projects_sync(run=run, names=names[:1])

    lost = run_finish_lost(run=run)

    run.refresh_from_db()
    assert sorted(lost) == sorted(names[1:])
    assert run.state == SyncRun.State.PARTIAL and run.finished is not None
    assert run.error.startswith("3 project(s) lost") and run.error.endswith("next run takes them")
    assert [e["project"] for e in run.errors] == lost
    assert run_finish_lost(run=run) == []  # over: nothing more to lose
    following = sync(upstream_for(served))
    assert (following.state, following.projects_done) == (SyncRun.State.SUCCEEDED, 3)
    # the plans of runs that are over are dropped as the next starts
    assert not RunProject.objects.filter(run=run).exists()


def test_a_stall_watch_stops_after_its_timeout_without_progress_and_no_live_task(served):
    run, names = start(served)
    live = [True]
    watch = StallWatch(run, timeout=0.3, every=0, live=lambda _run_id: live[0])
    assert not watch()  # the first look

    time.sleep(0.4)
    assert not watch()  # no progress, but a live worker has a task of the run
    live[0] = False
    time.sleep(0.4)
    ProjectSyncState.objects.filter(normalized_name=names[0]).update(
        lease_owner="w:1:x", lease_until=timezone.now() + timedelta(minutes=2)
    )
    assert not watch()  # a lease taken or renewed is progress: the clock starts again
    time.sleep(0.4)

    assert watch()


def test_a_batch_delivered_again_too_often_fails_its_pending_projects_for_the_next_run(served):
    run, names = start(served)
    for _ in range(MAX_REDELIVERIES):  # deliveries whose worker died before any outcome
        died_holding_leases()
        run_batch_redelivered(run=run, states=list(ProjectSyncState.objects.all()))
    died_holding_leases()

    batch_sync.projects_sync(run=run, names=names, redelivered=True)

    run.refresh_from_db()
    assert (run.state, run.projects_failed) == (SyncRun.State.PARTIAL, len(PROJECTS))
    assert {e["error"] for e in run.errors} == {batch_sync.POISON_ERROR}
    failed = ProjectSyncState.objects.get(normalized_name=names[0])
    assert (failed.attempts, failed.serial_reached) == (1, 0)  # retried, with backoff
    assert not ProjectSyncState.objects.exclude(lease_owner="").exists()


def test_a_batch_delivered_again_within_the_limit_syncs_its_projects(served):
    run, names = start(served)
    for _ in range(MAX_REDELIVERIES - 1):
        died_holding_leases()
        run_batch_redelivered(run=run, states=list(ProjectSyncState.objects.all()))
    died_holding_leases()

    batch_sync.projects_sync(run=run, names=names, redelivered=True)

    run.refresh_from_db()
    assert (run.state, run.projects_done) == (SyncRun.State.SUCCEEDED, len(PROJECTS))


def test_a_batch_delivered_again_while_another_worker_holds_it_is_no_death(served):
    run, _names = start(served)
    ProjectSyncState.objects.update(
        lease_owner="elsewhere:1:x", lease_until=timezone.now() + timedelta(minutes=1)
    )
    for _ in range(MAX_REDELIVERIES + 1):
        run_batch_redelivered(run=run, states=list(ProjectSyncState.objects.all()))

    assert set(RunProject.objects.values_list("redeliveries", flat=True)) == {0}


def died_holding_leases() -> None:
    """Every project's lease as a worker killed mid-batch leaves it: held by a process gone."""
    ProjectSyncState.objects.update(
        lease_owner=f"{socket.gethostname()}:{_dead_pid()}:x",
        lease_until=timezone.now() + timedelta(minutes=1),
    )


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid

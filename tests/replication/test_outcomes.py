"""A batch's leases taken together, and its outcomes written together: states where the batch
still holds the lease, every outcome counted on the run."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.replication import outcomes
from apps.replication.leases import leases_acquire, new_owner
from apps.replication.models import ProjectSyncState, SyncRun, Upstream
from apps.replication.outcomes import Outcome, OutcomeRecorder

pytestmark = pytest.mark.django_db


@pytest.fixture
def upstream():
    return Upstream.objects.create(name="up", url="http://127.0.0.1:1")


@pytest.fixture
def run(upstream):
    return SyncRun.objects.create(
        upstream=upstream, trigger="command", state=SyncRun.State.RUNNING, projects_planned=4
    )


def states(upstream, *names, **fields) -> list[ProjectSyncState]:
    return [
        ProjectSyncState.objects.create(upstream=upstream, normalized_name=n, name=n, **fields)
        for n in names
    ]


def dead_owner() -> str:
    """An owner naming a process of this host that has exited."""
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                             capture_output=True, check=True)  # fmt: skip
    return new_owner().rsplit(":", 2)[0] + f":{process.stdout.strip()}:dead"


def test_free_leases_are_taken_in_one_statement(upstream):
    batch = states(upstream, "a", "b", "c")
    owner = new_owner()

    with CaptureQueriesContext(connection) as queries:
        taken = leases_acquire(states=batch, owner=owner)

    assert taken == {s.pk for s in batch}
    assert len(queries) == 1
    assert set(ProjectSyncState.objects.values_list("lease_owner", flat=True)) == {owner}
    assert {s.lease_owner for s in batch} == {owner}


def test_leases_of_live_workers_are_left_and_dead_ones_taken_over(upstream):
    soon = timezone.now() + timedelta(minutes=1)
    live = states(upstream, "live", lease_owner="another-host:1:cafe", lease_until=soon)
    dead = states(upstream, "dead", lease_owner=dead_owner(), lease_until=soon)
    free = states(upstream, "free")
    # Taken by another worker after the batch read its states: not the batch's.
    raced = states(upstream, "raced")
    ProjectSyncState.objects.filter(pk=raced[0].pk).update(
        lease_owner="another-host:2:beef", lease_until=soon
    )
    owner = new_owner()

    taken = leases_acquire(states=live + dead + free + raced, owner=owner)

    assert taken == {dead[0].pk, free[0].pk}
    held = dict(ProjectSyncState.objects.values_list("normalized_name", "lease_owner"))
    assert held == {
        "live": "another-host:1:cafe",
        "dead": owner,
        "free": owner,
        "raced": "another-host:2:beef",
    }


def test_outcomes_are_written_together_and_only_where_the_lease_still_holds(upstream, run):
    batch = states(upstream, "done", "failed", "lost")
    other = states(upstream, "other", lease_owner="another-host:1:cafe")
    owner = new_owner()
    leases_acquire(states=batch, owner=owner)
    recorder = OutcomeRecorder(run=run, owner=owner)
    recorder.add(batch[0], Outcome.DONE, reached=7, files=2, size=10, etag='"x"')
    recorder.add(batch[1], Outcome.FAILED, error="HTTP 500")
    recorder.add(batch[2], Outcome.DONE, reached=9)
    recorder.add(other[0], Outcome.SKIPPED, error="another worker is syncing it", leased=False)
    # The lease of "lost" lapsed and another worker took it over meanwhile.
    ProjectSyncState.objects.filter(pk=batch[2].pk).update(lease_owner="another-host:2:beef")

    run.refresh_from_db()
    assert run.projects_finished == 0  # nothing written before write()
    recorder.write()

    rows = {s.normalized_name: s for s in ProjectSyncState.objects.all()}
    assert (rows["done"].serial_reached, rows["done"].etag, rows["done"].lease_owner) == (
        7,
        '"x"',
        "",
    )
    assert (rows["failed"].attempts, rows["failed"].last_error) == (1, "HTTP 500")
    assert rows["failed"].next_retry > timezone.now()
    assert (rows["lost"].serial_reached, rows["lost"].lease_owner) == (0, "another-host:2:beef")
    assert (rows["other"].last_error, rows["other"].lease_owner) == ("", "another-host:1:cafe")
    run.refresh_from_db()
    assert (run.projects_done, run.projects_failed, run.projects_skipped) == (2, 1, 1)
    assert (run.files_fetched, run.bytes_fetched, run.state) == (2, 10, SyncRun.State.PARTIAL)
    assert [e["project"] for e in run.errors] == ["failed", "other"]


def test_outcomes_wait_for_the_flush_interval(upstream, run, monkeypatch):
    batch = states(upstream, "a")
    owner = new_owner()
    leases_acquire(states=batch, owner=owner)
    recorder = OutcomeRecorder(run=run, owner=owner)
    recorder.add(batch[0], Outcome.DONE, reached=3)

    recorder.write_if_due()
    assert ProjectSyncState.objects.get().lease_owner == owner
    monkeypatch.setattr(outcomes, "FLUSH_SECONDS", 0)
    recorder.write_if_due()
    assert ProjectSyncState.objects.get().lease_owner == ""


def test_a_stopping_worker_frees_the_leases_of_projects_it_did_not_reach(upstream, run):
    batch = states(upstream, "a", "b")
    owner = new_owner()
    leases_acquire(states=batch, owner=owner)
    recorder = OutcomeRecorder(run=run, owner=owner)
    recorder.add(batch[0], Outcome.DONE, reached=3)

    recorder.release_unrecorded(batch)
    assert ProjectSyncState.objects.get(normalized_name="b").lease_owner == ""
    assert ProjectSyncState.objects.get(normalized_name="a").lease_owner == owner
    recorder.write()
    assert ProjectSyncState.objects.get(normalized_name="a").serial_reached == 3

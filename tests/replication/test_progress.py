"""Outcomes counted on a run, and the run's projects split into task batches."""

import pytest

from apps.replication.models import SyncRun, Upstream
from apps.replication.progress import run_count_outcome
from apps.replication.runner import BATCH_MAX, batches

pytestmark = pytest.mark.django_db


@pytest.fixture
def run():
    upstream = Upstream.objects.create(name="up", url="http://127.0.0.1:1")
    return SyncRun.objects.create(
        upstream=upstream, trigger="command", state=SyncRun.State.RUNNING, projects_planned=3
    )


def test_the_last_outcome_finishes_the_run(run):
    run_count_outcome(run_id=run.pk, counter="projects_done", files=2, size=10)
    run_count_outcome(run_id=run.pk, counter="projects_skipped")
    run.refresh_from_db()
    assert (run.state, run.finished) == (SyncRun.State.RUNNING, None)

    run_count_outcome(run_id=run.pk, counter="projects_done", files=1, size=5)

    run.refresh_from_db()
    assert run.state == SyncRun.State.SUCCEEDED
    assert run.finished is not None
    assert (run.projects_done, run.projects_skipped, run.files_fetched, run.bytes_fetched) == (
        2,
        1,
        3,
        15,
    )


@pytest.mark.parametrize("last", ["projects_failed", "projects_done"])
def test_a_failure_anywhere_makes_the_run_partial(run, last):
    first = "projects_done" if last == "projects_failed" else "projects_failed"
    run_count_outcome(
        run_id=run.pk,
        counter=first,
        error={"project": "a", "error": "x"} if "failed" in first else None,
    )
    run_count_outcome(run_id=run.pk, counter="projects_done")
    run_count_outcome(
        run_id=run.pk,
        counter=last,
        error={"project": "c", "error": "boom"} if "failed" in last else None,
    )
    run.refresh_from_db()
    assert run.state == SyncRun.State.PARTIAL
    assert [e["project"] for e in run.errors] == ["a" if first == "projects_failed" else "c"]


def test_outcomes_past_the_plan_leave_a_finished_run_alone(run):
    for _ in range(3):
        run_count_outcome(run_id=run.pk, counter="projects_done")
    run.refresh_from_db()
    finished = run.finished
    run_count_outcome(run_id=run.pk, counter="projects_failed")  # a redelivered batch
    run.refresh_from_db()
    assert (run.state, run.finished, run.projects_failed) == (
        SyncRun.State.SUCCEEDED,
        finished,
        1,
    )


def test_an_unknown_counter_is_refused(run):
    with pytest.raises(ValueError):
        run_count_outcome(run_id=run.pk, counter="state")


@pytest.mark.parametrize("count", [0, 1, 5, 16, 17, 200, 20_000])
def test_batches_cover_every_project_once_and_spread_over_workers(count):
    names = [f"p{i}" for i in range(count)]
    found = batches(names)
    assert [n for batch in found for n in batch] == names
    assert all(1 <= len(batch) <= BATCH_MAX for batch in found)
    assert len(found) >= min(count, 16)

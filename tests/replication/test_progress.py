"""Outcomes counted on a run, and the run's projects split into task batches."""

import pytest

from apps.replication.models import SyncRun, Upstream
from apps.replication.progress import run_count_outcomes
from apps.replication.runner import BATCH_MAX, BATCH_SPREAD, batches

pytestmark = pytest.mark.django_db


@pytest.fixture
def run():
    upstream = Upstream.objects.create(name="up", url="http://127.0.0.1:1")
    return SyncRun.objects.create(
        upstream=upstream, trigger="command", state=SyncRun.State.RUNNING, projects_planned=3
    )


def test_the_last_outcome_finishes_the_run(run):
    run_count_outcomes(run_id=run.pk, done=1, files=2, size=10)
    run_count_outcomes(run_id=run.pk, skipped=1)
    run.refresh_from_db()
    assert (run.state, run.finished) == (SyncRun.State.RUNNING, None)

    run_count_outcomes(run_id=run.pk, done=1, files=1, size=5)

    run.refresh_from_db()
    assert run.state == SyncRun.State.SUCCEEDED
    assert run.finished is not None
    assert (run.projects_done, run.projects_skipped, run.files_fetched, run.bytes_fetched) == (
        2,
        1,
        3,
        15,
    )


def count(run, outcome: str, project: str) -> None:
    """One project's outcome, with its error when it failed."""
    errors = [{"project": project, "error": "boom"}] if outcome == "failed" else []
    run_count_outcomes(run_id=run.pk, **{outcome: 1}, errors=errors)


@pytest.mark.parametrize("last", ["failed", "done"])
def test_a_failure_anywhere_makes_the_run_partial(run, last):
    first = "done" if last == "failed" else "failed"
    count(run, first, "a")
    count(run, "done", "b")
    count(run, last, "c")
    run.refresh_from_db()
    assert run.state == SyncRun.State.PARTIAL
    assert [e["project"] for e in run.errors] == ["a" if first == "failed" else "c"]


def test_outcomes_past_the_plan_leave_a_finished_run_alone(run):
    run_count_outcomes(run_id=run.pk, done=3)
    run.refresh_from_db()
    finished = run.finished
    run_count_outcomes(run_id=run.pk, failed=1)  # a redelivered batch
    run.refresh_from_db()
    assert (run.state, run.finished, run.projects_failed) == (
        SyncRun.State.SUCCEEDED,
        finished,
        1,
    )


def test_an_unknown_counter_is_refused(run):
    with pytest.raises(TypeError):
        run_count_outcomes(run_id=run.pk, state=1)


@pytest.mark.parametrize("count", [0, 1, 5, 16, 17, 200, 20_000])
def test_batches_cover_every_project_once_and_spread_over_workers(count):
    names = [f"p{i}" for i in range(count)]
    found = batches(names)
    assert [n for batch in found for n in batch] == names
    assert all(1 <= len(batch) <= BATCH_MAX for batch in found)
    assert len(found) >= min(count, BATCH_SPREAD)

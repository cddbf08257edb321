"""The projects a run planned, each counted once: what makes a batch delivered again harmless,
and what names the projects a run lost when its workers died.

A run's plan is written as it starts (each project's sync state brought to its wanted serial,
and one row per project on the run, no outcome yet). Recording an
outcome claims the project's row under its lock: a second delivery of the same batch (its
worker was killed, or it outlived the broker's visibility timeout) finds the row claimed and
counts nothing. A project with no row (a task queued before plans were kept) is counted as
before.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from .leases import lease_holder_is_dead
from .models import ProjectSyncState, RunProject, SyncRun, Upstream
from .signals import sync_run_finished_announce

PENDING = RunProject.Outcome.PENDING
# A batch delivered again this many times with a project still pending (its worker died each
# time: killed, or out of memory on it) fails the project on this run rather than kill another
# worker; the next run retries it, with the usual backoff.
MAX_REDELIVERIES = 2
# How many lost projects the run's error names; all are in its errors list.
LOST_NAMED = 20


def run_projects_plan(
    *, run: SyncRun, planned: Mapping[str, tuple[str, int | None]], gone: set[str]
) -> None:
    """Record the run's plan (normalized name -> (name, serial wanted or None)): each project's
    sync state made or brought to its wanted serial and listing, and a pending row for each on
    the run. The plans of the upstream's runs that are over go: they matter only while their
    run runs (what became of each project is in its sync state, the lost in their run's
    errors)."""
    _record_wanted(run.upstream, planned, gone=gone)
    RunProject.objects.filter(run__upstream_id=run.upstream_id).exclude(
        run__state__in=(SyncRun.State.PLANNING, SyncRun.State.RUNNING)
    ).delete()
    ids = ProjectSyncState.objects.filter(
        upstream_id=run.upstream_id, normalized_name__in=list(planned)
    ).values_list("pk", flat=True)
    RunProject.objects.bulk_create(
        [RunProject(run=run, state_id=pk) for pk in ids.iterator()],
        ignore_conflicts=True,
        batch_size=1000,
    )


def _record_wanted(
    upstream: Upstream, planned: Mapping[str, tuple[str, int | None]], *, gone: set[str]
) -> None:
    with_serial = {n: s for n, (_name, s) in planned.items() if s is not None}
    # A new state starts with its wanted serial: on a first sync, none needs the update below.
    ProjectSyncState.objects.bulk_create(
        [
            ProjectSyncState(
                upstream=upstream, normalized_name=n, name=name, serial_wanted=serial or 0
            )
            for n, (name, serial) in planned.items()
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    states = ProjectSyncState.objects.filter(
        upstream=upstream, normalized_name__in=list(with_serial)
    ).only("id", "normalized_name", "serial_wanted")
    changed = []
    for state in states.iterator():
        if state.serial_wanted != with_serial[state.normalized_name]:
            state.serial_wanted = with_serial[state.normalized_name]
            changed.append(state)
    ProjectSyncState.objects.bulk_update(changed, ["serial_wanted"], batch_size=1000)
    listed = ProjectSyncState.objects.filter(upstream=upstream)
    listed.filter(normalized_name__in=list(gone), listed=True).update(listed=False)
    listed.filter(normalized_name__in=[n for n in planned if n not in gone], listed=False).update(
        listed=True
    )


def run_projects_claim(*, run_id: int, outcomes: Mapping[int, str]) -> set[int]:
    """Give the run's projects (state id -> outcome) their outcome: the ids that are now to be
    counted on the run. A project the run already counted is not; one the run never planned
    is. Call inside a transaction that also counts them, so both happen or neither."""
    if not outcomes:
        return set()
    planned = dict(
        RunProject.objects.select_for_update()
        .filter(run_id=run_id, state_id__in=list(outcomes))
        .values_list("state_id", "outcome")
    )
    claimed = defaultdict(list)
    for state_id, outcome in outcomes.items():
        if planned.get(state_id) == PENDING:
            claimed[outcome].append(state_id)
    for outcome, ids in claimed.items():
        RunProject.objects.filter(run_id=run_id, state_id__in=ids).update(outcome=outcome)
    return {i for i in outcomes if planned.get(i, PENDING) == PENDING}


def run_projects_counted(*, run: SyncRun, state_ids: Iterable[int]) -> set[int]:
    """The ids among ``state_ids`` whose outcome the run has already counted."""
    return set(
        RunProject.objects.filter(run=run, state_id__in=list(state_ids))
        .exclude(outcome=PENDING)
        .values_list("state_id", flat=True)
    )


def run_batch_redelivered(
    *, run: SyncRun, states: list[ProjectSyncState]
) -> tuple[list[ProjectSyncState], set[int]]:
    """A batch delivered again: its states the run has not counted yet, and the ids among them
    delivered again more than ``MAX_REDELIVERIES`` times after their worker died (to fail,
    not sync once more). A project whose worker died still names it in its lease: a lease
    lapsed, or held by a process of this host that is gone."""
    ids = [s.pk for s in states]
    done = run_projects_counted(run=run, state_ids=ids)
    now = timezone.now()
    orphaned = [
        s.pk
        for s in states
        if s.lease_owner
        and (s.lease_until is None or s.lease_until < now or lease_holder_is_dead(s.lease_owner))
    ]
    rows = RunProject.objects.filter(run=run, state_id__in=orphaned, outcome=PENDING)
    rows.update(redeliveries=F("redeliveries") + 1)
    too_often = rows.filter(redeliveries__gt=MAX_REDELIVERIES).values_list("state_id", flat=True)
    return [s for s in states if s.pk not in done], set(too_often)


def run_projects_pending(*, run: SyncRun) -> list[str]:
    """The names of the projects the run planned and has no outcome for yet."""
    return list(
        RunProject.objects.filter(run=run, outcome=PENDING)
        .order_by("state__name")
        .values_list("state__name", flat=True)
    )


def run_lease_mark(*, run: SyncRun) -> datetime | None:
    """The latest lease expiry among the run's pending projects: it moves whenever a worker
    takes or renews a lease on one of them (None when none is leased)."""
    return RunProject.objects.filter(run=run, outcome=PENDING).aggregate(
        mark=Max("state__lease_until")
    )["mark"]


def run_finish_lost(*, run: SyncRun) -> list[str]:
    """End a run that can make no more progress: its pending projects are lost (the next run
    takes them, as they have not reached their serial) and the run is partial. Returns their
    names; none, with nothing changed, when the run finished meanwhile."""
    with transaction.atomic():
        locked = SyncRun.objects.select_for_update().get(pk=run.pk)
        if locked.state not in (SyncRun.State.PLANNING, SyncRun.State.RUNNING):
            return []
        lost = run_projects_pending(run=locked)
        RunProject.objects.filter(run=locked, outcome=PENDING).update(
            outcome=RunProject.Outcome.LOST
        )
        note = "lost: its worker stopped before it finished; the next run takes it"
        shown = ", ".join(lost[:LOST_NAMED]) + (", ..." if len(lost) > LOST_NAMED else "")
        SyncRun.objects.filter(pk=locked.pk).update(
            state=SyncRun.State.PARTIAL,
            finished=timezone.now(),
            error=(
                f"{len(lost)} project(s) lost when their workers stopped ({shown}); "
                "the next run takes them"
            ),
            errors=[*locked.errors, *({"project": name, "error": note} for name in lost)],
        )
        sync_run_finished_announce(run_id=locked.pk)
    return lost

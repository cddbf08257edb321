"""Recording what became of the projects of a batch: each one's sync state (its lease freed in
the same write) and the run's counters, written for many projects at once.

A batch's worker records outcomes as its projects finish and writes them at most every
``FLUSH_SECONDS`` (and when the batch ends), in a few statements whatever their number. A worker
killed before a write loses only bookkeeping: the catalog changes it committed stand, its leases
lapse (at once on its own host), and the batch, delivered again, finds its projects done.
"""

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from apps.catalog.sources import source_label

from .leases import leases_release
from .models import ProjectSyncState, SyncRun
from .progress import run_count_outcomes
from .redaction import redact_text, url_secrets
from .run_projects import run_projects_claim

FLUSH_SECONDS = 1.0
# What every state of a write gets alike; serial_reached, which differs, goes in one CASE.
_COMMON_FIELDS = ("last_error", "attempts", "next_retry", "etag", "last_modified")


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    SHADOWED = "shadowed"  # owned by another source here: nothing done, nothing to retry


@dataclass
class _Recorded:
    state: ProjectSyncState
    outcome: Outcome
    error: str
    files: int
    size: int
    leased: bool
    owner: str = ""


class OutcomeRecorder:
    """Outcomes of one batch, worked by ``owner`` (the holder of its leases) for ``run``."""

    def __init__(self, *, run: SyncRun, owner: str) -> None:
        self.run, self.owner = run, owner
        self._secrets = url_secrets(run.upstream.url)
        self._pending: list[_Recorded] = []
        self._written_at = time.monotonic()

    def add(
        self,
        state: ProjectSyncState,
        outcome: Outcome,
        *,
        error: str = "",
        reached: int | None = None,
        files: int = 0,
        size: int = 0,
        etag: str | None = None,
        last_modified: str | None = None,
        leased: bool = True,
        owner: str = "",
    ) -> None:
        """Record a project's outcome. ``leased``: its lease is this batch's, to free, and its
        state is saved; otherwise (another worker holds it) the outcome is only counted.
        The error is stored and shown: no secret of the upstream's URL goes in it."""
        error = redact_text(error, self._secrets)
        if leased:
            now = timezone.now()
            state.last_error = error
            if outcome is Outcome.FAILED:
                state.attempts += 1
                state.next_retry = now + timedelta(seconds=min(60 * 2**state.attempts, 6 * 3600))
            elif outcome in (Outcome.DONE, Outcome.SHADOWED):
                state.attempts, state.next_retry = 0, None
                if etag is not None:
                    state.etag, state.last_modified = etag, last_modified or ""
            if reached is not None:
                state.serial_reached = max(reached, 0)
        self._pending.append(_Recorded(state, outcome, error, files, size, leased, owner))

    def write_if_due(self) -> None:
        if time.monotonic() - self._written_at >= FLUSH_SECONDS:
            self.write()

    def write(self) -> None:
        """Save the recorded states, freeing their leases, and count the outcomes on the run:
        each project once (run_projects.py), however often its batch was delivered."""
        pending, self._pending = self._pending, []
        self._written_at = time.monotonic()
        if not pending:
            return
        with transaction.atomic():  # a project claimed on the run is counted on it, or neither
            counted = run_projects_claim(
                run_id=self.run.pk, outcomes={r.state.pk: r.outcome.value for r in pending}
            )
            self._save_states([r.state for r in pending if r.leased])
            self._count([r for r in pending if r.state.pk in counted])

    def _count(self, pending: list[_Recorded]) -> None:
        counts = defaultdict(int)
        for recorded in pending:
            counts[recorded.outcome.value] += 1
        run_count_outcomes(
            run_id=self.run.pk,
            **counts,
            files=sum(r.files for r in pending),
            size=sum(r.size for r in pending),
            errors=[{"project": r.state.name, "error": r.error[:2000]} for r in pending if r.error],
            owners=[
                {"project": r.state.name, "owner": source_label(r.owner)}
                for r in pending
                if r.outcome is Outcome.SHADOWED
            ],
        )

    def _save_states(self, states: list[ProjectSyncState]) -> None:
        """One UPDATE per set of states alike but for their serial (usually one for all), each
        only where this batch still holds the lease: a state taken over meanwhile is left to
        its new holder."""
        alike = defaultdict(list)
        for state in states:
            alike[tuple(getattr(state, f) for f in _COMMON_FIELDS)].append(state)
        now = timezone.now()
        for values, group in alike.items():
            ProjectSyncState.objects.filter(
                pk__in=[s.pk for s in group], lease_owner=self.owner
            ).update(
                lease_owner="",
                lease_until=None,
                updated=now,
                serial_reached=Case(
                    *(When(pk=s.pk, then=Value(s.serial_reached)) for s in group),
                    default="serial_reached",
                    output_field=ProjectSyncState._meta.get_field("serial_reached"),
                ),
                **dict(zip(_COMMON_FIELDS, values, strict=True)),
            )
        for state in states:
            state.lease_owner, state.lease_until = "", None

    def release_unrecorded(self, states: list[ProjectSyncState]) -> None:
        """Free the leases of projects the batch leaves without an outcome (the worker stops)."""
        recorded = {r.state.pk for r in self._pending}
        leases_release(
            ids=[s.pk for s in states if s.pk not in recorded and s.lease_owner == self.owner],
            owner=self.owner,
        )

"""The per-project lock of replication: a lease on the project's sync-state row.

A lease rather than a held database lock, because a project's files download for minutes and no
transaction should stay open that long. It is short and renewed as the work goes on, so the lease
of a worker that died frees itself; one whose holder is a dead process on this very host is taken
over at once.
"""

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from apps.catalog.maintenance import process_is_gone

from .models import ProjectSyncState

LEASE = timedelta(minutes=2)
_HOST = socket.gethostname()


def new_owner() -> str:
    """An owner id naming this host and process, so a dead holder can be recognised."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def lease_holder_is_dead(owner: str) -> bool:
    """True when the owner is a process of this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != _HOST or not pid.isdigit():
        return False  # another host's process: wait for its lease to run out
    return process_is_gone(int(pid))


def leases_acquire(*, states: Sequence[ProjectSyncState], owner: str) -> set[int]:
    """Take the leases of many projects: the ids of the states whose lease ``owner`` now holds.

    One UPDATE for the states read as free (one more, to see which, if another worker took
    some meanwhile), and one per lease whose holder is a dead process of this host.
    """
    now = timezone.now()
    until = now + LEASE
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner)
    looked_free = [s.pk for s in states if _is_free(s, now, owner)]
    rows = ProjectSyncState.objects.filter(pk__in=looked_free)
    taken = set(looked_free)
    if rows.filter(free).update(lease_owner=owner, lease_until=until) != len(looked_free):
        taken = set(rows.filter(lease_owner=owner).values_list("pk", flat=True))
    for state in states:
        holder = state.lease_owner
        if state.pk in taken or not holder or not lease_holder_is_dead(holder):
            continue
        taken_over = ProjectSyncState.objects.filter(pk=state.pk, lease_owner=holder).update(
            lease_owner=owner, lease_until=until
        )
        if taken_over:
            taken.add(state.pk)
    for state in states:
        if state.pk in taken:
            state.lease_owner, state.lease_until = owner, until
    return taken


def _is_free(state: ProjectSyncState, now: datetime, owner: str) -> bool:
    return state.lease_until is None or state.lease_until < now or state.lease_owner == owner


def leases_renewer(*, ids: Iterable[int], owner: str) -> Callable[[], None]:
    """A heartbeat to call as work goes on: it extends the leases ``owner`` still holds among
    ``ids``, at most every LEASE / 4."""
    ids = list(ids)
    last = [time.monotonic()]

    def renew() -> None:
        if time.monotonic() - last[0] < LEASE.total_seconds() / 4:
            return
        last[0] = time.monotonic()
        ProjectSyncState.objects.filter(pk__in=ids, lease_owner=owner).update(
            lease_until=timezone.now() + LEASE
        )

    return renew


def leases_release(*, ids: Iterable[int], owner: str) -> None:
    """Free the leases ``owner`` still holds among ``ids`` (a lease taken over meanwhile is its
    new holder's)."""
    ids = list(ids)
    if ids:
        ProjectSyncState.objects.filter(pk__in=ids, lease_owner=owner).update(
            lease_owner="", lease_until=None
        )

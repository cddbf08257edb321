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
from collections.abc import Callable
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

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
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # killed but not yet reaped by its parent: a zombie holds nothing
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def lease_acquire(*, state: ProjectSyncState, owner: str) -> bool:
    """Take the project's lease; False while another live worker holds it."""
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner)
    rows = ProjectSyncState.objects.filter(pk=state.pk)
    if rows.filter(free).update(lease_owner=owner, lease_until=now + LEASE):
        return True
    holder = rows.values_list("lease_owner", flat=True).first() or ""
    if holder and lease_holder_is_dead(holder):
        return bool(
            rows.filter(lease_owner=holder).update(lease_owner=owner, lease_until=now + LEASE)
        )
    return False


def lease_renewer(*, state: ProjectSyncState, owner: str) -> Callable[[], None]:
    """A heartbeat to call as work goes on: it extends the lease, at most every LEASE / 4."""
    last = [time.monotonic()]

    def renew() -> None:
        if time.monotonic() - last[0] < LEASE.total_seconds() / 4:
            return
        last[0] = time.monotonic()
        ProjectSyncState.objects.filter(pk=state.pk, lease_owner=owner).update(
            lease_until=timezone.now() + LEASE
        )

    return renew


def lease_release(*, state: ProjectSyncState, owner: str, **fields) -> None:
    """Free the lease if ``owner`` still holds it, saving ``fields`` on the row in the same
    UPDATE; a worker whose lease was taken over meanwhile writes nothing."""
    ProjectSyncState.objects.filter(pk=state.pk, lease_owner=owner).update(
        lease_owner="", lease_until=None, **fields
    )

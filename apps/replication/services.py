"""Replication writes: starting a run, syncing one project, recording outcomes."""

import logging
import threading
import time
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from packaging.utils import canonicalize_name

from . import catalog_sync
from .clients import UpstreamClient, UpstreamError, UpstreamUnusable, client_for, detect_protocol
from .clients.base import NOT_MODIFIED, CrossOriginRedirect, StaleUpstream
from .clients.detect import split_upstream_url
from .clients.http import make_http_client
from .leases import (
    lease_acquire,
    lease_holder_is_dead,
    lease_release,
    lease_renewer,
    new_owner,
)
from .models import ProjectSyncState, SyncRun, Upstream
from .planner import plan_sync
from .progress import run_count_outcome
from .schedules import upstream_schedule_ensure

logger = logging.getLogger(__name__)


class SyncInProgress(Exception):
    """A full sync of this upstream is already under way (and still making progress)."""

    def __init__(self, run: SyncRun) -> None:
        super().__init__(f"run #{run.pk} of {run.upstream} is still in progress")
        self.run = run


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


_clients: dict[tuple[int, str], UpstreamClient] = {}
_clients_lock = threading.Lock()


def upstream_client(upstream: Upstream) -> UpstreamClient:
    """This process's client for an upstream (one connection pool, shared by threads)."""
    key = (upstream.pk, upstream.protocol)
    with _clients_lock:
        if key not in _clients:
            http = make_http_client(max_connections=settings.PYPIMIRROR_SYNC_CONCURRENCY * 2)
            _clients[key] = client_for(url=upstream.url, protocol=upstream.protocol, http=http)
        return _clients[key]


def upstream_get_or_create_for_url(*, url: str) -> Upstream:
    base, _simple = split_upstream_url(url)
    upstream = Upstream.objects.filter(Q(url=url) | Q(url=base)).first()
    if upstream is None:
        slug = base.split("://", 1)[1].replace(":", "-").replace("/", "-").replace(".", "-")
        upstream = Upstream.objects.create(name=slug[:100], url=base)
        upstream_schedule_ensure(upstream=upstream)
    return upstream


def upstream_detect(*, upstream: Upstream) -> str:
    """Detect and save the upstream's protocol; raises UpstreamUnusable."""
    with make_http_client() as http:
        protocol = detect_protocol(upstream.url, http)
    if protocol != upstream.protocol:
        upstream.protocol = protocol
        upstream.save(update_fields=["protocol"])
    return protocol


def upstream_is_busy(*, upstream: Upstream) -> bool:
    """Whether a worker is syncing one of the upstream's projects now: a live lease held by a
    process that still runs. A run whose workers were killed is not busy, so the next full sync
    starts at once and picks its projects up (a duplicate task is harmless: leases and serials
    make project syncs idempotent)."""
    return any(
        not lease_holder_is_dead(owner)
        for owner in ProjectSyncState.objects.filter(
            upstream=upstream, lease_until__gt=timezone.now()
        ).values_list("lease_owner", flat=True)
    )


def sync_run_start(
    *, upstream: Upstream, trigger: str, projects: list[str] | None = None
) -> tuple[SyncRun, list[str]]:
    """Create a run and its plan: returns the run and the project names to sync.

    An upstream that cannot be used at all fails the run and raises UpstreamUnusable. A full
    sync while another is still being worked on raises SyncInProgress (a run whose workers
    stopped is marked abandoned instead); a sync of named projects may run beside it.
    """
    active = SyncRun.objects.filter(upstream=upstream, state__in=["planning", "running"])
    if projects is None and active.exists() and upstream_is_busy(upstream=upstream):
        raise SyncInProgress(active.order_by("-updated").first())
    active.update(
        state=SyncRun.State.FAILED,
        finished=timezone.now(),
        error="abandoned: its workers stopped (killed, or the broker lost their tasks)",
    )
    run = SyncRun.objects.create(
        upstream=upstream, trigger=trigger, serial_from=upstream.last_serial
    )
    try:
        if not upstream.protocol:
            upstream_detect(upstream=upstream)
        plan = plan_sync(upstream=upstream, client=upstream_client(upstream), only=projects)
    except UpstreamError as exc:
        run.state, run.finished, run.error = SyncRun.State.FAILED, timezone.now(), str(exc)
        run.save(update_fields=["state", "finished", "error"])
        raise UpstreamUnusable(str(exc)) from None
    _record_wanted(upstream, plan.projects, gone=plan.gone)
    run.projects_planned = len(plan.projects)
    run.serial_to = plan.serial
    run.state = SyncRun.State.RUNNING if plan.projects else SyncRun.State.SUCCEEDED
    if not plan.projects:
        run.finished = timezone.now()
    run.save(update_fields=["projects_planned", "serial_to", "state", "finished"])
    if plan.serial is not None and not projects:
        Upstream.objects.filter(pk=upstream.pk).update(last_serial=plan.serial)
    return run, [name for name, _serial in plan.projects.values()]


def _record_wanted(
    upstream: Upstream, planned: dict[str, tuple[str, int | None]], *, gone: set[str]
) -> None:
    ProjectSyncState.objects.bulk_create(
        [
            ProjectSyncState(upstream=upstream, normalized_name=n, name=name)
            for n, (name, _serial) in planned.items()
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    with_serial = {n: s for n, (_name, s) in planned.items() if s is not None}
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


def _get_fresh(client: UpstreamClient, state: ProjectSyncState):
    """The upstream's page for the project, asked again with backoff while older than planned."""
    attempts = max(1, settings.PYPIMIRROR_SYNC_MAX_ATTEMPTS_STALE)
    for attempt in range(attempts):
        remote = client.get_project(state.name, etag=state.etag, last_modified=state.last_modified)
        if remote is None or remote is NOT_MODIFIED or remote.serial is None:
            return remote
        if remote.serial >= state.serial_wanted:
            return remote
        if attempt < attempts - 1:
            time.sleep(settings.PYPIMIRROR_SYNC_STALE_BACKOFF * 2**attempt)
    raise StaleUpstream(
        f"upstream page serial {remote.serial} is older than the {state.serial_wanted} "
        "it listed; left for the next run"
    )


def projects_sync(*, run: SyncRun, names: list[str]) -> list[Outcome]:
    """Sync projects in turn, their sync states read in one query."""
    states = {
        state.normalized_name: state
        for state in ProjectSyncState.objects.filter(
            upstream=run.upstream, normalized_name__in=[canonicalize_name(n) for n in names]
        )
    }
    return [
        project_sync(run=run, name=name, state=states.get(canonicalize_name(name)))
        for name in names
    ]


def project_sync(*, run: SyncRun, name: str, state: ProjectSyncState | None = None) -> Outcome:
    """Bring one project up to the upstream's state; records its outcome on the run."""
    upstream = run.upstream
    if state is None:
        state, _ = ProjectSyncState.objects.get_or_create(
            upstream=upstream, normalized_name=canonicalize_name(name), defaults={"name": name}
        )
    owner = new_owner()
    if not lease_acquire(state=state, owner=owner):
        _record(run, state, Outcome.SKIPPED, error="another worker is syncing it")
        return Outcome.SKIPPED
    try:
        try:
            remote = _get_fresh(upstream_client(upstream), state)
        except CrossOriginRedirect:
            if state.listed:
                raise
            remote = None  # unlisted, and the upstream points elsewhere: it is gone here
        if remote is NOT_MODIFIED:
            _record(run, state, Outcome.DONE, owner=owner, reached=state.serial_wanted)
            return Outcome.DONE
        result = catalog_sync.apply_remote_project(
            http=upstream_client(upstream).http,
            name=state.name,
            remote=remote,
            heartbeat=lease_renewer(state=state, owner=owner),
        )
    except StaleUpstream as exc:
        _record(run, state, Outcome.SKIPPED, owner=owner, error=str(exc))
        return Outcome.SKIPPED
    except UpstreamError as exc:
        _record(run, state, Outcome.FAILED, owner=owner, error=str(exc))
        return Outcome.FAILED
    except BaseException as exc:
        lease_release(state=state, owner=owner)
        if not isinstance(exc, Exception):
            raise  # the worker is stopping: its lease is freed, the task will come again
        logger.exception("sync of %s failed", name)  # one project's bug must not stop the run
        _record(run, state, Outcome.FAILED, error=f"internal error: {exc!r}")
        return Outcome.FAILED
    outcome = Outcome.FAILED if result.errors else Outcome.DONE
    serial = (
        remote.serial if remote is not None and remote.serial is not None else state.serial_wanted
    )
    _record(
        run,
        state,
        outcome,
        owner=owner,
        error="; ".join(result.errors),
        reached=None if result.errors else serial,
        files=result.files,
        size=result.bytes,
        etag="" if remote is None else remote.etag,
        last_modified="" if remote is None else remote.last_modified,
    )
    return outcome


def _record(
    run: SyncRun,
    state: ProjectSyncState,
    outcome: Outcome,
    *,
    owner: str = "",
    error: str = "",
    reached: int | None = None,
    files: int = 0,
    size: int = 0,
    etag: str | None = None,
    last_modified: str | None = None,
) -> None:
    """Save the project's state, freeing ``owner``'s lease, and count the outcome on the run.

    A worker whose lease was taken over meanwhile (it stalled past the lease) leaves the state
    to the new holder; its outcome still counts on its run.
    """
    now = timezone.now()
    update: dict = {"last_error": error, "updated": now}
    if outcome is Outcome.FAILED:
        attempts = state.attempts + 1
        update |= {
            "attempts": attempts,
            "next_retry": now + timedelta(seconds=min(60 * 2**attempts, 6 * 3600)),
        }
    elif outcome is Outcome.DONE:
        update |= {"attempts": 0, "next_retry": None}
    if reached is not None:
        update["serial_reached"] = max(reached, 0)
    if etag is not None and outcome is Outcome.DONE:
        update |= {"etag": etag, "last_modified": last_modified or ""}
    if owner:
        lease_release(state=state, owner=owner, **update)
    else:
        ProjectSyncState.objects.filter(pk=state.pk).update(**update)
    run_count_outcome(
        run_id=run.pk,
        counter=f"projects_{outcome.value}",
        files=files,
        size=size,
        error={"project": state.name, "error": error[:2000]} if error else None,
    )

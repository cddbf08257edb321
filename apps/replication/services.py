"""Replication writes: starting a run, syncing one project, recording outcomes."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from packaging.utils import canonicalize_name

from apps.catalog.selectors import (
    TakedownBlocks,
    projects_held_files,
    projects_sources,
    takedown_blocks,
)

from .clients import UpstreamClient, UpstreamError, UpstreamUnusable, client_for, detect_protocol
from .clients.base import NOT_MODIFIED, CrossOriginRedirect, StaleUpstream
from .clients.detect import upstream_base_url
from .clients.http import make_http_client
from .fetch_ahead import fetched_ahead
from .leases import lease_holder_is_dead, leases_acquire, leases_renewer, new_owner
from .models import ProjectSyncState, SyncRun, Upstream
from .outcomes import Outcome, OutcomeRecorder
from .planner import plan_sync
from .redaction import credentials_from_url, redact_text, upstream_name_for_url, url_secrets
from .rules import Rules, RulesError, project_allowed, remote_project_apply, rules_from_json
from .run_projects import run_batch_redelivered, run_projects_plan
from .selectors import upstream_for_url
from .signals import sync_run_finished_announce

if TYPE_CHECKING:
    from .catalog_sync import PreparedProject

logger = logging.getLogger(__name__)

# Fetched projects wait at most this long, and this many, to be published together.
PUBLISH_SECONDS = 1.0
PUBLISH_MAX = 50
POISON_ERROR = "its batch's worker died each time it was delivered (killed, or out of memory)"


class SyncInProgress(Exception):
    """A full sync of this upstream is already under way (and still making progress)."""

    def __init__(self, run: SyncRun) -> None:
        super().__init__(f"run #{run.pk} of {run.upstream} is still in progress")
        self.run = run


_clients: dict[tuple[int, str], UpstreamClient] = {}
_clients_lock = threading.Lock()


def upstream_client(upstream: Upstream) -> UpstreamClient:
    """This process's client for an upstream (one connection pool, shared by threads)."""
    key = (upstream.pk, upstream.protocol, upstream.url)
    with _clients_lock:
        if key not in _clients:
            http = make_http_client(
                max_connections=settings.PYPIMIRROR_SYNC_CONCURRENCY * 2,
                credentials=credentials_from_url(upstream.url),
            )
            _clients[key] = client_for(url=upstream.url, protocol=upstream.protocol, http=http)
        return _clients[key]


def upstream_url_detect(*, url: str) -> str:
    """The protocol of the upstream at ``url`` (its credentials used): the first contact.
    Raises UpstreamUnusable, with a message that shows no secret."""
    with make_http_client(credentials=credentials_from_url(url)) as http:
        return detect_protocol(url, http)


def upstream_create(*, url: str, rules: Rules | None = None) -> Upstream:
    """A new upstream at ``url`` (either URL form, credentials kept) and its periodic sync,
    saved only once a first contact tells its protocol: a URL that cannot be used raises
    UpstreamUnusable and leaves nothing behind. Its name comes from the URL's host, port and
    path, never its credentials. ``rules``: its partial-mirror rules (rules.py), if any.
    The periodic sync needs django-celery-beat among the installed
    apps (not so where only the domain apps are: settings.DOMAIN_APPS)."""
    from .schedules import upstream_schedule_ensure

    base = upstream_base_url(url)
    protocol = upstream_url_detect(url=base)
    try:
        with transaction.atomic():
            upstream = Upstream.objects.create(
                name=upstream_name_for_url(base),
                url=base,
                protocol=protocol,
                rules=rules.to_json() if rules else {},
            )
            upstream_schedule_ensure(upstream=upstream)
    except IntegrityError:  # made meanwhile by another process, or the name is taken
        if (upstream := upstream_for_url(url=base)) is None:
            raise UpstreamUnusable(
                f"an upstream named {upstream_name_for_url(base)!r} exists at another URL"
            ) from None
    return upstream


def upstream_get_or_create_for_url(*, url: str, rules: Rules | None = None) -> Upstream:
    """The upstream at ``url`` (its rules as they are), or a new one (``upstream_create``)."""
    upstream = upstream_for_url(url=url)
    return upstream if upstream is not None else upstream_create(url=url, rules=rules)


def upstream_detect(*, upstream: Upstream) -> str:
    """Detect and save the upstream's protocol; raises UpstreamUnusable."""
    protocol = upstream_url_detect(url=upstream.url)
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
    except (UpstreamError, RulesError) as exc:  # RulesError: rules stored without checks
        if isinstance(exc, RulesError):
            error = f"bad rules: {exc}"
        else:
            error = redact_text(str(exc), url_secrets(upstream.url))
        run.state, run.finished, run.error = SyncRun.State.FAILED, timezone.now(), error
        run.save(update_fields=["state", "finished", "error"])
        sync_run_finished_announce(run_id=run.pk)
        raise UpstreamUnusable(error) from None
    run_projects_plan(run=run, planned=plan.projects, gone=plan.gone)
    run.projects_planned = len(plan.projects)
    run.serial_to = plan.serial
    run.state = SyncRun.State.RUNNING if plan.projects else SyncRun.State.SUCCEEDED
    if not plan.projects:
        run.finished = timezone.now()
    run.save(update_fields=["projects_planned", "serial_to", "state", "finished"])
    if plan.serial is not None and not projects:
        Upstream.objects.filter(pk=upstream.pk).update(
            last_serial=plan.serial, listing_etag=plan.listing_etag
        )
    if plan.rules_changed:
        # Every project the rules let in is visited: none may answer "not modified", and none
        # counts as reached until the new rules are applied to it (one that fails is retried).
        ProjectSyncState.objects.filter(upstream=upstream).update(
            etag="", last_modified="", serial_reached=0
        )
        Upstream.objects.filter(pk=upstream.pk).update(rules_applied=plan.rules_applied)
    if not plan.projects:
        sync_run_finished_announce(run_id=run.pk)  # nothing to do: it ended as it began
    return run, [name for name, _serial in plan.projects.values()]


def upstream_rules_set(*, upstream: Upstream, rules: Rules) -> None:
    """Replace the upstream's rules; its next sync applies them (planner)."""
    upstream.rules = rules.to_json()
    upstream.save(update_fields=["rules"])


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


def projects_sync(
    *,
    run: SyncRun,
    names: list[str],
    redelivered: bool = False,
    held_elsewhere: Callable[[SyncRun, list[ProjectSyncState]], None] | None = None,
    fetchers: int = 1,
) -> list[Outcome]:
    """Sync a batch of projects in turn: their states read, their leases taken, the files held
    of them and their sources read in one statement each; a project of another source left
    alone (shadowed); the projects whose files are fetched published together (at most
    ``PUBLISH_SECONDS`` after the first of them); their outcomes written together
    (outcomes.py). Returns the outcomes of the projects it recorded.

    ``redelivered``: the batch comes again (its worker died, or it outlived the broker's
    visibility timeout). What the run already counted is skipped, a project delivered too
    often fails (run_batch_redelivered), and a project another worker holds is not counted as
    skipped but handed to ``held_elsewhere`` (the task queues it again for when the lease
    lapses: its holder may be a dead worker of another host). A batch of a run already over
    does nothing: the next run takes its projects. ``fetchers``: projects read upstream at
    once (fetch_ahead.py), while this thread publishes.
    """
    if run.state not in (SyncRun.State.PLANNING, SyncRun.State.RUNNING):
        logger.info(
            "run #%s is over: its batch of %d project(s) left to the next run", run.pk, len(names)
        )
        return []
    states, too_often = _states(run.upstream, names), set()
    if redelivered:
        states, too_often = run_batch_redelivered(run=run, states=states)
    rules = rules_from_json(run.upstream.rules)
    owner = new_owner()
    leased = leases_acquire(states=states, owner=owner)
    mine = [s.normalized_name for s in states if s.pk in leased]
    held = projects_held_files(names=mine)
    sources = projects_sources(names=mine)
    blocks = takedown_blocks(names=mine)
    recorder = OutcomeRecorder(run=run, owner=owner)
    heartbeat = leases_renewer(ids=leased, owner=owner)
    outcomes: dict[int, Outcome] = {}
    fetched: list[tuple[ProjectSyncState, PreparedProject]] = []
    elsewhere: list[ProjectSyncState] = []
    started = 0.0

    def fetch(state: ProjectSyncState) -> "PreparedProject | _Failed":
        return _project_fetch(
            run,
            state,
            held.get(state.normalized_name, {}),
            heartbeat if fetchers <= 1 else _no_heartbeat,  # else the waiting thread renews
            rules=rules,
            blocks=blocks.get(state.normalized_name, TakedownBlocks()),
        )

    try:
        to_fetch = []
        for state in states:
            source = sources.get(state.normalized_name, run.upstream.source)
            if state.pk not in leased and redelivered:
                elsewhere.append(state)
            elif state.pk not in leased:
                outcomes[state.pk] = Outcome.SKIPPED
                recorder.add(
                    state, Outcome.SKIPPED, error="another worker is syncing it", leased=False
                )
            elif state.pk in too_often:
                outcomes[state.pk] = Outcome.FAILED
                recorder.add(state, Outcome.FAILED, error=POISON_ERROR)
            elif source != run.upstream.source:  # another source's: not even asked upstream
                outcomes[state.pk] = Outcome.SHADOWED
                recorder.add(state, Outcome.SHADOWED, reached=state.serial_wanted, owner=source)
            else:
                to_fetch.append(state)
        for state, result in fetched_ahead(to_fetch, fetch, threads=fetchers, heartbeat=heartbeat):
            if isinstance(result, _Failed):
                outcomes[state.pk] = result.outcome
                recorder.add(state, result.outcome, error=result.error, reached=result.reached)
            else:
                started = started if fetched else time.monotonic()
                fetched.append((state, result))
            if fetched and (
                len(fetched) >= PUBLISH_MAX or time.monotonic() - started >= PUBLISH_SECONDS
            ):
                _publish(fetched, recorder, outcomes)
                fetched = []
            recorder.write_if_due()
            heartbeat()  # the projects still to come keep their leases, however long this takes
        _publish(fetched, recorder, outcomes)
    except BaseException:
        recorder.release_unrecorded(states)  # the worker is stopping: the task will come again
        raise
    finally:
        recorder.write()
    if elsewhere and held_elsewhere is not None:
        held_elsewhere(run, elsewhere)
    return [outcomes[s.pk] for s in states if s.pk in outcomes]


def _states(upstream: Upstream, names: list[str]) -> list[ProjectSyncState]:
    """The projects' sync states in the order of ``names``, made for those that have none."""
    wanted = {canonicalize_name(n): n for n in names}
    rows = ProjectSyncState.objects.filter(upstream=upstream, normalized_name__in=list(wanted))
    found = {s.normalized_name: s for s in rows}
    if missing := [n for n in wanted if n not in found]:
        made = [
            ProjectSyncState(upstream=upstream, normalized_name=n, name=wanted[n]) for n in missing
        ]
        ProjectSyncState.objects.bulk_create(made, ignore_conflicts=True)
        found |= {s.normalized_name: s for s in rows.filter(normalized_name__in=missing)}
    return [found[n] for n in wanted]


@dataclass(frozen=True)
class _Failed:
    """A project's outcome known without publishing: not modified, skipped or failed."""

    outcome: Outcome
    error: str
    reached: int | None


def _no_heartbeat() -> None:
    pass


def _project_fetch(
    run: SyncRun,
    state: ProjectSyncState,
    held: dict[str, str],
    heartbeat: Callable[[], None],
    *,
    rules: Rules,
    blocks: TakedownBlocks,
) -> "PreparedProject | _Failed":
    """Read one leased project upstream and fetch the files it lacks here: what is left to
    publish, or its outcome when there is nothing to publish (not modified, or failed).
    Touches no database (but through ``heartbeat``): batches run it in threads.

    What the rules exclude is not wanted: their files are removed here if held, and a project
    they exclude whole is removed as if gone upstream (not even asked for by name). A project
    taken down here is not asked for at all: its takedown's lift has it read afresh."""
    from .catalog_sync import prepare_remote_project  # see projects_sync

    upstream = run.upstream
    if blocks.project:
        return _Failed(Outcome.DONE, "", state.serial_wanted)
    try:
        if rules.is_empty or project_allowed(rules, state.normalized_name):
            try:
                remote = _get_fresh(upstream_client(upstream), state)
            except CrossOriginRedirect:
                if state.listed:
                    raise
                remote = None  # unlisted, and the upstream points elsewhere: it is gone here
        else:
            remote = None
        if remote is NOT_MODIFIED:
            return _Failed(Outcome.DONE, "", state.serial_wanted)
        return prepare_remote_project(
            http=upstream_client(upstream).http,
            name=state.name,
            source=upstream.source,
            remote=None if remote is None else remote_project_apply(rules, remote),
            held=held,
            heartbeat=heartbeat,
            blocks=blocks,
        )
    except StaleUpstream as exc:
        return _Failed(Outcome.SKIPPED, str(exc), None)
    except UpstreamError as exc:
        return _Failed(Outcome.FAILED, str(exc), None)
    except Exception as exc:
        logger.exception("sync of %s failed", state.name)  # one project's bug must not stop the run
        return _Failed(Outcome.FAILED, f"internal error: {exc!r}", None)


def _publish(fetched: list, recorder: OutcomeRecorder, outcomes: dict[int, Outcome]) -> None:
    """Publish the fetched projects (``publish_many``) and record their outcomes."""
    from .catalog_sync import publish_many  # see projects_sync

    if not fetched:
        return
    results = publish_many([prepared for _state, prepared in fetched])
    for (state, prepared), result in zip(fetched, results, strict=True):
        remote = prepared.remote
        serial = (
            remote.serial
            if remote is not None and remote.serial is not None
            else state.serial_wanted
        )
        if result.shadowed_by is not None:  # taken by another source since the batch began
            outcomes[state.pk] = Outcome.SHADOWED
            recorder.add(state, Outcome.SHADOWED, reached=serial, owner=result.shadowed_by)
            continue
        outcome = Outcome.FAILED if result.errors else Outcome.DONE
        outcomes[state.pk] = outcome
        recorder.add(
            state,
            outcome,
            error="; ".join(result.errors),
            reached=None if result.errors else serial,
            files=result.files,
            size=result.bytes,
            etag="" if remote is None else remote.etag,
            last_modified="" if remote is None else remote.last_modified,
        )

"""Syncing a batch of a run's projects: their states and leases taken, each read upstream
(several at once), published to the catalog in groups, and its outcome recorded."""

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from packaging.utils import canonicalize_name

from apps.catalog.maintenance import temporary_blobs_remove_dead
from apps.catalog.selectors import (
    TakedownBlocks,
    projects_held_files,
    projects_sources,
    takedown_blocks,
)

from .clients import UpstreamClient, UpstreamError
from .clients.base import NOT_MODIFIED, CrossOriginRedirect, StaleUpstream
from .fetch_ahead import fetched_ahead, ramp_for
from .leases import leases_acquire, leases_renewer, new_owner
from .models import ProjectSyncState, SyncRun, Upstream
from .outcomes import Outcome, OutcomeRecorder
from .rules import Rules, project_allowed, remote_project_apply, rules_from_json
from .run_projects import run_batch_redelivered
from .services import upstream_client

if TYPE_CHECKING:
    from .catalog_sync import PreparedProject
    from .fetch_helpers import FetchHelpers

logger = logging.getLogger(__name__)

# Fetched projects wait at most this long, and this many, to be published together.
PUBLISH_SECONDS = 1.0
PUBLISH_MAX = 50
POISON_ERROR = "its batch's worker died each time it was delivered (killed, or out of memory)"


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
    helpers: "FetchHelpers | None" = None,
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
    does nothing: the next run takes its projects. ``fetchers``: at most this many projects
    read upstream at once (fetch_ahead.py: as many as help), while this thread publishes.
    ``helpers``: processes that read projects too (fetch_helpers.py; in-process runs).
    """
    if run.state not in (SyncRun.State.PLANNING, SyncRun.State.RUNNING):
        logger.info(
            "run #%s is over: its batch of %d project(s) left to the next run", run.pk, len(names)
        )
        return []
    # Read here, once: the reading threads must not query (run.upstream is not cached once
    # another thread refreshes the run).
    upstream = run.upstream
    states, too_often = _states(upstream, names), set()
    if redelivered:
        states, too_often = run_batch_redelivered(run=run, states=states)
    rules = rules_from_json(upstream.rules)
    owner = new_owner()
    leased = leases_acquire(states=states, owner=owner)
    mine = [s.normalized_name for s in states if s.pk in leased]
    held = projects_held_files(names=mine)
    sources = projects_sources(names=mine)
    blocks = takedown_blocks(names=mine)
    temporary_blobs_remove_dead(projects=mine)  # what their downloads killed before left behind
    recorder = OutcomeRecorder(run=run, owner=owner)
    heartbeat = leases_renewer(ids=leased, owner=owner)
    outcomes: dict[int, Outcome] = {}
    fetched: list[tuple[ProjectSyncState, PreparedProject]] = []
    elsewhere: list[ProjectSyncState] = []
    started = 0.0

    def inputs(state: ProjectSyncState) -> dict:
        """What ``project_fetch`` is given of a project, here or in a helper process."""
        name = state.normalized_name
        blocked = blocks.get(name, TakedownBlocks())
        return dict(
            upstream=upstream, state=state, held=held.get(name, {}), rules=rules, blocks=blocked
        )

    def fetch(state: ProjectSyncState) -> "PreparedProject | _Failed":
        # Read in this thread, the fetch keeps the leases; in others, this thread does.
        beat = heartbeat if fetchers <= 1 and helpers is None else _no_heartbeat
        return project_fetch(**inputs(state), heartbeat=beat)

    def offload(state: ProjectSyncState) -> Future:
        return helpers.submit(**inputs(state))

    try:
        to_fetch = []
        for state in states:
            source = sources.get(state.normalized_name, upstream.source)
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
            elif source != upstream.source:  # another source's: not even asked upstream
                outcomes[state.pk] = Outcome.SHADOWED
                recorder.add(state, Outcome.SHADOWED, reached=state.serial_wanted, owner=source)
            else:
                to_fetch.append(state)
        reading = fetched_ahead(
            to_fetch,
            fetch,
            threads=fetchers,
            heartbeat=heartbeat,
            ramp=ramp_for(upstream.pk, fetchers),
            offload=offload if helpers is not None else None,
            offload_slots=helpers.slots if helpers is not None else 0,
        )
        for state, result in reading:
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


def project_fetch(
    upstream: Upstream,
    state: ProjectSyncState,
    held: dict[str, str],
    *,
    rules: Rules,
    blocks: TakedownBlocks,
    heartbeat: Callable[[], None] = _no_heartbeat,
) -> "PreparedProject | _Failed":
    """Read one leased project upstream and fetch the files it lacks here: what is left to
    publish, or its outcome when there is nothing to publish (not modified, or failed).
    Touches no database (but through ``heartbeat``): batches run it in threads, and helper
    processes (fetch_helpers.py).

    What the rules exclude is not wanted: their files are removed here if held, and a project
    they exclude whole is removed as if gone upstream (not even asked for by name). A project
    taken down here is not asked for at all: its takedown's lift has it read afresh."""
    from .catalog_sync import prepare_remote_project  # see projects_sync

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
            tidied=True,
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

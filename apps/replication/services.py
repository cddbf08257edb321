"""Replication writes: upstreams (made, detected, their rules) and starting a run; syncing a
run's batches of projects is batch_sync.py's."""

import logging
import threading

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .clients import UpstreamClient, UpstreamError, UpstreamUnusable, client_for, detect_protocol
from .clients.detect import upstream_base_url
from .clients.http import make_http_client
from .leases import lease_holder_is_dead
from .models import ProjectSyncState, SyncRun, Upstream
from .planner import plan_sync
from .redaction import credentials_from_url, redact_text, upstream_name_for_url, url_secrets
from .rules import Rules, RulesError
from .run_projects import run_projects_plan
from .selectors import upstream_for_url
from .signals import sync_run_finished_announce

logger = logging.getLogger(__name__)


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
    if plan.changelog_missing is not None:
        missing = timezone.now() if plan.changelog_missing else None
        Upstream.objects.filter(pk=upstream.pk).update(changelog_missing_since=missing)
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

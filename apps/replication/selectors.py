"""Replication reads."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db.models import Count, OuterRef, Subquery, Sum

from .clients.base import UpstreamUnusable
from .clients.detect import upstream_base_url
from .models import SyncRun, Upstream
from .redaction import redact_url, strip_credentials


def upstream_for_url(*, url: str) -> Upstream | None:
    """The upstream configured at ``url``, given as its base URL or its simple index URL;
    UpstreamUnusable when it is no http(s) URL.

    A URL without credentials finds the upstream at that place whatever credentials it keeps;
    a URL with other credentials than the upstream's is refused (they are changed in the admin).
    """
    base = upstream_base_url(url)
    location = strip_credentials(base)
    # One query: the upstreams on that host (a handful), compared here, as stored URLs hold
    # credentials and may be in either form.
    candidates = Upstream.objects.filter(url__icontains=urlsplit(base).hostname)
    same_place = []
    for upstream in candidates:
        try:
            stored = upstream_base_url(upstream.url)
        except UpstreamUnusable:
            continue
        if stored == base:
            return upstream
        if strip_credentials(stored) == location:
            same_place.append(upstream)
    if not same_place:
        return None
    if base == location:
        return same_place[0]
    raise UpstreamUnusable(
        f"upstream {same_place[0].name} at {redact_url(location)} has other credentials "
        "than the URL given: change them in the admin, or give its name"
    )


def upstream_sources() -> dict[str, str]:
    """The catalog's sources that are upstreams: key → label (apps/catalog/sources.py)."""
    return {
        f"upstream:{pk}": f"upstream {name}"
        for pk, name in Upstream.objects.order_by("name").values_list("pk", "name")
    }


@dataclass(frozen=True)
class UpstreamStatus:
    """How far the node has followed one upstream. No URL: it may hold credentials."""

    name: str
    protocol: str  # its display label, or "" before the first contact
    enabled: bool
    last_run: SyncRun | None
    last_success: SyncRun | None
    upstream_serial: int | None  # the upstream's serial at the last complete plan
    serial_reached: int | None  # the upstream serial the last successful full run brought in

    @property
    def serials_behind(self) -> int | None:
        """Upstream serials not yet brought in, where both ends are known."""
        if self.upstream_serial is None or self.serial_reached is None:
            return None
        return max(self.upstream_serial - self.serial_reached, 0)


def upstream_status_list() -> list[UpstreamStatus]:
    """Every upstream with its last run and its last successful run, in two queries."""
    runs = SyncRun.objects.filter(upstream=OuterRef("pk"))
    upstreams = list(
        Upstream.objects.annotate(
            last_run_id=Subquery(runs.order_by("-started", "-pk").values("pk")[:1]),
            last_success_id=Subquery(
                runs.filter(state=SyncRun.State.SUCCEEDED)
                .order_by("-finished", "-pk")
                .values("pk")[:1]
            ),
            # A run of named projects reaches no upstream serial (planner): the last that did.
            serial_reached=Subquery(
                runs.filter(state=SyncRun.State.SUCCEEDED, serial_to__isnull=False)
                .order_by("-finished", "-pk")
                .values("serial_to")[:1]
            ),
        ).defer("url", "listing_etag")
    )
    wanted = {u.last_run_id for u in upstreams} | {u.last_success_id for u in upstreams}
    by_id = SyncRun.objects.defer("errors").in_bulk([pk for pk in wanted if pk is not None])
    statuses = []
    for upstream in upstreams:
        success = by_id.get(upstream.last_success_id)
        statuses.append(
            UpstreamStatus(
                name=upstream.name,
                protocol=upstream.get_protocol_display() if upstream.protocol else "",
                enabled=upstream.enabled,
                last_run=by_id.get(upstream.last_run_id),
                last_success=success,
                upstream_serial=upstream.last_serial or None,
                serial_reached=upstream.serial_reached,
            )
        )
    return statuses


def sync_runs_failed(*, since, limit: int = 5) -> tuple[int, list[SyncRun]]:
    """The runs started since ``since`` that failed as a whole or in part: how many, and the
    ``limit`` latest (with their upstream), in two queries."""
    failed = SyncRun.objects.filter(
        started__gte=since, state__in=[SyncRun.State.FAILED, SyncRun.State.PARTIAL]
    )
    latest = failed.select_related("upstream").defer("errors", "shadowed", "upstream__url")
    return failed.count(), list(latest.order_by("-started", "-pk")[:limit])


def sync_run_totals() -> list[dict]:
    """Per upstream and run state: how many runs, and the files, bytes and project failures
    they counted. One aggregate over the runs (a row per run, never per project or file)."""
    return list(
        SyncRun.objects.order_by()
        .values("upstream__name", "state")
        .annotate(
            runs=Count("pk"),
            files=Sum("files_fetched"),
            bytes=Sum("bytes_fetched"),
            projects_failed=Sum("projects_failed"),
        )
    )

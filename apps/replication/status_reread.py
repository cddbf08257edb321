"""Re-reading the PEP 792 status of mirrored projects: PyPI archives a project without a
journal entry, so a node that only follows serials would never learn it. The same read fills in
the PEP 740 provenance of files held without it (held from before this node kept provenance),
so attestations arrive within a day of an upgrade too.

The projects synced from an upstream are cut into ``PARTS`` parts (by their sync state's id);
the periodic task reads one part an hour, so each project's page is read again within a day,
at most ``PYPIMIRROR_STATUS_REREAD_RATE`` pages a second. A status that changed is written by
the catalog's service, journaled, so nodes below see it by its serial.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F

from apps.catalog import services as catalog
from apps.catalog.blobstore import provenance_put
from apps.catalog.models import Distribution, Project

from .clients import UpstreamError
from .clients.base import RemoteFile, SimplePage
from .fetcher import fetch_provenance
from .models import ProjectSyncState, Upstream

logger = logging.getLogger(__name__)

PARTS = 24  # one an hour: every project within a day


@dataclass
class RereadResult:
    read: int = 0
    changed: list[str] = field(default_factory=list)  # projects whose status changed
    provenance_added: list[str] = field(default_factory=list)  # filenames
    errors: list[str] = field(default_factory=list)


def reread_part_now() -> int:
    """The part due this hour (UTC)."""
    return time.gmtime().tm_hour % PARTS


def upstream_statuses_reread(
    *,
    upstream: Upstream,
    part: int,
    parts: int = PARTS,
    rate: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RereadResult:
    """Read again the status of the upstream's projects in ``part`` of ``parts`` that this
    node serves, at most ``rate`` pages a second; write each status that changed."""
    from .services import upstream_client  # the sync's client (and connection pool)

    rate = settings.PYPIMIRROR_STATUS_REREAD_RATE if rate is None else rate
    names = dict(
        ProjectSyncState.objects.filter(upstream=upstream)
        .alias(part=F("id") % parts)
        .filter(part=part)
        .values_list("normalized_name", "name")
    )
    held = {
        normalized: (status, reason)
        for normalized, status, reason in Project.objects.filter(
            normalized_name__in=list(names),
            status=Project.Status.ACTIVE,
            source=upstream.source,  # another source's projects are not this upstream's to mark
        ).values_list("normalized_name", "index_status", "index_status_reason")
    }
    client = upstream_client(upstream)
    result = RereadResult()
    interval = 1.0 / rate if rate > 0 else 0.0
    due = clock()

    def pace() -> None:
        """Wait for the next request's turn: at most ``rate`` a second."""
        nonlocal due
        if (wait := due - clock()) > 0:
            sleep(wait)
        due = max(due, clock()) + interval

    for normalized in sorted(held):
        pace()
        try:
            page = client.simple_page(names[normalized])
        except UpstreamError as exc:
            result.errors.append(f"{normalized}: {exc}")
            continue
        result.read += 1
        if page is None:
            continue  # gone upstream: the next sync carries that over
        provenance = {}
        if page.provenance and page.status != "quarantined":
            provenance = _provenance_missing(client.http, normalized, page, pace, result)
        if (page.status, page.reason) == held[normalized] and not provenance:
            continue
        with transaction.atomic():
            try:
                project = catalog.project_lock(name=normalized, source=upstream.source)
            except catalog.ProjectShadowed:
                continue  # handed to another source meanwhile
            if project is None or project.status != Project.Status.ACTIVE:
                continue
            with catalog.journal_batch(project=project):
                if catalog.project_set_index_status(
                    project=project, status=page.status, reason=page.reason
                ):
                    result.changed.append(normalized)
                for distribution in Distribution.objects.filter(
                    project=project, pk__in=list(provenance)
                ).select_related("release"):
                    distribution.project = project
                    if catalog.distribution_set_provenance(
                        distribution=distribution, sha256=provenance[distribution.pk]
                    ):
                        result.provenance_added.append(distribution.filename)
    if result.changed or result.provenance_added or result.errors:
        logger.info(
            "status re-read of %s (part %d/%d): %d read, changed: %s, %d provenance added, "
            "%d errors",
            upstream,
            part,
            parts,
            result.read,
            ", ".join(result.changed) or "none",
            len(result.provenance_added),
            len(result.errors),
        )
    return result


def _provenance_missing(
    http, normalized: str, page: SimplePage, pace: Callable[[], None], result: RereadResult
) -> dict[int, str]:
    """The provenance the page lists for files held here without one, fetched (each request
    paced) and stored: distribution id → its sha256. A bad one is an error of its file."""
    missing = Distribution.objects.filter(
        project__normalized_name=normalized,
        filename__in=list(page.provenance),
        provenance_sha256__isnull=True,
    ).values_list("pk", "filename", "sha256")
    stored = {}
    for pk, filename, sha256 in missing:
        remote = RemoteFile(
            filename=filename, url="", sha256=sha256, provenance_url=page.provenance[filename]
        )
        pace()
        try:
            stored[pk] = provenance_put(fetch_provenance(http, remote, page.url))
        except UpstreamError as exc:
            result.errors.append(f"{normalized}: {exc}")
    return stored

"""Reads of the mirror network."""

from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from .health import WINDOW
from .models import Mirror, MirrorURL, NetworkSettings, Probe, ProbeLocation, StatusReport
from .probe_checks import Expectation, ExpectedFile, ExpectedProject
from .status import (
    STATUS_CACHE_SECONDS,
    STATUS_VERSION,
    UrlStatus,
    network_status_document,
    url_status,
)


def network_settings() -> NetworkSettings:
    """The one settings row, created with the deployment's defaults on first use."""
    row, _ = NetworkSettings.objects.get_or_create(
        pk=1,
        defaults={
            "probe_retention_days": settings.PYPIMIRROR_NETWORK_PROBE_RETENTION_DAYS,
            "report_retention_days": settings.PYPIMIRROR_NETWORK_REPORT_RETENTION_DAYS,
        },
    )
    return row


def probe_location_hub() -> ProbeLocation:
    """Where this hub's own probes are recorded from (made by migration 0002; again if gone)."""
    location = ProbeLocation.objects.filter(is_hub=True).first()
    if location is None:
        location, _ = ProbeLocation.objects.get_or_create(name="hub", defaults={"is_hub": True})
    return location


def mirror_list(*, staff: bool = False) -> QuerySet[Mirror]:
    """Mirrors with their URLs and latest report (``latest_report_id`` annotated); the private
    ones for staff only."""
    latest = StatusReport.objects.filter(mirror=OuterRef("pk")).order_by("-received", "-pk")
    mirrors = (
        Mirror.objects.select_related("follows_mirror")
        .prefetch_related(Prefetch("urls", queryset=MirrorURL.objects.order_by("url")))
        .annotate(latest_report_id=Subquery(latest.values("pk")[:1]))
        .order_by("name")
    )
    return mirrors if staff else mirrors.filter(public=True)


def reports_by_id(ids) -> dict[int, StatusReport]:
    return StatusReport.objects.in_bulk([i for i in ids if i is not None])


def mirror_latest_report(*, mirror: Mirror) -> StatusReport | None:
    return mirror.reports.order_by("-received", "-pk").first()


# Probing (probe_runs.py)


def probe_targets(*, names: list[str] | None = None) -> list[MirrorURL]:
    """The URLs a probe round visits: every active URL of the mirrors named, or without names,
    of the active mirrors and of those the probes disabled (good probes bring them back). A
    mirror staff disabled is probed only by name."""
    urls = MirrorURL.objects.select_related("mirror").filter(active=True)
    if names:
        urls = urls.filter(mirror__name__in=names)
    else:
        urls = urls.filter(Q(mirror__active=True) | Q(mirror__disabled_by=Mirror.DisabledBy.PROBES))
    return list(urls.order_by("mirror__name", "url"))


def mirror_names_unknown(names: list[str]) -> list[str]:
    known = set(Mirror.objects.filter(name__in=names).values_list("name", flat=True))
    return [name for name in names if name not in known]


def probe_expectation(*, projects: int, files: int, max_file_bytes: int) -> Expectation:
    """What every probe of a round looks for: the hub's ``projects`` most recently changed
    projects that offer files, each file with the hub serial that added it, and the ``files``
    newest of their files (no larger than ``max_file_bytes``) to fetch and hash."""
    from apps.catalog.models import Distribution, JournalEntry, Project
    from apps.catalog.selectors import journal_last_serial

    offered = Project.objects.filter(status=Project.Status.ACTIVE).exclude(
        index_status=Project.IndexStatus.QUARANTINED
    )
    sample = list(
        offered.filter(Exists(Distribution.objects.filter(project=OuterRef("pk"))))
        .order_by("-last_serial")
        .values("pk", "normalized_name", "last_serial", "updated")[:projects]
    )
    names = [p["normalized_name"] for p in sample]
    added: dict[tuple[str, str], tuple[int, datetime]] = {}
    entries = (
        JournalEntry.objects.filter(normalized_name__in=names, action__startswith="add ")
        .filter(action__contains=" file ")
        .order_by("id")
        .values_list("normalized_name", "action", "id", "submitted_date")
    )
    for name, action, serial, when in entries:
        added[(name, action.split(" file ", 1)[1])] = (serial, when)  # the latest addition
    by_project: dict[int, list[ExpectedFile]] = {p["pk"]: [] for p in sample}
    rows = Distribution.objects.filter(project__in=by_project).values_list(
        "project_id", "filename", "sha256", "size", "upload_time", "id"
    )
    newest = []
    projects_by_pk = {p["pk"]: p for p in sample}
    for project_id, filename, sha256, size, uploaded, pk in rows:
        project = projects_by_pk[project_id]
        name = project["normalized_name"]
        serial, when = added.get((name, filename), (project["last_serial"], project["updated"]))
        expected = ExpectedFile(
            project=name, filename=filename, sha256=sha256, size=size, serial=serial, added=when
        )
        by_project[project_id].append(expected)
        if size <= max_file_bytes:
            newest.append((uploaded, pk, expected))
    newest.sort(key=lambda row: (row[0], row[1]), reverse=True)
    return Expectation(
        last_serial=journal_last_serial(),
        projects=tuple(
            ExpectedProject(
                name=p["normalized_name"],
                last_serial=p["last_serial"],
                files=tuple(by_project[p["pk"]]),
            )
            for p in sample
        ),
        files=tuple(row[2] for row in newest[:files]),
    )


def journal_first_change_after(when: datetime) -> datetime | None:
    """When the hub first changed after ``when``: a mirror stamped ``when`` lags since then."""
    from apps.catalog.models import JournalEntry

    return (
        JournalEntry.objects.filter(submitted_date__gt=when)
        .order_by("id")
        .values_list("submitted_date", flat=True)
        .first()
    )


def staff_emails() -> list[str]:
    """Who hears of a mirror disabled or enabled: ADMINS and the active staff with an e-mail."""
    from django.contrib.auth import get_user_model

    found = [admin[1] if isinstance(admin, list | tuple) else admin for admin in settings.ADMINS]
    users = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    found += list(users.values_list("email", flat=True))
    return list(dict.fromkeys(found))


def url_probes(*, url_ids, since: datetime) -> dict[int, list[Probe]]:
    """Each URL's probes checked after ``since``, newest first, and its latest probe however
    old (the current health of a URL not probed lately): two queries for any number of URLs,
    each along the (url, checked) index."""
    url_ids = list(url_ids)
    found: dict[int, list[Probe]] = {url_id: [] for url_id in url_ids}
    if not url_ids:
        return found
    recent = Probe.objects.filter(url_id__in=url_ids, checked__gt=since)
    latest = Probe.objects.filter(url=OuterRef("pk")).order_by("-checked", "-pk")
    latest_ids = MirrorURL.objects.filter(pk__in=url_ids).annotate(
        latest_probe_id=Subquery(latest.values("pk")[:1])
    )
    older = Probe.objects.filter(pk__in=latest_ids.values("latest_probe_id"), checked__lte=since)
    for query in (recent, older):
        for probe in query.defer("integrity_findings", "location"):
            found[probe.url_id].append(probe)
    for probes in found.values():
        probes.sort(key=lambda p: (p.checked, p.pk), reverse=True)
    return found


def mirror_probes(*, mirror: Mirror) -> QuerySet[Probe]:
    """The probes of the mirror's URLs, newest first (with their URL and location)."""
    return (
        Probe.objects.filter(url__mirror=mirror)
        .select_related("url", "location")
        .order_by("-checked", "-pk")
    )


def mirror_urls_with_mirrors(*, staff: bool = False) -> QuerySet[MirrorURL]:
    """Every URL of the network with its mirror; those of private mirrors for staff only."""
    urls = MirrorURL.objects.select_related("mirror").order_by("mirror__name", "url")
    return urls if staff else urls.filter(mirror__public=True)


def mirrors_url_statuses(
    *, mirrors, report_states: dict[int, str | None], now: datetime
) -> dict[int, UrlStatus]:
    """Where every URL of these mirrors (their ``urls`` prefetched) stands now, by URL id: two
    queries for all their probes. ``report_states``: each mirror's latest report state by id."""
    urls = [url for mirror in mirrors for url in mirror.urls.all()]
    probes = url_probes(url_ids=[u.pk for u in urls], since=now - WINDOW)
    return {
        url.pk: url_status(
            url=url,
            probes=probes[url.pk],
            report_state=report_states.get(url.mirror_id),
            now=now,
        )
        for url in urls
    }


def network_url_statuses(
    *, now: datetime, staff: bool = False
) -> tuple[list[UrlStatus], dict[int, list[datetime]]]:
    """Every URL of the network (private mirrors' for staff only) where it stands now, and
    the times each was probed in the last 24 h: four queries, whatever the network's size."""
    latest_state = StatusReport.objects.filter(mirror=OuterRef("mirror")).order_by(
        "-received", "-pk"
    )
    urls = list(
        mirror_urls_with_mirrors(staff=staff).annotate(
            report_state=Subquery(latest_state.values("state")[:1])
        )
    )
    probes = url_probes(url_ids=[u.pk for u in urls], since=now - WINDOW)
    statuses = [
        url_status(url=url, probes=probes[url.pk], report_state=url.report_state, now=now)
        for url in urls
    ]
    checks = {url_id: [p.checked for p in found] for url_id, found in probes.items()}
    return statuses, checks


def mirror_find(*, name: str, staff: bool = False) -> Mirror | None:
    """The mirror of that name, if the client may see it (a private one: staff only)."""
    mirrors = Mirror.objects.filter(name=name)
    return (mirrors if staff else mirrors.filter(public=True)).first()


STATUS_CACHE_KEY = f"network:status:v{STATUS_VERSION}"
CANDIDATES_CACHE_KEY = f"network:best-candidates:v{STATUS_VERSION}"
# best/'s reading of the network is kept this long: clients may ask on every install, and the
# truth changes with probes, hourly. Each request still shuffles afresh.
CANDIDATES_CACHE_SECONDS = 60


def network_status() -> dict:
    """The network's status document (public mirrors), from the cache when it is at most
    STATUS_CACHE_SECONDS old."""
    document = cache.get(STATUS_CACHE_KEY)
    if document is None:
        now = timezone.now()
        statuses, checks = network_url_statuses(now=now)
        document = network_status_document(
            statuses=statuses, checks_by_url=checks.values(), now=now
        )
        cache.set(STATUS_CACHE_KEY, document, STATUS_CACHE_SECONDS)
    return document


def best_candidates(*, staff: bool = False) -> list[UrlStatus]:
    """Every URL where it stands now, for best/: the public ones from the cache (a minute old
    at most); staff's (private ones too) read afresh."""
    if staff:
        return network_url_statuses(now=timezone.now(), staff=True)[0]
    statuses = cache.get(CANDIDATES_CACHE_KEY)
    if statuses is None:
        statuses, _ = network_url_statuses(now=timezone.now())
        cache.set(CANDIDATES_CACHE_KEY, statuses, CANDIDATES_CACHE_SECONDS)
    return statuses

"""Reads of the mirror network."""

from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from .models import Mirror, MirrorURL, NetworkSettings, ProbeLocation, StatusReport
from .probe_checks import Expectation, ExpectedFile, ExpectedProject


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

"""Reads of the mirror network."""

from django.conf import settings
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from .models import Mirror, MirrorURL, NetworkSettings, ProbeLocation, StatusReport


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

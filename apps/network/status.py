"""Where each mirror URL stands, and the network's status as one versioned document.

Plain functions of rows already read (selectors.url_statuses reads them): a URL's health now
(its latest probe, with its mirror's latest report as a hint: health.mirror_health), its 24 h
figures (health.figures), and when its content was last current. The status document gathers
them for every URL, as archweb's ``/mirrors/status/json/`` does, in our words and units
(seconds throughout): ``version`` changes only when a field changes meaning or goes away.
"""

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from .health import WINDOW, Figures, Health, ProbeLike, figures, mirror_health, probe_is_good

STATUS_VERSION = 1
# How long /api/v1/network/status/ is served from the cache: probes come hourly.
STATUS_CACHE_SECONDS = 180
# A mirror is as healthy as its best URL: healthy before degraded before failing (a failed
# probe says more than none) before unknown.
HEALTH_RANK = {Health.HEALTHY: 0, Health.DEGRADED: 1, Health.FAILING: 2, Health.UNKNOWN: 3}


@dataclass(frozen=True)
class UrlStatus:
    """One URL of one mirror, now."""

    url: str
    protocol: str
    mirror: str
    country: str
    continent: str
    tier: int
    public: bool
    mirror_active: bool
    url_active: bool
    disabled_reason: str
    maintenance_until: datetime | None
    in_maintenance: bool
    health: Health
    last_probe: datetime | None
    last_probe_ok: bool | None
    last_error: str
    # When its content was last current, as its latest good probe read it: the mirror's
    # /last-modified, else the probe's time less its lag.
    synced: datetime | None
    figures: Figures


def probe_synced(probe: ProbeLike) -> datetime | None:
    """When the probed mirror's content was current, by one probe."""
    last_modified = getattr(probe, "last_modified", None)
    if last_modified is not None:
        return last_modified
    if probe.lag_seconds is not None:
        return probe.checked - timedelta(seconds=max(probe.lag_seconds, 0.0))
    return None


def url_status(
    *,
    url,
    probes: Sequence[ProbeLike],
    report_state: str | None,
    now: datetime,
    window: timedelta = WINDOW,
) -> UrlStatus:
    """Where a ``MirrorURL`` (with its ``mirror``) stands, from its probes (any order; those
    older than the window count for the latest probe and freshness only)."""
    newest_first = sorted(probes, key=lambda p: p.checked, reverse=True)
    last = newest_first[0] if newest_first else None
    last_good = next((p for p in newest_first if probe_is_good(p)), None)
    mirror = url.mirror
    return UrlStatus(
        url=url.url,
        protocol=url.protocol,
        mirror=mirror.name,
        country=str(mirror.country),
        continent=mirror.continent,
        tier=mirror.tier,
        public=mirror.public,
        mirror_active=mirror.active,
        url_active=url.active,
        disabled_reason=mirror.disabled_reason,
        maintenance_until=mirror.maintenance_until,
        in_maintenance=mirror.in_maintenance(now),
        health=mirror_health(
            last_probe_good=None if last is None else probe_is_good(last),
            report_state=report_state,
        ),
        last_probe=last.checked if last else None,
        last_probe_ok=None if last is None else probe_is_good(last),
        last_error=last.error if last else "",
        synced=probe_synced(last_good) if last_good else None,
        figures=figures(probes, now=now, window=window),
    )


def mirror_health_of(statuses: Iterable[UrlStatus]) -> Health:
    """A mirror's health: that of its best active URL (of any URL when none is active)."""
    statuses = list(statuses)
    active = [s for s in statuses if s.url_active] or statuses
    if not active:
        return Health.UNKNOWN
    return min((s.health for s in active), key=HEALTH_RANK.__getitem__)


def check_cadence(
    checks_by_url: Iterable[Sequence[datetime]], *, now: datetime, window: timedelta = WINDOW
) -> tuple[int, float | None]:
    """How often URLs were probed in the window: the most probes of one URL (the rounds that
    ran), and the mean seconds between two probes of the same URL (None under two probes)."""
    start = now - window
    rounds = 0
    span = 0.0
    gaps = 0
    for checks in checks_by_url:
        inside = sorted(c for c in checks if start < c <= now)
        rounds = max(rounds, len(inside))
        if len(inside) > 1:
            span += (inside[-1] - inside[0]).total_seconds()
            gaps += len(inside) - 1
    return rounds, (span / gaps if gaps else None)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def network_status_document(
    *,
    statuses: Sequence[UrlStatus],
    checks_by_url: Iterable[Sequence[datetime]],
    now: datetime,
    window: timedelta = WINDOW,
) -> dict:
    """The network's status, one JSON-ready document (``version`` 1).

    ``cutoff``: the window of the figures, in seconds; ``last_check``: the newest probe of any
    URL; ``num_checks`` and ``check_frequency``: check_cadence; ``urls``: one entry per URL with
    its place, whether it is offered (active, not in maintenance), its health and figures.
    """
    num_checks, frequency = check_cadence(checks_by_url, now=now, window=window)
    last_check = max((s.last_probe for s in statuses if s.last_probe), default=None)
    return {
        "version": STATUS_VERSION,
        "generated": now.isoformat(),
        "cutoff": int(window.total_seconds()),
        "last_check": _iso(last_check),
        "num_checks": num_checks,
        "check_frequency": frequency,
        "urls": [
            {
                "url": s.url,
                "protocol": s.protocol,
                "mirror": s.mirror,
                "country": s.country,
                "continent": s.continent,
                "tier": s.tier,
                "active": s.mirror_active and s.url_active,
                "disabled_reason": s.disabled_reason,
                "in_maintenance": s.in_maintenance,
                "health": str(s.health),
                "last_probe": _iso(s.last_probe),
                "last_probe_ok": s.last_probe_ok,
                "synced": _iso(s.synced),
                **asdict(s.figures),
            }
            for s in statuses
        ],
    }

"""The network at a glance, for the admin's index page: the mirrors by health with their lag,
score and last probe, and the disabled ones with their reason.

Four queries whatever the network's size (mirrors with their latest report's state, their
URLs, the URLs' probes of the last 24 h, and the latest of those not probed since), and at most
``limit`` rows shown of each list, the rest counted. The arithmetic is health.py's, as the API's.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from .health import WINDOW, Health, figures, mirror_health, probe_is_good, score_sort_key
from .models import Mirror, MirrorURL, Probe, StatusReport
from .selectors import url_probes
from .status import HEALTH_RANK

# Attention first: failing, then degraded, unknown, and healthy last.
HEALTH_ORDER = (Health.FAILING, Health.DEGRADED, Health.UNKNOWN, Health.HEALTHY)
LIMIT = 25
# Mirror names longer than this are cut in the middle (their ends tell mirrors apart).
NAME_WIDTH = 40


def middle_cut(text: str, length: int = NAME_WIDTH) -> str:
    """``text`` cut to ``length`` characters in its middle: ``university-of-s…ror-03``."""
    if len(text) <= length:
        return text
    keep = length - 1
    return f"{text[: keep - keep // 2]}…{text[len(text) - keep // 2 :]}"


@dataclass(frozen=True)
class MirrorGlance:
    """One active mirror: its health and its best URL's 24 h figures."""

    pk: int
    name: str
    health: Health
    lag_seconds: float | None
    lag_serials: float | None
    score: float | None
    last_probe: datetime | None
    last_probe_ok: bool | None
    last_error: str
    report_state: str | None
    in_maintenance: bool

    @property
    def lag_text(self) -> str:
        return seconds_text(self.lag_seconds)

    @property
    def short_name(self) -> str:
        return middle_cut(self.name)


@dataclass(frozen=True)
class DisabledGlance:
    pk: int
    name: str
    disabled_by: str
    disabled_at: datetime | None
    reason: str

    @property
    def short_name(self) -> str:
        return middle_cut(self.name)


@dataclass(frozen=True)
class NetworkGlance:
    mirrors: list[MirrorGlance]  # the first ``limit`` active mirrors, attention first
    mirrors_more: int  # active mirrors not in the list
    disabled: list[DisabledGlance]  # the most recently disabled first
    disabled_more: int
    counts: dict[str, int] = field(default_factory=dict)  # active mirrors by health

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + len(self.disabled) + self.disabled_more


def seconds_text(seconds: float | None) -> str:
    """A lag in the largest unit that keeps it short: ``0 s``, ``42 s``, ``12 min``, ``3.5 h``,
    ``2.1 d``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _url_glance(probes: list[Probe], *, report_state: str | None, now: datetime):
    """(health, figures, latest probe) of one URL."""
    newest = max(probes, key=lambda p: (p.checked, p.pk), default=None)
    health = mirror_health(
        last_probe_good=None if newest is None else probe_is_good(newest),
        report_state=report_state,
    )
    return health, figures(probes, now=now), newest


def network_glance(*, now: datetime | None = None, limit: int = LIMIT) -> NetworkGlance:
    """The network as the admin's index shows it (every mirror, private ones too: staff)."""
    now = now or timezone.now()
    latest_state = StatusReport.objects.filter(mirror=OuterRef("pk")).order_by("-received", "-pk")
    mirrors = list(
        Mirror.objects.annotate(report_state=Subquery(latest_state.values("state")[:1])).only(
            "name", "active", "disabled_by", "disabled_at", "disabled_reason", "maintenance_until"
        )
    )
    urls = list(
        MirrorURL.objects.filter(mirror__active=True).values_list("pk", "mirror_id", "active")
    )
    probes = url_probes(url_ids=[pk for pk, _mirror, _active in urls], since=now - WINDOW)
    urls_of: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for pk, mirror_id, active in urls:
        urls_of[mirror_id].append((pk, active))

    active: list[MirrorGlance] = []
    disabled: list[DisabledGlance] = []
    for mirror in mirrors:
        if not mirror.active:
            disabled.append(
                DisabledGlance(
                    pk=mirror.pk,
                    name=mirror.name,
                    disabled_by=mirror.get_disabled_by_display() if mirror.disabled_by else "",
                    disabled_at=mirror.disabled_at,
                    reason=mirror.disabled_reason,
                )
            )
            continue
        own = urls_of[mirror.pk]
        chosen = [pk for pk, url_active in own if url_active] or [pk for pk, _ in own]
        glances = [
            _url_glance(probes[pk], report_state=mirror.report_state, now=now) for pk in chosen
        ]
        best = min(
            glances,
            key=lambda g: (HEALTH_RANK[g[0]], score_sort_key(g[1].score)),
            default=None,
        )
        newest = max(
            (g[2] for g in glances if g[2] is not None),
            key=lambda p: p.checked,
            default=None,
        )
        active.append(
            MirrorGlance(
                pk=mirror.pk,
                name=mirror.name,
                health=best[0] if best else Health.UNKNOWN,
                lag_seconds=best[1].lag_seconds if best else None,
                lag_serials=best[1].lag_serials if best else None,
                score=best[1].score if best else None,
                last_probe=newest.checked if newest else None,
                last_probe_ok=None if newest is None else probe_is_good(newest),
                last_error=newest.error if newest else "",
                report_state=mirror.report_state,
                in_maintenance=mirror.in_maintenance(now),
            )
        )
    rank = {health: n for n, health in enumerate(HEALTH_ORDER)}
    active.sort(key=lambda m: (rank[m.health], score_sort_key(m.score), m.name))
    far_past = datetime.min.replace(tzinfo=now.tzinfo)
    disabled.sort(key=lambda m: (m.disabled_at or far_past, m.name), reverse=True)
    counts = {health.value: 0 for health in HEALTH_ORDER}
    for mirror in active:
        counts[mirror.health.value] += 1
    return NetworkGlance(
        mirrors=active[:limit],
        mirrors_more=max(len(active) - limit, 0),
        disabled=disabled[:limit],
        disabled_more=max(len(disabled) - limit, 0),
        counts=counts,
    )

"""The health arithmetic of the network: plain functions of probes, no database, no clock.

Rolling figures per mirror URL over a window (24 h): completion, mean lag in seconds and in
serials, duration mean and deviation, and a score. Then the rule that disables a mirror after N
failed probes in a row and enables it again after N good ones, and a mirror's health in one word.

Probes are the truth; a mirror's own reports are hints. So nothing here takes a report as
evidence of health: the disable/enable rule reads probe streaks alone, and ``mirror_health`` lets
a report make a mirror look worse (it says it failed), never better.

A probe is anything with the attributes of ``ProbeLike`` (a ``models.Probe`` row, or a test's
dataclass).
"""

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

WINDOW = timedelta(hours=24)
DISABLE_AFTER_DEFAULT = 4


class ProbeLike(Protocol):
    checked: datetime
    reachable: bool
    http_status: int | None
    duration: float | None
    lag_seconds: float | None
    lag_serials: int | None
    integrity_ok: bool | None
    error: str


def probe_is_good(probe: ProbeLike) -> bool:
    """Reached, answered 2xx, no error, and no integrity finding (not sampled is not a finding)."""
    return (
        probe.reachable
        and probe.http_status is not None
        and 200 <= probe.http_status < 300
        and not probe.error
        and probe.integrity_ok is not False
    )


def probes_in_window(
    probes: Iterable[ProbeLike], *, now: datetime, window: timedelta = WINDOW
) -> list[ProbeLike]:
    """The probes checked in ``(now - window, now]``, oldest first."""
    start = now - window
    return sorted((p for p in probes if start < p.checked <= now), key=lambda p: p.checked)


def completion(probes: Sequence[ProbeLike]) -> float | None:
    """The share of good probes, 0..1; None without probes (unknown is not 0)."""
    if not probes:
        return None
    return sum(1 for p in probes if probe_is_good(p)) / len(probes)


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def lag_mean_seconds(probes: Sequence[ProbeLike]) -> float | None:
    """Mean lag in seconds of the good probes (a failed probe has no lag to speak of)."""
    return _mean(p.lag_seconds for p in probes if probe_is_good(p))


def lag_mean_serials(probes: Sequence[ProbeLike]) -> float | None:
    """Mean lag in serials of the good probes (ahead was already recorded as 0)."""
    return _mean(p.lag_serials for p in probes if probe_is_good(p))


def duration_mean(probes: Sequence[ProbeLike]) -> float | None:
    """Mean seconds a good probe took."""
    return _mean(p.duration for p in probes if probe_is_good(p))


def duration_sd(probes: Sequence[ProbeLike]) -> float | None:
    """Population standard deviation of the good probes' durations: 0 for one probe."""
    known = [p.duration for p in probes if probe_is_good(p) and p.duration is not None]
    return statistics.pstdev(known) if known else None


def score(
    *,
    lag_seconds: float | None,
    duration_mean: float | None,
    duration_sd: float | None,
    completion: float | None,
) -> float | None:
    """Lower is better: ``(lag + duration mean + duration deviation) / completion²``, in seconds.

    Every term is seconds (archweb adds lag in hours to durations in seconds, so a second of
    lag weighs 3600 times less than a second of latency). Dividing by completion *squared*
    makes flakiness cost more than slowness: a mirror good half the time counts four times its
    figures (archweb's linear division: twice), so a mirror that often fails ranks below one
    that is reliably a little behind. None when nothing is known (no good probe, or no lag
    read): unknown ranks after every known score.
    """
    if not completion or lag_seconds is None:
        return None
    total = max(lag_seconds, 0.0) + (duration_mean or 0.0) + (duration_sd or 0.0)
    return total / completion**2


@dataclass(frozen=True)
class Figures:
    probes: int
    good: int
    completion: float | None
    lag_seconds: float | None
    lag_serials: float | None
    duration_mean: float | None
    duration_sd: float | None
    score: float | None


def figures(probes: Iterable[ProbeLike], *, now: datetime, window: timedelta = WINDOW) -> Figures:
    """All the rolling figures of one URL's probes within the window ending ``now``."""
    recent = probes_in_window(probes, now=now, window=window)
    done = completion(recent)
    lag = lag_mean_seconds(recent)
    mean = duration_mean(recent)
    sd = duration_sd(recent)
    return Figures(
        probes=len(recent),
        good=sum(1 for p in recent if probe_is_good(p)),
        completion=done,
        lag_seconds=lag,
        lag_serials=lag_mean_serials(recent),
        duration_mean=mean,
        duration_sd=sd,
        score=score(lag_seconds=lag, duration_mean=mean, duration_sd=sd, completion=done),
    )


def score_sort_key(value: float | None) -> float:
    """Sort key putting unknown scores last."""
    return math.inf if value is None else value


# The disable / enable rule


def streaks_after(*, failures: int, successes: int, good: bool) -> tuple[int, int]:
    """The (failures, successes) in a row after one more probe of the mirror."""
    return (0, successes + 1) if good else (failures + 1, 0)


class Availability(StrEnum):
    KEEP = "keep"
    DISABLE = "disable"
    ENABLE = "enable"


def availability_decision(
    *,
    active: bool,
    disabled_by: str,
    failures: int,
    successes: int,
    in_maintenance: bool,
    after: int = DISABLE_AFTER_DEFAULT,
) -> Availability:
    """What the probe streaks ask of a mirror: disable it after ``after`` failed probes in a
    row, enable it again after ``after`` good ones.

    Only probe streaks count: no report enters here. A maintenance window suppresses both. Only
    a mirror the probes disabled (``disabled_by == "probes"``) is enabled by them: one staff
    disabled stays so until staff enable it.
    """
    if in_maintenance:
        return Availability.KEEP
    if active and failures >= after:
        return Availability.DISABLE
    if not active and disabled_by == "probes" and successes >= after:
        return Availability.ENABLE
    return Availability.KEEP


class Health(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"  # probes are good, but the mirror says its syncs fail
    FAILING = "failing"
    UNKNOWN = "unknown"


def mirror_health(*, last_probe_good: bool | None, report_state: str | None) -> Health:
    """A mirror's health in one word, from its last probe, with its latest report as a hint.

    The probe decides: without one the mirror is unknown, whatever it reports; after a failed
    one it is failing, whatever it reports. A report can only lower a good probe's verdict (a
    mirror saying its syncs fail is believed), never raise a bad one.
    """
    if last_probe_good is None:
        return Health.UNKNOWN
    if not last_probe_good:
        return Health.FAILING
    if report_state == "failed":
        return Health.DEGRADED
    return Health.HEALTHY

"""The health arithmetic on its own: plain probes (dataclasses), no database, no clock."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from apps.network.health import (
    Availability,
    Health,
    availability_decision,
    completion,
    duration_mean,
    duration_sd,
    figures,
    lag_mean_seconds,
    lag_mean_serials,
    mirror_health,
    probe_is_good,
    probes_in_window,
    score,
    score_sort_key,
    streaks_after,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class P:
    checked: datetime = NOW
    reachable: bool = True
    http_status: int | None = 200
    duration: float | None = 1.0
    lag_seconds: float | None = 60.0
    lag_serials: int | None = 0
    integrity_ok: bool | None = True
    error: str = ""


def bad(**fields) -> P:
    return P(reachable=False, http_status=None, duration=None, lag_seconds=None,
             lag_serials=None, integrity_ok=None, error="connection refused", **fields)  # fmt: skip


@pytest.mark.parametrize(
    ("probe", "good"),
    [
        (P(), True),
        (P(integrity_ok=None), True),  # not sampled is not a finding
        (P(integrity_ok=False), False),
        (P(http_status=503), False),
        (P(http_status=None), False),
        (P(error="timed out"), False),
        (bad(), False),
    ],
)
def test_probe_is_good(probe, good):
    assert probe_is_good(probe) is good


def test_probes_in_window_keeps_the_last_24_hours_oldest_first():
    inside = [P(checked=NOW - timedelta(hours=h)) for h in (1, 23, 0)]
    outside = [P(checked=NOW - timedelta(hours=24)), P(checked=NOW + timedelta(seconds=1))]

    kept = probes_in_window(inside + outside, now=NOW)

    assert [p.checked for p in kept] == sorted(p.checked for p in inside)


def test_completion_is_the_share_of_good_probes_and_unknown_without_probes():
    assert completion([P(), P(), P(), bad()]) == 0.75
    assert completion([bad()]) == 0.0
    assert completion([]) is None


def test_lags_are_means_over_the_good_probes():
    probes = [P(lag_seconds=30, lag_serials=2), P(lag_seconds=90, lag_serials=4), bad()]

    assert lag_mean_seconds(probes) == 60
    assert lag_mean_serials(probes) == 3
    assert lag_mean_seconds([bad()]) is None


def test_duration_mean_and_population_deviation():
    probes = [P(duration=1.0), P(duration=3.0), bad()]

    assert duration_mean(probes) == 2.0
    assert duration_sd(probes) == 1.0
    assert duration_sd([P(duration=5.0)]) == 0.0
    assert duration_sd([bad()]) is None


def test_score_is_seconds_over_completion_squared():
    assert score(lag_seconds=60, duration_mean=2, duration_sd=1, completion=1.0) == 63
    assert score(lag_seconds=60, duration_mean=2, duration_sd=1, completion=0.5) == 252


def test_score_punishes_a_flaky_mirror_more_than_a_slow_one():
    # Reliably two minutes behind and slowish, against fresh but failing one probe in three.
    slow = score(lag_seconds=120, duration_mean=3, duration_sd=1, completion=1.0)
    flaky = score(lag_seconds=60, duration_mean=0.5, duration_sd=0.2, completion=2 / 3)
    # archweb's linear division would rank the flaky one first (60.7 / (2/3) = 91 < 124).
    linear_flaky = (60 + 0.5 + 0.2) / (2 / 3)

    assert linear_flaky < slow < flaky


def test_score_is_unknown_without_a_good_probe_or_a_lag_and_sorts_last():
    assert score(lag_seconds=None, duration_mean=1, duration_sd=0, completion=1.0) is None
    assert score(lag_seconds=10, duration_mean=1, duration_sd=0, completion=0.0) is None
    assert score(lag_seconds=10, duration_mean=1, duration_sd=0, completion=None) is None
    assert sorted([None, 5.0, 1.0], key=score_sort_key) == [1.0, 5.0, None]
    assert score_sort_key(None) == math.inf


def test_figures_of_a_day_of_probes():
    probes = [
        P(checked=NOW - timedelta(hours=3), lag_seconds=100, lag_serials=2, duration=1.0),
        P(checked=NOW - timedelta(hours=2), lag_seconds=200, lag_serials=4, duration=3.0),
        bad(checked=NOW - timedelta(hours=1)),
        bad(checked=NOW - timedelta(days=2)),  # outside the window
    ]

    result = figures(probes, now=NOW)

    assert (result.probes, result.good) == (3, 2)
    assert result.completion == pytest.approx(2 / 3)
    assert (result.lag_seconds, result.lag_serials) == (150, 3)
    assert (result.duration_mean, result.duration_sd) == (2.0, 1.0)
    assert result.score == pytest.approx((150 + 2 + 1) / (2 / 3) ** 2)


def test_figures_without_probes_are_unknown_not_zero():
    result = figures([], now=NOW)

    assert (result.probes, result.completion, result.score) == (0, None, None)


def test_streaks_count_probes_in_a_row():
    streaks = (0, 0)
    for good in (False, False, True, True, True, False):
        streaks = streaks_after(failures=streaks[0], successes=streaks[1], good=good)

    assert streaks == (1, 0)
    assert streaks_after(failures=3, successes=0, good=True) == (0, 1)


def decide(**fields) -> Availability:
    defaults = {"active": True, "disabled_by": "", "failures": 0, "successes": 0,
                "in_maintenance": False, "after": 4}  # fmt: skip
    return availability_decision(**(defaults | fields))


def test_a_mirror_is_disabled_after_n_failed_probes_in_a_row():
    assert decide(failures=3) is Availability.KEEP
    assert decide(failures=4) is Availability.DISABLE
    assert decide(failures=2, after=2) is Availability.DISABLE


def test_a_mirror_the_probes_disabled_is_enabled_after_n_good_probes():
    off = {"active": False, "disabled_by": "probes"}

    assert decide(**off, successes=3) is Availability.KEEP
    assert decide(**off, successes=4) is Availability.ENABLE


def test_a_mirror_staff_disabled_stays_disabled_whatever_the_probes():
    assert decide(active=False, disabled_by="staff", successes=100) is Availability.KEEP


def test_maintenance_suppresses_both_disabling_and_enabling():
    assert decide(failures=10, in_maintenance=True) is Availability.KEEP
    assert (
        decide(active=False, disabled_by="probes", successes=10, in_maintenance=True)
        is Availability.KEEP
    )


def test_the_rule_takes_no_report():
    """Reports are hints: the rule has no parameter a report could fill."""
    with pytest.raises(TypeError):
        decide(report_state="idle")


@pytest.mark.parametrize("report", [None, "idle", "syncing", "paused", "failed"])
def test_a_report_never_makes_a_failing_or_unprobed_mirror_healthy(report):
    assert mirror_health(last_probe_good=False, report_state=report) is Health.FAILING
    assert mirror_health(last_probe_good=None, report_state=report) is Health.UNKNOWN


def test_a_mirror_reporting_failure_is_degraded_even_when_probes_are_good():
    assert mirror_health(last_probe_good=True, report_state="idle") is Health.HEALTHY
    assert mirror_health(last_probe_good=True, report_state=None) is Health.HEALTHY
    assert mirror_health(last_probe_good=True, report_state="failed") is Health.DEGRADED

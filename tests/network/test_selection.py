"""apps/network/selection.py: which mirror URLs a client is offered, and in which order."""

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from apps.network.health import Figures, Health
from apps.network.selection import (
    Reason,
    Scope,
    mirrors_select,
    nearest,
    score_weight,
    serving_exclusion,
    stale_exclusions,
    weighted_shuffle,
)
from apps.network.status import UrlStatus

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
COUNTRY_CONTINENT = {"DE": "EU", "FR": "EU", "AT": "EU", "NL": "EU", "JP": "AS", "US": "NA"}


def figures(score: float | None = 1.0) -> Figures:
    return Figures(
        probes=24, good=24, completion=1.0, lag_seconds=score, lag_serials=0.0,
        duration_mean=0.0, duration_sd=0.0, score=score,
    )  # fmt: skip


def url(name: str, country: str = "DE", **fields) -> UrlStatus:
    """A healthy, public, active https URL synced a minute ago."""
    base = UrlStatus(
        url=f"https://{name}.example.org/",
        protocol="https",
        mirror=name,
        country=country,
        continent=COUNTRY_CONTINENT[country],
        tier=1,
        public=True,
        mirror_active=True,
        url_active=True,
        disabled_reason="",
        maintenance_until=None,
        in_maintenance=False,
        health=Health.HEALTHY,
        last_probe=NOW - timedelta(minutes=5),
        last_probe_ok=True,
        last_error="",
        synced=NOW - timedelta(minutes=1),
        figures=figures(),
    )
    return replace(base, **fields)


def names(selection) -> set[str]:
    return {c.status.mirror for c in selection.chosen}


def reasons(selection) -> dict[str, Reason]:
    return {e.status.mirror: e.reason for e in selection.excluded}


@pytest.mark.parametrize(
    ("fields", "reason", "detail"),
    [
        ({"protocol": "http"}, Reason.PROTOCOL, "serves http, not https"),
        ({"public": False}, Reason.PRIVATE, "private"),
        ({"mirror_active": False, "disabled_reason": "4 probes in a row failed"},
         Reason.DISABLED, "disabled: 4 probes in a row failed"),
        ({"url_active": False}, Reason.URL_INACTIVE, "inactive"),
        ({"in_maintenance": True, "maintenance_until": NOW + timedelta(hours=2)},
         Reason.MAINTENANCE, "in maintenance until 2026-12-03T14:00:00+00:00"),
        ({"health": Health.FAILING, "last_error": "HTTP 503"}, Reason.UNHEALTHY,
         "its latest probe failed: HTTP 503"),
        ({"health": Health.UNKNOWN}, Reason.UNHEALTHY, "never probed"),
        ({"health": Health.DEGRADED}, Reason.UNHEALTHY, "reports that its syncs fail"),
    ],
)  # fmt: skip
def test_a_url_that_cannot_serve_is_left_out_saying_why(fields, reason, detail):
    exclusion = serving_exclusion(url("m", **fields), protocol="https")

    assert exclusion.reason is reason
    assert detail in exclusion.detail


def test_a_healthy_public_active_url_serves():
    assert serving_exclusion(url("m"), protocol="https") is None
    assert serving_exclusion(url("m", protocol="http"), protocol=None) is None


def test_staleness_is_relative_to_the_freshest_mirror():
    fresh = url("fresh", synced=NOW - timedelta(minutes=2))
    close = url("close", synced=NOW - timedelta(minutes=50))
    behind = url("behind", synced=NOW - timedelta(hours=3))

    kept, stale = stale_exclusions([fresh, close, behind], max_behind=timedelta(hours=1))

    assert [s.mirror for s in kept] == ["fresh", "close"]
    assert [(e.status.mirror, e.reason) for e in stale] == [("behind", Reason.STALE)]
    assert "10680 s behind the freshest" in stale[0].detail


def test_a_probe_outage_ages_every_mirror_alike_and_drops_none():
    # No probe for two days: every mirror's last reading is old, none is behind the others.
    old = NOW - timedelta(days=2)
    statuses = [url(f"m{n}", synced=old - timedelta(minutes=10 * n)) for n in range(5)]

    selection = mirrors_select(statuses, rng=random.Random(1))

    assert names(selection) == {f"m{n}" for n in range(5)}
    assert selection.excluded == []


def test_a_url_whose_freshness_is_unknown_is_not_held_stale():
    kept, stale = stale_exclusions([url("a"), url("unread", synced=None)])

    assert len(kept) == 2 and stale == []


def test_the_country_is_enough_when_it_has_five():
    statuses = [url(f"de{n}", "DE") for n in range(5)] + [url("fr", "FR"), url("jp", "JP")]

    selection = mirrors_select(statuses, country="DE", rng=random.Random(1))

    assert selection.scope is Scope.COUNTRY
    assert names(selection) == {f"de{n}" for n in range(5)}
    assert reasons(selection) == {"fr": Reason.FARTHER, "jp": Reason.FARTHER}
    assert {c.scope for c in selection.chosen} == {Scope.COUNTRY}


def test_too_few_in_the_country_widens_to_the_continent():
    statuses = [url("de1", "DE"), url("de2", "DE"), url("fr", "FR"), url("at", "AT"),
                url("nl", "NL"), url("jp", "JP"), url("us", "US")]  # fmt: skip

    selection = mirrors_select(statuses, country="de", rng=random.Random(1))

    assert selection.scope is Scope.CONTINENT
    assert names(selection) == {"de1", "de2", "fr", "at", "nl"}
    assert reasons(selection) == {"jp": Reason.FARTHER, "us": Reason.FARTHER}
    scopes = {c.status.mirror: c.scope for c in selection.chosen}
    assert (scopes["de1"], scopes["fr"]) == (Scope.COUNTRY, Scope.CONTINENT)
    farther = next(e for e in selection.excluded if e.status.mirror == "jp")
    assert "outside Europe: 5 nearer" in farther.detail


def test_too_few_on_the_continent_widens_to_the_world():
    statuses = [url("de", "DE"), url("fr", "FR"), url("jp", "JP"), url("us", "US")]

    selection = mirrors_select(statuses, country="DE", rng=random.Random(1))

    assert selection.scope is Scope.WORLD
    assert names(selection) == {"de", "fr", "jp", "us"}
    assert selection.excluded == []


def test_excluded_ones_do_not_count_towards_the_five():
    statuses = [url(f"de{n}", "DE") for n in range(4)] + [
        url("de-down", "DE", health=Health.FAILING),
        url("fr", "FR"),
    ]

    selection = mirrors_select(statuses, country="DE", rng=random.Random(1))

    assert selection.scope is Scope.CONTINENT
    assert "fr" in names(selection)
    assert reasons(selection) == {"de-down": Reason.UNHEALTHY}


def test_no_country_means_the_world():
    kept, farther, scope = nearest([url("de", "DE"), url("jp", "JP")], country="")

    assert scope is Scope.WORLD and farther == [] and len(kept) == 2


def test_a_protocol_keeps_only_its_urls():
    statuses = [url("a"), url("a", protocol="http", url="http://a.example.org/")]

    selection = mirrors_select(statuses, protocol="http", rng=random.Random(1))

    assert [c.status.url for c in selection.chosen] == ["http://a.example.org/"]
    assert [e.reason for e in selection.excluded] == [Reason.PROTOCOL]


def test_lower_scores_weigh_more():
    assert score_weight(0.0) == 1.0
    assert score_weight(1.0) > score_weight(60.0) > score_weight(3600.0) > 0
    assert score_weight(None) is None


def test_the_weighted_shuffle_puts_each_first_in_proportion_to_its_weight():
    rng = random.Random(20261203)
    weights = {"a": 6.0, "b": 3.0, "c": 1.0}
    trials = 20000

    firsts = Counter(
        weighted_shuffle(list(weights), list(weights.values()), rng=rng)[0][0]
        for _ in range(trials)
    )

    for item, weight in weights.items():
        assert firsts[item] / trials == pytest.approx(weight / 10.0, abs=0.015)


def test_the_weighted_shuffle_keeps_every_item_once():
    order = weighted_shuffle(["a", "b", "c", "d"], [1.0, 0.0, 2.0, 0.5], rng=random.Random(3))

    assert sorted(item for item, _ in order) == ["a", "b", "c", "d"]
    assert order[-1][0] == "b"  # a weight of 0 comes last


def test_the_best_mirror_comes_first_most_often_but_not_always():
    statuses = [url("best", figures=figures(1.0))] + [
        url(f"slow{n}", figures=figures(60.0)) for n in range(4)
    ]
    rng = random.Random(7)

    firsts = Counter(mirrors_select(statuses, rng=rng).chosen[0].status.mirror for _ in range(2000))

    # weights 1/2 and 1/61 each: the best first with probability 0.5 / (0.5 + 4/61) ≈ 0.884
    assert firsts["best"] / 2000 == pytest.approx(0.884, abs=0.03)
    assert sum(firsts[f"slow{n}"] for n in range(4)) > 100


def test_an_unknown_score_weighs_half_the_least_known():
    statuses = [url("known", figures=figures(0.0)), url("unknown", figures=figures(None))]

    chosen = mirrors_select(statuses, rng=random.Random(1)).chosen

    assert {c.status.mirror: c.weight for c in chosen} == {"known": 1.0, "unknown": 0.5}


def test_the_same_seed_gives_the_same_order():
    statuses = [url(f"m{n}", figures=figures(float(n))) for n in range(6)]

    def order(seed):
        return [c.status.mirror for c in mirrors_select(statuses, rng=random.Random(seed)).chosen]

    assert order(5) == order(5)
    assert len({tuple(order(seed)) for seed in range(20)}) > 1

"""Which mirrors to offer a client: the rules of ``GET /api/v1/mirrors/best/``, plain functions
of the URLs' statuses (status.UrlStatus), no database, no clock, the randomness given.

1. Leave out every URL that cannot serve: wrong protocol, private, mirror disabled, URL
   inactive, in maintenance, not healthy now (by its latest probe).
2. Leave out the stale: those whose content is behind the freshest of the rest by more than
   ``max_behind``. Relative, not absolute: if probing stops for a day every mirror ages alike,
   and none is dropped for it.
3. Near first: the client's country, then its continent, then the world, widening until at
   least ``at_least`` candidates (MirrorManager's rule); the farther ones are left out.
4. Order by score with a weighted shuffle (weights from the score: lower is better), so the
   best mirror comes first most often but not always, and no one mirror takes every client.

Every URL left out carries its reason (``?trace=1``).
"""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from .geography import CONTINENT_NAMES, country_continent
from .health import Health
from .status import UrlStatus

AT_LEAST = 5
MAX_BEHIND = timedelta(hours=1)


class Scope(StrEnum):
    COUNTRY = "country"
    CONTINENT = "continent"
    WORLD = "world"


class Reason(StrEnum):
    PROTOCOL = "protocol"
    PRIVATE = "private"
    DISABLED = "disabled"
    URL_INACTIVE = "url-inactive"
    MAINTENANCE = "maintenance"
    UNHEALTHY = "unhealthy"
    STALE = "stale"
    FARTHER = "farther"


@dataclass(frozen=True)
class Exclusion:
    status: UrlStatus
    reason: Reason
    detail: str


@dataclass(frozen=True)
class Chosen:
    status: UrlStatus
    scope: Scope
    weight: float


@dataclass
class Selection:
    chosen: list[Chosen] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    scope: Scope = Scope.WORLD


def serving_exclusion(status: UrlStatus, *, protocol: str | None) -> Exclusion | None:
    """Why this URL cannot serve a client now, if it cannot (step 1)."""

    def out(reason: Reason, detail: str) -> Exclusion:
        return Exclusion(status, reason, detail)

    if protocol and status.protocol != protocol:
        return out(Reason.PROTOCOL, f"serves {status.protocol}, not {protocol}")
    if not status.public:
        return out(Reason.PRIVATE, "a private mirror is offered to nobody")
    if not status.mirror_active:
        return out(Reason.DISABLED, f"disabled: {status.disabled_reason or 'no reason given'}")
    if not status.url_active:
        return out(Reason.URL_INACTIVE, "this URL of the mirror is inactive")
    if status.in_maintenance:
        until = status.maintenance_until.isoformat() if status.maintenance_until else "?"
        return out(Reason.MAINTENANCE, f"in maintenance until {until}")
    if status.health is not Health.HEALTHY:
        return out(Reason.UNHEALTHY, _unhealthy_detail(status))
    return None


def _unhealthy_detail(status: UrlStatus) -> str:
    if status.health is Health.UNKNOWN:
        return "never probed"
    if status.health is Health.DEGRADED:
        return "its probes are good but it reports that its syncs fail"
    error = f": {status.last_error}" if status.last_error else ""
    return f"its latest probe failed{error}"


def stale_exclusions(
    statuses: Sequence[UrlStatus], *, max_behind: timedelta = MAX_BEHIND
) -> tuple[list[UrlStatus], list[Exclusion]]:
    """Those within ``max_behind`` of the freshest, and those behind it (step 2). A URL whose
    freshness no probe read is kept: there is nothing to hold against it."""
    known = [s.synced for s in statuses if s.synced is not None]
    if not known:
        return list(statuses), []
    freshest = max(known)
    kept, stale = [], []
    for s in statuses:
        behind = freshest - s.synced if s.synced is not None else timedelta(0)
        if behind > max_behind:
            stale.append(
                Exclusion(
                    s,
                    Reason.STALE,
                    f"{behind.total_seconds():.0f} s behind the freshest mirror "
                    f"(more than {max_behind.total_seconds():.0f} s)",
                )
            )
        else:
            kept.append(s)
    return kept, stale


def scope_of(status: UrlStatus, *, country: str, continent: str) -> Scope:
    if country and status.country == country:
        return Scope.COUNTRY
    if continent and status.continent == continent:
        return Scope.CONTINENT
    return Scope.WORLD


def nearest(
    statuses: Sequence[UrlStatus], *, country: str = "", at_least: int = AT_LEAST
) -> tuple[list[tuple[UrlStatus, Scope]], list[Exclusion], Scope]:
    """The nearest candidates, widening from the country to its continent to the world until
    there are ``at_least`` (step 3); the rest are left out as farther. Also the scope reached."""
    continent = country_continent(country)
    placed = [(s, scope_of(s, country=country, continent=continent)) for s in statuses]
    reached = Scope.WORLD
    for scope in (Scope.COUNTRY, Scope.CONTINENT):
        if not (country if scope is Scope.COUNTRY else continent):
            continue
        if sum(1 for _, place in placed if place_within(place, scope)) >= at_least:
            reached = scope
            break
    kept = [(s, place) for s, place in placed if place_within(place, reached)]
    where = country if reached is Scope.COUNTRY else CONTINENT_NAMES.get(continent, continent)
    farther = [
        Exclusion(
            s,
            Reason.FARTHER,
            f"outside {where}: {len(kept)} nearer mirror URLs are enough "
            f"(at least {at_least} wanted)",
        )
        for s, place in placed
        if not place_within(place, reached)
    ]
    return kept, farther, reached


def place_within(place: Scope, scope: Scope) -> bool:
    """Is a candidate placed at ``place`` inside ``scope`` (a country is inside its continent)?"""
    order = [Scope.COUNTRY, Scope.CONTINENT, Scope.WORLD]
    return order.index(place) <= order.index(scope)


def score_weight(score: float | None) -> float | None:
    """How much more often a mirror comes first: 1 / (1 + score in seconds); None unknown."""
    return None if score is None else 1.0 / (1.0 + max(score, 0.0))


def weighted_shuffle(
    items: Sequence, weights: Sequence[float], *, rng: random.Random
) -> list[tuple[object, float]]:
    """``items`` in a random order where each comes first with probability weight / total, and
    so on down the rest (Efraimidis-Spirakis: sort by ``u ** (1 / w)``, u uniform in (0, 1))."""
    keyed = []
    for item, weight in zip(items, weights, strict=True):
        u = 1.0 - rng.random()  # (0, 1]: log is defined
        keyed.append((math.log(u) / weight if weight > 0 else -math.inf, item, weight))
    keyed.sort(key=lambda entry: entry[0], reverse=True)
    return [(item, weight) for _, item, weight in keyed]


def mirrors_select(
    statuses: Sequence[UrlStatus],
    *,
    country: str = "",
    protocol: str | None = None,
    rng: random.Random,
    at_least: int = AT_LEAST,
    max_behind: timedelta = MAX_BEHIND,
) -> Selection:
    """The URLs to offer a client in ``country`` (ISO alpha-2, or ``""``: anywhere) over
    ``protocol`` (``http``, ``https`` or None: either), in the order to try them."""
    country = (country or "").upper()
    excluded: list[Exclusion] = []
    serving = []
    for status in statuses:
        exclusion = serving_exclusion(status, protocol=protocol)
        if exclusion:
            excluded.append(exclusion)
        else:
            serving.append(status)
    fresh, stale = stale_exclusions(serving, max_behind=max_behind)
    near, farther, reached = nearest(fresh, country=country, at_least=at_least)
    excluded += stale + farther

    known = [w for s, _ in near if (w := score_weight(s.figures.score)) is not None]
    # An unknown score (no lag read in the window) weighs half the least known one.
    unknown_weight = min(known) / 2 if known else 1.0
    weights = [
        w if (w := score_weight(s.figures.score)) is not None else unknown_weight for s, _ in near
    ]
    shuffled = weighted_shuffle(near, weights, rng=rng)
    chosen = [Chosen(status=s, scope=place, weight=w) for (s, place), w in shuffled]
    return Selection(chosen=chosen, excluded=excluded, scope=reached)

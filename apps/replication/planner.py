"""Which projects a sync must visit: O(changes) wherever the upstream gives serials.

From the upstream's changelog when it answers one (PyPI and pypimirror nodes do): the plan then
costs one small request whatever the index's size. The whole listing is read only on a first
sync, after a rules change, or when the changelog is not answered.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone
from packaging.utils import canonicalize_name

from apps.catalog.models import Project

from .clients.base import NOT_MODIFIED, ChangelogUnavailable, UpstreamClient
from .models import ProjectSyncState, Upstream
from .rules import Rules, project_allowed, rules_fingerprint, rules_from_json

logger = logging.getLogger(__name__)

ETAG_MAX_LENGTH = Upstream._meta.get_field("listing_etag").max_length
# An upstream that said it has no changelog is asked again after this long (it may have been
# moved behind a server that has one).
CHANGELOG_ASK_AGAIN = timedelta(days=1)


@dataclass
class Plan:
    # normalized name → (name to ask the upstream for, serial wanted or None when unknown)
    projects: dict[str, tuple[str, int | None]]
    serial: int | None
    # Visited because the listing no longer names them (to carry their removal over).
    gone: set[str] = field(default_factory=set)
    # The ETag of the listing read, kept with ``serial`` when it gave every project's serial.
    listing_etag: str = ""
    # The fingerprint of the rules this plan applied, and whether they differ from the last's.
    rules_applied: str = ""
    rules_changed: bool = False
    # The changelog asked for: True when the upstream said it has none, False when it
    # answered; None when not asked.
    changelog_missing: bool | None = None


def plan_sync(*, upstream: Upstream, client: UpstreamClient, only: list[str] | None = None) -> Plan:
    """The projects to visit. Projects the upstream's rules exclude are never planned, except
    those this node still serves from it: visited so that they are removed. When the rules
    changed since the last complete plan, every project they let in is visited once."""
    rules = rules_from_json(upstream.rules)
    fingerprint = rules_fingerprint(rules)
    if only:
        # Named projects are visited whatever their serial, each asked for by its normalized
        # name: no listing (PyPI's is tens of MB) and no serial the run could claim to reach.
        projects = {}
        for name in only:
            normalized = canonicalize_name(name)
            if project_allowed(rules, normalized):
                projects[normalized] = (normalized, None)
        return Plan(projects=projects, serial=None)

    changed_rules = fingerprint != upstream.rules_applied
    changelog_missing = None
    if (
        client.offers_changelog
        and upstream.last_serial
        and not changed_rules
        and not _changelog_known_missing(upstream)
    ):
        try:
            changed, serial = client.changed_since(upstream.last_serial)
        except ChangelogUnavailable as exc:
            logger.info("%s: no changelog (%s); planning from the listing", upstream.name, exc)
            changelog_missing = True if exc.lasting else None
        else:
            projects = {n: v for n, v in changed.items() if _allowed(rules, n)}
            projects.update(_due_for_retry(upstream, rules, exclude=projects))
            # A removal left unfinished is visited again, unless the changelog names the project
            # anew (then it is an ordinary visit, and listed again).
            gone = _unfinished_removals(upstream) - set(projects)
            projects.update({n: (n, None) for n in gone})
            return Plan(
                projects=projects,
                serial=serial,
                gone=gone,
                rules_applied=fingerprint,
                changelog_missing=False,
            )
    plan = _plan_from_listing(
        upstream, client, rules, fingerprint=fingerprint, changed_rules=changed_rules
    )
    plan.changelog_missing = changelog_missing
    return plan


def _plan_from_listing(
    upstream: Upstream,
    client: UpstreamClient,
    rules: Rules,
    *,
    fingerprint: str,
    changed_rules: bool,
) -> Plan:
    # Asked conditionally only when a previous plan kept its serial with the listing's ETag
    # (and applied the same rules: otherwise every project is compared again).
    shortcut = bool(upstream.last_serial) and not changed_rules
    listing = client.list_projects(etag=upstream.listing_etag if shortcut else "")
    if listing is NOT_MODIFIED:  # the very listing the previous plan read
        return _plan_unchanged(
            upstream, rules, serial=upstream.last_serial, listing_etag=upstream.listing_etag
        )
    # Kept for the next plan only where a 304 may stand for this listing (every serial given)
    # and where it fits.
    keep_etag = listing.every_serial_known and len(listing.etag) <= ETAG_MAX_LENGTH
    etag = listing.etag if keep_etag else ""
    if (
        shortcut
        and listing.serial is not None
        and listing.serial == upstream.last_serial
        and listing.every_serial_known
    ):
        return _plan_unchanged(upstream, rules, serial=listing.serial, listing_etag=etag)
    # One pass over the sync states (a cursor, not a second dict of 740,000 names) that takes
    # each state's project out of the listing, consumed here: what is left has no state (new).
    listed = listing.projects
    now = timezone.now()
    projects: dict[str, tuple[str, int | None]] = {}
    unlisted = set()
    states = ProjectSyncState.objects.filter(upstream=upstream).values_list(
        "normalized_name", "serial_reached", "serial_wanted", "next_retry"
    )
    for normalized, reached, wanted, next_retry in states.iterator(chunk_size=10_000):
        entry = listed.pop(normalized, None)
        if entry is None or not _allowed(rules, normalized):
            # Gone upstream, or excluded by the rules: visited if still served here, so the
            # removal is carried over.
            unlisted.add(normalized)
            continue
        serial = entry[1]
        # No serials (asked conditionally), rules that may change what it keeps, or moved.
        if (
            serial is None
            or changed_rules
            or (serial > reached and (next_retry is None or next_retry <= now or serial > wanted))
        ):
            projects[normalized] = entry
    projects.update((n, entry) for n, entry in listed.items() if _allowed(rules, n))
    listed.clear()
    gone = _served(unlisted)
    projects.update({n: (n, None) for n in gone})
    return Plan(
        projects=projects,
        serial=listing.serial,
        gone=gone,
        listing_etag=etag,
        rules_applied=fingerprint,
        rules_changed=changed_rules,
    )


def _allowed(rules: Rules, name: str) -> bool:
    return rules.is_empty or project_allowed(rules, name)


def _served(names: set[str]) -> set[str]:
    """Those of ``names`` this node still serves files of. A quarantined project (PEP 792) is
    not among them: PyPI leaves it out of its listing, so once its page said so, it is visited
    again only when it is listed again (or by the status re-read). Asked in chunks: rules that
    exclude most of an index make this most of it, past SQLite's limit of parameters."""
    ordered = sorted(names)
    served = set()
    for start in range(0, len(ordered), _CHUNK):
        served.update(
            Project.objects.filter(
                normalized_name__in=ordered[start : start + _CHUNK], status=Project.Status.ACTIVE
            )
            .exclude(index_status=Project.IndexStatus.QUARANTINED)
            .values_list("normalized_name", flat=True)
        )
    return served


_CHUNK = 10_000


def _changelog_known_missing(upstream: Upstream) -> bool:
    """Whether the upstream said, less than CHANGELOG_ASK_AGAIN ago, that it has no changelog."""
    since = upstream.changelog_missing_since
    return since is not None and timezone.now() - since < CHANGELOG_ASK_AGAIN


def _plan_unchanged(upstream: Upstream, rules: Rules, *, serial: int, listing_etag: str) -> Plan:
    """The upstream's serial is the one the previous plan read (with the same rules): no
    project changed since, so without comparing every project, only what that plan left
    unfinished is due: projects behind their wanted serial, and removals not yet carried over."""
    projects = _due_for_retry(upstream, rules, exclude=())
    gone = _unfinished_removals(upstream)
    projects.update({n: (n, None) for n in gone})
    return Plan(
        projects=projects,
        serial=serial,
        gone=gone,
        listing_etag=listing_etag,
        rules_applied=upstream.rules_applied,
    )


def _unfinished_removals(upstream: Upstream) -> set[str]:
    """Projects a previous plan found gone upstream that this node still serves (their removal
    failed): an indexed lookup of the few unlisted sync states."""
    unlisted = ProjectSyncState.objects.filter(upstream=upstream, listed=False).values_list(
        "normalized_name", flat=True
    )
    return _served(set(unlisted))


def _due_for_retry(
    upstream: Upstream, rules: Rules, *, exclude
) -> dict[str, tuple[str, int | None]]:
    """Projects behind their wanted serial whose retry time has come, but those in ``exclude``
    (left out here, not in SQL: a changelog may name 50,000 projects, past SQLite's limit of
    parameters)."""
    rows = (
        ProjectSyncState.objects.filter(upstream=upstream, serial_reached__lt=F("serial_wanted"))
        .filter(Q(next_retry__isnull=True) | Q(next_retry__lte=timezone.now()))
        .values_list("normalized_name", "name", "serial_wanted")
    )
    return {
        n: (name, wanted)
        for n, name, wanted in rows.iterator()
        if n not in exclude and _allowed(rules, n)
    }

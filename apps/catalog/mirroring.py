"""Making a project match what its source lists: the catalog's side of a sync.

A sync fetches and verifies the files a project lacks, then hands the catalog a ``MirrorChange``:
every file the source lists now (sha256, yank), the verified files fetched, the files it could
not fetch. ``project_mirror`` applies one project's change (adds, removals, yanks) in one
transaction with its journal entries; ``projects_mirror`` does many, the projects new to this
node together in a handful of statements (the bulk of a first sync, where one transaction per
project would cost eight statements each), writing what the one-by-one path would have written.

A project of another source is never changed: its result names the owner (shadowed).
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.db import connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone
from packaging.utils import canonicalize_name

from .bulk import insert_returning_ids
from .generation import catalog_changed
from .journal import Action, journal_batch, journal_entry
from .models import Distribution, JournalEntry, Project, Release
from .selectors import takedown_blocks
from .services import (
    CatalogError,
    NewDistribution,
    ProjectShadowed,
    distribution_set_yanked,
    distributions_publish,
    distributions_remove,
    files_stage,
    project_lock,
    project_remove,
    project_set_index_status,
    release_set_yanked,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListedFile:
    """A file as the source lists it."""

    sha256: str
    yanked: str | None = None  # None: not yanked; "" yanked without a reason


@dataclass
class MirrorChange:
    """One project as its source lists it now, with the verified files fetched for it."""

    name: str  # as the source spells it
    source: str  # sources.py key
    listed: dict[str, ListedFile] | None  # filename → file; None: the project is gone there
    fetched: Sequence[NewDistribution] = ()
    # Listed but not fetched this time: what is held of them stays until a later sync.
    failed: frozenset[str] = frozenset()
    # Whether this node held files of it when the sync read it: a project that held none is
    # tried as new first (one statement), and may go with other new ones (projects_mirror).
    held_any: bool = True
    # PEP 792, as the source announces it. Quarantined: what is held is kept but not offered,
    # and nothing else changes until the quarantine is lifted.
    index_status: str = "active"
    index_status_reason: str = ""


@dataclass
class MirrorResult:
    files: int = 0
    bytes: int = 0
    shadowed_by: str | None = None  # the source that owns the project, when not this one
    error: str = ""  # why the change was not made (nothing of it was written)


def project_mirror(change: MirrorChange) -> MirrorResult:
    """Make the project match its source's listing, in one transaction with its journal."""
    normalized = canonicalize_name(change.name)
    try:
        if change.listed is None:
            with transaction.atomic():
                project = project_lock(name=normalized, source=change.source)
                if project is not None and project.status == Project.Status.ACTIVE:
                    project_remove(project=project)
            return MirrorResult()
        with transaction.atomic(), journal_batch(name=normalized):
            _apply(change, normalized)
    except ProjectShadowed as exc:
        return MirrorResult(shadowed_by=exc.owner)
    return _counted(change)


def _apply(change: MirrorChange, normalized: str) -> None:
    project = project_lock(
        name=change.name,
        create=bool(change.fetched or change.held_any),
        probably_new=not change.held_any,
        source=change.source,
    )
    if project is None or project.status == Project.Status.BLOCKED:
        return  # nothing to hold; or taken down here: nothing of it is accepted
    project_set_index_status(
        project=project, status=change.index_status, reason=change.index_status_reason
    )
    if change.index_status == Project.IndexStatus.QUARANTINED:
        return
    listed = change.listed or {}
    # Read under the lock: what another writer did meanwhile counts. A project this
    # transaction created (its first serial still queued: 0) holds nothing.
    local = _held(normalized) if change.held_any or project.last_serial else {}
    gone = [
        dist
        for filename, dist in local.items()
        if (item := listed.get(filename)) is None
        or (item.sha256 != dist.sha256 and filename not in change.failed)
    ]
    distributions_remove(project=project, distributions=gone)
    for dist in gone:
        del local[dist.filename]
    for dist in distributions_publish(project=project, new=change.fetched):
        local[dist.filename] = dist
    _yanks_apply(local, listed)


def projects_mirror(changes: Sequence[MirrorChange]) -> list[MirrorResult]:
    """``project_mirror`` for each, in order; the projects new to this node together, in one
    transaction. When that fails, or for a project it leaves out (a name held meanwhile), each
    goes on its own, so that one bad project fails alone, with its error."""
    changes = _without_takedowns(changes)
    results: dict[int, MirrorResult] = {}
    new = [
        i for i, c in enumerate(changes) if c.listed is not None and not c.held_any and c.fetched
    ]
    if len(new) > 1 and connection.features.can_return_rows_from_bulk_insert:
        try:
            with transaction.atomic():
                created = _new_projects_publish([changes[i] for i in new])
        except Exception as exc:
            logger.warning(
                "publishing %d new projects together failed (%r); one by one", len(new), exc
            )
            created = set()
        for i in new:
            if canonicalize_name(changes[i].name) in created:
                results[i] = _counted(changes[i])
    for i, change in enumerate(changes):
        if i not in results:
            try:
                results[i] = project_mirror(change)
            except CatalogError as exc:
                results[i] = MirrorResult(error=str(exc))
            except Exception as exc:
                logger.exception("publishing %s failed", change.name)
                results[i] = MirrorResult(error=f"internal error: {exc!r}")
    return [results[i] for i in range(len(changes))]


def _without_takedowns(changes: Sequence[MirrorChange]) -> list[MirrorChange]:
    """The changes without the files standing takedowns hold (takedowns.py), read for all of
    them in one statement: a sync never brings those back. A takedown made after this read is
    refused under the project's lock (``distributions_publish``): that project fails, and its
    next sync leaves the file out."""
    blocks = takedown_blocks(names={canonicalize_name(c.name) for c in changes})
    if not blocks:
        return list(changes)
    kept = []
    for change in changes:
        held = blocks.get(canonicalize_name(change.name))
        if held is not None and not held.project and change.listed is not None:
            fetched = [
                f
                for f in change.fetched
                if not held.blocks(filename=f.file.filename, version=f.version)
            ]
            listed = {n: f for n, f in change.listed.items() if n not in held.filenames}
            change = replace(change, fetched=fetched, listed=listed)
        kept.append(change)
    return kept


def release_yanks(change: MirrorChange) -> dict[str, str]:
    """The releases yanked as a whole among the files fetched: those whose files all carry one
    reason, as ``_yanks_apply`` would find them."""
    listed = change.listed or {}
    reasons: dict[str, set[str | None]] = defaultdict(set)
    for item in change.fetched:
        reasons[item.version].add(listed[item.file.filename].yanked)
    return {
        version: next(iter(found))
        for version, found in reasons.items()
        if len(found) == 1 and next(iter(found)) is not None
    }


def _yanks_apply(local: dict[str, Distribution], listed: dict[str, ListedFile]) -> None:
    """Yank state per release when the source yanks whole releases (PyPI), else per file."""
    by_release: dict[int, list[Distribution]] = defaultdict(list)
    for dist in local.values():
        by_release[dist.release_id].append(dist)
    for dists in by_release.values():
        reasons = {listed[d.filename].yanked for d in dists if d.filename in listed}
        if len(reasons) == 1:
            release = dists[0].release
            reason = reasons.pop()
            if release.yanked != (reason is not None) or release.yanked_reason != (reason or ""):
                release_set_yanked(release=release, reason=reason)
            continue
        for dist in dists:
            if dist.filename in listed:
                distribution_set_yanked(distribution=dist, reason=listed[dist.filename].yanked)


def _held(normalized_name: str) -> dict[str, Distribution]:
    return {
        d.filename: d
        for d in Distribution.objects.filter(project__normalized_name=normalized_name)
        .select_related("release", "project")
        .only("filename", "sha256", "yanked", "yanked_reason", "release", "project")
    }


def _counted(change: MirrorChange) -> MirrorResult:
    return MirrorResult(
        files=len(change.fetched), bytes=sum(item.file.size for item in change.fetched)
    )


def _new_projects_publish(changes: Sequence[MirrorChange]) -> set[str]:
    """Create the projects with their files, in a handful of statements whatever their number;
    returns the normalized names created. A name this node already holds (deleted, blocked, of
    another source, or created meanwhile) is left out and untouched, for ``project_mirror``.
    Raises CatalogError, nothing written, when a file is already present under its name. Call
    inside ``transaction.atomic()``."""
    # Rows in name order: two writers inserting overlapping names lock them in the same order.
    wanted = sorted(((canonicalize_name(c.name), c) for c in changes), key=lambda item: item[0])
    if len({normalized for normalized, _c in wanted}) != len(wanted):
        raise CatalogError("a project is listed twice")
    if unknown := {c.index_status for _n, c in wanted} - set(Project.IndexStatus.values):
        raise CatalogError(f"{sorted(unknown)[0]!r} is not a project status (PEP 792)")
    made = insert_returning_ids(
        [
            Project(
                name=c.name,
                normalized_name=n,
                source=c.source,
                index_status=c.index_status,
                index_status_reason=c.index_status_reason,
            )
            for n, c in wanted
        ],
        unique="normalized_name",
    )
    created = {p.normalized_name: p for p in made}
    todo = [(created[n], c) for n, c in wanted if n in created]
    if not todo:
        return set()
    filenames = [d.file.filename for _project, c in todo for d in c.fetched]
    if len(set(filenames)) != len(filenames):
        raise CatalogError("a file is listed twice among the projects")
    present = list(Distribution.objects.filter(filename__in=filenames).values_list("filename"))
    if present:
        raise CatalogError(f"{present[0][0]} is already present")

    releases, distributions, entries = [], [], []
    for project, change in todo:
        staged = files_stage(
            project=project, new=change.fetched, releases={}, release_yanks=release_yanks(change)
        )
        releases += staged.releases
        distributions += staged.distributions
        entries.append(journal_entry(project=project, action=Action.CREATE))
        if change.index_status != Project.IndexStatus.ACTIVE:  # as project_set_index_status
            entries.append(
                journal_entry(project=project, action=Action.SET_STATUS, status=change.index_status)
            )
        entries += [
            journal_entry(project=project, action=action, version=version, **fields)
            for action, version, fields in staged.journal
        ]
    Release.objects.bulk_create(releases)
    Distribution.objects.bulk_create(distributions)
    JournalEntry.objects.bulk_create(entries)
    catalog_changed()

    newest: dict[str, int] = {}
    for entry in entries:
        newest[entry.normalized_name] = max(entry.pk, newest.get(entry.normalized_name, 0))
    Project.objects.filter(pk__in=[project.pk for project, _c in todo]).update(
        updated=timezone.now(),
        last_serial=Case(
            *(When(pk=p.pk, then=Value(newest[p.normalized_name])) for p, _c in todo),
            output_field=Project._meta.get_field("last_serial"),
        ),
    )
    return set(created)

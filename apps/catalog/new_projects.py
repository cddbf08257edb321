"""Publishing many projects this node has never held in one transaction: the bulk of a first
sync, where one transaction per project would cost eight statements each.

Whatever the number of projects, a handful of statements: their rows inserted together (each
name this node already holds is left out, for the caller's per-project path), the files present
under their names looked up once, then their releases, files and journal entries inserted
together, and their serials set in one UPDATE. What the rows and the journal say is what
``services.distributions_publish`` and ``release_set_yanked`` would have written, one project
at a time.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, Value, When
from django.utils import timezone
from packaging.utils import canonicalize_name

from .models import Distribution, JournalEntry, Project, Release
from .services import (
    CatalogError,
    NewDistribution,
    add_file_action,
    distribution_row,
    insert_returning_ids,
)


@dataclass(frozen=True)
class NewProject:
    """A project to create with its verified files. ``release_yanks``: versions yanked as a
    whole (reason, "" for none); their files carry the same reason."""

    name: str
    distributions: Sequence[NewDistribution]
    release_yanks: dict[str, str] = field(default_factory=dict)


def can_publish_new_projects() -> bool:
    """Whether the database returns the ids of a multi-row insert (PostgreSQL, SQLite 3.35+)."""
    return connection.features.can_return_rows_from_bulk_insert


def new_projects_publish(projects: Sequence[NewProject]) -> dict[str, list[Distribution]]:
    """Create the projects with their files; returns the files published, by normalized name.

    A project whose name this node already holds (deleted, blocked, or created meanwhile by
    another writer) is left out of the result and untouched: publish it on its own. Raises
    CatalogError, nothing written, when a file is already present under its name. Call inside
    ``transaction.atomic()``.
    """
    # Rows in name order: two writers inserting overlapping names lock them in the same order.
    wanted = sorted(
        ((canonicalize_name(p.name), p) for p in projects if p.distributions),
        key=lambda item: item[0],
    )
    if len({normalized for normalized, _p in wanted}) != len(wanted):
        raise CatalogError("a project is listed twice")
    created = _projects_insert([(normalized, p.name) for normalized, p in wanted])
    todo = [(created[normalized], p) for normalized, p in wanted if normalized in created]
    if not todo:
        return {}
    filenames = [d.file.filename for _project, p in todo for d in p.distributions]
    if len(set(filenames)) != len(filenames):
        raise CatalogError("a file is listed twice among the projects")
    present = list(Distribution.objects.filter(filename__in=filenames).values_list("filename"))
    if present:
        raise CatalogError(f"{present[0][0]} is already present")

    releases: dict[tuple[int, str], Release] = {}
    for project, p in todo:
        for item in p.distributions:
            release = releases.get((project.pk, item.version))
            if release is None:
                reason = p.release_yanks.get(item.version)
                release = Release(
                    project=project,
                    version=item.version,
                    metadata={},
                    yanked=reason is not None,
                    yanked_reason=reason or "",
                )
                releases[(project.pk, item.version)] = release
            if item.release_metadata and not release.metadata:
                release.metadata = item.release_metadata
    Release.objects.bulk_create(releases.values())

    now = timezone.now()
    distributions: dict[str, list[Distribution]] = {}
    entries: list[JournalEntry] = []
    for project, p in todo:
        rows = distributions[project.normalized_name] = []
        entries.append(_entry(project, "create"))
        journaled: dict[str, None] = {}  # the versions in order, as their yanks are journaled
        for item in p.distributions:
            rows.append(
                distribution_row(
                    project=project, release=releases[(project.pk, item.version)], new=item, now=now
                )
            )
            if item.version not in journaled:
                journaled[item.version] = None
                entries.append(_entry(project, "new release", item.version))
            entries.append(_entry(project, add_file_action(item), item.version))
        entries.extend(
            _entry(project, "yank release", version)
            for version in journaled
            if version in p.release_yanks
        )
    Distribution.objects.bulk_create([d for rows in distributions.values() for d in rows])
    JournalEntry.objects.bulk_create(entries)

    newest: dict[str, int] = {}
    for entry in entries:
        newest[entry.normalized_name] = max(entry.pk, newest.get(entry.normalized_name, 0))
    for project, _p in todo:
        project.last_serial = newest[project.normalized_name]
    Project.objects.filter(pk__in=[project.pk for project, _p in todo]).update(
        updated=now,
        last_serial=Case(
            *(When(pk=project.pk, then=Value(project.last_serial)) for project, _p in todo),
            output_field=Project._meta.get_field("last_serial"),
        ),
    )
    return distributions


def _entry(project: Project, action: str, version: str | None = None) -> JournalEntry:
    return JournalEntry(
        name=project.name, normalized_name=project.normalized_name, version=version, action=action
    )


def _projects_insert(names: list[tuple[str, str]]) -> dict[str, Project]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING for many (normalized, display) names: the
    rows made (locked by this transaction), by normalized name; a name taken is left out."""
    if not names:
        return {}
    made = [Project(name=name, normalized_name=normalized) for normalized, name in names]
    return {p.normalized_name: p for p in insert_returning_ids(made, unique="normalized_name")}

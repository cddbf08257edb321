"""Reads of the catalog that the index, the network and the admin share."""

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from .models import Distribution, JournalEntry, Project, Release, Takedown, TakedownFile


def project_get_active(*, normalized_name: str) -> Project | None:
    return (
        Project.objects.filter(normalized_name=normalized_name, status=Project.Status.ACTIVE)
        .only("id", "name", "normalized_name", "last_serial")
        .first()
    )


def project_list_active() -> list[tuple[str, str, int]]:
    """(name, normalized_name, last_serial) of every served project, by normalized name."""
    return list(
        Project.objects.filter(status=Project.Status.ACTIVE)
        .order_by("normalized_name")
        .values_list("name", "normalized_name", "last_serial")
    )


def project_list_active_range(
    *,
    start: str | None = None,
    stop: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[tuple[str, str, int]]:
    """The part of ``project_list_active`` with ``start <= normalized_name < stop`` (and
    ``> after``), at most ``limit`` rows; every bound optional. Uses the name's index."""
    projects = Project.objects.filter(status=Project.Status.ACTIVE)
    if start is not None:
        projects = projects.filter(normalized_name__gte=start)
    if stop is not None:
        projects = projects.filter(normalized_name__lt=stop)
    if after is not None:
        projects = projects.filter(normalized_name__gt=after)
    rows = projects.order_by("normalized_name").values_list(
        "name", "normalized_name", "last_serial"
    )
    return list(rows[:limit] if limit is not None else rows)


def project_names_bucket(*, names: Sequence[str], bounds: Sequence[str]) -> dict[str, int]:
    """For each name, how many of ``bounds`` (in ``project_list_active``'s order) sort at or
    before it, as the database compares names: its collation orders the list, and need not
    order as Python does (en_US ignores hyphens). SQLite compares bytes, as Python does."""
    if not names:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, width_bucket(name, %s::text[]) FROM unnest(%s::text[]) AS name",
                [list(bounds), list(names)],
            )
            return dict(cursor.fetchall())
    return {name: bisect.bisect_right(bounds, name) for name in names}


def project_distributions(*, project: Project) -> list[Distribution]:
    """A project's files with their releases, in one query, oldest release first."""
    return list(
        Distribution.objects.filter(project=project)
        .select_related("release")
        .order_by("release__created", "release_id", "filename")
    )


def distribution_get_by_path(*, sha256: str, filename: str) -> Distribution | None:
    """The served file at ``packages/<sha256 split>/<filename>``, if the node serves it."""
    return (
        Distribution.objects.filter(
            sha256=sha256, filename=filename, project__status=Project.Status.ACTIVE
        )
        .exclude(project__index_status=Project.IndexStatus.QUARANTINED)  # PEP 792: no files
        .only(
            "blob_path",
            "size",
            "sha256",
            "filename",
            "core_metadata_sha256",
            "upload_time",
        )
        .first()
    )


def journal_last_serial() -> int:
    return JournalEntry.objects.aggregate(serial=Max("id"))["serial"] or 0


def journal_last_change() -> tuple[int, datetime] | None:
    """(serial, time) of the newest journal entry, or None when nothing was ever recorded."""
    return JournalEntry.objects.order_by("-id").values_list("id", "submitted_date").first()


def journal_entry_time(*, serial: int) -> datetime | None:
    """When the entry of that serial was recorded; None when there is no such entry."""
    return JournalEntry.objects.filter(id=serial).values_list("submitted_date", flat=True).first()


def journal_changes(
    *, after: int, upto: int, also: Sequence[tuple[int, int]] = (), limit: int | None = None
) -> list[tuple[int, str]]:
    """(serial, normalized name) of the entries after ``after`` up to ``upto``, and of those in
    the ranges ``also`` (inclusive), by serial; at most ``limit``."""
    wanted = Q(id__gt=after, id__lte=upto)
    for low, high in also:
        wanted |= Q(id__gte=low, id__lte=high)
    entries = (
        JournalEntry.objects.filter(wanted).order_by("id").values_list("id", "normalized_name")
    )
    return list(entries[:limit] if limit is not None else entries)


def journal_since(*, serial: int, limit: int | None = None) -> list[JournalEntry]:
    entries = JournalEntry.objects.filter(id__gt=serial).order_by("id")
    return list(entries[:limit] if limit else entries)


def project_get(*, normalized_name: str) -> Project | None:
    """The project row whatever its status (a deleted or blocked project still has a serial)."""
    return (
        Project.objects.filter(normalized_name=normalized_name)
        .only("id", "name", "normalized_name", "last_serial", "status", "index_status")
        .first()
    )


def distribution_get_provenance(
    *, normalized_name: str, version: str, filename: str
) -> Distribution | None:
    """The served file whose PEP 740 provenance ``/integrity/<project>/<version>/<filename>/``
    names, if it has one (a quarantined project offers none)."""
    return (
        Distribution.objects.filter(
            filename=filename,
            project__normalized_name=normalized_name,
            project__status=Project.Status.ACTIVE,
            release__version=version,
            provenance_sha256__isnull=False,
        )
        .exclude(project__index_status=Project.IndexStatus.QUARANTINED)
        .only("provenance_sha256", "upload_time")
        .first()
    )


def release_list(*, project: Project) -> list[Release]:
    """A project's releases, oldest first, without their (possibly large) core metadata."""
    return list(Release.objects.filter(project=project).defer("metadata").order_by("created", "id"))


def release_metadata_get(*, release: Release) -> dict:
    """The core metadata fields stored for one release (see ``distfiles.INFO_FIELDS``)."""
    return Release.objects.filter(pk=release.pk).values_list("metadata", flat=True).first() or {}


def distribution_list(*, project: Project, release: Release | None = None) -> list[Distribution]:
    """A project's files (or one release's) by filename, without loading their releases."""
    files = Distribution.objects.filter(project=project)
    if release is not None:
        files = files.filter(release=release)
    return list(files.order_by("filename"))


def projects_held_files(*, names: list[str]) -> dict[str, dict[str, str]]:
    """The files held of each project (normalized names): filename → sha256, in one query."""
    held: dict[str, dict[str, str]] = {}
    rows = Distribution.objects.filter(project__normalized_name__in=names).values_list(
        "project__normalized_name", "filename", "sha256"
    )
    for project, filename, sha256 in rows:
        held.setdefault(project, {})[filename] = sha256
    return held


def projects_sources(*, names: list[str]) -> dict[str, str]:
    """The source of each of the projects (normalized names) this node has a row of."""
    return dict(
        Project.objects.filter(normalized_name__in=names).values_list("normalized_name", "source")
    )


@dataclass(frozen=True)
class CatalogSummary:
    """What the node serves, in round figures (counted at most every ``SUMMARY_TIMEOUT``)."""

    projects: int
    files: int
    bytes: int
    counted: datetime


SUMMARY_KEY = "pypimirror:catalog-summary"
SUMMARY_TIMEOUT = 10 * 60  # counting millions of rows costs a second: not on every page view


def catalog_summary() -> CatalogSummary:
    """Served projects, their files and bytes; cached for ``SUMMARY_TIMEOUT`` seconds."""
    summary = cache.get(SUMMARY_KEY)
    if summary is None:
        files = Distribution.objects.filter(project__status=Project.Status.ACTIVE).aggregate(
            files=Count("id"), bytes=Sum("size")
        )
        summary = CatalogSummary(
            projects=Project.objects.filter(status=Project.Status.ACTIVE).count(),
            files=files["files"],
            bytes=files["bytes"] or 0,
            counted=timezone.now(),
        )
        cache.set(SUMMARY_KEY, summary, SUMMARY_TIMEOUT)
    return summary


@dataclass(frozen=True)
class TakedownBlocks:
    """What standing takedowns hold of one project: all of it, some releases, some files."""

    project: bool = False
    versions: frozenset[str] = frozenset()
    filenames: frozenset[str] = frozenset()

    def blocks(self, *, filename: str, version: str | None) -> bool:
        return self.project or filename in self.filenames or version in self.versions


def takedown_blocks(*, names: Iterable[str], with_status: bool = True) -> dict[str, TakedownBlocks]:
    """The standing takedowns of the projects (normalized names), those with none left out: one
    statement, on the index of standing takedowns. A project blocked without a takedown record
    (before takedowns were kept) counts as taken down, found by a second statement unless the
    caller knows the projects' status (``with_status=False``)."""
    wanted = list(names)
    if not wanted:
        return {}
    found: dict[str, dict] = {}
    rows = Takedown.objects.filter(
        project__normalized_name__in=wanted, lifted_at__isnull=True
    ).values_list("project__normalized_name", "scope", "version", "filename")
    for name, scope, version, filename in rows:
        entry = found.setdefault(name, {"project": False, "versions": set(), "filenames": set()})
        if scope == Takedown.Scope.PROJECT:
            entry["project"] = True
        elif scope == Takedown.Scope.RELEASE:
            entry["versions"].add(version)
        else:
            entry["filenames"].add(filename)
    blocked = Project.objects.filter(normalized_name__in=wanted, status=Project.Status.BLOCKED)
    for name in blocked.values_list("normalized_name", flat=True) if with_status else ():
        found.setdefault(name, {"project": False, "versions": set(), "filenames": set()})
        found[name]["project"] = True
    return {
        name: TakedownBlocks(
            project=e["project"],
            versions=frozenset(e["versions"]),
            filenames=frozenset(e["filenames"]),
        )
        for name, e in found.items()
    }


def file_taken_down(*, filename: str, sha256: str | None = None) -> bool:
    """Whether the file (with that sha256, when given) is held by a standing takedown, or is
    of a blocked project: its URLs then answer 410 Gone, not 404. Asked only once the file is
    known not to be served."""
    held = TakedownFile.objects.filter(filename=filename, takedown__lifted_at__isnull=True)
    blocked = Distribution.objects.filter(filename=filename, project__status=Project.Status.BLOCKED)
    if sha256 is not None:
        held, blocked = held.filter(sha256=sha256), blocked.filter(sha256=sha256)
    return held.exists() or blocked.exists()


def takedown_held_blob_paths(*, paths: Iterable[str]) -> set[str]:
    """Those of the blob paths (a file's, or its ``.metadata``) that standing takedowns hold:
    blobs kept for a lift, not orphans."""
    wanted = {p.removesuffix(".metadata") for p in paths}
    held: set[str] = set()
    if not wanted:
        return held
    rows = TakedownFile.objects.filter(
        blob_path__in=list(wanted), takedown__lifted_at__isnull=True
    ).values_list("blob_path", "row")
    for path, row in rows:
        held.add(path)
        if row.get("core_metadata_sha256"):
            held.add(f"{path}.metadata")
    return held


def takedown_held_provenance(*, sha256s: Iterable[str]) -> set[str]:
    """Those of the provenance documents (by sha256) that files held by standing takedowns
    name. Few rows: read whole, not looked up in their JSON."""
    wanted = set(sha256s)
    if not wanted:
        return set()
    rows = TakedownFile.objects.filter(takedown__lifted_at__isnull=True).values_list(
        "row", flat=True
    )
    return {row["provenance_sha256"] for row in rows if row.get("provenance_sha256") in wanted}

"""Reads behind the simple index: what a page shows, fetched in as few queries as possible.

A project page costs one query for the project's serial (enough to answer 304 or a cached page;
none while the process keeps it, ``project_simple_ref``) and one more, when it has to be
rendered, for all its releases and files.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from packaging.version import InvalidVersion, Version

from apps.catalog.generation import catalog_generation
from apps.catalog.models import Project, Release


@dataclass(frozen=True, slots=True)
class ProjectRef:
    """What a request needs to know before deciding whether to render."""

    id: int
    name: str
    normalized_name: str
    last_serial: int
    index_status: str = "active"  # PEP 792
    index_status_reason: str = ""


@dataclass(frozen=True, slots=True)
class FileLink:
    """One file as the simple index lists it (its sha256 and filename give its URL, links.py)."""

    filename: str
    sha256: str
    size: int
    upload_time: datetime
    requires_python: str
    yanked: bool
    yanked_reason: str
    core_metadata_sha256: str | None
    version: str = ""
    provenance_sha256: str | None = None  # PEP 740: served at links.provenance_url


@dataclass(frozen=True, slots=True)
class ProjectDetail:
    """A project page: every version (PEP 700, files or not) and every file, oldest first."""

    name: str  # the normalized name, as PEP 691 pages carry it
    last_serial: int
    versions: list[str]
    files: list[FileLink]
    status: str = "active"  # PEP 792
    status_reason: str = ""


def version_sort_key(version: str) -> tuple:
    """PEP 440 order; versions PEP 440 rejects come first, by their text (as PyPI sorts them)."""
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


_PROJECT_REF_SQL = (
    "SELECT id, name, normalized_name, last_serial, index_status, index_status_reason"
    " FROM {table}"
    " WHERE normalized_name = %s AND status = %s"
)


# Refs kept by this process while the catalog's generation is the one read before reading
# them (apps/catalog/generation.py), and at most this many seconds (what the generation cannot
# see: a change from another host, a row edited by hand), so that a page cached at a serial
# costs no query: on PostgreSQL that query was a third of a cached page's CPU. Pages say
# "max-age=60" to every client anyway.
REF_MAX_AGE = 1.0
REFS_KEPT = 10_000
_refs: dict[str, tuple[ProjectRef | None, tuple[bytes, int], float]] = {}


def project_simple_ref(*, normalized_name: str) -> ProjectRef | None:
    """The served (active) project of that name; None if unknown, deleted or blocked. One
    query, or none while this process holds it and the catalog has not changed since."""
    generation, now = catalog_generation(), time.monotonic()
    if generation is not None:
        kept = _refs.get(normalized_name)
        if kept is not None and kept[1] == generation and now - kept[2] < REF_MAX_AGE:
            return kept[0]
    ref = _project_ref_read(normalized_name)
    if generation is not None:
        if len(_refs) >= REFS_KEPT:
            _refs.clear()
        _refs[normalized_name] = (ref, generation, now)
    return ref


def project_refs_forget() -> None:
    """Drop every kept ref (tests: a database emptied under this process)."""
    _refs.clear()


def _project_ref_read(normalized_name: str) -> ProjectRef | None:
    """Every index request may come here, so the statement is written out: building it with
    the ORM costs more than the round trip to the database. It means
    ``Project.objects.filter(normalized_name=..., status=ACTIVE)``."""
    sql = _PROJECT_REF_SQL.format(table=connection.ops.quote_name(Project._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [normalized_name, Project.Status.ACTIVE.value])
        row = cursor.fetchone()
    return ProjectRef(*row) if row is not None else None


_FILE_FIELDS = (
    "version",
    "distributions__filename",
    "distributions__sha256",
    "distributions__size",
    "distributions__upload_time",
    "distributions__requires_python",
    "distributions__yanked",
    "distributions__yanked_reason",
    "distributions__core_metadata_sha256",
    "distributions__provenance_sha256",
)


def project_simple_detail(*, project: ProjectRef) -> ProjectDetail:
    """All versions and files of a project in one query (releases LEFT JOIN files).

    Files are ordered by version (PEP 440), then filename; times are UTC. A quarantined project
    (PEP 792) lists no files, and so no versions, as PyPI shows it.
    """
    if project.index_status == Project.IndexStatus.QUARANTINED:
        return ProjectDetail(
            name=project.normalized_name,
            last_serial=project.last_serial,
            versions=[],
            files=[],
            status=project.index_status,
            status_reason=project.index_status_reason,
        )
    rows = Release.objects.filter(project_id=project.id).order_by().values_list(*_FILE_FIELDS)
    versions: set[str] = set()
    files: list[tuple[tuple, FileLink]] = []
    for version, filename, *rest in rows:
        versions.add(version)
        if filename is None:  # a release without files
            continue
        sha256, size, upload_time, requires_python, yanked, reason, metadata, provenance = rest
        link = FileLink(
            filename=filename,
            sha256=sha256,
            size=size,
            upload_time=upload_time.astimezone(UTC),
            requires_python=requires_python,
            yanked=yanked,
            yanked_reason=reason,
            core_metadata_sha256=metadata,
            version=version,
            provenance_sha256=provenance,
        )
        files.append(((version_sort_key(version), filename), link))
    files.sort(key=lambda item: item[0])
    return ProjectDetail(
        name=project.normalized_name,
        last_serial=project.last_serial,
        versions=sorted(versions, key=version_sort_key),
        files=[link for _, link in files],
        status=project.index_status,
        status_reason=project.index_status_reason,
    )

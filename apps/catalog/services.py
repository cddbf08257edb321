"""Writes to the catalog. Every change takes the project's row lock and writes its journal entry
(the serial) in the same transaction, so a page never shows a change its serial does not."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Model
from django.utils import timezone
from packaging.utils import canonicalize_name

from .blobstore import VerifiedFile
from .models import Distribution, JournalEntry, Project, Release


class CatalogError(Exception):
    """A change the catalog refuses; nothing was written."""


@dataclass(frozen=True)
class NewDistribution:
    """Everything needed to publish a file whose bytes are already verified in the store."""

    file: VerifiedFile
    version: str
    packagetype: str
    python_version: str = "source"
    requires_python: str = ""
    upload_time: datetime | None = None
    core_metadata_sha256: str | None = None
    yanked_reason: str | None = None  # None: not yanked; "" yanked without a reason
    release_metadata: dict = field(default_factory=dict)
    # PEP 740: the sha256 of its provenance document, already in the store (provenance_put).
    provenance_sha256: str | None = None


_batches: ContextVar[dict[str, list[JournalEntry]] | None] = ContextVar(
    "journal_batches", default=None
)


def journal_write(*, project: Project, action: str, version: str | None = None) -> JournalEntry:
    """Record one change and move the project's serial to it. Call inside the project's lock.

    Inside ``journal_batch`` for the project, the entry is queued and written (with its serial)
    when the batch ends.
    """
    entry = JournalEntry(
        name=project.name, normalized_name=project.normalized_name, version=version, action=action
    )
    pending = (_batches.get() or {}).get(project.normalized_name)
    if pending is not None:
        pending.append(entry)
        return entry
    entry.save()
    project.last_serial = entry.pk
    project.save(update_fields=["last_serial", "updated"])
    return entry


@contextmanager
def journal_batch(*, project: Project | None = None, name: str = "") -> Iterator[None]:
    """Many changes to one project (given, or by name when it may not exist yet): their journal
    entries are inserted together, in order, and the project row is written once with the
    newest serial. Inside the project's lock."""
    normalized = project.normalized_name if project is not None else canonicalize_name(name)
    if normalized in (_batches.get() or {}):
        yield  # inside an outer batch of the project: it writes these entries too
        return
    pending: list[JournalEntry] = []
    token = _batches.set({**(_batches.get() or {}), normalized: pending})
    try:
        yield
    finally:
        _batches.reset(token)
    if not pending:
        return
    JournalEntry.objects.bulk_create(pending)
    if any(entry.pk is None for entry in pending):  # a backend that returns no ids
        newest = JournalEntry.objects.filter(normalized_name=normalized).aggregate(
            serial=Max("id")
        )["serial"]
    else:
        newest = max(entry.pk for entry in pending)
    # Under the lock, every earlier change of the project committed with a smaller serial.
    Project.objects.filter(normalized_name=normalized).update(
        last_serial=newest, updated=timezone.now()
    )
    if project is not None:
        project.last_serial = newest


def project_lock(*, name: str, create: bool = False, probably_new: bool = False) -> Project | None:
    """The project's row, locked until the surrounding transaction ends; created when asked.

    Must run inside ``transaction.atomic()``. A deleted project that comes back is active again.
    ``probably_new`` (with ``create``): try the insert first, one statement for a project this
    node has never held (an initial sync), one more for one it has.
    """
    normalized = canonicalize_name(name)
    if (
        create
        and probably_new
        and connection.features.can_return_rows_from_bulk_insert  # RETURNING (SQLite >= 3.35)
        and (project := _project_insert(name, normalized)) is not None
    ):
        journal_write(project=project, action="create")
        return project
    project = Project.objects.select_for_update().filter(normalized_name=normalized).first()
    if project is None and create:
        try:
            with transaction.atomic():
                project = Project.objects.create(name=name, normalized_name=normalized)
        except IntegrityError:  # created by a concurrent writer; take its row
            project = Project.objects.select_for_update().get(normalized_name=normalized)
        else:
            journal_write(project=project, action="create")
    if project is not None and create and project.status == Project.Status.DELETED:
        project.status = Project.Status.ACTIVE
        project.name = name
        project.save(update_fields=["status", "name", "updated"])
        journal_write(project=project, action="create")
    return project


def _project_insert(name: str, normalized: str) -> Project | None:
    """The new row (locked: this transaction wrote it), or None when the name is taken."""
    made = insert_returning_ids(
        [Project(name=name, normalized_name=normalized)], unique="normalized_name"
    )
    return made[0] if made else None


def insert_returning_ids(objs: Sequence[Model], *, unique: str) -> list[Model]:
    """INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING id, in one statement: the objects
    inserted, their ids set; those whose ``unique`` value is taken are left out. Neither the
    ORM's create (a savepoint around it, to survive the conflict) nor bulk_create (no ids back
    when ignoring conflicts) does it in one. Needs ``can_return_rows_from_bulk_insert``."""
    if not objs:
        return []
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    key = model._meta.get_field(unique)
    params, rows = [], []
    for obj in objs:
        params += [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
        rows.append(f"({', '.join(['%s'] * len(fields))})")
    q = connection.ops.quote_name
    sql = (
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
        f"VALUES {', '.join(rows)} "
        f"ON CONFLICT ({q(key.column)}) DO NOTHING RETURNING {q(model._meta.pk.column)}, "
        f"{q(key.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = dict((value, pk) for pk, value in cursor.fetchall())
    inserted = []
    for obj in objs:
        if (pk := ids.get(getattr(obj, key.attname))) is not None:
            obj.pk = pk
            obj._state.adding, obj._state.db = False, connection.alias
            inserted.append(obj)
    return inserted


def distribution_publish(*, project: Project, new: NewDistribution) -> Distribution:
    """Make one verified file visible; see ``distributions_publish``."""
    return distributions_publish(project=project, new=[new])[0]


def distributions_publish(
    *, project: Project, new: Sequence[NewDistribution]
) -> list[Distribution]:
    """Make verified files visible, with their releases, journal entries and serial: a few
    statements whatever their number. A file already present with the same bytes is returned
    as it is; with other bytes, CatalogError (nothing written).

    Call inside ``transaction.atomic()`` holding ``project_lock``.
    """
    if project.status == Project.Status.BLOCKED:
        raise CatalogError(f"{project.name} is blocked; its files are not accepted")
    present = {
        d.filename: d
        for d in Distribution.objects.filter(filename__in=[n.file.filename for n in new])
    }
    todo: dict[str, NewDistribution] = {}
    for item in new:
        found = present.get(item.file.filename) or todo.get(item.file.filename)
        if found is not None and found.sha256 != item.file.sha256:
            raise CatalogError(f"{item.file.filename} is already present with other bytes")
        if found is None:
            todo[item.file.filename] = item
    releases = {
        r.version: r
        for r in (
            ()
            if _holds_no_release(project)
            else Release.objects.filter(project=project, version__in={n.version for n in new})
        )
    }
    created: list[Release] = []
    refreshed: list[Release] = []
    for item in todo.values():
        release = releases.get(item.version)
        if release is None:
            release = Release(project=project, version=item.version, metadata={})
            releases[item.version] = release
            created.append(release)
        if item.release_metadata and not release.metadata:
            release.metadata = item.release_metadata
            if release not in created and release not in refreshed:
                refreshed.append(release)
    Release.objects.bulk_create(created)
    if any(r.pk is None for r in created):  # a backend that returns no ids
        ids = dict(
            Release.objects.filter(
                project=project, version__in=[r.version for r in created]
            ).values_list("version", "id")
        )
        for release in created:
            release.pk = ids[release.version]
    Release.objects.bulk_update(refreshed, ["metadata"])
    now = timezone.now()
    distributions = [
        distribution_row(project=project, release=releases[item.version], new=item, now=now)
        for item in todo.values()
    ]
    Distribution.objects.bulk_create(distributions)
    journaled: set[str] = set()
    with journal_batch(project=project):
        for item in todo.values():
            release = releases[item.version]
            if release in created and item.version not in journaled:
                journaled.add(item.version)
                journal_write(project=project, action="new release", version=item.version)
            journal_write(project=project, action=add_file_action(item), version=item.version)
    made = {d.filename: d for d in distributions}
    return [present.get(n.file.filename) or made[n.file.filename] for n in new]


def distribution_row(
    *, project: Project, release: Release, new: NewDistribution, now: datetime
) -> Distribution:
    """The unsaved row of a file to publish (``upload_time`` defaults to ``now``)."""
    return Distribution(
        project=project,
        release=release,
        filename=new.file.filename,
        packagetype=new.packagetype,
        python_version=new.python_version,
        size=new.file.size,
        sha256=new.file.sha256,
        md5=new.file.md5,
        blake2b_256=new.file.blake2b_256,
        requires_python=new.requires_python,
        upload_time=new.upload_time or now,
        yanked=new.yanked_reason is not None,
        yanked_reason=new.yanked_reason or "",
        core_metadata_sha256=new.core_metadata_sha256,
        provenance_sha256=new.provenance_sha256,
        blob_path=new.file.blob_path,
    )


def add_file_action(new: NewDistribution) -> str:
    """The journal's action for a file added (PyPI's wording)."""
    return f"add {new.python_version} file {new.file.filename}"


def _holds_no_release(project: Project) -> bool:
    """Known without a query: a project created in the open journal batch (no serial yet),
    which has journaled no release (every release is journaled)."""
    pending = (_batches.get() or {}).get(project.normalized_name)
    return (
        project.last_serial == 0
        and pending is not None
        and all(entry.action == "create" for entry in pending)
    )


def distribution_remove(*, distribution: Distribution) -> None:
    """Remove a file; see ``distributions_remove``."""
    distributions_remove(project=distribution.project, distributions=[distribution])


def distributions_remove(*, project: Project, distributions: Sequence[Distribution]) -> None:
    """Remove files, and the releases they leave empty, with their journal entries (blobs stay:
    they are immutable and may be shared). Inside the project's lock."""
    if not distributions:
        return
    Distribution.objects.filter(pk__in=[d.pk for d in distributions]).delete()
    touched = {d.release_id: d.release for d in distributions}
    empty = set(
        Release.objects.filter(pk__in=list(touched), distributions__isnull=True).values_list(
            "pk", flat=True
        )
    )
    Release.objects.filter(pk__in=empty).delete()
    with journal_batch(project=project):
        for dist in distributions:
            journal_write(
                project=project,
                action=f"remove file {dist.filename}",
                version=touched[dist.release_id].version,
            )
        for release_id in empty:
            journal_write(
                project=project, action="remove release", version=touched[release_id].version
            )


def release_set_yanked(*, release: Release, reason: str | None) -> None:
    """Yank a release and its files (reason: str, "" for none) or unyank it (reason None)."""
    yanked = reason is not None
    if release.yanked == yanked and release.yanked_reason == (reason or ""):
        return
    release.yanked, release.yanked_reason = yanked, reason or ""
    release.save(update_fields=["yanked", "yanked_reason"])
    release.distributions.update(yanked=yanked, yanked_reason=reason or "")
    journal_write(
        project=release.project,
        action="yank release" if yanked else "unyank release",
        version=release.version,
    )


def distribution_set_yanked(*, distribution: Distribution, reason: str | None) -> None:
    """Yank one file (PEP 592 is per file; simple-only upstreams may yank files singly)."""
    yanked = reason is not None
    if distribution.yanked == yanked and distribution.yanked_reason == (reason or ""):
        return
    distribution.yanked, distribution.yanked_reason = yanked, reason or ""
    distribution.save(update_fields=["yanked", "yanked_reason"])
    journal_write(
        project=distribution.project,
        action=f"{'yank' if yanked else 'unyank'} file {distribution.filename}",
        version=distribution.release.version,
    )


def project_remove(*, project: Project) -> None:
    """Delete a project's releases and files; the row stays, marked deleted, for its serial."""
    project.releases.all().delete()
    project.status = Project.Status.DELETED
    project.save(update_fields=["status", "updated"])
    journal_write(project=project, action="remove project")


def project_set_blocked(*, project: Project, blocked: bool) -> None:
    """Take a project down (nothing of it served, nothing accepted) or restore it."""
    status = Project.Status.BLOCKED if blocked else Project.Status.ACTIVE
    if project.status == status:
        return
    project.status = status
    project.save(update_fields=["status", "updated"])
    journal_write(project=project, action="block project" if blocked else "unblock project")


def index_status_action(status: str) -> str:
    """The journal's action for a PEP 792 status change."""
    return f"project status {status}"


def project_set_index_status(*, project: Project, status: str, reason: str = "") -> bool:
    """Set the project's PEP 792 status (and its reason), journaled so that nodes below see it
    by its serial; True when it changed. Inside the project's lock. CatalogError for a status
    PEP 792 does not define."""
    if status not in Project.IndexStatus.values:
        raise CatalogError(f"{status!r} is not a project status (PEP 792)")
    if project.index_status == status and project.index_status_reason == reason:
        return False
    project.index_status, project.index_status_reason = status, reason
    project.save(update_fields=["index_status", "index_status_reason", "updated"])
    journal_write(project=project, action=index_status_action(status))
    return True


def distribution_set_provenance(*, distribution: Distribution, sha256: str) -> bool:
    """Give a file held without one its PEP 740 provenance (already in the store:
    provenance_put), journaled so that its pages, and nodes below, show it; True when it
    changed. Inside the project's lock. A file's provenance is never replaced: PyPI attests a
    file once, at upload."""
    if distribution.provenance_sha256 is not None:
        return False
    distribution.provenance_sha256 = sha256
    distribution.save(update_fields=["provenance_sha256"])
    journal_write(
        project=distribution.project,
        action=f"add provenance {distribution.filename}",
        version=distribution.release.version,
    )
    return True

"""Writes to the catalog. Every change takes the project's row lock and writes its journal entry
(the serial) in the same transaction, so a page never shows a change its serial does not."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from packaging.utils import canonicalize_name

from .blobstore import VerifiedFile
from .bulk import insert_returning_ids
from .journal import Action, journal_batch, journal_pending, journal_write
from .models import Distribution, Project, Release
from .selectors import takedown_blocks
from .sources import LOCAL, source_label


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


class ProjectShadowed(CatalogError):
    """The project belongs to another source; nothing was written."""

    def __init__(self, name: str, owner: str) -> None:
        self.owner = owner
        super().__init__(
            f"{name} belongs to {source_label(owner)}; staff can hand it to another source in "
            "the admin (Catalog → Projects)"
        )


def project_lock(
    *,
    name: str,
    create: bool = False,
    probably_new: bool = False,
    source: str | None = None,
) -> Project | None:
    """The project's row, locked until the surrounding transaction ends; created when asked.

    Must run inside ``transaction.atomic()``. ``source``: the source changing it (a project
    created here is its own); a project of another source raises ProjectShadowed. None: staff
    work that any project may get. A deleted project that comes back is active again.
    ``probably_new`` (with ``create``): try the insert first, one statement for a project this
    node has never held (an initial sync), one more for one it has.
    """
    normalized = canonicalize_name(name)
    owner = source or LOCAL
    if (
        create
        and probably_new
        and connection.features.can_return_rows_from_bulk_insert  # RETURNING (SQLite >= 3.35)
        and (project := _project_insert(name, normalized, owner)) is not None
    ):
        journal_write(project=project, action=Action.CREATE)
        return project
    project = Project.objects.select_for_update().filter(normalized_name=normalized).first()
    if project is None and create:
        try:
            with transaction.atomic():
                project = Project.objects.create(
                    name=name, normalized_name=normalized, source=owner
                )
        except IntegrityError:  # created by a concurrent writer; take its row
            project = Project.objects.select_for_update().get(normalized_name=normalized)
        else:
            journal_write(project=project, action=Action.CREATE)
    if project is not None and source is not None and project.source != source:
        raise ProjectShadowed(project.name, project.source)
    if project is not None and create and project.status == Project.Status.DELETED:
        project.status = Project.Status.ACTIVE
        project.name = name
        project.save(update_fields=["status", "name", "updated"])
        journal_write(project=project, action=Action.CREATE)
    return project


def project_set_source(*, project: Project, source: str) -> bool:
    """Hand the project to another source (staff): its next sync from there makes its files
    match that source's, journaled file by file; until then nothing it serves changes. Returns
    whether the source changed."""
    from .signals import project_source_changed

    if project.source == source:
        return False
    previous = project.source
    Project.objects.filter(pk=project.pk).update(source=source, updated=timezone.now())
    project.source = source
    project_source_changed.send(sender=Project, project=project, previous=previous, source=source)
    return True


def _project_insert(name: str, normalized: str, source: str) -> Project | None:
    """The new row (locked: this transaction wrote it), or None when the name is taken."""
    made = insert_returning_ids(
        [Project(name=name, normalized_name=normalized, source=source)], unique="normalized_name"
    )
    return made[0] if made else None


def distribution_publish(*, project: Project, new: NewDistribution) -> Distribution:
    """Make one verified file visible; see ``distributions_publish``."""
    return distributions_publish(project=project, new=[new])[0]


def distributions_publish(
    *, project: Project, new: Sequence[NewDistribution]
) -> list[Distribution]:
    """Make verified files visible, with their releases, journal entries and serial: a few
    statements whatever their number. A file already present with the same bytes is returned
    as it is; with other bytes, or one a standing takedown holds, CatalogError (nothing
    written).

    Call inside ``transaction.atomic()`` holding ``project_lock``.
    """
    if project.status == Project.Status.BLOCKED:
        raise CatalogError(f"{project.name} is blocked; its files are not accepted")
    blocks = takedown_blocks(names=[project.normalized_name], with_status=False) if new else {}
    for item in new if project.normalized_name in blocks else ():
        blocks_here = blocks[project.normalized_name]
        if blocks_here.blocks(filename=item.file.filename, version=item.version):
            raise CatalogError(f"{item.file.filename} is taken down; it is not accepted")
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
    staged = files_stage(project=project, new=todo.values(), releases=releases)
    Release.objects.bulk_create(staged.releases)
    if any(r.pk is None for r in staged.releases):  # a backend that returns no ids
        ids = dict(
            Release.objects.filter(
                project=project, version__in=[r.version for r in staged.releases]
            ).values_list("version", "id")
        )
        for release in staged.releases:
            release.pk = ids[release.version]
    Release.objects.bulk_update(staged.refreshed, ["metadata"])
    Distribution.objects.bulk_create(staged.distributions)
    with journal_batch(project=project):
        for action, version, fields in staged.journal:
            journal_write(project=project, action=action, version=version, **fields)
    made = {d.filename: d for d in staged.distributions}
    return [present.get(n.file.filename) or made[n.file.filename] for n in new]


@dataclass
class StagedFiles:
    """The unsaved rows of files to publish into one project, and what the journal says of
    them, in order: ``(action, version, wording fields)``."""

    releases: list[Release] = field(default_factory=list)  # new
    refreshed: list[Release] = field(default_factory=list)  # metadata filled in
    distributions: list[Distribution] = field(default_factory=list)
    journal: list[tuple[Action, str | None, dict[str, str]]] = field(default_factory=list)


def files_stage(
    *,
    project: Project,
    new: Iterable[NewDistribution],
    releases: dict[str, Release],
    release_yanks: dict[str, str] | None = None,
) -> StagedFiles:
    """What publishing ``new`` (files not present) writes: the one place that decides which
    releases a file makes, which rows it gets and how the journal words it, for one project
    (``distributions_publish``) and for many at once (``mirroring``). ``releases``: those held,
    by version; the new ones are added to it. ``release_yanks``: new releases to create yanked
    (reason, "" for none), journaled after their files as a yank of the release would be."""
    staged = StagedFiles()
    now = timezone.now()
    for item in new:
        release = releases.get(item.version)
        if release is None:
            reason = (release_yanks or {}).get(item.version)
            release = Release(
                project=project,
                version=item.version,
                metadata={},
                yanked=reason is not None,
                yanked_reason=reason or "",
            )
            releases[item.version] = release
            staged.releases.append(release)
            staged.journal.append((Action.NEW_RELEASE, item.version, {}))
        if item.release_metadata and not release.metadata:
            release.metadata = item.release_metadata
            if release.pk is not None and release not in staged.refreshed:
                staged.refreshed.append(release)
        staged.distributions.append(
            distribution_row(project=project, release=release, new=item, now=now)
        )
        staged.journal.append(
            (
                Action.ADD_FILE,
                item.version,
                {"python_version": item.python_version, "filename": item.file.filename},
            )
        )
    staged.journal += [(Action.YANK_RELEASE, r.version, {}) for r in staged.releases if r.yanked]
    return staged


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


def _holds_no_release(project: Project) -> bool:
    """Known without a query: a project created in the open journal batch (no serial yet),
    which has journaled no release (every release is journaled)."""
    pending = journal_pending(project)
    return (
        project.last_serial == 0
        and pending is not None
        and all(entry.action == Action.CREATE.value for entry in pending)
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
                action=Action.REMOVE_FILE,
                version=touched[dist.release_id].version,
                filename=dist.filename,
            )
        for release_id in empty:
            journal_write(
                project=project, action=Action.REMOVE_RELEASE, version=touched[release_id].version
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
        action=Action.YANK_RELEASE if yanked else Action.UNYANK_RELEASE,
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
        action=Action.YANK_FILE if yanked else Action.UNYANK_FILE,
        version=distribution.release.version,
        filename=distribution.filename,
    )


def project_remove(*, project: Project) -> None:
    """Delete a project's releases and files; the row stays, marked deleted, for its serial."""
    project.releases.all().delete()
    project.status = Project.Status.DELETED
    project.save(update_fields=["status", "updated"])
    journal_write(project=project, action=Action.REMOVE_PROJECT)


def project_set_blocked(*, project: Project, blocked: bool) -> None:
    """Take a project down (nothing of it served, nothing accepted) or restore it."""
    status = Project.Status.BLOCKED if blocked else Project.Status.ACTIVE
    if project.status == status:
        return
    project.status = status
    project.save(update_fields=["status", "updated"])
    journal_write(
        project=project, action=Action.BLOCK_PROJECT if blocked else Action.UNBLOCK_PROJECT
    )


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
    journal_write(project=project, action=Action.SET_STATUS, status=status)
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
        action=Action.ADD_PROVENANCE,
        version=distribution.release.version,
        filename=distribution.filename,
    )
    return True

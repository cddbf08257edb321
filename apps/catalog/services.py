"""Writes to the catalog. Every change takes the project's row lock and writes its journal entry
(the serial) in the same transaction, so a page never shows a change its serial does not."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
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


def journal_write(*, project: Project, action: str, version: str | None = None) -> JournalEntry:
    """Record one change and move the project's serial to it. Call inside the project's lock."""
    entry = JournalEntry.objects.create(
        name=project.name,
        normalized_name=project.normalized_name,
        version=version,
        action=action,
    )
    project.last_serial = entry.pk
    if not getattr(project, "_journal_batch", False):
        project.save(update_fields=["last_serial", "updated"])
    return entry


@contextmanager
def journal_batch(*, project: Project) -> Iterator[None]:
    """Many changes to one project: each gets its journal entry, the project row is written once
    at the end (with its newest serial), not once per entry. Inside the project's lock."""
    project._journal_batch = True
    try:
        yield
    finally:
        project._journal_batch = False
    newest = JournalEntry.objects.filter(normalized_name=project.normalized_name).aggregate(
        serial=Max("id")
    )["serial"]
    project.last_serial = max(newest or 0, project.last_serial)
    Project.objects.filter(pk=project.pk).update(
        last_serial=project.last_serial, updated=timezone.now()
    )


def project_lock(*, name: str, create: bool = False) -> Project | None:
    """The project's row, locked until the surrounding transaction ends; created when asked.

    Must run inside ``transaction.atomic()``. A deleted project that comes back is active again.
    """
    normalized = canonicalize_name(name)
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


def distribution_publish(*, project: Project, new: NewDistribution) -> Distribution:
    """Make one verified file visible, with its release, journal entries and serial.

    Call inside ``transaction.atomic()`` holding ``project_lock``.
    """
    if project.status == Project.Status.BLOCKED:
        raise CatalogError(f"{project.name} is blocked; its files are not accepted")
    existing = Distribution.objects.filter(filename=new.file.filename).first()
    if existing is not None:
        if existing.sha256 != new.file.sha256:
            raise CatalogError(f"{new.file.filename} is already present with other bytes")
        return existing
    release, created = Release.objects.get_or_create(
        project=project,
        version=new.version,
        defaults={"metadata": new.release_metadata},
    )
    if created:
        journal_write(project=project, action="new release", version=new.version)
    elif new.release_metadata and not release.metadata:
        release.metadata = new.release_metadata
        release.save(update_fields=["metadata"])
    distribution = Distribution.objects.create(
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
        upload_time=new.upload_time or timezone.now(),
        yanked=new.yanked_reason is not None,
        yanked_reason=new.yanked_reason or "",
        core_metadata_sha256=new.core_metadata_sha256,
        blob_path=new.file.blob_path,
    )
    journal_write(
        project=project,
        action=f"add {new.python_version} file {new.file.filename}",
        version=new.version,
    )
    return distribution


def distribution_remove(*, distribution: Distribution) -> None:
    """Remove a file (its blob stays: blobs are immutable and may be shared)."""
    project = distribution.project
    release = distribution.release
    distribution.delete()
    journal_write(
        project=project,
        action=f"remove file {distribution.filename}",
        version=release.version,
    )
    if not release.distributions.exists():
        release.delete()
        journal_write(project=project, action="remove release", version=release.version)


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

"""Takedowns: staff take a project, a release or a file down (malware, a legal request), with a
reason, and may lift it later. Who, when and why are kept (``Takedown``), lifts included.

Taking down is a change to the catalog like any other, journaled in the same transaction, so
nodes below (and theirs) follow it at their next sync, whatever their own rules allow:

- a **file** or a **release** is removed (``remove file``, ``remove release``); its rows are
  kept on the takedown (``TakedownFile``) and its blob stays in the store, unserved;
- a **project** is blocked (``block project``): its rows stay, nothing of it is served, and
  nodes below, whose syncs then find no page, remove it.

While it stands, the file URLs answer 410 Gone (``selectors.file_taken_down``), and no sync
or import brings it back (``takedown_blocks``: the sync leaves it out before fetching,
``mirroring`` and ``distributions_publish`` refuse it under the project's lock). A lift puts back
at once what its blobs still allow (journaled like any new file; ``unblock project``), and tells
the project's upstream to read it afresh at its next sync (``takedown_lifted``), which brings
the rest back from there.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from packaging.utils import canonicalize_name

from .blobstore import VerifiedFile, blob_storage, provenance_blob_path
from .journal import Action, journal_write
from .models import Distribution, Project, Release, Takedown, TakedownFile
from .selectors import takedown_blocks
from .services import (
    CatalogError,
    NewDistribution,
    distributions_publish,
    distributions_remove,
    project_lock,
    project_remove,
    project_set_blocked,
    release_set_yanked,
)
from .signals import takedown_lifted


class TakedownError(CatalogError):
    """A takedown or lift the catalog refuses (unknown target, no reason, ...); nothing was
    changed."""


@dataclass
class _Target:
    """What a takedown would take down: found, not yet touched."""

    scope: str
    version: str = ""
    filename: str = ""
    distributions: list[Distribution] = field(default_factory=list)
    release: Release | None = None


def _target(project: Project, *, version: str | None, filename: str | None) -> _Target:
    """The release or file (or the whole project) named; TakedownError when there is no such
    thing here or it is taken down already."""
    standing = project.takedowns.filter(lifted_at__isnull=True)
    if filename:
        dist = (
            Distribution.objects.filter(project=project, filename=filename)
            .select_related("release")
            .first()
        )
        if dist is None:
            if standing.filter(files__filename=filename).exists():
                raise TakedownError(f"{filename} is already taken down")
            raise TakedownError(f"{project.name} has no file named {filename!r} here")
        return _Target(Takedown.Scope.FILE, dist.release.version, filename, distributions=[dist])
    if version:
        release = Release.objects.filter(project=project, version=version).first()
        if release is None:
            if standing.filter(scope=Takedown.Scope.RELEASE, version=version).exists():
                raise TakedownError(f"{project.name} {version} is already taken down")
            raise TakedownError(f"{project.name} has no release {version!r} here")
        dists = list(release.distributions.select_related("release"))
        return _Target(Takedown.Scope.RELEASE, version, distributions=dists, release=release)
    if standing.filter(scope=Takedown.Scope.PROJECT).exists():
        raise TakedownError(f"{project.name} is already taken down")
    return _Target(Takedown.Scope.PROJECT)


def takedown_check(
    *, name: str, version: str | None = None, filename: str | None = None, reason: str
) -> None:
    """What ``takedown_create`` would refuse, found without changing anything (the admin's
    form shows it before anything is taken down): TakedownError saying why."""
    reason = _checked(name=name, version=version, filename=filename, reason=reason)
    project = Project.objects.filter(normalized_name=canonicalize_name(name)).first()
    if project is None:
        raise TakedownError(f"no project named {name!r} here")
    _target(project, version=version, filename=filename)


def takedown_create(
    *, name: str, version: str | None = None, filename: str | None = None, reason: str, actor: str
) -> Takedown:
    """Take the project (or one of its releases, or one file) down, with the reason and who did
    it; TakedownError, nothing changed, for an unknown target, one already taken down, a missing
    reason or both a release and a file."""
    reason = _checked(name=name, version=version, filename=filename, reason=reason)
    with transaction.atomic():
        project = _project_locked(name)
        target = _target(project, version=version, filename=filename)
        takedown = Takedown(
            project=project,
            scope=target.scope,
            version=target.version,
            filename=target.filename,
            reason=reason,
            created_by=actor[:255],
        )
        takedown.save()
        if target.scope == Takedown.Scope.PROJECT:
            project_set_blocked(project=project, blocked=True)
            return takedown
        _remove(takedown, project, target.distributions)
        release = target.release
        if release is not None and Release.objects.filter(pk=release.pk).exists():
            release.delete()  # a release without files: distributions_remove left it
            journal_write(project=project, action=Action.REMOVE_RELEASE, version=release.version)
    return takedown


@dataclass
class Lifted:
    """What a lift put back at once, and what it left to the project's next sync (why)."""

    takedown: Takedown
    restored: list[str] = field(default_factory=list)
    left: dict[str, str] = field(default_factory=dict)  # filename → why


def takedown_lift(*, takedown_id: int, actor: str) -> Lifted:
    """Lift a standing takedown: recorded (who, when), and what it removed served again: a
    project unblocked (unless another takedown of it stands), a file or release's files
    published again from their blobs, journaled. A file whose blob is gone, or that another
    takedown still holds, is left (the project's next sync brings what its upstream lists).
    TakedownError when there is no such takedown or it was lifted already."""
    with transaction.atomic():
        found = Takedown.objects.filter(pk=takedown_id).select_related("project").first()
        if found is None:
            raise TakedownError(f"no takedown #{takedown_id}")
        project = project_lock(name=found.project.normalized_name)
        takedown = Takedown.objects.select_for_update().get(pk=takedown_id)
        if not takedown.standing:
            raise TakedownError(
                f"takedown #{takedown.pk} was lifted already ({takedown.lifted_by}, "
                f"{takedown.lifted_at:%Y-%m-%d %H:%M:%S})"
            )
        takedown.lifted_by, takedown.lifted_at = actor[:255], timezone.now()
        takedown.save(update_fields=["lifted_by", "lifted_at"])
        lifted = Lifted(takedown=takedown)
        if takedown.scope == Takedown.Scope.PROJECT:
            if not project.takedowns.filter(
                scope=Takedown.Scope.PROJECT, lifted_at__isnull=True
            ).exists():
                project_set_blocked(project=project, blocked=False)
                if not project.releases.exists():  # taken down once deleted: deleted again
                    project_remove(project=project)
        else:
            _restore(lifted, project)
        transaction.on_commit(
            lambda: takedown_lifted.send(sender=Takedown, project=project, takedown=takedown)
        )
    return lifted


def takedown_find_standing(
    *, name: str, version: str | None = None, filename: str | None = None
) -> Takedown:
    """The standing takedown of exactly that project, release or file; TakedownError if none."""
    _check_input(name=name, version=version, filename=filename)
    project = Project.objects.filter(normalized_name=canonicalize_name(name)).first()
    if project is None:
        raise TakedownError(f"no project named {name!r} here")
    standing = project.takedowns.filter(lifted_at__isnull=True)
    if filename:
        found, what = standing.filter(scope=Takedown.Scope.FILE, filename=filename), filename
    elif version:
        found = standing.filter(scope=Takedown.Scope.RELEASE, version=version)
        what = f"{project.name} {version}"
    else:
        found, what = standing.filter(scope=Takedown.Scope.PROJECT), project.name
    takedown = found.first()
    if takedown is None:
        raise TakedownError(f"{what} is not taken down")
    return takedown


def _check_input(*, name: str, version: str | None, filename: str | None) -> None:
    """Text no row can hold (too long, a NUL, which PostgreSQL text refuses) is refused before
    any query, naming what is wrong."""
    for what, text in (("project name", name), ("release", version), ("filename", filename)):
        if text is not None and ("\x00" in text or len(text) > 255):
            raise TakedownError(f"no such {what}: {text[:100]!r}")


def _checked(*, name: str, version: str | None, filename: str | None, reason: str) -> str:
    """The reason, stripped, once the arguments are ones a takedown can have."""
    _check_input(name=name, version=version, filename=filename)
    if "\x00" in reason:
        raise TakedownError("a reason cannot hold a NUL character")
    if not reason.strip():
        raise TakedownError("a takedown needs a reason")
    if version and filename:
        raise TakedownError("take down a release or a file, not both")
    return reason.strip()


def _project_locked(name: str) -> Project:
    project = project_lock(name=canonicalize_name(name)) if name.strip() else None
    if project is None:
        raise TakedownError(f"no project named {name!r} here")
    return project


def _remove(takedown: Takedown, project: Project, dists: list[Distribution]) -> None:
    """Keep the files' rows on the takedown, then remove them, journaled."""
    TakedownFile.objects.bulk_create(
        TakedownFile(
            takedown=takedown,
            filename=d.filename,
            sha256=d.sha256,
            blob_path=d.blob_path,
            row=_snapshot(d),
        )
        for d in dists
    )
    distributions_remove(project=project, distributions=dists)


def _snapshot(dist: Distribution) -> dict:
    release = dist.release
    return {
        "version": release.version,
        "release_metadata": release.metadata,
        "release_yanked": release.yanked_reason if release.yanked else None,
        "packagetype": dist.packagetype,
        "python_version": dist.python_version,
        "size": dist.size,
        "md5": dist.md5,
        "blake2b_256": dist.blake2b_256,
        "requires_python": dist.requires_python,
        "upload_time": dist.upload_time.isoformat(),
        "yanked": dist.yanked_reason if dist.yanked else None,
        "core_metadata_sha256": dist.core_metadata_sha256,
        "provenance_sha256": dist.provenance_sha256,
    }


def _restore(lifted: Lifted, project: Project) -> None:
    """Publish again the files the takedown removed whose blobs are all still in the store."""
    if project.status != Project.Status.ACTIVE:
        lifted.left = {f.filename: "the project is not served" for f in lifted.takedown.files.all()}
        return
    blocks = takedown_blocks(names=[project.normalized_name]).get(project.normalized_name)
    storage = blob_storage()
    new, yanks = [], {}
    for held in lifted.takedown.files.all():
        row = held.row
        if blocks is not None and blocks.blocks(filename=held.filename, version=row["version"]):
            lifted.left[held.filename] = "another takedown holds it"
            continue
        if Distribution.objects.filter(filename=held.filename).exists():
            continue  # a sync brought it back meanwhile (another takedown since lifted)
        needed = [held.blob_path]
        if row["core_metadata_sha256"]:
            needed.append(f"{held.blob_path}.metadata")
        if row["provenance_sha256"]:
            needed.append(provenance_blob_path(row["provenance_sha256"]))
        if not all(storage.exists(path) for path in needed):
            lifted.left[held.filename] = "its blob is no longer in the store"
            continue
        new.append(_new_distribution(held))
        if row["release_yanked"] is not None:
            yanks[row["version"]] = row["release_yanked"]
    distributions_publish(project=project, new=new)
    lifted.restored = [n.file.filename for n in new]
    for release in Release.objects.filter(project=project, version__in=list(yanks)):
        release_set_yanked(release=release, reason=yanks[release.version])


def _new_distribution(held: TakedownFile) -> NewDistribution:
    row = held.row
    return NewDistribution(
        file=VerifiedFile(
            filename=held.filename,
            size=row["size"],
            sha256=held.sha256,
            md5=row["md5"],
            blake2b_256=row["blake2b_256"],
            blob_path=held.blob_path,
        ),
        version=row["version"],
        packagetype=row["packagetype"],
        python_version=row["python_version"],
        requires_python=row["requires_python"],
        upload_time=datetime.fromisoformat(row["upload_time"]),
        core_metadata_sha256=row["core_metadata_sha256"],
        yanked_reason=row["yanked"],
        release_metadata=row["release_metadata"],
        provenance_sha256=row["provenance_sha256"],
    )

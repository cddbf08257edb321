"""Making the catalog match one upstream project: fetch what is new, then apply every change
(adds, removals, yanks) in one transaction with its journal entries."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from django.db import transaction
from packaging.utils import canonicalize_name

from apps.catalog import services as catalog
from apps.catalog.models import Distribution, Project

from .clients.base import RemoteFile, RemoteProject, UpstreamError
from .fetcher import FetchedFile, fetch_file


@dataclass
class ApplyResult:
    files: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)


def _local_files(normalized_name: str) -> dict[str, Distribution]:
    return {
        d.filename: d
        for d in Distribution.objects.filter(project__normalized_name=normalized_name)
        .select_related("release", "project")
        .only("filename", "sha256", "yanked", "yanked_reason", "release", "project")
    }


def _needs_reading(remote_file: RemoteFile, with_wheel: set[str]) -> bool:
    """Whether the file's own metadata is wanted: for a wheel (PEP 658), for a file whose
    version the upstream does not give, and for the metadata of a release without a wheel."""
    return (
        remote_file.filename.endswith(".whl")
        or remote_file.version is None
        or remote_file.version not in with_wheel
    )


def held_files(names: list[str]) -> dict[str, dict[str, str]]:
    """The files held of each project (normalized names): filename → sha256, in one query."""
    held: dict[str, dict[str, str]] = defaultdict(dict)
    rows = Distribution.objects.filter(project__normalized_name__in=names).values_list(
        "project__normalized_name", "filename", "sha256"
    )
    for project, filename, sha256 in rows:
        held[project][filename] = sha256
    return held


def apply_remote_project(
    *,
    http: httpx.Client,
    name: str,
    remote: RemoteProject | None,
    held: dict[str, str] | None = None,
    heartbeat: Callable[[], None] = lambda: None,
) -> ApplyResult:
    """Sync one project. A file that fails is reported in ``errors`` and left out; the rest of
    the project's change is still applied, so one bad file never hides good ones.

    ``held``: the project's files here (``held_files``), when the caller read them already.
    """
    normalized = canonicalize_name(name)
    result = ApplyResult()
    if remote is None:
        with transaction.atomic():
            project = catalog.project_lock(name=normalized)
            if project is not None and project.status == Project.Status.ACTIVE:
                catalog.project_remove(project=project)
        return result

    if held is None:
        held = held_files([normalized]).get(normalized, {})
    wanted: dict[str, RemoteFile] = {}
    for remote_file in remote.files:
        if remote_file.filename in wanted:
            result.errors.append(f"{remote_file.filename}: listed twice by the upstream")
            continue
        wanted[remote_file.filename] = remote_file
    fetched: list[FetchedFile] = []
    missing = [f for f in wanted.values() if held.get(f.filename) != f.sha256]
    with_wheel = {f.version for f in missing if f.version and f.filename.endswith(".whl")}
    for remote_file in missing:
        try:
            fetched.append(
                fetch_file(
                    http,
                    remote_file,
                    heartbeat=heartbeat,
                    inspect=_needs_reading(remote_file, with_wheel),
                )
            )
        except UpstreamError as exc:
            result.errors.append(str(exc))
        heartbeat()  # still working: keep the project's lease
    failed = {f.filename for f in wanted.values()} - {f.remote.filename for f in fetched}

    with transaction.atomic(), catalog.journal_batch(name=normalized):
        project = catalog.project_lock(
            name=remote.name, create=bool(fetched or held), probably_new=not held
        )
        if project is None:
            return result
        if project.status == Project.Status.BLOCKED:
            return result  # taken down here: nothing of it is accepted
        # Read again under the lock: what another writer did meanwhile counts. A project
        # this transaction created (its first serial still queued: 0) holds nothing.
        local = _local_files(normalized) if held or project.last_serial else {}
        gone = [
            dist
            for filename, dist in local.items()
            if (remote_file := wanted.get(filename)) is None
            or (remote_file.sha256 != dist.sha256 and filename not in failed)
        ]
        catalog.distributions_remove(project=project, distributions=gone)
        for dist in gone:
            del local[dist.filename]
        published = catalog.distributions_publish(
            project=project,
            new=[
                catalog.NewDistribution(
                    file=item.file,
                    version=item.version,
                    packagetype=item.remote.packagetype or "sdist",
                    python_version=item.remote.python_version or "source",
                    requires_python=item.remote.requires_python,
                    upload_time=item.remote.upload_time,
                    core_metadata_sha256=item.core_metadata_sha256,
                    yanked_reason=item.remote.yanked,
                    release_metadata=item.release_metadata,
                )
                for item in fetched
            ],
        )
        for dist in published:
            local[dist.filename] = dist
        result.files += len(fetched)
        result.bytes += sum(item.file.size for item in fetched)
        _apply_yanks(local, wanted)
    return result


def _apply_yanks(local: dict[str, Distribution], wanted: dict[str, RemoteFile]) -> None:
    """Yank state per release when the upstream yanks whole releases (PyPI), else per file."""
    by_release: dict[int, list[Distribution]] = defaultdict(list)
    for dist in local.values():
        by_release[dist.release_id].append(dist)
    for dists in by_release.values():
        reasons = {wanted[d.filename].yanked for d in dists if d.filename in wanted}
        if len(reasons) == 1:
            release = dists[0].release
            reason = reasons.pop()
            if release.yanked != (reason is not None) or release.yanked_reason != (reason or ""):
                catalog.release_set_yanked(release=release, reason=reason)
            continue
        for dist in dists:
            if dist.filename in wanted:
                catalog.distribution_set_yanked(
                    distribution=dist, reason=wanted[dist.filename].yanked
                )

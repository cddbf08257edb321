"""Making the catalog match upstream projects: fetch what is new (``prepare_remote_project``),
then apply every change of a project (adds, removals, yanks) in one transaction with its
journal entries (``publish_prepared``); projects new to this node, many in one (``publish_many``).
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from django.db import transaction
from packaging.utils import canonicalize_name

from apps.catalog import services as catalog
from apps.catalog.models import Distribution, Project
from apps.catalog.new_projects import NewProject, can_publish_new_projects, new_projects_publish

from .clients.base import RemoteFile, RemoteProject, UpstreamError
from .fetcher import FetchedFile, fetch_file

logger = logging.getLogger(__name__)


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


@dataclass
class PreparedProject:
    """A project's files fetched and verified in the store, its catalog change still to make."""

    name: str
    remote: RemoteProject | None
    held: dict[str, str]
    wanted: dict[str, RemoteFile] = field(default_factory=dict)
    fetched: list[FetchedFile] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def is_new(self) -> bool:
        """New to this node as far as its files tell: the whole first sync of it."""
        return (
            self.remote is not None
            and not self.held
            and bool(self.fetched)
            and self.remote.status == "active"  # a PEP 792 status goes the one-by-one way
        )


def prepare_remote_project(
    *,
    http: httpx.Client,
    name: str,
    remote: RemoteProject | None,
    held: dict[str, str] | None = None,
    heartbeat: Callable[[], None] = lambda: None,
) -> PreparedProject:
    """Fetch what the project lacks here. A file that fails is reported in ``errors`` and left
    out; the rest of the project's change is still made, so one bad file never hides good ones.

    ``held``: the project's files here (``held_files``), when the caller read them already.
    """
    if held is None:
        held = held_files([canonicalize_name(name)]).get(canonicalize_name(name), {})
    prepared = PreparedProject(name=name, remote=remote, held=held)
    if remote is None or remote.status == "quarantined":
        return prepared  # PEP 792: a quarantined project's files are neither offered nor fetched
    for remote_file in remote.files:
        if remote_file.filename in prepared.wanted:
            prepared.errors.append(f"{remote_file.filename}: listed twice by the upstream")
            continue
        prepared.wanted[remote_file.filename] = remote_file
    missing = [f for f in prepared.wanted.values() if held.get(f.filename) != f.sha256]
    with_wheel = {f.version for f in missing if f.version and f.filename.endswith(".whl")}
    for remote_file in missing:
        try:
            prepared.fetched.append(
                fetch_file(
                    http,
                    remote_file,
                    heartbeat=heartbeat,
                    inspect=_needs_reading(remote_file, with_wheel),
                    page_url=remote.page_url,
                )
            )
        except UpstreamError as exc:
            prepared.errors.append(str(exc))
        heartbeat()  # still working: keep the project's lease
    return prepared


def publish_prepared(prepared: PreparedProject) -> ApplyResult:
    """Make the project's catalog match the upstream's, in one transaction with its journal."""
    result = ApplyResult(errors=list(prepared.errors))
    remote, held, wanted, fetched = (
        prepared.remote,
        prepared.held,
        prepared.wanted,
        prepared.fetched,
    )
    normalized = canonicalize_name(prepared.name)
    if remote is None:
        with transaction.atomic():
            project = catalog.project_lock(name=normalized)
            if project is not None and project.status == Project.Status.ACTIVE:
                catalog.project_remove(project=project)
        return result
    failed = {f.filename for f in wanted.values()} - {f.remote.filename for f in fetched}

    with transaction.atomic(), catalog.journal_batch(name=normalized):
        project = catalog.project_lock(
            name=remote.name, create=bool(fetched or held), probably_new=not held
        )
        if project is None:
            return result
        if project.status == Project.Status.BLOCKED:
            return result  # taken down here: nothing of it is accepted
        catalog.project_set_index_status(
            project=project, status=remote.status, reason=remote.status_reason
        )
        if remote.status == "quarantined":
            return result  # its files are kept, unserved: the upstream lists none meanwhile
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
            project=project, new=[_new_distribution(item) for item in fetched]
        )
        for dist in published:
            local[dist.filename] = dist
        _count_fetched(result, fetched)
        _apply_yanks(local, wanted)
    return result


def publish_many(prepared: list[PreparedProject]) -> list[ApplyResult]:
    """``publish_prepared`` for each, in order; the projects new to this node together, in one
    transaction (``new_projects_publish``). When that fails, or for a project it leaves out,
    each goes on its own, so that one bad project fails alone."""
    results: dict[int, ApplyResult] = {}
    new = [i for i, p in enumerate(prepared) if p.is_new] if can_publish_new_projects() else []
    if len(new) > 1:
        try:
            with transaction.atomic():
                published = new_projects_publish([_new_project(prepared[i]) for i in new])
        except Exception as exc:
            logger.warning(
                "publishing %d new projects together failed (%r); one by one", len(new), exc
            )
            published = {}
        for i in new:  # published under the upstream's name for it, as _new_project gives it
            if canonicalize_name(prepared[i].remote.name) in published:
                results[i] = ApplyResult(errors=list(prepared[i].errors))
                _count_fetched(results[i], prepared[i].fetched)
    for i, one in enumerate(prepared):
        if i not in results:
            try:
                results[i] = publish_prepared(one)
            except Exception as exc:
                logger.exception("publishing %s failed", one.name)
                results[i] = ApplyResult(errors=[*one.errors, f"internal error: {exc!r}"])
    return [results[i] for i in range(len(prepared))]


def _new_distribution(item: FetchedFile) -> catalog.NewDistribution:
    return catalog.NewDistribution(
        file=item.file,
        version=item.version,
        packagetype=item.remote.packagetype or "sdist",
        python_version=item.remote.python_version or "source",
        requires_python=item.remote.requires_python,
        upload_time=item.remote.upload_time,
        core_metadata_sha256=item.core_metadata_sha256,
        yanked_reason=item.remote.yanked,
        release_metadata=item.release_metadata,
        provenance_sha256=item.provenance_sha256,
    )


def _new_project(prepared: PreparedProject) -> NewProject:
    """As ``_apply_yanks`` would leave it: a release yanked whole when its files published
    all carry one reason."""
    reasons: dict[str, set[str | None]] = defaultdict(set)
    for item in prepared.fetched:
        reasons[item.version].add(item.remote.yanked)
    return NewProject(
        name=prepared.remote.name,
        distributions=[_new_distribution(item) for item in prepared.fetched],
        release_yanks={
            version: next(iter(found))
            for version, found in reasons.items()
            if len(found) == 1 and next(iter(found)) is not None
        },
    )


def _count_fetched(result: ApplyResult, fetched: list[FetchedFile]) -> None:
    result.files += len(fetched)
    result.bytes += sum(item.file.size for item in fetched)


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

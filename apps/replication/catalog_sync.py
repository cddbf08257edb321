"""Making the catalog match upstream projects: fetch and verify what a project lacks here
(``prepare_remote_project``), then hand the catalog the project as the upstream lists it
(``publish_many``), which applies each change in one transaction with its journal entries.
Replication writes no catalog row itself (architecture.md, invariant 7).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from packaging.utils import canonicalize_name

from apps.catalog.maintenance import temporary_blobs_remove_dead
from apps.catalog.mirroring import ListedFile, MirrorChange, projects_mirror
from apps.catalog.selectors import TakedownBlocks, projects_held_files, takedown_blocks
from apps.catalog.services import NewDistribution

from .clients.base import RemoteFile, RemoteProject, UpstreamError
from .fetcher import FetchedFile, fetch_file


@dataclass
class ApplyResult:
    files: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)
    shadowed_by: str | None = None  # the project is another source's: nothing was changed


def _needs_reading(remote_file: RemoteFile, with_wheel: set[str]) -> bool:
    """Whether the file's own metadata is wanted: for a wheel (PEP 658), for a file whose
    version the upstream does not give, and for the metadata of a release without a wheel."""
    return (
        remote_file.filename.endswith(".whl")
        or remote_file.version is None
        or remote_file.version not in with_wheel
    )


@dataclass
class PreparedProject:
    """A project's files fetched and verified in the store, its catalog change still to make."""

    name: str
    source: str  # the upstream's key among the catalog's sources
    remote: RemoteProject | None
    held: dict[str, str]
    wanted: dict[str, RemoteFile] = field(default_factory=dict)
    fetched: list[FetchedFile] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def prepare_remote_project(
    *,
    http: httpx.Client,
    name: str,
    source: str,
    remote: RemoteProject | None,
    held: dict[str, str] | None = None,
    heartbeat: Callable[[], None] = lambda: None,
    blocks: TakedownBlocks | None = None,
    tidied: bool = False,
) -> PreparedProject:
    """Fetch what the project lacks here. A file that fails is reported in ``errors`` and left
    out; the rest of the project's change is still made, so one bad file never hides good ones.
    A file a standing takedown holds here is neither fetched nor offered to the catalog.

    ``held``, ``blocks``: the project's files here (``projects_held_files``) and its
    takedowns (``takedown_blocks``), when the caller read them. ``tidied``: the caller removed
    what the project's killed downloads left (``temporary_blobs_remove_dead``).
    """
    normalized = canonicalize_name(name)
    if held is None:
        held = projects_held_files(names=[normalized]).get(normalized, {})
    if blocks is None:
        blocks = takedown_blocks(names=[normalized]).get(normalized, TakedownBlocks())
    prepared = PreparedProject(name=name, source=source, remote=remote, held=held)
    if not tidied:  # what its downloads killed before left behind
        temporary_blobs_remove_dead(projects=[name])
    if remote is None or remote.status == "quarantined":
        return prepared  # PEP 792: a quarantined project's files are neither offered nor fetched
    for remote_file in remote.files:
        if blocks.blocks(filename=remote_file.filename, version=remote_file.version):
            continue  # taken down here: never brought back while the takedown stands
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
                    project=name,
                )
            )
        except UpstreamError as exc:
            prepared.errors.append(str(exc))
        heartbeat()  # still working: keep the project's lease
    return prepared


def mirror_change(prepared: PreparedProject) -> MirrorChange:
    """What the catalog is to make of the project: as the upstream lists it, with what was
    fetched (``apps.catalog.mirroring``)."""
    remote = prepared.remote
    if remote is None:
        return MirrorChange(name=prepared.name, source=prepared.source, listed=None)
    fetched = {item.remote.filename for item in prepared.fetched}
    return MirrorChange(
        name=remote.name,
        source=prepared.source,
        listed={
            filename: ListedFile(sha256=f.sha256, yanked=f.yanked)
            for filename, f in prepared.wanted.items()
        },
        fetched=[_new_distribution(item) for item in prepared.fetched],
        index_status=remote.status,
        index_status_reason=remote.status_reason,
        failed=frozenset(prepared.wanted.keys() - fetched),
        held_any=bool(prepared.held),
    )


def publish_many(prepared: list[PreparedProject]) -> list[ApplyResult]:
    """Make the catalog match each project (``projects_mirror``: the projects new to this node
    together), with the errors of their fetches."""
    results = projects_mirror([mirror_change(p) for p in prepared])
    return [
        ApplyResult(
            files=result.files,
            bytes=result.bytes,
            errors=[*p.errors, *([result.error] if result.error else [])],
            shadowed_by=result.shadowed_by,
        )
        for p, result in zip(prepared, results, strict=True)
    ]


def _new_distribution(item: FetchedFile) -> NewDistribution:
    return NewDistribution(
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

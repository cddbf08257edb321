"""What every upstream client returns, whatever protocol it speaks."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from packaging.utils import canonicalize_name


class UpstreamError(Exception):
    """One request or one project failed (5xx, timeout, bad body); others may succeed."""


class UpstreamUnusable(UpstreamError):
    """The upstream cannot be used at all (unreachable, not an index)."""


class StaleUpstream(UpstreamError):
    """The upstream's page is older than its listing said (a lagging CDN); try a later run."""


class ChangelogUnavailable(UpstreamError):
    """The upstream does not answer its changelog (no XML-RPC, or an error): plan from its
    listing instead. ``lasting``: it has no XML-RPC at all, so asking again soon is no use."""

    def __init__(self, message: str, *, lasting: bool = False) -> None:
        super().__init__(message)
        self.lasting = lasting


class CrossOriginRedirect(UpstreamError):
    """An index page redirected to another host; not followed."""


@dataclass(frozen=True)
class RemoteFile:
    filename: str
    url: str
    sha256: str
    size: int | None = None
    version: str | None = None
    packagetype: str | None = None
    python_version: str | None = None
    requires_python: str = ""
    upload_time: datetime | None = None
    yanked: str | None = None  # None: not yanked; a string: the reason ("" for none)
    # The PEP 658 metadata's sha256; "" when advertised without a hash; None when not served.
    core_metadata_sha256: str | None = None
    # PEP 740: the absolute URL of the file's provenance document; None when there is none.
    provenance_url: str | None = None


@dataclass
class RemoteProject:
    name: str
    serial: int | None
    files: list[RemoteFile]
    versions: list[str] = field(default_factory=list)
    # Conditional-request validators, for simple-only upstreams.
    etag: str = ""
    last_modified: str = ""
    # PEP 792: the project's status and its reason ("" for none).
    status: str = "active"
    status_reason: str = ""
    # The index page the files' provenance URLs came from: they must be on its host.
    page_url: str = ""


@dataclass(frozen=True)
class ProjectListing:
    """The upstream's project list: normalized name → (name as listed, serial or None).

    PyPI lists some 740,000 projects: made in one pass over the upstream's answer
    (``project_listing``), so no second copy of the names is kept beside it.
    """

    projects: dict[str, tuple[str, int | None]]
    serial: int | None
    every_serial_known: bool
    etag: str = ""  # the listing's ETag, if the upstream sent one


def project_listing(
    pairs: Iterable[tuple[str, int | None]], *, serial: int | None
) -> ProjectListing:
    """The listing of (name as listed, serial or None) pairs; a later spelling of the same
    normalized name wins. A name already normalized is kept once, as both key and name."""
    projects: dict[str, tuple[str, int | None]] = {}
    every_serial_known = True
    for name, project_serial in pairs:
        normalized = canonicalize_name(name)
        if normalized == name:
            normalized = name
        projects[normalized] = (name, project_serial)
        every_serial_known = every_serial_known and project_serial is not None
    return ProjectListing(projects=projects, serial=serial, every_serial_known=every_serial_known)


@dataclass(frozen=True)
class SimplePage:
    """What a project's PEP 691 page adds to the JSON API: PEP 792 status, PEP 740 provenance."""

    url: str
    status: str
    reason: str
    provenance: dict[str, str]  # filename → provenance URL


NOT_MODIFIED = object()


class UpstreamClient(Protocol):
    protocol: str
    # Whether the upstream may tell what changed since a serial (``changed_since``), so a plan
    # need not read its whole listing.
    offers_changelog: bool

    def list_projects(self, *, etag: str = "") -> ProjectListing | object:
        """The upstream's projects; ``NOT_MODIFIED`` when the listing is the one that had
        ``etag`` (clients whose listings cannot tell ignore it)."""
        ...

    def get_project(
        self, name: str, *, etag: str = "", last_modified: str = ""
    ) -> RemoteProject | None:
        """The project's files; None when the upstream no longer has it; ``NOT_MODIFIED`` when a
        conditional request says nothing changed."""
        ...

    def changed_since(self, serial: int) -> tuple[dict[str, tuple[str, int]], int]:
        """Only where ``offers_changelog``: the projects changed after ``serial`` (normalized
        name → (name, newest serial)) and the newest serial the changelog reached;
        ChangelogUnavailable when the plan should read the listing instead."""
        ...

    def simple_page(self, name: str) -> SimplePage | None:
        """The project's PEP 792 status and PEP 740 provenance as its index page gives them
        now (the status re-read); None when the upstream does not have it."""
        ...

    def close(self) -> None: ...

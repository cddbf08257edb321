"""What every upstream client returns, whatever protocol it speaks."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class UpstreamError(Exception):
    """One request or one project failed (5xx, timeout, bad body); others may succeed."""


class UpstreamUnusable(UpstreamError):
    """The upstream cannot be used at all (unreachable, not an index)."""


class StaleUpstream(UpstreamError):
    """The upstream's page is older than its listing said (a lagging CDN); try a later run."""


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


@dataclass
class RemoteProject:
    name: str
    serial: int | None
    files: list[RemoteFile]
    versions: list[str] = field(default_factory=list)
    # Conditional-request validators, for simple-only upstreams.
    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True)
class ProjectListing:
    """The upstream's project list: normalized name → (display name, serial or None)."""

    projects: dict[str, tuple[str, int | None]]
    serial: int | None


NOT_MODIFIED = object()


class UpstreamClient(Protocol):
    protocol: str

    def list_projects(self) -> ProjectListing: ...

    def get_project(
        self, name: str, *, etag: str = "", last_modified: str = ""
    ) -> RemoteProject | None:
        """The project's files; None when the upstream no longer has it; ``NOT_MODIFIED`` when a
        conditional request says nothing changed."""
        ...

    def close(self) -> None: ...

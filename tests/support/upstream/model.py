"""The state of a Warehouse-shaped upstream: projects, releases, files and the serial journal.

Every change takes the next integer of one global serial and is journaled with Warehouse's
action text (``create``, ``new release``, ``add py3 file x.whl``, ``remove file x.whl``,
``yank release``, ``unyank release``, ``remove release``, ``remove project``); a project's
last serial is its newest entry. PEP 792 statuses are set with ``set_status``, journaled or
not (PyPI journals a quarantine but not an archival); PEP 740 provenance documents come with
the files they attest (``provenance=``). Nothing reaches disk until ``WarehouseUpstream.write()``
(see ``tree.py``).
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tests.support.dists import (
    DistSpec,
    metadata_text,
    sdist_bytes,
    sdist_filename,
    wheel_bytes,
    wheel_filename,
)

# Upload times are derived from the serial, so a rebuilt tree is byte-for-byte the same.
EPOCH = datetime(2024, 1, 1)


def upload_time(serial: int) -> datetime:
    """A naive UTC time (as Warehouse stores it) with microseconds, like real upload times."""
    return EPOCH + timedelta(minutes=serial, microseconds=(serial * 7919) % 1_000_000 or 1)


def version_key(version: str) -> tuple:
    """Warehouse's order (packaging_legacy): legacy versions sort before every PEP 440 one."""
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def is_prerelease(version: str) -> bool:
    try:
        return Version(version).is_prerelease
    except InvalidVersion:
        return False


@dataclass
class UpstreamFile:
    filename: str
    version: str
    packagetype: str
    python_version: str
    size: int
    md5: str
    sha256: str
    blake2b_256: str
    upload_time: datetime
    # The sha256 of the PEP 658 metadata file served at ``<url>.metadata``; None: not served.
    metadata_sha256: str | None = None
    # PEP 740: the provenance document served at ``provenance_path``; None: none.
    provenance: bytes | None = None
    # A provenance URL to list instead of this upstream's own (a hostile upstream's).
    provenance_url: str | None = None

    @property
    def path(self) -> str:
        """Warehouse's storage path (by blake2b-256, as PyPI): ``aa/bb/cccc.../filename``."""
        h = self.blake2b_256
        return f"{h[:2]}/{h[2:4]}/{h[4:]}/{self.filename}"

    def provenance_path(self, project: str) -> str:
        """PyPI's integrity path (under the root): ``<project>/<version>/<filename>/provenance``."""
        return f"{project}/{self.version}/{self.filename}/provenance"


@dataclass
class UpstreamRelease:
    version: str
    requires_python: str = ""
    summary: str = ""
    requires: tuple[str, ...] = ()
    yanked: bool = False
    yanked_reason: str = ""
    files: dict[str, UpstreamFile] = field(default_factory=dict)

    @cached_property
    def sort_key(self) -> tuple:
        return version_key(self.version)


@dataclass
class UpstreamProject:
    name: str  # as uploaded; the normalized name is the key everywhere
    last_serial: int = 0
    status: str = "active"  # PEP 792
    status_reason: str = ""
    releases: dict[str, UpstreamRelease] = field(default_factory=dict)

    @property
    def normalized(self) -> str:
        return canonicalize_name(self.name)

    def files(self) -> list[tuple[UpstreamRelease, UpstreamFile]]:
        """All files, in Warehouse's simple-page order: by version, then filename."""
        return sorted(
            ((r, f) for r in self.releases.values() for f in r.files.values()),
            key=lambda rf: (rf[0].sort_key, rf[1].filename),
        )

    def latest(self) -> UpstreamRelease | None:
        """The release the JSON API's ``info`` shows: not yanked, final, then highest."""
        ordered = sorted(self.releases.values(), key=lambda r: r.sort_key, reverse=True)
        ordered.sort(key=lambda r: (r.yanked, is_prerelease(r.version)))
        return ordered[0] if ordered else None


@dataclass(frozen=True)
class JournalEntry:
    serial: int
    name: str
    version: str | None
    action: str
    timestamp: int


STATUSES = ("active", "archived", "quarantined", "deprecated")


def provenance_document(filename: str, sha256: str) -> bytes:
    """A PEP 740 provenance object for a file, shaped as PyPI's (a real one holds a Sigstore
    bundle per attestation; nothing here checks signatures)."""
    bundle = {
        "publisher": {"kind": "GitHub", "repository": "tests/example", "workflow": "release.yml"},
        "attestations": [
            {
                "version": 1,
                "verification_material": {
                    "certificate": "MIIC" + sha256[:32],
                    "transparency_entries": [],
                },
                "envelope": {"statement": f"{filename}:{sha256}", "signature": sha256[::-1]},
            }
        ],
    }
    return json.dumps({"version": 1, "attestation_bundles": [bundle]}, indent=2).encode()


def digests(data: bytes) -> dict[str, str]:
    return {
        "md5": hashlib.md5(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
        "blake2b_256": hashlib.blake2b(data, digest_size=32).hexdigest(),
    }


class UpstreamState:
    """Projects and journal; ``WarehouseUpstream`` adds the tree on disk."""

    def __init__(self) -> None:
        self.projects: dict[str, UpstreamProject] = {}
        self.journal: list[JournalEntry] = []
        # Blobs not yet on disk (path under packages/ → bytes) and paths to delete on write().
        self._pending_blobs: dict[str, bytes] = {}
        self._removed_blobs: set[str] = set()
        self._dirty: set[str] = set()
        self._file_owner: dict[str, str] = {}  # filename → normalized project name

    @property
    def serial(self) -> int:
        return self.journal[-1].serial if self.journal else 0

    def project(self, name: str) -> UpstreamProject:
        try:
            return self.projects[canonicalize_name(name)]
        except KeyError:
            raise KeyError(f"no project {name!r} upstream") from None

    def release(self, name: str, version: str) -> UpstreamRelease:
        try:
            return self.project(name).releases[version]
        except KeyError:
            raise KeyError(f"no release {name} {version} upstream") from None

    def project_of_file(self, filename: str) -> str | None:
        """The normalized name of the project that holds ``filename`` now."""
        return self._file_owner.get(filename)

    def _journal(self, project: UpstreamProject, version: str | None, action: str) -> int:
        serial = self.serial + 1
        timestamp = int((upload_time(serial) - datetime(1970, 1, 1)).total_seconds())
        self.journal.append(JournalEntry(serial, project.name, version, action, timestamp))
        project.last_serial = serial
        self._dirty.add(project.normalized)
        return serial

    def _ensure_release(self, name: str, version: str, **fields) -> UpstreamRelease:
        key = canonicalize_name(name)
        project = self.projects.get(key)
        if project is None:
            project = self.projects[key] = UpstreamProject(name=name)
            self._journal(project, None, "create")
        release = project.releases.get(version)
        if release is None:
            release = project.releases[version] = UpstreamRelease(version=version, **fields)
            self._journal(project, version, "new release")
        return release

    def add_release(
        self,
        name: str,
        version: str,
        *,
        wheel: bool = True,
        sdist: bool = True,
        requires: tuple[str, ...] | list[str] = (),
        requires_python: str = "",
        summary: str = "",
        yanked: str | None = None,
        size_padding: int = 0,
        provenance: bool = False,
    ) -> list[UpstreamFile]:
        """A release with a real wheel (with PEP 658 metadata) and/or sdist, pip-installable.

        ``wheel=False, sdist=False`` makes a release with no files (it still shows in the JSON
        API's ``releases``). ``yanked``: a reason ("" for none) to yank it right after upload.
        ``provenance``: each file comes with a PEP 740 provenance document.
        """
        project = self.projects.get(canonicalize_name(name))
        if project and version in project.releases:
            raise ValueError(f"{name} {version} exists upstream; use add_raw_file for more files")
        spec = DistSpec(
            name=name,
            version=version,
            requires=list(requires),
            requires_python=requires_python,
            summary=summary,
            padding=size_padding,
        )
        self._ensure_release(
            name,
            version,
            requires_python=requires_python,
            summary=summary or f"The {name} test project",
            requires=tuple(requires),
        )
        added = []
        if wheel:
            metadata = metadata_text(spec).encode()
            added.append(
                self.add_raw_file(
                    name,
                    version,
                    wheel_filename(spec),
                    wheel_bytes(spec),
                    packagetype="bdist_wheel",
                    python_version="py3",
                    metadata=metadata,
                    provenance=provenance,
                )
            )
        if sdist:
            added.append(
                self.add_raw_file(
                    name, version, sdist_filename(spec), sdist_bytes(spec), provenance=provenance
                )
            )
        if yanked is not None:
            self.yank(name, version, yanked)
        return added

    def add_raw_file(
        self,
        name: str,
        version: str,
        filename: str,
        data: bytes,
        *,
        packagetype: str = "sdist",
        python_version: str = "source",
        requires_python: str | None = None,
        metadata: bytes | None = None,
        provenance: bytes | bool | None = None,
    ) -> UpstreamFile:
        """Any file, as odd as real PyPI holds: ``.egg`` (``bdist_egg``, ``2.7``), ``.exe``
        (``bdist_wininst``), ``.zip``/``.tar.bz2`` sdists, legacy versions such as ``2004d``.

        ``requires_python`` is the release's (Warehouse keeps it per release), kept verbatim,
        e.g. ``>=3.6,`` or ``>= '2.7'``. ``metadata``: PEP 658 bytes to serve beside it.
        ``provenance``: its PEP 740 document (bytes, as odd as a test wants; True: a valid one).
        """
        if filename in self._file_owner:
            raise ValueError(f"{filename} exists upstream")
        release = self._ensure_release(name, version)
        if requires_python is not None:
            release.requires_python = requires_python
        project = self.project(name)
        serial = self.serial + 1
        hashes = digests(data)
        file = UpstreamFile(
            filename=filename,
            version=version,
            packagetype=packagetype,
            python_version=python_version,
            size=len(data),
            md5=hashes["md5"],
            sha256=hashes["sha256"],
            blake2b_256=hashes["blake2b_256"],
            upload_time=upload_time(serial),
            metadata_sha256=hashlib.sha256(metadata).hexdigest() if metadata is not None else None,
        )
        if provenance is True:
            provenance = provenance_document(filename, hashes["sha256"])
        file.provenance = provenance or None
        release.files[filename] = file
        self._file_owner[filename] = project.normalized
        self._pending_blobs[file.path] = data
        self._removed_blobs.discard(file.path)
        if metadata is not None:
            self._pending_blobs[file.path + ".metadata"] = metadata
            self._removed_blobs.discard(file.path + ".metadata")
        self._journal(project, version, f"add {python_version} file {filename}")
        return file

    def set_status(
        self, name: str, status: str, reason: str = "", *, journal: bool = True
    ) -> int | None:
        """Set a project's PEP 792 status: journaled (its serial moves), or not (as PyPI
        archives: only the pages change). Returns the new serial, or None."""
        if status not in STATUSES:
            raise ValueError(f"{status!r} is not a PEP 792 status")
        project = self.project(name)
        project.status, project.status_reason = status, reason
        if not journal:
            self._dirty.add(project.normalized)
            return None
        return self._journal(project, None, f"project status {status}")

    def add_provenance(self, filename: str, provenance: bytes | None = None) -> None:
        """Give a file its PEP 740 document after the fact, without a journal entry: what a
        node that synced before it kept provenance finds on the pages now."""
        project = self.projects[self._file_owner[filename]]
        file = next(f for _r, f in project.files() if f.filename == filename)
        file.provenance = provenance or provenance_document(filename, file.sha256)
        self._dirty.add(project.normalized)

    def yank(self, name: str, version: str, reason: str = "") -> int:
        release = self.release(name, version)
        release.yanked, release.yanked_reason = True, reason
        return self._journal(self.project(name), version, "yank release")

    def unyank(self, name: str, version: str) -> int:
        release = self.release(name, version)
        release.yanked, release.yanked_reason = False, ""
        return self._journal(self.project(name), version, "unyank release")

    def _drop_file(self, file: UpstreamFile) -> None:
        del self._file_owner[file.filename]
        for path in (file.path, file.path + ".metadata"):
            self._pending_blobs.pop(path, None)
            self._removed_blobs.add(path)

    def remove_file(self, filename: str) -> int:
        """Remove one file; its release stays (with no files, if it was the last)."""
        project = self.projects[self._file_owner[filename]]
        release = next(r for r in project.releases.values() if filename in r.files)
        self._drop_file(release.files.pop(filename))
        return self._journal(project, release.version, f"remove file {filename}")

    def remove_release(self, name: str, version: str) -> int:
        project = self.project(name)
        for file in project.releases.pop(version).files.values():
            self._drop_file(file)
        return self._journal(project, version, "remove release")

    def delete_project(self, name: str) -> int:
        """The project disappears everywhere: root, pages, JSON API and files (404)."""
        project = self.projects.pop(canonicalize_name(name))
        for release in project.releases.values():
            for file in release.files.values():
                self._drop_file(file)
        return self._journal(project, None, "remove project")

"""Which stored bytes a ``/packages/...`` URL names.

The URL path is never used as a filesystem path. It must have PyPI's layout
``<h[:2]>/<h[2:4]>/<h[4:]>/<filename>`` (h = lowercase hex sha256), optionally followed by
``.metadata`` (PEP 658); the filename must be a plain name; and a served Distribution with that
sha256 and filename must exist, stored where the blob store puts such bytes. Only the blob path
stored in its row is then opened, through the blob storage. Anything else is "not found", so
``..``, encoded separators and absolute paths never reach the disk.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from packaging.utils import canonicalize_name

from apps.catalog.blobstore import (
    METADATA_SUFFIX,
    BlobError,
    blob_paths_accepted,
    provenance_blob_path,
    validate_filename,
)
from apps.catalog.selectors import (
    distribution_get_by_path,
    distribution_get_provenance,
    file_taken_down,
)

from .inputs import MAX_FILENAME_LENGTH, project_name_ok, version_ok

_PATH_RE = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{60})/([^/\\]+)")

FILE_CONTENT_TYPE = "application/octet-stream"
# PEP 658 names no media type and pip, uv and bandersnatch read the bytes whatever it says; the
# metadata file is served as the opaque blob it is stored as, like the distribution itself.
METADATA_CONTENT_TYPE = "application/octet-stream"
# PEP 740: what PyPI answers at /integrity/.../provenance.
PROVENANCE_CONTENT_TYPE = "application/vnd.pypi.integrity.v1+json"


@dataclass(frozen=True)
class StoredFile:
    """Bytes the node serves: where they are in the blob storage and what describes them."""

    storage_path: str
    sha256: str  # of exactly these bytes: the strong ETag
    size: int | None  # None: ask the storage (metadata files)
    last_modified: datetime
    content_type: str


@dataclass(frozen=True)
class FilePath:
    """What a ``/packages/`` path names, from its text alone."""

    sha256: str
    filename: str  # the distribution's, without METADATA_SUFFIX
    metadata: bool  # the PEP 658 metadata file of that distribution


# The longest path that can name a file: the digest's parts, a filename, ".metadata".
MAX_PATH_LENGTH = 2 + 1 + 2 + 1 + 60 + 1 + MAX_FILENAME_LENGTH + len(METADATA_SUFFIX)


def file_path_parse(path: str) -> FilePath | None:
    """The parts of ``path`` (after ``/packages/``), or None unless it has PyPI's layout and a
    plain filename (``blobstore.validate_filename``). Linear in ``path``, never raises."""
    if len(path) > MAX_PATH_LENGTH:
        return None
    match = _PATH_RE.fullmatch(path)
    if match is None:
        return None
    filename = match.group(4)
    wants_metadata = filename.endswith(METADATA_SUFFIX)
    if wants_metadata:
        filename = filename.removesuffix(METADATA_SUFFIX)
    try:
        validate_filename(filename)
    except BlobError:
        return None
    return FilePath(sha256="".join(match.groups()[:3]), filename=filename, metadata=wants_metadata)


def stored_file_resolve(path: str) -> StoredFile | None:
    """The file or metadata file ``path`` (the part after ``/packages/``) names, or None."""
    parsed = file_path_parse(path)
    if parsed is None:
        return None
    sha256, filename, wants_metadata = parsed.sha256, parsed.filename, parsed.metadata
    try:
        accepted = blob_paths_accepted(sha256=sha256, filename=filename)
    except BlobError:
        return None
    distribution = distribution_get_by_path(sha256=sha256, filename=filename)
    if distribution is None or distribution.blob_path not in accepted:
        return None
    if wants_metadata:
        if not distribution.core_metadata_sha256:
            return None
        return StoredFile(
            storage_path=distribution.metadata_blob_path,
            sha256=distribution.core_metadata_sha256,
            size=None,
            last_modified=distribution.upload_time,
            content_type=METADATA_CONTENT_TYPE,
        )
    return StoredFile(
        storage_path=distribution.blob_path,
        sha256=distribution.sha256,
        size=distribution.size,
        last_modified=distribution.upload_time,
        content_type=FILE_CONTENT_TYPE,
    )


def stored_provenance_resolve(*, project: str, version: str, filename: str) -> StoredFile | None:
    """The PEP 740 provenance document of a served file, or None (a name not normalized, no
    such file, no provenance, or a quarantined project). Text no row can hold is not looked up."""
    if project != canonicalize_name(project) or not (
        project_name_ok(project) and version_ok(version)
    ):
        return None
    try:
        validate_filename(filename)
    except BlobError:
        return None
    distribution = distribution_get_provenance(
        normalized_name=project, version=version, filename=filename
    )
    if distribution is None:
        return None
    return StoredFile(
        storage_path=provenance_blob_path(distribution.provenance_sha256),
        sha256=distribution.provenance_sha256,
        size=None,
        last_modified=distribution.upload_time,
        content_type=PROVENANCE_CONTENT_TYPE,
    )


def stored_file_gone(path: str) -> bool:
    """Whether the file (or its ``.metadata``) that ``path`` names is taken down here, so
    that it answers 410 Gone; asked only after ``stored_file_resolve`` found nothing."""
    parsed = file_path_parse(path)
    return parsed is not None and file_taken_down(filename=parsed.filename, sha256=parsed.sha256)


def stored_provenance_gone(*, filename: str) -> bool:
    """Whether the file whose provenance is asked for is taken down here (410 Gone)."""
    try:
        validate_filename(filename)
    except BlobError:
        return False
    return file_taken_down(filename=filename)

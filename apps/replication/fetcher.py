"""Downloading one upstream file into the blob store: streamed, size-bounded, sha256-checked,
with its PEP 658 metadata checked too. Nothing of a file that fails is kept."""

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings

from apps.catalog.blobstore import (
    MAX_PROVENANCE_SIZE,
    BlobError,
    BlobWriter,
    VerifiedFile,
    metadata_put,
    provenance_check,
    provenance_put,
)
from apps.catalog.distfiles import (
    MAX_METADATA_SIZE,
    InvalidDistribution,
    inspect_distribution,
)

from .clients.base import RemoteFile, UpstreamError
from .clients.http import file_stream, http_errors

INTEGRITY_ACCEPT = "application/vnd.pypi.integrity.v1+json"

CHUNK_SIZE = 256 * 1024
HEARTBEAT_SECONDS = 30


@dataclass(frozen=True)
class FetchedFile:
    remote: RemoteFile
    file: VerifiedFile
    version: str
    core_metadata_sha256: str | None
    release_metadata: dict
    provenance_sha256: str | None = None


def _download(
    http: httpx.Client, remote: RemoteFile, writer: BlobWriter, heartbeat: Callable[[], None]
) -> None:
    # identity: the sha256 is of the file's bytes, not of a transfer encoding of them
    headers = {"Accept-Encoding": "identity"}
    with http_errors(remote.url), file_stream(http, remote.url, headers=headers) as response:
        if response.status_code != 200:
            raise UpstreamError(f"{remote.filename}: HTTP {response.status_code}")
        beat = time.monotonic()
        for chunk in response.iter_bytes(CHUNK_SIZE):
            writer.write(chunk)
            if time.monotonic() - beat > HEARTBEAT_SECONDS:  # a long download keeps its lease
                heartbeat()
                beat = time.monotonic()


def _fetch_metadata(http: httpx.Client, remote: RemoteFile) -> bytes:
    url = f"{remote.url}.metadata"
    with http_errors(url), file_stream(http, url, headers={}) as response:
        if response.status_code != 200:
            raise UpstreamError(f"{remote.filename}.metadata: HTTP {response.status_code}")
        data = bytearray()
        for chunk in response.iter_bytes(CHUNK_SIZE):
            data += chunk
            if len(data) > MAX_METADATA_SIZE:
                raise UpstreamError(f"{remote.filename}.metadata: implausibly large")
    return bytes(data)


def _checked_metadata(
    http: httpx.Client, remote: RemoteFile, from_file: bytes | None
) -> bytes | None:
    """The file's PEP 658 metadata, checked against the hash the upstream gives for it.

    The wheel's own METADATA is used when it matches (no extra request); otherwise, or for files
    we cannot read, the upstream's ``.metadata`` is fetched.
    """
    if remote.core_metadata_sha256 is None:
        return from_file
    wanted = remote.core_metadata_sha256 or None
    if from_file is not None and (
        wanted is None or hashlib.sha256(from_file).hexdigest() == wanted
    ):
        return from_file
    data = _fetch_metadata(http, remote)
    if wanted is not None and hashlib.sha256(data).hexdigest() != wanted:
        raise UpstreamError(f"{remote.filename}.metadata: sha256 does not match the upstream's")
    return data


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


def fetch_provenance(http: httpx.Client, remote: RemoteFile, page_url: str) -> bytes:
    """The file's PEP 740 provenance document, from the host of the index page that listed it
    (never another: a redirect is not followed), bounded and checked to be a JSON object."""
    url = remote.provenance_url
    if not page_url or _origin(url) != _origin(page_url):
        raise UpstreamError(f"{remote.filename}: provenance on another host than the index: {url}")
    data = bytearray()
    headers = {"Accept": INTEGRITY_ACCEPT}
    with (
        http_errors(url),
        http.stream("GET", url, headers=headers, follow_redirects=False) as response,
    ):
        if response.status_code != 200:
            raise UpstreamError(f"{remote.filename}: provenance: HTTP {response.status_code}")
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > MAX_PROVENANCE_SIZE:
                raise UpstreamError(
                    f"{remote.filename}: provenance larger than {MAX_PROVENANCE_SIZE} bytes"
                )
    try:
        provenance_check(bytes(data))
    except BlobError as exc:
        raise UpstreamError(f"{remote.filename}: {exc}") from None
    return bytes(data)


def fetch_file(
    http: httpx.Client,
    remote: RemoteFile,
    *,
    heartbeat: Callable[[], None] = lambda: None,
    inspect: bool = True,
    page_url: str = "",
    project: str | None = None,
) -> FetchedFile:
    """Download, verify and store one file; raises UpstreamError (nothing stored) when it fails.

    ``inspect=False`` skips reading the file's own metadata: for a file whose version the
    upstream gives and whose release takes its metadata from another file (the sdist beside a
    wheel), reading it would only cost time. ``page_url``: the index page that listed the file;
    its PEP 740 provenance must be on that page's host. ``project``: the project it is for,
    named in its temporary file's name (so the project's next sync removes it if this dies).
    """
    try:
        writer = BlobWriter(
            filename=remote.filename,
            expected_sha256=remote.sha256,
            expected_size=remote.size,
            max_size=settings.PYPIMIRROR_MAX_FILE_SIZE,
            keep_small=inspect,
            project=project,
        )
    except BlobError as exc:
        raise UpstreamError(str(exc)) from None
    with writer:
        try:
            _download(http, remote, writer, heartbeat)
            writer.verify()
        except BlobError as exc:
            raise UpstreamError(str(exc)) from None
        info = None
        if inspect:
            source = writer.content or Path(writer.path)  # in memory when small
            # Real PyPI holds files we cannot read (.exe, .egg, broken sdists): keep them.
            with contextlib.suppress(InvalidDistribution):
                info = inspect_distribution(source, remote.filename)
        version = remote.version or (info.version if info else None)
        if not version:
            raise UpstreamError(f"{remote.filename}: cannot tell which version it belongs to")
        core_metadata = _checked_metadata(http, remote, info.core_metadata if info else None)
        provenance = None
        if remote.provenance_url:
            provenance = fetch_provenance(http, remote, page_url)
        verified = writer.commit()  # only now: nothing is stored for a file that fails
    metadata_sha256 = None
    if core_metadata is not None:
        metadata_sha256 = metadata_put(blob_path=verified.blob_path, data=core_metadata)
    return FetchedFile(
        remote=remote,
        file=verified,
        version=version,
        core_metadata_sha256=metadata_sha256,
        release_metadata=info.metadata if info else {},
        provenance_sha256=provenance_put(provenance) if provenance is not None else None,
    )

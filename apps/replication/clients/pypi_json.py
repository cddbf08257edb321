"""PyPI's own read protocol: the PEP 691 JSON root with per-project ``_last-serial`` for planning,
each project's PEP 691 page (with ``X-PyPI-Last-Serial``). PyPI and pypimirror nodes.

A project's page alone serves where it tells each file's release, size and upload time (API
1.1+; nearly every project); otherwise ``/pypi/<name>/json`` is read too, for each file's
release. The JSON API carries neither PEP 740 provenance nor PEP 792 status (and answers 404
for a quarantined project), which only the page gives.
"""

import io
import re
from collections.abc import Iterator
from dataclasses import replace

import httpx
import ijson
from packaging.utils import canonicalize_name

from ..redaction import redact_url
from .base import (
    NOT_MODIFIED,
    ChangelogUnavailable,
    ProjectListing,
    RemoteFile,
    RemoteProject,
    SimplePage,
    UpstreamError,
    project_listing,
)
from .changelog import XMLRPCNotOffered, changelog_changes, xmlrpc_call
from .http import fetch_document, header_serial, parse_json
from .parsing import (
    file_facts,
    json_file_fields,
    metadata_sha256,
    parse_691_page,
    parse_time,
    yanked_reason,
)

JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"


def parse_json_root(url: str, body: bytes) -> ProjectListing:
    """The listing a PEP 691 root gives, ``meta._last-serial`` its serial. Streamed (ijson):
    PyPI's root lists some 740,000 projects, and a parsed tree of them would be held beside
    the listing made from it. Entries that are not objects with a name are left out."""
    if not _JSON_OBJECT.match(body):
        raise UpstreamError(f"{redact_url(url)}: expected a JSON object")
    try:
        meta = next(ijson.items(io.BytesIO(body), "meta", use_float=True), None)
        serial = meta.get("_last-serial") if isinstance(meta, dict) else None
        return project_listing(_root_entries(body), serial=serial if _is_serial(serial) else None)
    except (ijson.JSONError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise UpstreamError(f"{redact_url(url)}: malformed JSON: {exc}") from None


_JSON_OBJECT = re.compile(rb"\s*\{")


def _is_serial(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _root_entries(body: bytes) -> Iterator[tuple[str, int | None]]:
    for entry in ijson.items(io.BytesIO(body), "projects.item", use_float=True):
        if isinstance(entry, dict) and isinstance(name := entry.get("name"), str):
            serial = entry.get("_last-serial")
            yield name, serial if _is_serial(serial) else None


def file_from_jsonapi(entry: dict, version: str, page_url: str) -> RemoteFile:
    fields = json_file_fields(entry, hashes_key="digests", page_url=page_url)
    _version, packagetype, python_version = file_facts(fields["filename"])
    return RemoteFile(
        **fields,
        version=version,
        packagetype=entry.get("packagetype") or packagetype,
        python_version=entry.get("python_version") or python_version,
        requires_python=entry.get("requires_python") or "",
        upload_time=parse_time(entry.get("upload_time_iso_8601") or entry.get("upload_time")),
        yanked=yanked_reason(entry.get("yanked_reason") or True) if entry.get("yanked") else None,
        core_metadata_sha256=metadata_sha256(
            entry.get("core-metadata", entry.get("data-dist-info-metadata"))
        ),
    )


def _told(file: RemoteFile, versions: set[str]) -> bool:
    """Whether a PEP 691 entry tells all the catalog needs of its file. A name no store could
    hold (a path) counts as told: the fetch refuses it, on every protocol alike, rather than the
    JSON API being asked instead."""
    if "/" in file.filename or "\\" in file.filename or file.filename.startswith("."):
        return True
    return (
        file.version in versions
        and file.size is not None
        and file.upload_time is not None
        and file.packagetype is not None
    )


class PyPIJSONClient:
    protocol = "pypi-json"
    # PyPI and pypimirror nodes serve XML-RPC's changelog beside their JSON root: a plan asks
    # it first and reads the 700,000-project listing only when it is not answered.
    offers_changelog = True

    def __init__(self, *, base_url: str, http: httpx.Client) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http

    def list_projects(self, *, etag: str = "") -> ProjectListing | object:
        url = f"{self.base_url}/simple/"
        headers = {"Accept": JSON_ACCEPT} | ({"If-None-Match": etag} if etag else {})
        response, body = fetch_document(self.http, url, headers=headers)
        if response.status_code == 304 and etag:
            return NOT_MODIFIED
        if response.status_code != 200:
            raise UpstreamError(f"{url}: HTTP {response.status_code}")
        listing = parse_json_root(url, body)
        return replace(listing, etag=response.headers.get("ETag", ""))

    def changed_since(self, serial: int) -> tuple[dict[str, tuple[str, int]], int]:
        """The projects changed after ``serial`` from the upstream's XML-RPC changelog;
        ChangelogUnavailable when it does not answer one (any failure: the listing is always
        a right plan, only a slower one)."""
        try:
            answer = xmlrpc_call(self.http, self.base_url, "changelog_since_serial", serial)
            return changelog_changes(answer, serial)
        except UpstreamError as exc:
            lasting = isinstance(exc, XMLRPCNotOffered)
            raise ChangelogUnavailable(str(exc), lasting=lasting) from None

    def simple_page(self, name: str) -> SimplePage | None:
        """The project's PEP 691 page (PEP 792 status, PEP 740 provenance); None: 404."""
        read = self._page(name)
        return None if read is None else read[0]

    def _page(self, name: str) -> tuple[SimplePage, RemoteProject | None] | None:
        """The project's PEP 691 page, and the project as that page alone tells it when it
        tells all a file needs (else None); None for a 404."""
        url = f"{self.base_url}/simple/{canonicalize_name(name)}/"
        response, body = fetch_document(self.http, url, headers={"Accept": JSON_ACCEPT})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise UpstreamError(f"{url}: HTTP {response.status_code}")
        page_url = str(response.url)
        data = parse_json(url, body)
        files, versions, status, reason = parse_691_page(data, page_url)
        page = SimplePage(
            url=page_url,
            status=status,
            reason=reason,
            provenance={f.filename: f.provenance_url for f in files if f.provenance_url},
        )
        serial = header_serial(response)
        known = set(versions)
        # Enough alone where the page gives the serial and each file's size, upload time and
        # a release version that its filename names as the page lists it (PEP 700): PyPI's
        # and pypimirror's pages do for modern files. An odd file name, or an older index,
        # sends the sync to the JSON API, which names each file's release.
        if serial is None or not all(_told(f, known) for f in files):
            return page, None
        page_name = data.get("name")
        display = (
            page_name
            if isinstance(page_name, str) and page_name != canonicalize_name(page_name)
            else name
        )
        project = RemoteProject(
            name=display,
            serial=serial,
            files=files,
            versions=versions,
            status=status,
            status_reason=reason,
            page_url=page_url,
        )
        return page, project

    def get_project(self, name: str, **_conditional) -> RemoteProject | None:
        """The project from its PEP 691 page, one request, where that page tells everything
        (``_page``); otherwise from the JSON API, with the page's provenance and status (the
        JSON API carries neither)."""
        read = self._page(name)
        if read is None:
            return None  # gone (a quarantined project keeps its page, which says so)
        page, project = read
        if project is not None:
            return project
        url = f"{self.base_url}/pypi/{name}/json"
        response, body = fetch_document(self.http, url)
        if response.status_code == 404:
            # PyPI answers 404 here for a quarantined project (PEP 792): its page says so.
            if page.status != "quarantined":
                return None
            return RemoteProject(
                name=name,
                serial=None,
                files=[],
                status=page.status,
                status_reason=page.reason,
                page_url=page.url,
            )
        provenance = page.provenance
        data = parse_json(url, body)
        releases = data.get("releases")
        if not isinstance(releases, dict):
            raise UpstreamError(f"{url}: no releases")
        files = []
        for version, entries in releases.items():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    remote = file_from_jsonapi(entry, version, str(response.url))
                    if remote.filename in provenance:
                        remote = replace(remote, provenance_url=provenance[remote.filename])
                    files.append(remote)
        serial = header_serial(response)
        if serial is None and isinstance(data.get("last_serial"), int):
            serial = data["last_serial"]
        info_name = (data.get("info") or {}).get("name")
        return RemoteProject(
            name=info_name if isinstance(info_name, str) else name,
            serial=serial,
            files=files,
            versions=list(releases),
            status=page.status,
            status_reason=page.reason,
            page_url=page.url,
        )

    def close(self) -> None:
        self.http.close()

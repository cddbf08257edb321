"""Any PEP 503/691 index (pypiserver, devpi, a static tree): no serials, so projects are compared
by conditional requests (ETag / Last-Modified) and by their file sets."""

import httpx
from packaging.utils import canonicalize_name

from .base import NOT_MODIFIED, ProjectListing, RemoteFile, RemoteProject, UpstreamError
from .http import fetch_document, header_serial, parse_json
from .parsing import (
    file_facts,
    file_from_anchor,
    html_anchors,
    json_file_fields,
    metadata_sha256,
    parse_time,
    yanked_reason,
)
from .pypi_json import json_root_projects

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)


def _is_json(response: httpx.Response) -> bool:
    return response.headers.get("Content-Type", "").startswith(
        "application/vnd.pypi.simple.v1+json"
    )


def _file_from_691(entry: dict, page_url: str) -> RemoteFile:
    fields = json_file_fields(entry, hashes_key="hashes", page_url=page_url)
    version, packagetype, python_version = file_facts(fields["filename"])
    return RemoteFile(
        **fields,
        version=version,
        packagetype=packagetype,
        python_version=python_version,
        requires_python=entry.get("requires-python") or "",
        upload_time=parse_time(entry.get("upload-time")),
        yanked=yanked_reason(entry.get("yanked")),
        core_metadata_sha256=metadata_sha256(
            entry.get("core-metadata", entry.get("dist-info-metadata"))
        ),
    )


class SimpleClient:
    protocol = "simple"
    offers_changelog = False

    def __init__(self, *, simple_url: str, http: httpx.Client) -> None:
        self.simple_url = simple_url.rstrip("/") + "/"
        self.http = http

    def list_projects(self, *, etag: str = "") -> ProjectListing:
        """``etag`` is ignored: this listing does not tell whether any project changed."""
        response, body = fetch_document(self.http, self.simple_url, headers={"Accept": ACCEPT})
        if response.status_code != 200:
            raise UpstreamError(f"{self.simple_url}: HTTP {response.status_code}")
        if _is_json(response):
            listed = json_root_projects(parse_json(self.simple_url, body))
        else:
            listed = [(text, None) for _attrs, text in html_anchors(body) if text]
        return ProjectListing(listed=listed, serial=header_serial(response))

    def get_project(self, name: str, *, etag: str = "", last_modified: str = ""):
        url = f"{self.simple_url}{canonicalize_name(name)}/"
        headers = {"Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response, body = fetch_document(self.http, url, headers=headers)
        if response.status_code == 304:
            return NOT_MODIFIED
        if response.status_code == 404:
            return None
        page_url = str(response.url)
        if _is_json(response):
            data = parse_json(url, body)
            files = [
                _file_from_691(e, page_url) for e in data.get("files") or [] if isinstance(e, dict)
            ]
            versions = [v for v in data.get("versions") or [] if isinstance(v, str)]
            page_name = data.get("name")
            # PEP 691 pages give the normalized name; keep the listing's display name unless
            # the page has a better one.
            if isinstance(page_name, str) and page_name != canonicalize_name(page_name):
                display = page_name
            else:
                display = name
        else:
            files = [
                file_from_anchor(a, t, page_url) for a, t in html_anchors(body) if a.get("href")
            ]
            versions, display = [], name
        if not versions:
            versions = list(dict.fromkeys(f.version for f in files if f.version))
        return RemoteProject(
            name=display,
            serial=header_serial(response),
            files=files,
            versions=versions,
            etag=response.headers.get("ETag", ""),
            last_modified=response.headers.get("Last-Modified", ""),
        )

    def close(self) -> None:
        self.http.close()

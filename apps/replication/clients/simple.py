"""Any PEP 503/691 index (pypiserver, devpi, a static tree): no serials, so projects are compared
by conditional requests (ETag / Last-Modified) and by their file sets."""

from dataclasses import replace

import httpx
from packaging.utils import canonicalize_name

from .base import (
    NOT_MODIFIED,
    ProjectListing,
    RemoteProject,
    SimplePage,
    UpstreamError,
    project_listing,
)
from .http import fetch_document, header_serial, parse_json
from .parsing import file_from_anchor, html_anchors, html_page, html_project_status, parse_691_page
from .pypi_json import parse_json_root

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)


def _is_json(response: httpx.Response) -> bool:
    return response.headers.get("Content-Type", "").startswith(
        "application/vnd.pypi.simple.v1+json"
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
        serial = header_serial(response)
        if _is_json(response):
            return replace(parse_json_root(self.simple_url, body), serial=serial)
        anchors = html_anchors(body)
        return project_listing(((text, None) for _attrs, text in anchors if text), serial=serial)

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
            files, versions, status, reason = parse_691_page(data, page_url)
            page_name = data.get("name")
            # PEP 691 pages give the normalized name; keep the listing's display name unless
            # the page has a better one.
            if isinstance(page_name, str) and page_name != canonicalize_name(page_name):
                display = page_name
            else:
                display = name
        else:
            anchors, meta = html_page(body)
            files = [file_from_anchor(a, t, page_url) for a, t in anchors if a.get("href")]
            versions, display = [], name
            status, reason = html_project_status(meta, page_url)
        if not versions:
            versions = list(dict.fromkeys(f.version for f in files if f.version))
        return RemoteProject(
            name=display,
            serial=header_serial(response),
            files=files,
            versions=versions,
            etag=response.headers.get("ETag", ""),
            last_modified=response.headers.get("Last-Modified", ""),
            status=status,
            status_reason=reason,
            page_url=page_url,
        )

    def simple_page(self, name: str) -> SimplePage | None:
        """The project's PEP 792 status (and PEP 740 provenance) as its page gives them now;
        None: 404."""
        remote = self.get_project(name)
        if remote is None:
            return None
        provenance = {f.filename: f.provenance_url for f in remote.files if f.provenance_url}
        return SimplePage(
            url=remote.page_url,
            status=remote.status,
            reason=remote.status_reason,
            provenance=provenance,
        )

    def close(self) -> None:
        self.http.close()

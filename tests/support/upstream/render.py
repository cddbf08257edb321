"""Warehouse's documents, field for field: the JSON API, PEP 691 JSON and PEP 503 HTML pages.

Shapes follow warehouse/legacy/api/json.py, warehouse/packaging/utils.py and the simple
templates (api-version 1.4, as PyPI serves now). Where Warehouse departs from the PEPs, so do
these pages, since a mirror must cope with PyPI as it is: ``versions`` lists only versions that
have files, the JSON carries Warehouse's ``data-dist-info-metadata`` key beside
``core-metadata``, and a file's ``requires-python`` and ``yanked`` are its release's.
"""

import json
from html import escape
from urllib.parse import quote

from packaging.utils import canonicalize_name

from .model import UpstreamFile, UpstreamProject, UpstreamRelease, version_key

API_VERSION = "1.4"
# Pyramid's route_url leaves these unescaped in a path.
_PATH_SAFE = "/:@&+$,"


def file_url(base_url: str, file: UpstreamFile) -> str:
    return f"{base_url}/packages/{quote(file.path, safe=_PATH_SAFE)}"


def provenance_url(base_url: str, project: UpstreamProject, file: UpstreamFile) -> str | None:
    """PEP 740: Warehouse's ``integrity.provenance`` route, or None for a file without one."""
    if file.provenance_url is not None:
        return file.provenance_url
    if file.provenance is None:
        return None
    path = quote(file.provenance_path(project.normalized), safe=_PATH_SAFE)
    return f"{base_url}/integrity/{path}"


def project_status(project: UpstreamProject) -> dict:
    """PEP 792 ``project-status``; a reason only when there is one (PyPI sends none)."""
    status = {"status": project.status}
    if project.status_reason:
        status["reason"] = project.status_reason
    return status


def dumps(data: object) -> bytes:
    """Warehouse's ``json-with-newline`` renderer."""
    return (json.dumps(data) + "\n").encode()


def _core_metadata(file: UpstreamFile) -> dict | bool:
    return {"sha256": file.metadata_sha256} if file.metadata_sha256 else False


def json_api_file(base_url: str, release: UpstreamRelease, file: UpstreamFile) -> dict:
    return {
        "filename": file.filename,
        "packagetype": file.packagetype,
        "python_version": file.python_version,
        "has_sig": False,
        "comment_text": "",
        "md5_digest": file.md5,
        "digests": {"md5": file.md5, "sha256": file.sha256, "blake2b_256": file.blake2b_256},
        "core-metadata": _core_metadata(file),
        "size": file.size,
        "downloads": -1,
        "upload_time": file.upload_time.strftime("%Y-%m-%dT%H:%M:%S"),
        "upload_time_iso_8601": file.upload_time.isoformat() + "Z",
        "url": file_url(base_url, file),
        "requires_python": release.requires_python or None,
        "yanked": release.yanked,
        "yanked_reason": release.yanked_reason or None,
    }


def json_api(base_url: str, project: UpstreamProject) -> bytes | None:
    """``/pypi/<name>/json``; None when the project has no release or is quarantined (Warehouse
    answers 404)."""
    latest = project.latest()
    if latest is None or project.status == "quarantined":
        return None
    ordered = sorted(project.releases.values(), key=lambda r: r.sort_key, reverse=True)
    releases = {
        r.version: [json_api_file(base_url, r, r.files[n]) for n in sorted(r.files)]
        for r in ordered
    }
    page = f"https://pypi.org/project/{project.name}/"
    info = {
        "name": project.name,
        "version": latest.version,
        "summary": latest.summary,
        "description_content_type": "text/plain",
        "description": f"{project.name} {latest.version}.",
        "keywords": None,
        "license": "MIT",
        "license_expression": None,
        "license_files": None,
        "classifiers": ["Programming Language :: Python :: 3"],
        "author": "pypimirror tests",
        "author_email": None,
        "maintainer": None,
        "maintainer_email": None,
        "requires_python": latest.requires_python or None,
        "platform": None,
        "downloads": {"last_day": -1, "last_week": -1, "last_month": -1},
        "package_url": page,
        "project_url": page,
        "project_urls": None,
        "release_url": f"{page}{latest.version}/",
        "requires_dist": list(latest.requires) or None,
        "provides_extra": None,
        "docs_url": None,
        "bugtrack_url": None,
        "home_page": None,
        "download_url": None,
        "yanked": latest.yanked,
        "yanked_reason": latest.yanked_reason or None,
        "dynamic": None,
    }
    return dumps(
        {
            "info": info,
            "last_serial": project.last_serial,
            "releases": releases,
            "urls": releases[latest.version],
            "vulnerabilities": [],
            "ownership": {"roles": [{"role": "Owner", "user": "tests"}], "organization": None},
        }
    )


def simple_detail(base_url: str, project: UpstreamProject) -> dict:
    """The PEP 691 project page as a dict (the HTML page is rendered from it, as Warehouse);
    a quarantined project's lists no files."""
    files = project.files() if project.status != "quarantined" else []
    return {
        "meta": {"api-version": API_VERSION, "_last-serial": project.last_serial},
        "name": project.normalized,
        "project-status": project_status(project),
        "versions": sorted({r.version for r, _ in files}, key=version_key),
        "files": [
            {
                "filename": f.filename,
                "url": file_url(base_url, f),
                "hashes": {"sha256": f.sha256},
                "requires-python": r.requires_python or None,
                "size": f.size,
                "upload-time": f.upload_time.isoformat() + "Z",
                "yanked": r.yanked_reason if r.yanked and r.yanked_reason else r.yanked,
                "data-dist-info-metadata": _core_metadata(f),
                "core-metadata": _core_metadata(f),
                "provenance": provenance_url(base_url, project, f),
            }
            for r, f in files
        ],
    }


def detail_anchor(file: dict) -> str:
    """One ``<a>`` of the HTML project page, from a PEP 691 file dict (attribute order as
    Warehouse's template)."""
    attrs = f'href="{escape(file["url"])}#sha256={file["hashes"]["sha256"]}" '
    if file.get("requires-python"):
        attrs += f'data-requires-python="{escape(file["requires-python"])}" '
    if file["yanked"]:
        reason = file["yanked"] if isinstance(file["yanked"], str) else ""
        attrs += f'data-yanked="{escape(reason)}" '
    if file["core-metadata"]:
        digest = file["core-metadata"]["sha256"]
        attrs += f'data-dist-info-metadata="sha256={digest}" data-core-metadata="sha256={digest}"'
    if file.get("provenance"):
        attrs += f' data-provenance="{escape(file["provenance"])}"'
    return f"<a {attrs}>{escape(file['filename'])}</a><br />\n"


def simple_detail_html(detail: dict) -> bytes:
    anchors = "".join(f"    {detail_anchor(f)}" for f in detail["files"])
    reason = detail["project-status"].get("reason")
    reason_meta = (
        f'    <meta name="pypi:project-status-reason" content="{escape(reason)}">\n'
        if reason
        else ""
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f'    <meta name="pypi:project-status" content="{detail["project-status"]["status"]}">\n'
        f"{reason_meta}"
        f"    <title>Links for {detail['name']}</title>\n"
        "  </head>\n"
        "  <body>\n"
        f"    <h1>Links for {detail['name']}</h1>\n"
        f"{anchors}"
        "  </body>\n"
        "</html>\n"
        f"<!--SERIAL {detail['meta']['_last-serial']}-->"
    ).encode()


def simple_root(projects: list[UpstreamProject], serial: int) -> dict:
    """The root; quarantined projects are left out, as PyPI leaves them."""
    ordered = sorted((p for p in projects if p.status != "quarantined"), key=lambda p: p.normalized)
    return {
        "meta": {"api-version": API_VERSION, "_last-serial": serial},
        "projects": [{"name": p.name, "_last-serial": p.last_serial} for p in ordered],
    }


def simple_root_html(root: dict) -> bytes:
    anchors = "".join(
        f'    <a href="/simple/{canonicalize_name(p["name"])}/">{escape(p["name"])}</a>\n'
        for p in root["projects"]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        "    <title>Simple index</title>\n"
        "  </head>\n"
        "  <body>\n"
        f"{anchors}"
        "  </body>\n"
        "</html>"
    ).encode()

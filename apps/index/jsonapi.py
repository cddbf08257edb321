"""The Warehouse JSON API documents (``/pypi/<name>/json``, ``/pypi/<name>/<version>/json``).

The shape follows Warehouse's ``warehouse/legacy/api/json.py``: ``info`` from the release's core
metadata, ``last_serial``, ``urls`` (the shown release's files), ``vulnerabilities`` and, on the
project URL only, ``releases`` (every version, even those without files). Values Warehouse
writes as null when a release does not have them are null here too.
"""

import datetime
import json
import string
from urllib.parse import quote

from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

from apps.catalog import selectors
from apps.catalog.models import Distribution, Project, Release

from .inputs import version_ok
from .links import distribution_url, iso8601

_LABEL_DROP = str.maketrans("", "", string.punctuation + string.whitespace)


def project_json_body(*, project: Project, version: str | None, base: str) -> bytes | None:
    """The rendered document, or None when there is nothing to show (no such version, or a
    project without releases, which Warehouse answers with 404 too)."""
    releases = _by_version_descending(selectors.release_list(project=project))
    if version is None:
        shown = latest_release(releases)
        files = selectors.distribution_list(project=project)
    else:
        shown = release_for_version(releases, version)
        files = selectors.distribution_list(project=project, release=shown) if shown else []
    if shown is None:
        return None
    files_by_release: dict[int, list[dict]] = {release.pk: [] for release in releases}
    for distribution in files:
        files_by_release[distribution.release_id].append(file_entry(distribution, base=base))
    metadata = selectors.release_metadata_get(release=shown)
    document = {
        "info": release_info(project=project, release=shown, metadata=metadata, base=base),
        "last_serial": project.last_serial,
        "urls": files_by_release[shown.pk],
        "vulnerabilities": [],
        "ownership": {"roles": [], "organization": None},
    }
    if version is None:
        document["releases"] = {
            release.version: files_by_release[release.pk] for release in releases
        }
    return (json.dumps(document, separators=(",", ":")) + "\n").encode()


def project_json_exists(*, project: Project, version: str | None) -> bool:
    """Whether ``project_json_body`` would render a document, from the release list alone."""
    releases = selectors.release_list(project=project)
    if version is None:
        return latest_release(releases) is not None
    return release_for_version(releases, version) is not None


def _parsed(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def _by_version_descending(releases: list[Release]) -> list[Release]:
    """PyPI's order, newest first: PEP 440 versions by precedence, then legacy versions (which
    PyPI ranks below every PEP 440 one) newest upload first."""

    def key(release: Release) -> tuple:
        parsed = _parsed(release.version)
        if parsed is None:
            return (0, release.created, release.pk)
        return (1, parsed)

    return sorted(releases, key=key, reverse=True)


def latest_release(releases_descending: list[Release]) -> Release | None:
    """The release the project URL shows, as Warehouse picks it: not yanked before yanked,
    then final before pre-release before legacy (unparseable), then the highest version."""

    def rank(release: Release) -> tuple[bool, int]:
        parsed = _parsed(release.version)
        kind = 2 if parsed is None else int(parsed.is_prerelease)
        return (release.yanked, kind)

    # sorted() is stable, so within one rank the highest version stays first.
    ranked = sorted(releases_descending, key=rank)
    return ranked[0] if ranked else None


def release_for_version(releases: list[Release], version: str) -> Release | None:
    """The release a version URL names: the exact spelling, else the one release with the same
    canonical PEP 440 form (``1.0.0`` finds ``1.0``); several equivalents and no exact one: None.

    A version longer than any release's is None at once: ``packaging`` raises ValueError on a
    number of thousands of digits."""
    if not version_ok(version):
        return None
    for release in releases:
        if release.version == version:
            return release
    canonical = canonicalize_version(version)
    matches = [r for r in releases if canonicalize_version(r.version) == canonical]
    return matches[0] if len(matches) == 1 else None


def _project_urls(metadata: dict) -> dict | None:
    """Home page and download URL first, then Project-URL entries, without repeating those two
    (labels compared as PEP 753 normalizes them), as Warehouse lists them."""
    urls: dict[str, str] = {}
    if metadata.get("home_page"):
        urls["Homepage"] = metadata["home_page"]
    if metadata.get("download_url"):
        urls["Download"] = metadata["download_url"]
    for label, url in (metadata.get("project_urls") or {}).items():
        normalized = label.translate(_LABEL_DROP).lower()
        if normalized == "homepage" and url == urls.get("Homepage"):
            continue
        if normalized == "downloadurl" and url == urls.get("Download"):
            continue
        urls[label] = url
    return urls or None


def release_info(*, project: Project, release: Release, metadata: dict, base: str) -> dict:
    """``info``: the release's core metadata under Warehouse's keys, plus its URLs."""
    get = metadata.get
    platforms = get("platforms") or []
    project_page = f"{base}/simple/{project.normalized_name}/"
    release_url = f"{base}/pypi/{project.normalized_name}/{quote(release.version, safe='')}/json"
    return {
        "name": project.name,
        "version": release.version,
        "summary": get("summary"),
        "description_content_type": get("description_content_type"),
        "description": get("description") or "",
        "keywords": get("keywords") or None,
        "license": get("license"),
        "license_expression": get("license_expression"),
        "license_files": None,
        "classifiers": list(get("classifiers") or []),
        "author": get("author"),
        "author_email": get("author_email"),
        "maintainer": get("maintainer"),
        "maintainer_email": get("maintainer_email"),
        "requires_python": get("requires_python") or None,
        # A multi-use field that Warehouse shows as one value: the first.
        "platform": platforms[0] if platforms else None,
        "downloads": {"last_day": -1, "last_week": -1, "last_month": -1},
        # This node has no HTML project pages; its simple page is the project's page here.
        "package_url": project_page,
        "project_url": project_page,
        "project_urls": _project_urls(metadata),
        "release_url": release_url,
        "requires_dist": list(get("requires_dist") or []) or None,
        "provides_extra": list(get("provides_extra") or []) or None,
        "docs_url": None,
        "bugtrack_url": None,
        "home_page": get("home_page"),
        "download_url": get("download_url"),
        "yanked": release.yanked,
        "yanked_reason": release.yanked_reason or None,
        "dynamic": None,
    }


def file_entry(distribution: Distribution, *, base: str) -> dict:
    """One file as Warehouse lists it in ``urls`` and ``releases``."""
    uploaded = distribution.upload_time.astimezone(datetime.UTC)
    core_metadata = distribution.core_metadata_sha256
    return {
        "filename": distribution.filename,
        "packagetype": distribution.packagetype,
        "python_version": distribution.python_version,
        "has_sig": False,
        "comment_text": "",
        "md5_digest": distribution.md5,
        "digests": {
            "md5": distribution.md5,
            "sha256": distribution.sha256,
            "blake2b_256": distribution.blake2b_256,
        },
        # PEP 658/714: the metadata file's hash, or false; the old ``dist-info-metadata`` key
        # is never written in JSON (it crashes pip 22.3 to 23.1).
        "core-metadata": {"sha256": core_metadata} if core_metadata else False,
        "size": distribution.size,
        "downloads": -1,
        "upload_time": uploaded.strftime("%Y-%m-%dT%H:%M:%S"),
        "upload_time_iso_8601": iso8601(uploaded),
        "url": distribution_url(base=base, distribution=distribution),
        "requires_python": distribution.requires_python or None,
        "yanked": distribution.yanked,
        "yanked_reason": distribution.yanked_reason or None,
    }

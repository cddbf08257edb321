"""Parsing upstream documents into RemoteFile / RemoteProject; tolerant of real PyPI's odd data,
strict about anything that could be unsafe (filenames, hashes)."""

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from ..redaction import redact_url
from .base import RemoteFile, UpstreamError

_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
# bdist_wininst / bdist_msi: name-version.platform[-pyX.Y].exe
_WININST_RE = re.compile(
    r"^(?P<name>.+?)-(?P<version>[^-]+?)\.(?:win32|win-amd64|win-arm64|linux-[^-.]+)"
    r"(?:-py(?P<python>\d+\.\d+))?\.(?:exe|msi)$"
)
_LEGACY_SDIST_RE = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+)\.(?:tar\.gz|tar\.bz2|zip|tgz)$")
# PEP 792's statuses; a project that names none is active.
PROJECT_STATUSES = ("active", "archived", "quarantined", "deprecated")
STATUS_META = "pypi:project-status"
STATUS_REASON_META = "pypi:project-status-reason"


def parse_time(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def sha256_of(hashes, filename: str) -> str:
    value = hashes.get("sha256") if isinstance(hashes, dict) else None
    if not isinstance(value, str) or not _SHA256_RE.match(value):
        raise UpstreamError(f"{filename}: no valid sha256 given by the upstream")
    return value.lower()


def metadata_sha256(value) -> str | None:
    """PEP 658/714 ``core-metadata``: False/absent → None, True → "", {sha256: h} → h."""
    if value is True or value == "true":
        return ""
    if isinstance(value, dict):
        digest = value.get("sha256")
        return digest.lower() if isinstance(digest, str) and _SHA256_RE.match(digest) else ""
    if isinstance(value, str) and value.startswith("sha256="):
        digest = value.removeprefix("sha256=")
        return digest.lower() if _SHA256_RE.match(digest) else ""
    return None


def yanked_reason(value) -> str | None:
    if value is True:
        return ""
    if isinstance(value, str):
        return value
    return None


def project_status(status, reason, page_url: str) -> tuple[str, str]:
    """PEP 792 (status, reason) from what a page gives; absent: active. A status PEP 792 does
    not define is refused (UpstreamError): whether its files may be offered is unknown."""
    if status is None:
        return "active", ""
    if not isinstance(status, str) or status not in PROJECT_STATUSES:
        raise UpstreamError(f"{page_url}: unknown project status {str(status)[:50]!r}")
    return status, reason if isinstance(reason, str) else ""


def json_project_status(data: dict, page_url: str) -> tuple[str, str]:
    """PEP 792 ``project-status`` of a PEP 691 project page: ``{"status": ..., "reason": ...}``."""
    value = data.get("project-status")
    if value is None:
        return "active", ""
    if not isinstance(value, dict):
        raise UpstreamError(f"{page_url}: project-status is not an object")
    return project_status(value.get("status"), value.get("reason"), page_url)


def html_project_status(meta: dict[str, str], page_url: str) -> tuple[str, str]:
    """PEP 792 from a PEP 503 page's ``pypi:project-status(-reason)`` meta tags."""
    return project_status(meta.get(STATUS_META), meta.get(STATUS_REASON_META), page_url)


def provenance_url(value, page_url: str) -> str | None:
    """PEP 740 ``provenance`` / ``data-provenance``: an absolute URL, or None."""
    if not isinstance(value, str) or not value:
        return None
    return absolute(value, page_url)


def file_facts(filename: str) -> tuple[str | None, str | None, str | None]:
    """(version, packagetype, python_version) read from a filename, None where unknown."""
    try:
        _name, _version, _build, tags = parse_wheel_filename(filename)
        interpreters = ".".join(sorted({tag.interpreter for tag in tags}))
        return filename.split("-")[1], "bdist_wheel", interpreters
    except InvalidWheelFilename:
        pass
    try:
        parse_sdist_filename(filename)
    except InvalidSdistFilename:
        match = _LEGACY_SDIST_RE.match(filename)
        if match:
            return match["version"], "sdist", "source"
        if filename.endswith(".egg"):  # name-version-pyX.Y[-platform].egg
            parts = filename.removesuffix(".egg").split("-")
            python = parts[2].removeprefix("py") if len(parts) > 2 else None
            return (parts[1] if len(parts) > 1 else None), "bdist_egg", python
        if filename.endswith((".exe", ".msi")):
            match = _WININST_RE.match(filename)
            packagetype = "bdist_msi" if filename.endswith(".msi") else "bdist_wininst"
            if match:
                return match["version"], packagetype, match["python"] or "any"
            return None, packagetype, None
        return None, None, None
    match = _LEGACY_SDIST_RE.match(filename)
    return (match["version"] if match else None), "sdist", "source"


def json_file_fields(entry: dict, *, hashes_key: str, page_url: str) -> dict:
    """The fields every JSON file entry has (JSON API and PEP 691 alike), checked."""
    filename, url = entry.get("filename"), entry.get("url")
    if not isinstance(filename, str) or not isinstance(url, str):
        raise UpstreamError(f"{redact_url(page_url)}: a file without filename or url")
    size = entry.get("size")
    return {
        "filename": filename,
        "url": absolute(url, page_url),
        "sha256": sha256_of(entry.get(hashes_key), filename),
        "size": size if isinstance(size, int) and size >= 0 else None,
    }


def absolute(url: str, page_url: str) -> str:
    return urldefrag(urljoin(page_url, url)).url


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.meta: dict[str, str] = {}  # <meta name=... content=...>, the first of each name
        self._current: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a":
            self._current, self._text = dict(attrs), []
        elif tag == "meta":
            found = dict(attrs)
            name, content = found.get("name"), found.get("content")
            if name and content is not None:
                self.meta.setdefault(name, content)

    def handle_data(self, data) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag) -> None:
        if tag == "a" and self._current is not None:
            self.anchors.append((self._current, "".join(self._text).strip()))
            self._current = None


def html_anchors(body: bytes) -> list[tuple[dict[str, str | None], str]]:
    return html_page(body)[0]


def html_page(body: bytes) -> tuple[list[tuple[dict[str, str | None], str]], dict[str, str]]:
    """A PEP 503 page's anchors (attributes, text) and its meta tags (name → content)."""
    parser = _AnchorParser()
    parser.feed(body.decode("utf-8", errors="replace"))
    parser.close()
    return parser.anchors, parser.meta


def file_from_anchor(attrs: dict, text: str, page_url: str) -> RemoteFile:
    """A PEP 503 anchor; the filename is the anchor text (as pip reads it)."""
    href = attrs.get("href") or ""
    url, fragment = urldefrag(urljoin(page_url, href))
    filename = text or url.rsplit("/", 1)[-1]
    algo, _, digest = fragment.partition("=")
    version, packagetype, python_version = file_facts(filename)
    return RemoteFile(
        filename=filename,
        url=url,
        sha256=sha256_of({algo: digest}, filename),
        version=version,
        packagetype=packagetype,
        python_version=python_version,
        requires_python=attrs.get("data-requires-python") or "",
        yanked=(attrs.get("data-yanked") or "") if "data-yanked" in attrs else None,
        core_metadata_sha256=metadata_sha256(
            attrs.get("data-core-metadata") or attrs.get("data-dist-info-metadata")
        ),
        provenance_url=provenance_url(attrs.get("data-provenance"), page_url),
    )


def file_from_691(entry: dict, page_url: str) -> RemoteFile:
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
        provenance_url=provenance_url(entry.get("provenance"), page_url),
    )


def parse_691_page(data: dict, page_url: str) -> tuple[list[RemoteFile], list[str], str, str]:
    """A PEP 691 project page: its files, versions and PEP 792 (status, reason)."""
    files = [file_from_691(e, page_url) for e in data.get("files") or [] if isinstance(e, dict)]
    versions = [v for v in data.get("versions") or [] if isinstance(v, str)]
    return files, versions, *json_project_status(data, page_url)

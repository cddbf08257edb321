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
        self._current: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a":
            self._current, self._text = dict(attrs), []

    def handle_data(self, data) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag) -> None:
        if tag == "a" and self._current is not None:
            self.anchors.append((self._current, "".join(self._text).strip()))
            self._current = None


def html_anchors(body: bytes) -> list[tuple[dict[str, str | None], str]]:
    parser = _AnchorParser()
    parser.feed(body.decode("utf-8", errors="replace"))
    parser.close()
    return parser.anchors


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
    )

"""Reading what a probed mirror serves: its ``/last-modified`` stamp, serials and project pages.

A mirror is anybody's server: every parser here takes bytes of any size or encoding and returns
a value or raises ``Unreadable`` with a short, printable reason (the probe's finding). Nothing
else may escape: a hostile mirror gets a clear finding, never an exception in the hub.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

# PEP 381's stamp is one line; more is not a stamp.
LAST_MODIFIED_MAX_BYTES = 200
# Shown of a bad value in a finding: enough to recognise it, never a page.
SHOWN = 60
# A serial no index will reach (PyPI is near 3e7): larger is garbage, not a serial.
SERIAL_MAX = 10**15

JSON_V1 = "application/vnd.pypi.simple.v1+json"
ACCEPT_PAGE = f"{JSON_V1}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"

_SERIAL_COMMENT = re.compile(rb"<!--\s*SERIAL\s+(\d{1,20})\s*-->")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_FORMATS = (
    "%Y%m%dT%H:%M:%S",  # bandersnatch's web/last-modified and this project's /last-modified
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M:%S",
    "%Y%m%dT%H%M%S",
    "%Y%m%dT%H%M%S%z",
)


class Unreadable(ValueError):
    """What a mirror served cannot be read; the message says what and is safe to show."""


def shown(data: bytes | str) -> str:
    """A bad value as a finding quotes it: short, printable, never raising."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "backslashreplace")
    text = data if len(data) <= SHOWN else data[:SHOWN] + "…"
    return repr(text)


def parse_last_modified(body: bytes) -> datetime:
    """The time in a PEP 381 ``/last-modified`` body, in UTC.

    PEP 381 says "ISO 8601, GMT"; bandersnatch (and this project) write ``%Y%m%dT%H:%M:%S``.
    Both, and the usual ISO 8601 spellings (``Z``, offsets, fractions), are read; a time without
    an offset is GMT.
    """
    if len(body) > LAST_MODIFIED_MAX_BYTES:
        raise Unreadable(f"last-modified is {len(body)} bytes, not a time stamp")
    try:
        text = body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise Unreadable(f"last-modified is not ASCII: {shown(body)}") from None
    if text.endswith("Z"):
        text = text[:-1] + "+0000"
    for fmt in _FORMATS:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    raise Unreadable(f"last-modified is not a time: {shown(text)}")


def parse_serial(value: object) -> int:
    """A serial as an index writes it: an int, or a string of digits (bandersnatch's root)."""
    if isinstance(value, bool):
        raise Unreadable(f"serial is not a number: {shown(str(value))}")
    if isinstance(value, int):
        serial = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        if len(value.strip()) > 16:
            raise Unreadable(f"serial is out of range: {shown(value)}")
        serial = int(value.strip())
    else:
        raise Unreadable(f"serial is not a number: {shown(str(value))}")
    if not 0 <= serial < SERIAL_MAX:
        raise Unreadable(f"serial is out of range: {shown(str(serial))}")
    return serial


def serial_from_comment(body: bytes) -> int | None:
    """The ``<!--SERIAL n-->`` closing a PyPI or bandersnatch project page, if there is one (the
    last such comment wins: it ends the page)."""
    found = _SERIAL_COMMENT.findall(body[-4096:])
    return parse_serial(found[-1].decode()) if found else None


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise Unreadable(f"page is not JSON: {shown(body[:SHOWN])}") from None


_META = re.compile(rb'"meta"\s*:\s*(\{[^{}]{0,4096}\})')


def root_serial_from_head(head: bytes) -> int | None:
    """``meta._last-serial`` of a PEP 691 JSON root, read from the root's first bytes (a full
    mirror's root is tens of MB; PyPI, bandersnatch and pypimirror write ``meta`` first). None
    when the head holds no ``meta`` or it has no serial.

    bandersnatch writes it as a string, and one run behind (its root is written before the run's
    serial is recorded): it is what the mirror says, not a measure of its lag.
    """
    found = _META.search(head)
    if found is None:
        return None
    meta = _json(found.group(1))
    if not isinstance(meta, dict) or meta.get("_last-serial") is None:
        return None
    return parse_serial(meta["_last-serial"])


@dataclass
class ListedFile:
    url: str
    sha256: str | None  # None when the page gives no sha256


@dataclass
class ProjectPage:
    """One project's simple page as a mirror served it."""

    files: dict[str, ListedFile] = field(default_factory=dict)
    serial: int | None = None
    complete: bool = True  # an HTML page that never closes was cut short


def _filename(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.closed = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"html", "body"}:
            self.closed = True


def _add(page: ProjectPage, href: str, sha256: str | None, page_url: str) -> None:
    url = urljoin(page_url, href)
    name = _filename(url)
    if name and "/" not in name and name not in {".", ".."}:
        page.files[name] = ListedFile(url=url, sha256=sha256)


def parse_project_page(body: bytes, *, content_type: str, page_url: str) -> ProjectPage:
    """The files a PEP 503 HTML or PEP 691 JSON project page lists, with their sha256, and the
    page's serial (JSON ``meta._last-serial`` or the HTML's ``<!--SERIAL n-->``)."""
    page = ProjectPage()
    if "json" in content_type.lower():
        data = _json(body)
        if not isinstance(data, dict) or not isinstance(data.get("files"), list):
            raise Unreadable("JSON project page without a files list")
        meta = data.get("meta")
        if isinstance(meta, dict) and meta.get("_last-serial") is not None:
            page.serial = parse_serial(meta["_last-serial"])
        for entry in data["files"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                raise Unreadable("JSON project page with a file that has no URL")
            hashes = entry.get("hashes")
            digest = hashes.get("sha256") if isinstance(hashes, dict) else None
            _add(page, entry["url"], digest if isinstance(digest, str) else None, page_url)
        return page
    text = body.decode("utf-8", "replace")
    parser = _Links()
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError):  # the stdlib parser's complaints about broken markup
        raise Unreadable("HTML project page that cannot be parsed") from None
    for href in parser.hrefs:
        url, fragment = urldefrag(href)
        digest = fragment[len("sha256=") :] if fragment.startswith("sha256=") else None
        _add(page, url, digest, page_url)
    page.serial = serial_from_comment(body)
    page.complete = parser.closed
    return page


def well_formed_sha256(value: str | None) -> bool:
    return value is not None and bool(_HEX64.fullmatch(value))

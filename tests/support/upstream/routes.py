"""What Warehouse answers to each URL, read from the tree: the routes, content negotiation,
conditional requests, and the faults applied to an answer."""

import email.utils
import os
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from packaging.utils import canonicalize_name

from .faults import Fault, inject_evil_file, mangle
from .tree import SIMPLE_HTML, SIMPLE_JSON, WarehouseUpstream

MIME_HTML = "text/html"
MIME_V1_HTML = "application/vnd.pypi.simple.v1+html"
MIME_V1_JSON = "application/vnd.pypi.simple.v1+json"
# Warehouse's offers, in its order of preference; ties in q go to the earlier one.
OFFERS = (MIME_HTML, MIME_V1_HTML, MIME_V1_JSON)
HTML_TYPE = "text/html; charset=utf-8"  # what nginx sends for the same file
SIMPLE_PROJECT = re.compile(r"^/simple/([^/]+)(/?)$")
JSON_API = re.compile(r"^/pypi/([^/]+)/json/?$")
PACKAGES = re.compile(r"^/packages/(.+)$")
INTEGRITY = re.compile(r"^/integrity/([^/]+)/([^/]+)/([^/]+)/provenance$")
MIME_INTEGRITY = "application/vnd.pypi.integrity.v1+json"


def negotiate(accept: str | None) -> str:
    """Warehouse's pick (webob ``acceptable_offers``): highest q, then its own order; HTML
    when nothing is acceptable (Warehouse never answers 406)."""
    if not accept:
        return MIME_HTML
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media:
            ranges.append((media.lower(), q))
    acceptable = []
    for index, offer in enumerate(OFFERS):
        kind = offer.split("/")[0]
        matches = [
            (specificity, q)
            for media, q in ranges
            for specificity, pattern in ((3, offer), (2, f"{kind}/*"), (1, "*/*"))
            if media == pattern
        ]
        if matches and (q := max(matches)[1]) > 0:
            acceptable.append((-q, index, offer))
    return min(acceptable)[2] if acceptable else MIME_HTML


@dataclass
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    kind: str | None = None
    project: str | None = None
    rel: str | None = None  # the tree file the body was read from
    stat: os.stat_result | None = None


def _not_found(kind: str | None = None, project: str | None = None) -> Answer:
    if kind == "json":
        return Answer(
            404, b'{"message": "Not Found"}', "application/json", kind=kind, project=project
        )
    return Answer(404, b"<h1>404 Not Found</h1>\n", HTML_TYPE, kind=kind, project=project)


def _redirect(location: str, kind: str, project: str | None = None) -> Answer:
    return Answer(301, b"", headers={"Location": location}, kind=kind, project=project)


def _read(
    upstream: WarehouseUpstream,
    rel: str,
    content_type: str,
    kind: str,
    project: str | None,
    serial: int | None,
    vary: bool = False,
) -> Answer:
    """A tree file; ``serial`` is taken before the read, so it is never newer than the body."""
    headers = {"Vary": "Accept"} if vary else {}
    try:
        with open(upstream.root / rel, "rb") as handle:
            stat = os.fstat(handle.fileno())
            body = handle.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return _not_found(kind, project)
    if serial is not None:
        headers["X-PyPI-Last-Serial"] = str(serial)
    headers["ETag"] = f'"{int(stat.st_mtime):x}-{stat.st_size:x}"'  # as nginx makes it
    headers["Last-Modified"] = email.utils.formatdate(int(stat.st_mtime), usegmt=True)
    return Answer(200, body, content_type, headers, kind, project, rel, stat)


def route(upstream: WarehouseUpstream, path: str, accept: str | None) -> Answer:
    """What Warehouse answers to a GET of ``path``."""
    if path == "/simple":
        return _redirect("/simple/", "root")
    if path == "/simple/":
        content_type = negotiate(accept)
        name = SIMPLE_JSON if content_type == MIME_V1_JSON else SIMPLE_HTML
        content_type = HTML_TYPE if content_type == MIME_HTML else content_type
        serial = upstream.published_serial
        return _read(upstream, f"simple/{name}", content_type, "root", None, serial, vary=True)
    if match := SIMPLE_PROJECT.match(path):
        given = unquote(match[1])
        project = canonicalize_name(given)
        if given != project or not match[2]:
            return _redirect(f"/simple/{project}/", "simple", project)
        content_type = negotiate(accept)
        name = SIMPLE_JSON if content_type == MIME_V1_JSON else SIMPLE_HTML
        content_type = HTML_TYPE if content_type == MIME_HTML else content_type
        serial = upstream.published_serials.get(project)
        rel = f"simple/{project}/{name}"
        return _read(upstream, rel, content_type, "simple", project, serial, vary=True)
    if match := JSON_API.match(path):
        given = unquote(match[1])
        project = canonicalize_name(given)
        if given != project:
            return _redirect(f"/pypi/{project}/json", "json", project)
        serial = upstream.published_serials.get(project)
        return _read(upstream, f"pypi/{project}/json", "application/json", "json", project, serial)
    if match := INTEGRITY.match(path):
        project, version, filename = (unquote(part) for part in match.groups())
        if upstream.project_of_file(filename) != project or version in ("", ".", ".."):
            return _not_found("provenance", project)
        rel = f"integrity/{project}/{version}/{filename}/provenance"
        return _read(upstream, rel, MIME_INTEGRITY, "provenance", project, None)
    if match := PACKAGES.match(path):
        rel = unquote(match[1])
        kind = "metadata" if rel.endswith(".metadata") else "file"
        filename = rel.rsplit("/", 1)[-1].removesuffix(".metadata")
        project = upstream.project_of_file(filename)
        if any(part in ("", ".", "..") for part in rel.split("/")):
            return _not_found(kind, project)
        return _read(upstream, f"packages/{rel}", "application/octet-stream", kind, project, None)
    return _not_found()


def _stale(upstream: WarehouseUpstream, answer: Answer) -> Answer:
    """The page as a lagging CDN still has it."""
    previous = upstream.previous.get(answer.rel or "")
    if previous is not None:
        answer.body, serial = previous
        answer.headers["X-PyPI-Last-Serial"] = str(serial)
    elif "X-PyPI-Last-Serial" in answer.headers:
        answer.headers["X-PyPI-Last-Serial"] = str(int(answer.headers["X-PyPI-Last-Serial"]) - 1)
    return answer


def apply_fault(upstream: WarehouseUpstream, fault: Fault, answer: Answer) -> Answer:
    """The body and header faults, on a 200 answer (validators dropped: the body changed)."""
    if fault.status:
        body = f"{fault.status} (injected fault)\n".encode()
        return Answer(fault.status, body, kind=answer.kind, project=answer.project)
    if answer.status != 200:
        return answer
    original = answer.body
    if fault.stale:
        answer = _stale(upstream, answer)
    if (fault.evil_filename or fault.evil_url) and answer.kind in ("simple", "json"):
        base = upstream.base_url or ""
        answer.body = inject_evil_file(fault, answer.body, answer.content_type, base)
    answer.body = mangle(fault, answer.body)
    if answer.body is not original:
        answer.headers.pop("ETag", None)
        answer.headers.pop("Last-Modified", None)
    return answer


def not_modified(headers, answer: Answer) -> bool:
    if answer.status != 200 or "ETag" not in answer.headers:
        return False
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return answer.headers["ETag"] in tags or "*" in tags
    since = headers.get("If-Modified-Since")
    try:
        parsed = email.utils.parsedate_to_datetime(since) if since else None
    except (TypeError, ValueError):
        return False
    return parsed is not None and parsed.timestamp() >= int(answer.stat.st_mtime)

"""Which protocol an upstream speaks, tried from the richest down, and the client for it."""

from urllib.parse import urlsplit

import httpx

from ..redaction import redact_url, strip_credentials
from .base import UpstreamClient, UpstreamError, UpstreamUnusable
from .http import fetch_document
from .pypi_json import JSON_ACCEPT, PyPIJSONClient, parse_json_root
from .simple import SimpleClient
from .xmlrpc import XMLRPCClient

HTML_TYPES = ("text/html", "application/vnd.pypi.simple.v1+html")


def upstream_base_url(url: str) -> str:
    """The base URL of an upstream given by either form (``https://pypi.org`` or
    ``.../simple/``), its credentials kept: userinfo and query (see ``redaction``)."""
    try:
        parts = urlsplit(url.strip())
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 (a port out of range raises ValueError)
    except ValueError:
        valid = False
    if not valid:
        raise UpstreamUnusable(f"{redact_url(url.strip())!r} is not an http(s) URL")
    path = parts.path.rstrip("/")
    base_path = path.removesuffix("/simple") if path.endswith("/simple") else path
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{base_path}{query}"


def split_upstream_url(url: str) -> tuple[str, str]:
    """(base URL, simple index URL) from either form, without credentials: the URLs requests
    are made to (the client's ``UpstreamAuth`` adds the credentials) and messages name."""
    base = strip_credentials(upstream_base_url(url))
    return base, f"{base}/simple/"


def detect_protocol(url: str, http: httpx.Client) -> str:
    """``pypi-json``, ``xmlrpc`` or ``simple``; UpstreamUnusable when it is no index at all."""
    base, simple_url = split_upstream_url(url)
    try:
        response, body = fetch_document(http, simple_url, headers={"Accept": JSON_ACCEPT})
    except UpstreamError as exc:
        raise UpstreamUnusable(f"cannot reach the upstream: {exc}") from None
    if response.status_code != 200:
        raise UpstreamUnusable(f"{simple_url} answered HTTP {response.status_code}")
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in (JSON_ACCEPT, *HTML_TYPES):
        raise UpstreamUnusable(
            f"{simple_url} answers {content_type or 'no content type'}, not a package index "
            "(PEP 503 HTML or PEP 691 JSON)"
        )
    if content_type == JSON_ACCEPT:
        try:
            listing = parse_json_root(simple_url, body)
        except UpstreamError:
            listing = None
        if listing is not None and listing.serial is not None:
            return PyPIJSONClient.protocol
    try:
        XMLRPCClient(base_url=base, http=http).call("changelog_last_serial")
    except UpstreamError:
        return SimpleClient.protocol
    return XMLRPCClient.protocol


def client_for(*, url: str, protocol: str, http: httpx.Client) -> UpstreamClient:
    base, simple_url = split_upstream_url(url)
    if protocol == PyPIJSONClient.protocol:
        return PyPIJSONClient(base_url=base, http=http)
    if protocol == XMLRPCClient.protocol:
        return XMLRPCClient(base_url=base, http=http)
    if protocol == SimpleClient.protocol:
        return SimpleClient(simple_url=simple_url, http=http)
    raise UpstreamUnusable(f"unknown protocol {protocol!r}")

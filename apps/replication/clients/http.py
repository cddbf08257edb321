"""HTTP for upstream clients: one pooled httpx client per upstream, bounded bodies, clear errors."""

import json
import os
import ssl
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import httpx
from django.conf import settings

from ..redaction import Credentials, basic_authorization, redact_url
from .base import CrossOriginRedirect, UpstreamError
from .files import FileGetter, FileResponse

# Pages and JSON documents larger than this are refused (PyPI's biggest JSON root is ~50 MB).
MAX_DOCUMENT_SIZE = 256 * 1024 * 1024
MAX_REDIRECTS = 5


class _VerifyingContext(ssl.SSLContext):
    """What ``httpx.create_ssl_context()`` builds (certificates and host names checked against
    certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR), except that the bundle is read at the
    first TLS handshake: reading it takes ~40 ms, and a plain-http upstream may never need it
    (its files can still be on an https host, hence not simply no context)."""

    _lock = threading.Lock()
    _loaded = False

    def _load_bundle(self) -> None:
        with self._lock:
            if not self._loaded:
                if cafile := os.environ.get("SSL_CERT_FILE"):
                    self.load_verify_locations(cafile=cafile)
                elif capath := os.environ.get("SSL_CERT_DIR"):
                    self.load_verify_locations(capath=capath)
                else:
                    import certifi

                    self.load_verify_locations(cafile=certifi.where())
                self._loaded = True

    def wrap_socket(self, *args, **kwargs) -> ssl.SSLSocket:
        self._load_bundle()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args, **kwargs) -> ssl.SSLObject:
        self._load_bundle()
        return super().wrap_bio(*args, **kwargs)


@cache
def _ssl_context() -> ssl.SSLContext:
    """One context per process, shared by every client (a sync makes two: detection, then the
    upstream's pool)."""
    context = _VerifyingContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname
    if keylog := os.environ.get("SSLKEYLOGFILE"):  # as ssl.create_default_context does
        context.keylog_filename = keylog
    return context


class UpstreamHTTPClient(httpx.Client):
    """An httpx client with a direct path for distribution files (``file_stream``).

    A file is one GET whose bytes are checked against a hash: file GETs go to a ``FileGetter``
    of their own (``clients.files``: kept-alive ``http.client`` connections, one per origin and
    thread), and only what it hands back (a redirect) comes to the client. Where proxies are
    configured in the environment, files take the client's path like everything else.
    """

    def __init__(
        self, *, max_connections: int = 10, credentials: Credentials | None = None
    ) -> None:
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        super().__init__(
            auth=UpstreamAuth(credentials) if credentials is not None else None,
            verify=_ssl_context(),
            headers={"User-Agent": settings.PYPIMIRROR_USER_AGENT},
            timeout=httpx.Timeout(settings.PYPIMIRROR_HTTP_TIMEOUT, connect=10.0),
            limits=limits,
            follow_redirects=True,
        )
        self.files: FileGetter | None = None
        if not urllib.request.getproxies():
            self.files = FileGetter(
                headers={"User-Agent": settings.PYPIMIRROR_USER_AGENT},
                timeout=settings.PYPIMIRROR_HTTP_TIMEOUT,
                context=_ssl_context(),
                credentials=credentials,
            )

    def close(self) -> None:
        super().close()
        if self.files is not None:
            self.files.close()


class UpstreamAuth(httpx.Auth):
    """The upstream URL's credentials on each request to its origin (never to another host).

    The request's URL gets the query token only while it is sent: the response's ``url`` (page
    URLs, files resolved against them, messages) is the URL without it.
    """

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    def auth_flow(self, request: httpx.Request):
        url = request.url
        if not self.credentials.applies_to(url.scheme, url.host, url.port):
            if url.username and "Authorization" not in request.headers:  # a file URL's own
                request.headers["Authorization"] = basic_authorization(url.username, url.password)
            yield request
            return
        if self.credentials.authorization and "Authorization" not in request.headers:
            request.headers["Authorization"] = self.credentials.authorization
        query = url.query.decode("ascii")
        if (with_token := self.credentials.with_query(query)) != query:
            request.url = url.copy_with(query=with_token.encode("ascii"))
        yield request
        request.url = url


def make_http_client(
    *, max_connections: int = 10, credentials: Credentials | None = None
) -> UpstreamHTTPClient:
    """A client with our User-Agent (PEP 381), timeouts, and bounded connections per upstream;
    with ``credentials``, it sends them to the upstream's origin (``UpstreamAuth``)."""
    return UpstreamHTTPClient(max_connections=max_connections, credentials=credentials)


@contextmanager
def file_stream(
    http: httpx.Client, url: str, *, headers: dict[str, str]
) -> Iterator[httpx.Response | FileResponse]:
    """GET a file, streamed (``status_code``, ``iter_bytes``): through ``http.files`` when it
    has one, else, or for what it hands back (a redirect), through the client."""
    getter = getattr(http, "files", None)
    response = getter.get(url, headers) if getter is not None else None
    if response is not None:
        try:
            yield response
        finally:
            response.close()
        return
    with http.stream("GET", url, headers=headers) as response:
        yield response


@contextmanager
def http_errors(url: str) -> Iterator[None]:
    """Turn transport failures into UpstreamError naming the URL (redacted)."""
    try:
        yield
    except httpx.TimeoutException:
        raise UpstreamError(f"{redact_url(url)}: timed out") from None
    except httpx.HTTPError as exc:
        raise UpstreamError(f"{redact_url(url)}: {exc.__class__.__name__}: {exc}") from None


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def fetch_document(
    http: httpx.Client, url: str, *, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, bytes]:
    """GET an index page, reading at most MAX_DOCUMENT_SIZE bytes; 2xx, 304 and 404 are
    returned, other statuses raise UpstreamError.

    Redirects are followed only within the upstream's origin: an index that sends us to another
    host (pypiserver's fallback to pypi.org for projects it lacks) must never make the node
    mirror that host's files under the upstream's names. That raises CrossOriginRedirect.
    """
    current = httpx.URL(url)
    for _hop in range(MAX_REDIRECTS + 1):
        with (
            http_errors(str(current)),
            http.stream("GET", current, headers=headers, follow_redirects=False) as response,
        ):
            if response.has_redirect_location:
                target = current.join(response.headers["Location"])
                if _origin(target) != _origin(current):
                    raise CrossOriginRedirect(
                        f"{redact_url(str(current))} redirects to another host: "
                        f"{redact_url(str(target))}"
                    )
                current = target
                continue
            if response.status_code in (304, 404):
                return response, b""
            if response.status_code >= 400:
                raise UpstreamError(f"{redact_url(str(current))}: HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_SIZE:
                    raise UpstreamError(
                        f"{redact_url(str(current))}: document larger than "
                        f"{MAX_DOCUMENT_SIZE} bytes"
                    )
        return response, bytes(body)
    raise UpstreamError(f"{redact_url(url)}: more than {MAX_REDIRECTS} redirects")


def parse_json(url: str, body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UpstreamError(f"{redact_url(url)}: malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UpstreamError(f"{redact_url(url)}: expected a JSON object")
    return data


def header_serial(response: httpx.Response) -> int | None:
    value = response.headers.get("X-PyPI-Last-Serial")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None

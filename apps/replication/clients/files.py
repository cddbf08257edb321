"""The direct path for distribution files: one GET each, on kept-alive ``http.client``
connections (one per origin and thread).

A file is a GET whose bytes are then checked against a hash; it needs none of a client
library's cookies, auth flows, redirects or decoding. ``http.client`` does such a GET in about
a third of the CPU httpx's transport takes (60 against 160 us for a small wheel, measured on
loopback), and a first sync of a big index is millions of them. Anything off that path (a
redirect, an encoded body) is handed back, and the caller asks its httpx client instead.
Failures are raised as httpx's exceptions, so that callers handle one kind.
"""

import http.client
import ssl
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx

from ..redaction import Credentials, redact_url

Origin = tuple[str, str, int]


class FileResponse:
    """A file's answer, read with ``iter_bytes``; ``close`` keeps its connection for the next
    GET only when the whole body was read."""

    def __init__(self, getter: "FileGetter", origin: Origin, response: http.client.HTTPResponse):
        self._getter, self._origin, self._response = getter, origin, response
        self.status_code = response.status
        self._remaining = _content_length(response)

    def iter_bytes(self, chunk_size: int) -> Iterator[bytes]:
        try:
            while chunk := self._response.read(chunk_size):
                if self._remaining is not None:
                    self._remaining -= len(chunk)
                yield chunk
        except TimeoutError:
            raise httpx.ReadTimeout("timed out reading the body") from None
        except (OSError, http.client.HTTPException) as exc:
            raise httpx.ReadError(f"{exc.__class__.__name__}: {exc}") from None
        if self._remaining:  # http.client returns a body cut short without complaint
            raise httpx.RemoteProtocolError(
                f"connection closed with {self._remaining} bytes of the body still to come"
            )

    def close(self) -> None:
        if self._response.isclosed():  # read to its end: the connection serves the next GET
            return
        self._getter.drop(self._origin)


class FileGetter:
    """Kept-alive connections to the upstreams' file hosts, one per origin and thread (so
    there are never more than the process has threads)."""

    def __init__(
        self,
        *,
        headers: dict[str, str],
        timeout: float,
        context: ssl.SSLContext,
        credentials: Credentials | None = None,
    ):
        self.headers, self.timeout, self.context = headers, timeout, context
        self.credentials = credentials
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def get(self, url: str, headers: dict[str, str]) -> FileResponse | None:
        """GET ``url``: its response, or None (nothing left open) for the caller's client to
        take instead: a redirect, an encoded body, credentials in the URL."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
            return None  # credentials in the URL: the client sends them (basic auth)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        origin = (parts.scheme, parts.hostname, port)
        query, sent = parts.query, {**self.headers, **headers}
        # The upstream's credentials go to its own origin, as UpstreamAuth sends them.
        if self.credentials is not None and self.credentials.applies_to(*origin):
            query = self.credentials.with_query(query)
            if self.credentials.authorization:
                sent["Authorization"] = self.credentials.authorization
        target = (parts.path or "/") + (f"?{query}" if query else "")
        for attempt in (0, 1):
            connection, reused = self._connection(origin)
            try:
                connection.request("GET", target, headers=sent)
                response = connection.getresponse()
                break
            except TimeoutError:
                self.drop(origin)
                raise httpx.TimeoutException(f"timed out asking {redact_url(url)}") from None
            except (OSError, http.client.HTTPException) as exc:
                self.drop(origin)
                # A kept-alive connection the server closed meanwhile: once more on a new one.
                if attempt == 0 and reused:
                    continue
                error = httpx.ConnectError if not reused else httpx.RemoteProtocolError
                raise error(f"{exc.__class__.__name__}: {exc}") from None
        encoded = response.getheader("Content-Encoding", "identity").lower() != "identity"
        if 300 <= response.status < 400 or encoded:
            self.drop(origin)
            return None
        return FileResponse(self, origin, response)

    def _connection(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        connections = self._local.__dict__.setdefault("connections", {})
        if (connection := connections.get(origin)) is not None:
            return connection, True
        scheme, host, port = origin
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=self.timeout, context=self.context
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self.timeout)
        connections[origin] = connection
        with self._lock:
            self._all.append(connection)
        return connection, False

    def drop(self, origin: Origin) -> None:
        """Close this thread's connection to ``origin`` (its next GET opens a new one)."""
        connection = self._local.__dict__.get("connections", {}).pop(origin, None)
        if connection is not None:
            connection.close()
            with self._lock:
                self._all.remove(connection)

    def close(self) -> None:
        with self._lock:
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()


def _content_length(response: http.client.HTTPResponse) -> int | None:
    try:
        return int(response.getheader("Content-Length"))
    except (TypeError, ValueError):
        return None

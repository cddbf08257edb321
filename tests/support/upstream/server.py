"""``UpstreamServer``: the tree served on loopback by a threaded Python server, like Warehouse.

It reads the files ``write()`` put on disk (the very bytes nginx serves) and adds what a static
server cannot: Warehouse's content negotiation, 301s to normalized names, XML-RPC, a request
log and fault injection.
"""

import base64
import contextlib
import os
import socket
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from packaging.utils import canonicalize_name

from . import changelog
from .faults import Fault, FaultTable
from .routes import Answer, apply_fault, not_modified, route
from .tree import WarehouseUpstream


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    status: int  # 0: the connection was reset without an answer
    kind: str | None  # root, simple, json, file, metadata, xmlrpc; None for anything else
    project: str | None  # normalized name, for project pages and files


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pypimirror-test-upstream"
    timeout = 60  # idle keep-alive connections

    def setup(self) -> None:
        super().setup()
        self.server.owner._connections.add(self.connection)

    def finish(self) -> None:
        self.server.owner._connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if urlsplit(self.path).path in ("/pypi", "/pypi/"):
            upstream = self.server.owner.upstream
            answer = Answer(200, changelog.call(upstream, body), "text/xml", kind="xmlrpc")
        else:
            answer = Answer(405, b"405 Method Not Allowed\n")
        self._respond(answer, head=False)

    def _serve(self, head: bool) -> None:
        path = urlsplit(self.path).path
        self._respond(route(self.server.owner.upstream, path, self.headers.get("Accept")), head)

    def _respond(self, answer: Answer, head: bool) -> None:
        owner = self.server.owner
        url = urlsplit(self.path)
        if not owner.authorized(self.headers.get("Authorization"), url.query):
            answer = Answer(
                401,
                b"401 Unauthorized\n",
                headers={"WWW-Authenticate": 'Basic realm="upstream"'},
                kind=answer.kind,
                project=answer.project,
            )
            self._log(url, answer, 401)
            self._send(answer, head, None)
            return
        fault = owner.faults.take(url.path, answer.kind, answer.project)
        logged = False
        try:
            # Each request is logged before its client can see the answer: a test may read
            # the log as soon as its request returns.
            if fault and fault.reset:
                logged = self._log(url, answer, 0)
                self._reset()
                return
            if fault and fault.delay:
                owner._stopping.wait(fault.delay)
            if fault:
                answer = apply_fault(owner.upstream, fault, answer)
            elif not_modified(self.headers, answer):
                answer = Answer(
                    304, b"", headers=answer.headers, kind=answer.kind, project=answer.project
                )
            logged = self._log(url, answer, answer.status)
            self._send(answer, head, fault.truncate if fault else None)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            if not logged:  # failed before answering
                self._log(url, answer, 0)

    def _log(self, url, answer: Answer, status: int) -> bool:
        self.server.owner._record(
            LoggedRequest(
                self.command,
                url.path,
                url.query,
                dict(self.headers.items()),
                status,
                answer.kind,
                answer.project,
            )
        )
        return True

    def _send(self, answer: Answer, head: bool, truncate: int | None) -> None:
        self.send_response(answer.status)
        if answer.status != 304:
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if head or answer.status == 304:
            return
        if truncate is not None:
            self.wfile.write(answer.body[:truncate])
            self.close_connection = True
        else:
            self.wfile.write(answer.body)

    def _reset(self) -> None:
        """Close at once with RST (SO_LINGER 0), before any byte of an answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        os.close(self.connection.detach())
        self.close_connection = True


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: "UpstreamServer"


class UpstreamServer:
    """Serves ``upstream``'s tree on ``http://127.0.0.1:<free port>``; a context manager.

    ``start()`` sets ``upstream.base_url`` to this server's URL when unset and writes the tree.
    After changing the upstream, call ``upstream.write()``: requests see the new state then.
    """

    def __init__(
        self,
        upstream: WarehouseUpstream,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        basic_auth: tuple[str, str] | None = None,
        token: tuple[str, str] | None = None,
    ):
        self.upstream = upstream
        # Credentials every request must carry, as private indexes ask: HTTP basic auth, and/or
        # a query parameter (name, value); 401 without them.
        self.basic_auth, self.token = basic_auth, token
        self.faults = FaultTable()
        self._log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.owner = self
        self.url = f"http://{host}:{self._httpd.server_port}"
        self._thread: threading.Thread | None = None

    @property
    def index_url(self) -> str:
        return f"{self.url}/simple/"

    def start(self) -> "UpstreamServer":
        if self.upstream.base_url is None:
            self.upstream.base_url = self.url
        self.upstream.write()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> "UpstreamServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def authorized(self, authorization: str | None, query: str) -> bool:
        if self.basic_auth is not None:
            expected = base64.b64encode(":".join(self.basic_auth).encode()).decode()
            if authorization != f"Basic {expected}":
                return False
        if self.token is not None:
            name, value = self.token
            if value not in parse_qs(query).get(name, []):
                return False
        return True

    # Faults
    def add_fault(
        self,
        fault: Fault,
        *,
        path: str | None = None,
        project: str | None = None,
        kind: str | tuple[str, ...] | None = None,
    ) -> None:
        """Misbehave on requests for ``path`` (exact URL path), and/or ``project`` (its
        normalized name: its pages and files), and/or ``kind`` (see ``faults``)."""
        name = canonicalize_name(project) if project else None
        self.faults.add(fault, path=path, project=name, kind=kind)

    def clear_faults(self) -> None:
        self.faults.clear()

    # The request log
    def _record(self, request: LoggedRequest) -> None:
        with self._log_lock:
            self._log.append(request)

    def requests(
        self, *, kind: str | None = None, project: str | None = None
    ) -> list[LoggedRequest]:
        with self._log_lock:
            log = list(self._log)
        name = canonicalize_name(project) if project else None
        return [
            r
            for r in log
            if (kind is None or r.kind == kind) and (name is None or r.project == name)
        ]

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    def requested_projects(self, kinds: tuple[str, ...] = ("simple", "json")) -> set[str]:
        """Normalized names of the projects whose pages (by default) were requested."""
        return {r.project for r in self.requests() if r.kind in kinds and r.project}

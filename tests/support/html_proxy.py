"""A loopback proxy that asks a server for its simple pages as HTML only.

pip and uv always prefer PEP 691 JSON, so an index's PEP 503 HTML is what older or simpler
clients read; through this proxy pip and uv read the HTML a node serves (its file links point
at the node itself, which they then fetch directly). It records the content type of each simple
page it passed on, so a test can tell that HTML was what the client got.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


@dataclass
class HTMLOnlyProxy:
    url: str
    # (path, content type) of every simple page passed on
    pages: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def html_only_proxy(target: str) -> Iterator[HTMLOnlyProxy]:
    """A proxy in front of ``target`` (a base URL) whose ``/simple/`` pages are asked for with
    ``Accept: text/html``; other requests are passed on as they come."""
    http = httpx.Client(base_url=target, timeout=30, trust_env=False)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args) -> None:
            pass

        def do_GET(self) -> None:
            simple = self.path.startswith("/simple/")
            headers = {"Accept": "text/html"} if simple else {}
            if not simple and self.headers.get("Accept"):
                headers["Accept"] = self.headers["Accept"]
            response = http.get(self.path, headers=headers)
            content_type = response.headers.get("Content-Type", "")
            if simple:
                with lock:
                    proxy.pages.append((self.path, content_type))
            self.send_response(response.status_code)
            for name in ("Content-Type", "Location", "ETag", "Cache-Control"):
                if name in response.headers:
                    self.send_header(name, response.headers[name])
            self.send_header("Content-Length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    proxy = HTMLOnlyProxy(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        http.close()

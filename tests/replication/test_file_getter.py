"""The direct path for files (clients/files.py) against a real HTTP server on loopback: kept-alive
connections, one closed by the server meanwhile, bodies cut short, and what it hands back."""

import gzip
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from apps.replication.clients.files import FileGetter
from apps.replication.clients.http import (
    _ssl_context,
    _VerifyingContext,
    file_stream,
    make_http_client,
)

BODY = b"wheel bytes " * 100


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self):
        self.server.connections.add(self.client_address)
        body, headers = BODY, {}
        if self.path == "/gzip":
            body, headers = gzip.compress(BODY), {"Content-Encoding": "gzip"}
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY) if self.path == "/short" else len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if self.path == "/short" else body)
        if self.path in ("/short", "/then-close"):
            self.close_connection = True  # without saying so: the client finds out later

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.connections = set()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def getter():
    files = FileGetter(headers={"User-Agent": "test"}, timeout=5, context=_ssl_context())
    yield files
    files.close()


def read(getter: FileGetter, url: str) -> bytes:
    response = getter.get(url, {})
    try:
        return b"".join(response.iter_bytes(4096))
    finally:
        response.close()


def test_files_share_one_kept_alive_connection(server, getter):
    httpd, url = server
    assert [read(getter, f"{url}/f{i}") for i in range(5)] == [BODY] * 5
    assert len(httpd.connections) == 1


def test_a_connection_the_server_closed_meanwhile_is_replaced(server, getter):
    httpd, url = server
    assert read(getter, f"{url}/then-close") == BODY
    assert read(getter, f"{url}/next") == BODY
    assert len(httpd.connections) == 2


def test_a_body_cut_short_is_an_error(server, getter):
    _httpd, url = server
    with pytest.raises(httpx.RemoteProtocolError, match="still to come"):
        read(getter, f"{url}/short")


def test_an_encoded_body_is_left_to_the_client_which_decodes_it(server, getter, settings):
    _httpd, url = server
    assert getter.get(f"{url}/gzip", {}) is None
    with make_http_client() as http, file_stream(http, f"{url}/gzip", headers={}) as response:
        assert b"".join(response.iter_bytes()) == BODY


def test_credentials_in_the_url_are_left_to_the_client(server, getter):
    _httpd, url = server
    with_credentials = url.replace("http://", "http://user:secret@")
    assert getter.get(f"{with_credentials}/f", {}) is None
    with make_http_client() as http, file_stream(http, f"{with_credentials}/f", headers={}) as r:
        assert r.request.headers["Authorization"].startswith("Basic ")
        assert b"".join(r.iter_bytes()) == BODY


def test_nothing_listening_is_a_connect_error(getter):
    with pytest.raises(httpx.ConnectError):
        getter.get("http://127.0.0.1:9/x", {})


def self_signed(directory) -> tuple:
    """A certificate for 127.0.0.1 and its key (openssl), each in a file of ``directory``."""
    directory.mkdir()
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(tmp_path):
    """The same server over TLS, with a self-signed certificate."""
    cert, key = self_signed(tmp_path / "server")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.connections = set()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", cert
    httpd.shutdown()
    httpd.server_close()


def test_files_over_tls_are_checked_against_the_trusted_certificates(
    tls_server, monkeypatch, tmp_path
):
    url, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    trusting = FileGetter(headers={}, timeout=5, context=_VerifyingContext(ssl.PROTOCOL_TLS_CLIENT))
    assert read(trusting, f"{url}/f") == BODY
    trusting.close()

    other, _key = self_signed(tmp_path / "other")
    monkeypatch.setenv("SSL_CERT_FILE", str(other))  # trusts another certificate only
    doubting = FileGetter(headers={}, timeout=5, context=_VerifyingContext(ssl.PROTOCOL_TLS_CLIENT))
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        doubting.get(f"{url}/f", {})

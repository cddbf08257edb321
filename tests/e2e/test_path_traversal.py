"""No request under /packages/ reaches outside the store, however its dots and slashes are
spelled. Sent raw over a socket: an HTTP client would normalize the path before sending it."""

import socket
from urllib.parse import quote, urlsplit

import httpx
import pytest

from .pages import JSON_V1

pytestmark = pytest.mark.e2e

SQLITE_MAGIC = b"SQLite format 3\x00"

# One step up, as each spelling writes it: plain, percent-encoded, backslashed, double-encoded.
PARENT_STEPS = [
    "../",
    "%2e%2e/",
    "%2E%2E/",
    ".%2e/",
    "%2e./",
    "..%2f",
    "..%2F",
    "%2e%2e%2f",
    "..%5c",
    "..%5C",
    "..\\",
    "%2e%2e%5c",
    "%252e%252e/",
    "..%252f",
    "%252e%252e%252f",
    "..%255c",
    "....//",
    "..;/",
]


def raw_get(url: str, target: str) -> tuple[int, bytes]:
    """Send ``GET target`` byte for byte; the status and the whole raw response."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode()
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    return int(response.split(b" ", 2)[1]), response


def assert_refused(server, target: str) -> None:
    status, response = raw_get(server.url, target)
    assert SQLITE_MAGIC not in response, target
    assert 400 <= status < 500, (target, status)


@pytest.fixture(scope="module")
def db_file(embedded_server):
    """The database the node must never serve, where the embedded default puts it."""
    path = embedded_server.sqlite_path
    assert path.read_bytes().startswith(SQLITE_MAGIC)
    assert path.parent == embedded_server.store_dir.parent
    return path


def test_raw_request_for_a_stored_file_is_served(embedded_server, embedded_content):
    """The control: the same raw requests do reach files that are in the store."""
    spec = embedded_content.wheel_chain[0]
    wheel = embedded_content.files[f"{spec.module}-{spec.version}-py3-none-any.whl"]
    page = httpx.get(f"{embedded_server.url}/simple/{spec.name}/", headers={"Accept": JSON_V1})
    url = next(f["url"] for f in page.json()["files"] if f["filename"] == wheel.name)

    status, response = raw_get(embedded_server.url, urlsplit(url).path)

    assert status == 200
    assert response.endswith(wheel.read_bytes())


@pytest.mark.parametrize("step", PARENT_STEPS)
def test_parent_steps_under_packages_never_serve_the_database(embedded_server, db_file, step):
    for depth in range(1, 6):
        assert_refused(embedded_server, f"/packages/{step * depth}{db_file.name}")
        assert_refused(embedded_server, f"/packages/x/y/{step * (depth + 2)}{db_file.name}")


def test_absolute_paths_under_packages_never_serve_the_database(embedded_server, db_file):
    for target in (
        f"/packages/{db_file}",
        f"/packages/{quote(str(db_file), safe='')}",
        f"/packages/{quote(quote(str(db_file), safe=''), safe='')}",
        f"/packages/%00/../{db_file.name}",
    ):
        assert_refused(embedded_server, target)

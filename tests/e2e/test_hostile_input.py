"""Issue 12, findings 1 and 2, against a real server (gunicorn, PostgreSQL, no nginx in front).

1. ``Range: bytes=<1600 spaces>-<1600 spaces>x`` held a worker 17 s, five of them every worker
   for 42 s: now each is answered within 50 ms, and five at once leave the node answering.
2. NUL bytes in names and filters (PostgreSQL's DataError), a 5,000-digit Range position
   (Python's int-string limit) and a 5,000-digit version (``packaging``) were 500s: now each,
   and their neighbours, is a 4xx saying why.
"""

import hashlib
import http.client
import threading
import time
import xmlrpc.client
from urllib.parse import urlsplit

import pytest

from apps.catalog.blobstore import file_url_path
from tests.support.dists import DistSpec, build_wheel
from tests.support.servers import live_server

pytestmark = pytest.mark.e2e

FINDING_1 = "bytes=" + " " * 1600 + "-" + " " * 1600 + "x"  # 3.2 KB
FINDING_1_8K = "bytes=" + " " * 4000 + "-" + " " * 4000 + "x"  # under gunicorn's 8190
BUDGET = 0.050
# A backtracking parser is slow every time, a loaded machine now and then: best of a few.
TRIES = 3
CLIENT_TIMEOUT = 10


def send(url: str, target: str, *, method: str = "GET", body: bytes | None = None, **headers):
    """``method target`` sent as written (``%00`` stays ``%00``): status, headers, body, seconds
    from the request's first byte to the response's last."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=CLIENT_TIMEOUT)
    try:
        connection.connect()
        start = time.perf_counter()
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        return response.status, dict(response.getheaders()), content, time.perf_counter() - start
    finally:
        connection.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """A node on PostgreSQL serving one wheel; ``node.file`` is the wheel's URL path."""
    directory = tmp_path_factory.mktemp("hostile-dists")
    wheel = build_wheel(DistSpec("demo", "1.0", padding=5000), directory)
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    with live_server(dists=[directory], database="postgres") as server:
        server.file = "/" + file_url_path(sha256=sha256, filename=wheel.name)
        server.size = wheel.stat().st_size
        for _ in range(8):  # both workers warm: connected to the database, modules imported
            assert send(server.url, server.file, Range="bytes=0-9")[0] == 206
        yield server


@pytest.mark.parametrize("header", [FINDING_1, FINDING_1_8K], ids=["3.2KB", "8KB"])
def test_finding_1_range_header_is_answered_within_50_ms(node, header):
    fastest = float("inf")
    for _ in range(TRIES):
        status, headers, body, seconds = send(node.url, node.file, Range=header)
        assert status == 416
        assert headers["Content-Range"] == f"bytes */{node.size}"
        assert b"Range Not Satisfiable" in body
        fastest = min(fastest, seconds)
    assert fastest < BUDGET, f"{fastest * 1000:.1f} ms"


def test_five_hostile_ranges_at_once_leave_the_node_answering(node):
    results: list[tuple[int, float]] = []
    barrier = threading.Barrier(5)

    def attack() -> None:
        barrier.wait()
        status, _, _, seconds = send(node.url, node.file, Range=FINDING_1_8K)
        results.append((status, seconds))

    threads = [threading.Thread(target=attack) for _ in range(5)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    status, _, _, page_seconds = send(node.url, "/simple/demo/")
    for thread in threads:
        thread.join(timeout=CLIENT_TIMEOUT + 5)
    elapsed = time.perf_counter() - start

    assert sorted(status for status, _ in results) == [416] * 5
    assert status == 200 and page_seconds < 1.0
    assert elapsed < 1.0, f"five hostile requests took {elapsed:.2f} s"
    assert send(node.url, node.file, Range="bytes=0-9")[0] == 206


FINDING_2 = [
    # (target, headers, status): the inputs first, then their neighbours.
    ("/simple/a%00b/", {}, 400),
    ("/pypi/%00/json", {}, 400),
    ("/api/v1/sync-runs/?state=%00", {}, 400),
    ("FILE", {"Range": "bytes=" + "9" * 5000 + "-"}, 416),
    ("/pypi/demo/" + "1" * 5000 + "/json", {}, 414),  # gunicorn's request-line limit first
    ("/pypi/demo/" + "1" * 4000 + "/json", {}, 404),  # under it, the node's own answer
    ("/pypi/demo/1.0%00/json", {}, 400),
    ("/api/v1/sync-runs/?upstream=%00", {}, 400),
    ("/api/v1/sync-runs/?state=bogus", {}, 400),
    ("/api/v1/sync-runs/?page=" + "9" * 4000, {}, 404),
    ("/api/v1/sync-runs/" + "9" * 30 + "/", {}, 404),
    ("/integrity/demo/1.0/a%00b/provenance", {}, 400),
    ("/integrity/demo/" + "1" * 4000 + "/demo.whl/provenance", {}, 404),
    ("/packages/ab/cd/" + "e" * 60 + "/a%00b", {}, 400),
    ("/simple/?format=%00", {}, 400),
    ("/api/v1/sync-runs/", {"Cookie": 'sessionid="aaaaaaaaaa\\000"'}, 400),
    ("FILE", {"Range": "bytes=0-" + "9" * 21}, 416),
    ("FILE", {"Range": "bytes=" + "0-1," * 17}, 416),
    ("FILE", {"If-None-Match": '"x", ' * 1500}, 200),  # too long to match: the file
]


@pytest.mark.parametrize(
    ("target", "headers", "expected"), FINDING_2, ids=[f"{i}" for i in range(len(FINDING_2))]
)
def test_finding_2_client_input_is_a_4xx_not_a_500(node, target, headers, expected):
    target = node.file if target == "FILE" else target
    status, _, body, _ = send(node.url, target, **headers)
    assert status == expected, (target[:80], status, body[:300])


def test_xmlrpc_serial_beyond_64_bits_is_a_fault_not_an_internal_error(node):
    body = (
        "<methodCall><methodName>changelog_since_serial</methodName><params><param>"
        f"<value><i8>{10**4000}</i8></value></param></params></methodCall>"
    ).encode()
    status, _, content, _ = send(
        node.url, "/pypi", method="POST", body=body, **{"Content-Type": "text/xml"}
    )
    assert status == 200
    with pytest.raises(xmlrpc.client.Fault) as excinfo:
        xmlrpc.client.loads(content)
    assert excinfo.value.faultCode == -32602

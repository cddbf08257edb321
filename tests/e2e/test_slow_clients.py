"""Slow clients against the embedded default's web server, as ``bin/run`` starts it
(deploy/gunicorn.conf.py with no GUNICORN_* settings: gevent workers, 2 * CPUs + 1).

Finding 4 of issue 12: five connections sending their headers a byte at a time left the sync
workers answering nobody else for 15 s.
"""

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.dists import DistSpec, build_wheel
from tests.support.servers import LiveServer, live_server

pytestmark = pytest.mark.e2e

SLOW_CLIENTS = 50
OTHER_REQUESTS = 8
ANSWER_WITHIN = 1.0  # seconds, for each request of the others
# The config's keepalive (5 s) bounds the time a gevent worker gives a request's headers.
HEADER_DEADLINE = 5.0


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    directory = tmp_path_factory.mktemp("slow-dists")
    build_wheel(DistSpec(name="patient", version="1.0"), directory)
    return directory


@pytest.fixture(scope="module")
def server(dists) -> Iterator[LiveServer]:
    """The embedded default as bin/run serves it: no GUNICORN_* setting at all."""
    with live_server(
        dists=[dists],
        database="embedded",
        settings="pypimirror.settings.local",
        workers=None,
        threads=None,
    ) as live:
        for _ in range(20):  # every worker past its first request: what is measured is waiting
            httpx.get(f"{live.url}/simple/patient/", timeout=30)
        yield live


class Trickler:
    """Connections that send a request line, then one header byte every ``interval`` s."""

    def __init__(self, url: str, count: int, interval: float = 0.5) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.sockets = [
            socket.create_connection((host, int(port)), timeout=5) for _ in range(count)
        ]
        for sock in self.sockets:
            sock.sendall(b"GET /simple/patient/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        self.interval = interval
        self.closed_after: dict[int, float] = {}  # socket index -> seconds until the server hung up
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.wait(self.interval):
            for index, sock in enumerate(self.sockets):
                if index in self.closed_after:
                    continue
                try:
                    sock.sendall(b"a")
                    sock.setblocking(False)
                    with contextlib.suppress(BlockingIOError):
                        if sock.recv(1024) == b"":
                            raise ConnectionResetError
                    sock.setblocking(True)
                except OSError:
                    self.closed_after[index] = time.monotonic() - self._started

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


def _timed_get(client: httpx.Client, url: str) -> tuple[int, float]:
    started = time.monotonic()
    response = client.get(url, timeout=30)
    return response.status_code, time.monotonic() - started


def test_fifty_clients_sending_headers_slowly_do_not_keep_others_waiting(server):
    trickler = Trickler(server.url, SLOW_CLIENTS)
    try:
        time.sleep(1.0)  # every slow connection accepted and mid-headers
        answers = []
        for _ in range(OTHER_REQUESTS // 2):
            # A new connection for each, as a fresh client has to get one.
            with httpx.Client() as client:
                answers.append(_timed_get(client, f"{server.url}/simple/patient/"))
            with httpx.Client() as client:
                answers.append(_timed_get(client, f"{server.url}/healthz"))
            time.sleep(0.2)
        still_trickling = SLOW_CLIENTS - len(trickler.closed_after)
    finally:
        trickler.close()

    assert [status for status, _ in answers] == [200] * OTHER_REQUESTS
    slow = [round(seconds, 2) for _, seconds in answers if seconds > ANSWER_WITHIN]
    assert slow == [], f"answers slower than {ANSWER_WITHIN} s while {still_trickling} trickled"


def test_a_client_that_never_finishes_its_headers_is_cut_off_after_the_deadline(server):
    trickler = Trickler(server.url, 5)
    try:
        deadline = time.monotonic() + HEADER_DEADLINE + 5
        while len(trickler.closed_after) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        trickler.close()

    assert sorted(trickler.closed_after) == [0, 1, 2, 3, 4]
    assert all(seconds < HEADER_DEADLINE + 2 for seconds in trickler.closed_after.values())


def test_sync_workers_as_before_are_silenced_by_five_slow_clients(dists):
    """The finding itself, so the test above is known to catch it: gunicorn's sync worker reads
    headers with no deadline, one connection per worker."""
    with live_server(
        dists=[dists],
        database="embedded",
        settings="pypimirror.settings.local",
        workers=5,
        threads=None,
        env={"GUNICORN_WORKER_CLASS": "sync"},
    ) as sync_server:
        trickler = Trickler(sync_server.url, 5)
        try:
            time.sleep(1.0)
            with pytest.raises(httpx.TimeoutException):
                httpx.get(f"{sync_server.url}/healthz", timeout=ANSWER_WITHIN * 3)
        finally:
            trickler.close()

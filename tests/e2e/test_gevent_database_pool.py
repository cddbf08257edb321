"""gevent web workers on PostgreSQL share a bounded pool of connections.

Found by benchmarks/load.py: 200 clients against 5 gevent workers each gave their greenlet a
connection of its own, past PostgreSQL's max_connections (100), and a quarter of the requests
failed with 500. deploy/gunicorn.conf.py sets PYPIMIRROR_DB_POOL for gevent workers; requests
then wait for one of the pool's connections, and downloads give theirs back before streaming.
"""

import asyncio
import threading
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.support.dists import DistSpec, build_wheel
from tests.support.servers import LiveServer, live_server

pytestmark = pytest.mark.e2e

POOL = 4
CLIENTS = 120
JSON_PAGE = "application/vnd.pypi.simple.v1+json"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("pool-dists")
    build_wheel(DistSpec(name="crowded", version="1.0"), directory)
    with live_server(
        dists=[directory],
        database="postgres",
        workers=1,
        threads=None,  # the config's default worker class: gevent
        env={"PYPIMIRROR_DB_POOL": str(POOL)},
    ) as live:
        yield live


def _server_connections(database_url: str) -> int:
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()[0]


async def _crowd(url: str, paths: list[str]) -> list[int]:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        answers = await asyncio.gather(*(client.get(path) for path in paths))
    return [answer.status_code for answer in answers]


def test_many_clients_at_once_share_the_pool_and_all_get_answers(server):
    page = httpx.get(f"{server.url}/simple/crowded/", headers={"Accept": JSON_PAGE}).json()
    wheel = page["files"][0]["url"]
    paths = ["/simple/crowded/", "/pypi/crowded/json", wheel] * (CLIENTS // 3)
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _server_connections(server.database_url))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        statuses = asyncio.run(_crowd(server.url, paths * 2))
    finally:
        done.set()
        watcher.join()

    assert statuses == [200] * len(statuses)
    assert 0 < peak[0] <= POOL, f"{peak[0]} connections open at once for a pool of {POOL}"

"""``/healthz`` and ``/readyz`` on a real server (gunicorn, PostgreSQL) whose parts are broken."""

import shutil

import httpx
import pytest

from tests.support.databases import admin_connect
from tests.support.servers import live_server

pytestmark = pytest.mark.e2e


def ready(server) -> tuple[int, dict]:
    response = httpx.get(f"{server.url}/readyz", timeout=30)
    return response.status_code, response.json()


def test_readyz_names_a_broken_store_then_a_dropped_database_while_healthz_stays_ok():
    # gevent workers take connections from a pool, which waits PYPIMIRROR_DB_POOL_TIMEOUT for
    # one it cannot open before it gives up.
    pool = {"PYPIMIRROR_DB_POOL_TIMEOUT": "3"}
    with live_server(database="postgres", workers=1, threads=1, env=pool) as server:
        assert ready(server) == (
            200,
            {"ready": True, "checks": {"database": "ok", "store": "ok", "broker": "ok"}},
        )

        # The store directory replaced by a file: unreadable, even for root.
        shutil.rmtree(server.store_dir, ignore_errors=True)
        server.store_dir.write_bytes(b"not a directory")
        status, body = ready(server)
        assert (status, body["failing"]) == (503, ["store"])
        server.store_dir.unlink()
        assert ready(server)[0] == 200

        # The database gone from under the running server (the shared server keeps running).
        name = server.database_url.rsplit("/", 1)[1]
        with admin_connect(server.database_url) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        status, body = ready(server)
        assert (status, body["failing"]) == (503, ["database"])
        assert body["checks"]["store"] == "ok"
        # The first answer found its connection cut; the next one cannot open a new one.
        status, body = ready(server)
        assert (status, body["failing"]) == (503, ["database"])
        failure = body["checks"]["database"]
        assert f'"{name}" does not exist' in failure or "couldn't get a connection" in failure
        health = httpx.get(f"{server.url}/healthz", timeout=10)
        assert (health.status_code, health.text) == (200, "ok\n")


def test_readyz_names_an_unreachable_broker_on_the_embedded_default():
    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with live_server(
        database="embedded", workers=1, threads=1, env={"CELERY_BROKER_URL": dead}
    ) as server:
        status, body = ready(server)
    assert (status, body["failing"]) == (503, ["broker"])
    assert body["checks"]["database"] == body["checks"]["store"] == "ok"

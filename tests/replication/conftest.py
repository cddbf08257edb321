"""Replication tests: a Warehouse-shaped upstream on loopback, synced into the real database.

Syncs run in-process with threads (each with its own connection), so the tests that sync use
``transactional_db``: what a thread commits is what the test client then reads.
"""

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from apps.replication import services
from tests.support.upstream import UpstreamServer, WarehouseUpstream


@pytest.fixture(autouse=True)
def fast_sync(settings):
    """Tiny backoffs and timeouts, so faults cost milliseconds; a clean page cache and client
    pool per test (the clients are cached per upstream by the services)."""
    settings.PYPIMIRROR_SYNC_STALE_BACKOFF = 0.01
    settings.PYPIMIRROR_SYNC_MAX_ATTEMPTS_STALE = 2
    settings.PYPIMIRROR_HTTP_TIMEOUT = 5.0
    settings.PYPIMIRROR_SYNC_CONCURRENCY = 4
    cache.clear()
    yield
    with services._clients_lock:
        for client in services._clients.values():
            client.close()
        services._clients.clear()
    cache.clear()


@pytest.fixture
def upstream(tmp_path) -> WarehouseUpstream:
    return WarehouseUpstream(tmp_path / "upstream")


@pytest.fixture
def server(upstream) -> Iterator[UpstreamServer]:
    with UpstreamServer(upstream) as running:
        yield running

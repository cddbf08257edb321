"""Verify tests: real files in a per-test store (tests/conftest.py), a real PostgreSQL catalog
and, for repairs, the Warehouse-shaped upstream on loopback the replication tests use."""

from tests.replication.conftest import fast_sync, server, upstream  # noqa: F401

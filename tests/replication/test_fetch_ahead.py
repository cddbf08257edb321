"""fetch_ahead.fetched_ahead: every item once, several read at once, the caller's heartbeat
called while it waits, and a fetch's error handed to the caller."""

import threading
import time

import pytest

from apps.replication import fetch_ahead
from apps.replication.fetch_ahead import fetched_ahead


@pytest.mark.parametrize("threads", [1, 3, 8])
def test_every_item_comes_once_with_its_result(threads):
    found = dict(fetched_ahead(range(20), lambda n: n * n, threads=threads, heartbeat=lambda: None))

    assert found == {n: n * n for n in range(20)}


def test_items_are_fetched_at_once_in_other_threads():
    both = threading.Barrier(2, timeout=10)

    def fetch(n: int) -> str:
        both.wait()  # both at once, or BrokenBarrierError
        return threading.current_thread().name

    results = [r for _, r in fetched_ahead([1, 2], fetch, threads=2, heartbeat=lambda: None)]

    assert len(set(results)) == 2
    assert all(name.startswith("sync-fetch") for name in results)


def test_the_heartbeat_is_called_while_a_fetch_takes_long(monkeypatch):
    monkeypatch.setattr(fetch_ahead, "WAKE_SECONDS", 0.01)
    beats = []

    def slow(n: int) -> int:
        time.sleep(0.3)
        return n

    list(fetched_ahead([1, 2], slow, threads=2, heartbeat=lambda: beats.append(1)))

    assert len(beats) >= 5


def test_a_fetch_error_reaches_the_caller_and_the_rest_is_not_started():
    seen = []

    def fetch(n: int) -> int:
        seen.append(n)
        if n == 0:
            raise RuntimeError("boom")
        time.sleep(0.05)
        return n

    with pytest.raises(RuntimeError, match="boom"):
        list(fetched_ahead(range(50), fetch, threads=2, heartbeat=lambda: None))

    assert len(seen) < 50

"""fetch_ahead.fetched_ahead: every item once, several read at once (as many as help: Ramp),
the caller's heartbeat called while it waits, a fetch's error handed to the caller, and items
offloaded to another process, read here when it dies."""

import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

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


def test_fetches_that_wait_ramp_up_to_the_threads_allowed():
    lock, running, most = threading.Lock(), [0], [0]

    def waiting(n: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)  # an upstream's latency: no CPU
        with lock:
            running[0] -= 1
        return n

    ramp = fetch_ahead.Ramp(6)
    found = dict(fetched_ahead(range(60), waiting, threads=6, heartbeat=lambda: None, ramp=ramp))

    assert found == {n: n for n in range(60)}
    assert ramp.limit == 6
    assert most[0] == 6


class Clocks:
    """A wall clock and a CPU clock the test moves, so each judgement is one it chose."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def spend(self, wall: float, cpu: float) -> None:
        self.wall += wall
        self.cpu += cpu


@pytest.mark.parametrize(
    ("cpu_share", "limits"),
    [
        (0.1, [2, 4, 8, 8]),  # waiting on the upstream: doubled up to the maximum
        (0.7, [1, 1, 1, 1]),  # neither: kept
        (1.2, [1, 1, 1, 1]),  # bound by the CPU already: never more than one
    ],
)
def test_the_ramp_follows_the_share_of_time_on_the_cpu(cpu_share, limits):
    clocks = Clocks()
    ramp = fetch_ahead.Ramp(8, clock=lambda: clocks.wall, cpu_clock=lambda: clocks.cpu)

    seen = []
    for _ in limits:
        clocks.spend(0.2, 0.2 * cpu_share)
        seen.append(ramp.update())

    assert seen == limits


def test_a_busy_process_gives_threads_back_and_judges_only_whole_windows():
    clocks = Clocks()
    ramp = fetch_ahead.Ramp(8, start=8, clock=lambda: clocks.wall, cpu_clock=lambda: clocks.cpu)

    clocks.spend(0.05, 0.05)
    assert ramp.update() == 8  # half a window: too soon to judge
    clocks.spend(0.05, 0.06)
    assert ramp.update() == 7
    for _ in range(10):
        clocks.spend(0.1, 0.1)
        ramp.update()
    assert ramp.limit == 1


def test_each_batch_of_an_upstream_starts_where_the_last_ended():
    first = fetch_ahead.ramp_for(("test", 1), 8)
    first.limit = 5

    assert fetch_ahead.ramp_for(("test", 1), 8) is first
    assert fetch_ahead.ramp_for(("test", 2), 8) is not first
    assert fetch_ahead.ramp_for(("test", 1), 4).limit == 1  # another maximum: judged anew


def square_with_pid(n: int) -> tuple[int, int]:
    """A fetch for another process: module-level, so a spawned process can import it."""
    return n * n, os.getpid()


def die(n: int) -> None:
    os._exit(3)  # a helper killed (out of memory, say) while it reads


@pytest.fixture
def helper_pool() -> Iterator[ProcessPoolExecutor]:
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    yield pool
    pool.shutdown(cancel_futures=True)


def squares_offloaded(pool: ProcessPoolExecutor, offloaded, count: int) -> dict:
    """``fetched_ahead`` of ``range(count)``, squared here or by ``offloaded`` in the pool."""
    found = dict(
        fetched_ahead(
            range(count),
            square_with_pid,
            threads=2,
            heartbeat=lambda: None,
            offload=lambda n: pool.submit(offloaded, n),
            offload_slots=2,
        )
    )
    assert {n: square for n, (square, _pid) in found.items()} == {n: n * n for n in range(count)}
    return found


def test_offloaded_items_come_back_from_the_other_process_once_each(helper_pool):
    found = squares_offloaded(helper_pool, square_with_pid, 40)

    assert {pid for _square, pid in found.values()} - {os.getpid()}  # some came from the helper


def test_a_helper_that_dies_leaves_its_items_to_this_process(helper_pool, caplog):
    found = squares_offloaded(helper_pool, die, 10)

    assert {pid for _square, pid in found.values()} == {os.getpid()}
    assert "a sync helper process died" in caplog.text


def test_helpers_dead_before_the_batch_leave_it_all_to_this_process(helper_pool, caplog):
    with pytest.raises(BrokenProcessPool):
        helper_pool.submit(die, 0).result()

    found = squares_offloaded(helper_pool, square_with_pid, 5)

    assert {pid for _square, pid in found.values()} == {os.getpid()}
    assert "a sync helper process died" in caplog.text

"""Reading projects upstream several at a time, for a batch that publishes them in turn.

A project's sync mostly waits on the upstream (its page, then each file). A worker process
syncing its batch one project after another waits through each; here several projects are
read at once while the calling thread publishes and records what is done, on its own database
connection (the reading touches no database). The calling thread also keeps the batch's leases
alive (``heartbeat``) while it waits, however long a download takes.

How many are read at once adapts (``Ramp``): threads hide the upstream's latency, but when
the process is already busy on the CPU (a nearby upstream, small files) more of them only
queue for the GIL and for the kernel's directory locks: on a loopback upstream, 8 threads
took 20-25 % more time and 40 % more CPU than one.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# How often, at most, the waiting thread wakes to call the heartbeat (which itself renews the
# leases only every LEASE / 4).
WAKE_SECONDS = 5.0


class Ramp:
    """How many fetches to keep in flight, between 1 and ``maximum``, judged every
    ``WINDOW`` seconds from the share of that time the process spent on the CPU: under
    ``WAITING`` it mostly waits (on the upstream), and twice as many fetches hide more of
    that wait; over ``BUSY`` (a process on one CPU, as the GIL allows, plus the kernel's
    share) it is bound by the CPU, and one fewer costs nothing and spares the contention.
    One ramp serves a process's successive batches of an upstream (``ramp_for``), so each
    starts where the last ended."""

    WINDOW = 0.1
    WAITING = 0.5
    BUSY = 0.95

    def __init__(
        self,
        maximum: int,
        *,
        start: int = 1,
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        self.maximum = max(1, maximum)
        self.limit = min(max(1, start), self.maximum)
        self._clock, self._cpu_clock = clock, cpu_clock
        self._lock = threading.Lock()
        self.restart_window()

    def restart_window(self) -> None:
        """Judge only from now on (the time between batches is not the fetches')."""
        self._mark = (self._clock(), self._cpu_clock())

    def update(self) -> int:
        """The limit, changed if a window has passed since the last judgement."""
        with self._lock:
            now, cpu = self._clock(), self._cpu_clock()
            elapsed = now - self._mark[0]
            if elapsed >= self.WINDOW:
                busy = (cpu - self._mark[1]) / elapsed
                if busy < self.WAITING:
                    self.limit = min(self.maximum, self.limit * 2)
                elif busy > self.BUSY:
                    self.limit = max(1, self.limit - 1)
                self._mark = (now, cpu)
            return self.limit


_ramps: dict[object, Ramp] = {}
_ramps_lock = threading.Lock()


def ramp_for(key: object, maximum: int) -> Ramp:
    """The process's ramp for ``key`` (an upstream), made at the first batch."""
    with _ramps_lock:
        ramp = _ramps.get(key)
        if ramp is None or ramp.maximum != max(1, maximum):
            ramp = _ramps[key] = Ramp(maximum)
        return ramp


def fetched_ahead(
    items: Iterable[Item],
    fetch: Callable[[Item], Result],
    *,
    threads: int,
    heartbeat: Callable[[], None],
    ramp: Ramp | None = None,
    offload: Callable[[Item], Future] | None = None,
    offload_slots: int = 0,
) -> Iterator[tuple[Item, Result]]:
    """Each item with ``fetch(item)``, in the order they finish, at most ``threads`` fetched
    at once, as many as ``ramp`` finds useful (one after another, in this thread, when
    ``threads`` is 1 and nothing is offloaded). ``offload``: another way to fetch an item,
    whose future gives what ``fetch`` would (helper processes, fetch_helpers.py), with up to
    ``offload_slots`` items at once; an item it fails with BrokenProcessPool (a helper died)
    is fetched here instead, and nothing more is offloaded. A fetch must catch what it can:
    an exception it raises ends the iteration. Fetches not started when the caller stops
    iterating are not started at all."""
    items = list(items)
    if offload is None or offload_slots < 1 or len(items) <= 1:
        offload, offload_slots = None, 0
        if threads <= 1 or len(items) <= 1:
            for item in items:
                yield item, fetch(item)
            return
    threads = max(1, threads)
    ramp = ramp or Ramp(threads)
    ramp.restart_window()
    waiting = iter(items)
    pending: dict[Future, Item] = {}  # in this process's threads
    offloaded: dict[Future, Item] = {}
    pool = ThreadPoolExecutor(min(threads, len(items)), thread_name_prefix="sync-fetch")

    def top_up() -> None:
        nonlocal offload
        while offload is not None and len(offloaded) < offload_slots:
            if (item := next(waiting, _END)) is _END:
                return
            try:
                offloaded[offload(item)] = item
            except BrokenProcessPool:  # a helper died during an earlier batch
                logger.warning("a sync helper process died: its projects are read here")
                offload = None
                pending[pool.submit(fetch, item)] = item
        while len(pending) < min(ramp.update(), threads):
            if (item := next(waiting, _END)) is _END:
                return
            pending[pool.submit(fetch, item)] = item

    try:
        top_up()
        while pending or offloaded:
            # While the ramp may still grow, wake often enough to judge it.
            timeout = WAKE_SECONDS if ramp.limit >= threads else Ramp.WINDOW
            done, _ = wait([*pending, *offloaded], timeout=timeout, return_when=FIRST_COMPLETED)
            heartbeat()
            finished = []
            for future in done:
                if future in pending:
                    finished.append((pending.pop(future), future))
                    continue
                item = offloaded.pop(future)
                if isinstance(future.exception(), BrokenProcessPool):
                    logger.warning("a sync helper process died: its projects are read here")
                    offload = None
                    pending[pool.submit(fetch, item)] = item
                else:
                    finished.append((item, future))
            if offload is None:  # the helpers are gone: what they still held is read here
                for future, item in offloaded.items():
                    if future.done() and not isinstance(future.exception(), BrokenProcessPool):
                        finished.append((item, future))
                    else:
                        pending[pool.submit(fetch, item)] = item
                offloaded.clear()
            top_up()  # before the caller publishes: the reading goes on meanwhile
            for item, future in finished:
                yield item, future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        for future in offloaded:
            future.cancel()


_END = object()

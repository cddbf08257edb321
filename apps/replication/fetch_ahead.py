"""Reading projects upstream several at a time, for a batch that publishes them in turn.

A project's sync mostly waits on the upstream (its page, then each file). A worker process
syncing its batch one project after another waits through each; here up to ``threads``
projects are read at once while the calling thread publishes and records what is done, on its
own database connection (the reading touches no database). The calling thread also keeps the
batch's leases alive (``heartbeat``) while it waits, however long a download takes.
"""

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# How often, at most, the waiting thread wakes to call the heartbeat (which itself renews the
# leases only every LEASE / 4).
WAKE_SECONDS = 5.0


def fetched_ahead(
    items: Iterable[Item],
    fetch: Callable[[Item], Result],
    *,
    threads: int,
    heartbeat: Callable[[], None],
) -> Iterator[tuple[Item, Result]]:
    """Each item with ``fetch(item)``, in the order they finish, ``threads`` fetched at once
    (one after another, in this thread, when ``threads`` is 1). A fetch must catch what it
    can: an exception it raises ends the iteration. Fetches not started when the caller stops
    iterating are not started at all."""
    items = list(items)
    if threads <= 1 or len(items) <= 1:
        for item in items:
            yield item, fetch(item)
        return
    pool = ThreadPoolExecutor(min(threads, len(items)), thread_name_prefix="sync-fetch")
    try:
        pending: dict[Future, Item] = {pool.submit(fetch, item): item for item in items}
        while pending:
            done, _ = wait(pending, timeout=WAKE_SECONDS, return_when=FIRST_COMPLETED)
            heartbeat()
            for future in done:
                yield pending.pop(future), future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

"""Keeping the whole-index documents current: one copy each, updated in O(changes).

At a new serial, the journal names the projects changed since the manifest's serial; only the
segments whose name ranges hold them are rendered again (their projects read by range of
normalized name), split when grown past ``MAXIMUM``, dropped when empty. Everything is rendered
from scratch (in pages, so memory stays bounded) when there is no manifest, when it was made by
other code (``Manifest.version``), when the journal no longer holds its serial as it was (a
catalog restored or replaced), or when too much changed for an update to pay.

One process updates at a time (an flock); the others wait, without the lock, for a manifest at
least as new as the serial they read, and serve it.
"""

import logging
import time
from collections.abc import Iterator, Sequence

from apps.catalog.selectors import (
    journal_changes,
    journal_entry_time,
    journal_last_change,
    project_list_active_range,
    project_names_bucket,
)

from ..caching import RENDER_VERSION
from .formats import Row
from .store import (
    LAYOUT,
    Manifest,
    Segment,
    index_dir,
    lock_release,
    lock_try,
    manifest_make,
    manifest_read,
    manifest_write,
    retired_after,
    segment_write,
    segments_prune,
)
from .whole import whole_prune

logger = logging.getLogger(__name__)

VERSION = f"{RENDER_VERSION}/{LAYOUT}"
TARGET = 1500  # projects per segment when rendered from scratch or split
MAXIMUM = 2 * TARGET  # a segment grown past this is split
FULL_AFTER = 50_000  # more journal entries than this since the manifest: render from scratch
PAGE = 10 * TARGET  # projects per query when rendering from scratch
GAP_SCAN = 10_000  # after rendering from scratch, the serials below looked at for gaps
GAP_TTL = 3600  # seconds a missing serial is looked for (a transaction is not open that long)
MAX_GAPS = 1000
WAIT = 0.05  # seconds between looks while another process updates (yields under gevent)
WAIT_LIMIT = 600


def journal_head() -> tuple[int, str]:
    """(serial, stamp) of the newest journal entry; (0, "") when the journal is empty."""
    last = journal_last_change()
    return (0, "") if last is None else (last[0], last[1].isoformat())


def index_documents_peek() -> Manifest | None:
    """The documents as they are on disk, however old; never updates them."""
    return manifest_read(index_dir())


def index_documents_current(*, serial: int, stamp: str) -> Manifest:
    """The documents at the journal's head ``(serial, stamp)`` as the caller just read it, or
    newer: brought up to date first when they are older."""
    manifest = manifest_read(index_dir())
    if manifest is not None and manifest.current(serial=serial, stamp=stamp, version=VERSION):
        return manifest
    return index_documents_refresh(wanted=serial)


def index_documents_refresh(*, wanted: int | None = None) -> Manifest:
    """Bring the documents up to the journal's head; the manifest made (or found current).

    With ``wanted``, a manifest at that serial or newer written by another process while this
    one waits for the lock is taken as it is.
    """
    directory = index_dir()
    before = manifest_read(directory)
    deadline = time.monotonic() + WAIT_LIMIT
    while (fd := lock_try(directory)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{directory}: another process has been updating for too long")
        time.sleep(WAIT)
        manifest = manifest_read(directory)
        if (
            wanted is not None
            and manifest is not None
            and manifest is not before
            and manifest.version == VERSION
            and manifest.serial >= wanted
        ):
            return manifest
    try:
        return _refresh(directory)
    finally:
        lock_release(fd)


def _refresh(directory) -> Manifest:
    old = manifest_read(directory)
    serial, stamp = journal_head()
    if old is not None and old.current(serial=serial, stamp=stamp, version=VERSION):
        return old
    began, now = time.monotonic(), time.time()
    changes = _changes_since(old, serial=serial)
    if changes is None:
        segments = list(_render_all(directory))
        low = max(serial - GAP_SCAN, 0)
        present = [entry for entry, _ in journal_changes(after=low, upto=serial)]
        gaps = _missing(low + 1, serial, present, seen=now)
        how = "from scratch"
    else:
        segments = _render_changed(directory, old.segments, {name for _, name in changes})
        gaps = _gaps_after(old, serial=serial, present=[entry for entry, _ in changes], now=now)
        how = f"{len(changes)} journal entries"
    manifest = manifest_make(
        version=VERSION,
        serial=serial,
        stamp=stamp,
        segments=segments,
        gaps=gaps[-MAX_GAPS:],
        retired=retired_after(old, segments, now=now),
        directory=directory,
    )
    manifest_write(manifest)
    segments_prune(manifest, now=now)
    whole_prune(manifest)
    logger.info(
        "index documents at serial %s (%s, %d segments) in %.2f s",
        serial,
        how,
        len(segments),
        time.monotonic() - began,
    )
    return manifest


def _changes_since(old: Manifest | None, *, serial: int) -> list[tuple[int, str]] | None:
    """The journal entries (serial, name) to apply to ``old``; None when it must be redone."""
    if old is None or old.version != VERSION or serial < old.serial or not old.segments:
        return None
    if old.serial:
        recorded = journal_entry_time(serial=old.serial)
        if recorded is None or recorded.isoformat() != old.stamp:
            return None  # not the catalog it was made from
    changes = journal_changes(
        after=old.serial,
        upto=serial,
        also=[(low, high) for low, high, _ in old.gaps],
        limit=FULL_AFTER + 1,
    )
    return None if len(changes) > FULL_AFTER else changes


def _missing(low: int, high: int, present: Sequence[int], *, seen: float) -> list:
    """The ranges [a, b, seen] of serials from ``low`` to ``high`` not in sorted ``present``."""
    ranges, expected = [], low
    for serial in present:
        if serial < low or serial > high:
            continue
        if serial > expected:
            ranges.append([expected, serial - 1, seen])
        expected = max(expected, serial + 1)
    if expected <= high:
        ranges.append([expected, high, seen])
    return ranges


def _gaps_after(old: Manifest, *, serial: int, present: list[int], now: float) -> list:
    """``old``'s gaps still missing and young enough, then the new ones up to ``serial``."""
    present = sorted(present)
    gaps = []
    for low, high, seen in old.gaps:
        if now - seen < GAP_TTL:
            gaps += _missing(low, high, present, seen=seen)
    return gaps + _missing(old.serial + 1, serial, present, seen=now)


def _render_all(directory) -> Iterator[Segment]:
    """Every served project, read a page at a time, into segments of TARGET projects (the last
    one takes the remainder, so it holds from TARGET to MAXIMUM)."""
    run: list[Row] = []
    after, lead = None, True
    while True:
        page = project_list_active_range(after=after, limit=PAGE)
        run += page
        while len(run) >= 2 * TARGET:
            yield segment_write(directory, run[:TARGET], lead=lead)
            run, lead = run[TARGET:], False
        if len(page) < PAGE:
            break
        after = page[-1][1]
    if run:
        yield segment_write(directory, run, lead=lead)


def _runs(rows: list[Row]) -> list[list[Row]]:
    """``rows`` as one run, or evenly split into runs of about TARGET when past MAXIMUM."""
    if len(rows) <= MAXIMUM:
        return [rows] if rows else []
    count = -(-len(rows) // TARGET)
    size = -(-len(rows) // count)
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _render_changed(directory, segments: Sequence[Segment], names: set[str]) -> list[Segment]:
    """``segments`` with those holding a changed name rendered again from the catalog.

    Segment i holds the names from its ``first`` (from the lowest, for the first segment) up
    to the next segment's ``first``; the database sorts names into them, as it orders the list.
    The document's first segment is rendered as such (JSON: no leading comma).
    """
    stops = [segment.first for segment in segments[1:]] + [None]
    touched = set(project_names_bucket(names=sorted(names), bounds=stops[:-1]).values())
    plan: list[Segment | list[Row]] = []
    for index, (segment, stop) in enumerate(zip(segments, stops, strict=True)):
        if index not in touched:
            plan.append(segment)
            continue
        start = segment.first if index else None
        plan += _runs(project_list_active_range(start=start, stop=stop))
    result: list[Segment] = []
    for item, stop in zip(plan, _plan_stops(plan), strict=True):
        lead = not result
        if isinstance(item, Segment) and item.lead == lead:
            result.append(item)
            continue
        if isinstance(item, Segment):  # now first, or no longer: its comma changes
            runs = _runs(project_list_active_range(start=item.first, stop=stop))
        else:
            runs = [item]
        for run in runs:
            result.append(segment_write(directory, run, lead=not result))
    return result


def _plan_stops(plan: Sequence) -> list[str | None]:
    """The first name of the item after each one (None after the last)."""
    firsts = [item.first if isinstance(item, Segment) else item[0][1] for item in plan]
    return [*firsts[1:], None]

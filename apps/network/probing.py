"""Probing mirror URLs over HTTP: many at once, each within its time, none able to hurt the hub.

One probe of one base URL (``probe_url``) reads, in order: the PEP 381 ``/last-modified`` stamp;
the head of the PEP 691 JSON root for its ``meta._last-serial`` (only the head: a full mirror's
root is tens of MB); the project pages of the hub's sample (probe_checks.Expectation); and the
sample's files, hashed as they stream, never read past the size the hub expects. Every body has a
cap, every read a deadline, and whatever the mirror sends ends in an ``Observation`` with errors
or findings: no exception leaves ``probe_url``.

``probe_urls`` runs the probes of many URLs on one event loop with one ``httpx.AsyncClient``:
at most ``concurrency`` probes (and connections) at a time, each bounded by ``timeout`` seconds
in all. No database here: the caller builds the expectation before and records after.
"""

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from .probe_checks import Expectation, ExpectedFile, Observation, file_finding
from .probe_parsing import (
    ACCEPT_PAGE,
    JSON_V1,
    LAST_MODIFIED_MAX_BYTES,
    Unreadable,
    parse_last_modified,
    parse_project_page,
    parse_serial,
    root_serial_from_head,
    shown,
)

logger = logging.getLogger(__name__)

ROOT_HEAD_BYTES = 64 * 1024
ERROR_MAX = 300


@dataclass(frozen=True)
class Limits:
    timeout: float = 60.0  # seconds for one whole probe of one URL
    concurrency: int = 20  # probes (and connections) at a time
    max_page_bytes: int = 10 * 1024**2  # a project page larger than this is a finding
    max_file_bytes: int = 50 * 1024**2  # sampled files larger than this are not fetched
    user_agent: str = "pypimirror-probe"


class _TooLarge(Exception):
    pass


async def _read(response: httpx.Response, cap: int) -> bytes:
    """The body, or _TooLarge past ``cap`` bytes (the rest is never read)."""
    chunks, total = [], 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > cap:
            raise _TooLarge(total)
        chunks.append(chunk)
    return b"".join(chunks)


async def _head(response: httpx.Response, size: int) -> bytes:
    """The first ``size`` bytes of the body at most."""
    chunks, total = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        total += len(chunk)
        if total >= size:
            break
    return b"".join(chunks)[:size]


def _header_serial(response: httpx.Response) -> int | None:
    value = response.headers.get("X-PyPI-Last-Serial")
    if not value:
        return None
    try:
        return parse_serial(value)
    except Unreadable:
        return None


async def _last_modified(client: httpx.AsyncClient, obs: Observation, base: str) -> None:
    async with client.stream("GET", base + "last-modified") as response:
        obs.reachable = True
        if response.status_code != 200:
            obs.errors.append(f"/last-modified answered HTTP {response.status_code}")
            return
        try:
            body = await _read(response, LAST_MODIFIED_MAX_BYTES)
            obs.last_modified = parse_last_modified(body)
        except _TooLarge:
            obs.errors.append("/last-modified is too long to be a time stamp")
        except Unreadable as exc:
            obs.errors.append(str(exc))


async def _root(client: httpx.AsyncClient, obs: Observation, base: str) -> None:
    headers = {"Accept": f"{JSON_V1}, text/html;q=0.1"}
    async with client.stream("GET", base + "simple/", headers=headers) as response:
        obs.reachable = True
        obs.http_status = response.status_code
        if response.status_code != 200:
            obs.errors.append(f"/simple/ answered HTTP {response.status_code}")
            return
        if "json" in response.headers.get("content-type", ""):
            try:
                obs.mirror_serial = root_serial_from_head(await _head(response, ROOT_HEAD_BYTES))
            except Unreadable as exc:
                obs.findings.append(f"/simple/: {exc}")
        if obs.mirror_serial is None:
            obs.mirror_serial = _header_serial(response)


async def _page(client: httpx.AsyncClient, obs: Observation, base: str, name: str, cap: int):
    url = f"{base}simple/{quote(name)}/"
    async with client.stream("GET", url, headers={"Accept": ACCEPT_PAGE}) as response:
        if response.status_code == 404:
            obs.pages[name] = None
            return
        if response.status_code != 200:
            obs.errors.append(f"/simple/{name}/ answered HTTP {response.status_code}")
            return
        try:
            body = await _read(response, cap)
        except _TooLarge:
            obs.findings.append(f"project page of {name} is larger than {cap} bytes")
            return
        try:
            page = parse_project_page(
                body,
                content_type=response.headers.get("content-type", ""),
                page_url=str(response.url),
            )
        except Unreadable as exc:
            obs.findings.append(f"project page of {name}: {exc}")
            return
        if page.serial is None:
            page.serial = _header_serial(response)
        obs.pages[name] = page


async def _file(client: httpx.AsyncClient, obs: Observation, expected: ExpectedFile) -> None:
    page = obs.pages.get(expected.project)
    listed = page.files.get(expected.filename) if page is not None else None
    if listed is None:
        return  # not there yet: lag (probe_checks.serial_lag), not a wrong file
    async with client.stream("GET", listed.url) as response:
        if response.status_code != 200:
            obs.findings.append(
                f"{expected.filename}: listed, but HTTP {response.status_code} at {listed.url}"
            )
            return
        digest, size = hashlib.sha256(), 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > expected.size:
                break  # longer than the hub's: no need to read the rest
            digest.update(chunk)
    obs.files_checked += 1
    if (finding := file_finding(expected, size=size, sha256=digest.hexdigest())) is not None:
        obs.findings.append(finding)


async def _probe(client, obs: Observation, base: str, expectation: Expectation, limits) -> None:
    await _last_modified(client, obs, base)
    await _root(client, obs, base)
    if obs.http_status != 200:
        return
    for project in expectation.projects:
        await _page(client, obs, base, project.name, limits.max_page_bytes)
    if obs.mirror_serial is None:
        serials = [p.serial for p in obs.pages.values() if p is not None and p.serial is not None]
        obs.mirror_serial = max(serials, default=None)
    for expected in expectation.files:
        if expected.size <= limits.max_file_bytes:
            await _file(client, obs, expected)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if len(text) > ERROR_MAX:
        text = text[:ERROR_MAX] + "…"
    return f"{type(exc).__name__}: {text}" if not text.startswith(type(exc).__name__) else text


async def probe_url(
    client: httpx.AsyncClient, url: str, expectation: Expectation, limits: Limits
) -> Observation:
    """One probe of one mirror base URL (ending in ``/``), within ``limits.timeout`` seconds."""
    obs = Observation(url=url)
    start = time.monotonic()
    try:
        async with asyncio.timeout(limits.timeout):
            await _probe(client, obs, url, expectation, limits)
    except TimeoutError:
        obs.errors.append(f"no answer within {limits.timeout:g} s")
    except httpx.HTTPError as exc:
        obs.errors.append(_describe(exc))
    except Exception as exc:  # a hostile mirror must never end the round: say what happened
        logger.warning("probe of %s failed", url, exc_info=True)
        obs.errors.append(f"probe failed: {_describe(exc)} ({shown(url)})")
    obs.duration = time.monotonic() - start
    return obs


async def _probe_all(urls: Sequence[str], expectation: Expectation, limits: Limits):
    gate = asyncio.Semaphore(limits.concurrency)
    pool = httpx.Limits(
        max_connections=limits.concurrency, max_keepalive_connections=limits.concurrency
    )
    async with httpx.AsyncClient(
        limits=pool,
        timeout=httpx.Timeout(limits.timeout),
        follow_redirects=True,
        max_redirects=5,
        # Bodies are capped as decoded: no compression, so no small answer inflates in memory.
        headers={"User-Agent": limits.user_agent, "Accept-Encoding": "identity"},
    ) as client:

        async def one(url: str) -> Observation:
            async with gate:
                return await probe_url(client, url, expectation, limits)

        return await asyncio.gather(*(one(url) for url in urls))


def probe_urls(urls: Sequence[str], expectation: Expectation, limits: Limits) -> list[Observation]:
    """Probe every URL (at most ``limits.concurrency`` at a time); observations in URL order."""
    if not urls:
        return []
    return list(asyncio.run(_probe_all(urls, expectation, limits)))

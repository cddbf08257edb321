"""The load benchmark's clients: many HTTP/1.1 connections from one asyncio loop, and the check
of every file a node serves.

Raw asyncio streams rather than an HTTP library: on a 2-CPU machine shared with the node, 200
connections must cost the clients little CPU. Each client holds one connection, keeps it while
the server keeps it (gunicorn's sync workers close it after each answer), and asks one request
after another, picked from a mix of project pages and files. A full file download is checked
against the upstream's bytes, a Range answer against the slice asked for, as they arrive.
"""

import asyncio
import errno
import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HTML = "text/html"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
# (kind, weight): what a client asks, in these proportions.
MIX = (("simple HTML", 25), ("simple JSON", 25), ("pypi JSON", 15), ("file", 30), ("file Range", 5))
RANGES = (
    ("bytes=0-99", slice(0, 100)),
    ("bytes=-64", slice(-64, None)),
    ("bytes=100-", slice(100, None)),
)
TIMEOUT = 30.0  # seconds without an answer before a request counts as timed out
# What a request may fail with on the wire (IncompleteReadError is an EOFError).
WIRE_ERRORS = (TimeoutError, OSError, EOFError, ValueError, asyncio.LimitOverrunError)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Request:
    kind: str
    group: str  # "before" (projects the node had) or "added" (projects the sync is adding)
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    expected: bytes | None = None  # the whole file, for file downloads
    keep: list | None = None  # where to put the answer, for who needs its body


class Connection:
    """One keep-alive HTTP/1.1 connection, reopened when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def ask(self, path: str, headers: dict[str, str]) -> Answer:
        """GET ``path``; a kept connection the server closed meanwhile is retried once."""
        reused = self.writer is not None
        try:
            return await self._exchange(path, headers)
        except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError) as exc:
            self.close()
            nothing_read = not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial
            if not (reused and nothing_read):
                raise
        return await self._exchange(path, headers)

    async def _exchange(self, path: str, headers: dict[str, str]) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        found = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if sep:
                found[name.strip().lower()] = value.strip()
        keep = found.get("connection", "").lower() != "close"
        if "content-length" in found:
            body = await self.reader.readexactly(int(found["content-length"]))
        elif "chunked" in found.get("transfer-encoding", "").lower():
            body = await self._chunked()
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            body, keep = await self.reader.read(), False
        if not keep:
            self.close()
        return Answer(status, found, body)

    async def _chunked(self) -> bytes:
        parts = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        while await self.reader.readuntil(b"\r\n") != b"\r\n":  # trailers
            pass
        return b"".join(parts)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def error_kind(exc: BaseException) -> str:
    """A short name for what went wrong on the wire."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return f"timeout (>{TIMEOUT:.0f} s)"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "closed mid-answer" if exc.partial else "closed without answer"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, OSError) and exc.errno == errno.EADDRNOTAVAIL:
        return "no local port free (client side)"
    if isinstance(exc, OSError):
        return f"{type(exc).__name__} {errno.errorcode.get(exc.errno or 0, exc.errno)}"
    if isinstance(exc, ValueError | asyncio.LimitOverrunError):
        return "malformed answer"
    return type(exc).__name__


class Targets:
    """What clients may ask: the projects and files known so far, per group, and the upstream's
    bytes of every file (the truth a download is checked against)."""

    def __init__(self, *, before: Iterable[str], added: Iterable[str], truth: dict[str, bytes]):
        self.names = {"before": list(before), "added": []}
        self.before = set(self.names["before"])
        self.pending_added = set(added)
        self.files: dict[str, list[tuple[str, str]]] = {"before": [], "added": []}
        self.known_files: set[str] = set()
        self.truth = truth  # filename → bytes

    def group_of(self, name: str) -> str:
        return "before" if name in self.before else "added"

    def project_appeared(self, name: str) -> bool:
        if name in self.pending_added:
            self.pending_added.discard(name)
            self.names["added"].append(name)
            return True
        return False

    def learn_files(self, name: str, page: bytes) -> None:
        """Register the files a PEP 691 page lists."""
        group = self.group_of(name)
        for entry in json.loads(page)["files"]:
            path = urlsplit(entry["url"]).path
            if path not in self.known_files:
                self.known_files.add(path)
                self.files[group].append((path, entry["filename"]))

    def pick(self, rng: random.Random) -> Request:
        kinds, weights = zip(*MIX, strict=True)
        kind = rng.choices(kinds, weights)[0]
        group = "added" if self.names["added"] and rng.random() < 0.5 else "before"
        if kind.startswith("file"):
            if not self.files[group]:
                group = "before"
            if self.files[group]:
                path, filename = rng.choice(self.files[group])
                request = Request(kind, group, path, expected=self.truth.get(filename))
                if kind == "file Range":
                    request.headers["Range"] = rng.choice(RANGES)[0]
                return request
            kind = "simple JSON"
        name = rng.choice(self.names[group])
        if kind == "pypi JSON":
            return Request(kind, group, f"/pypi/{name}/json")
        accept = HTML if kind == "simple HTML" else SIMPLE_JSON
        return Request(kind, group, f"/simple/{name}/", {"Accept": accept})

    def problem(self, request: Request, answer: Answer) -> str | None:
        """What is wrong with an answer, or None."""
        if request.keep is not None:
            request.keep.append(answer)
        if not 200 <= answer.status < 400:
            return f"HTTP {answer.status}"
        if request.kind == "simple JSON" and answer.status == 200:
            self.learn_files(request.path.split("/")[2], answer.body)
        if request.expected is None or answer.status not in (200, 206):
            return None
        if answer.status == 200 and answer.body != request.expected:
            return "wrong file content"
        if answer.status == 206:
            wanted = dict(RANGES)[request.headers["Range"]]
            if answer.body != request.expected[wanted]:
                return "wrong Range content"
        return None


@dataclass
class Tally:
    """Requests, errors by kind, statuses and latencies (seconds) of one (kind, group)."""

    requests: int = 0
    errors: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def add(self, latency: float, problem: str | None, status: int | None = None) -> None:
        self.requests += 1
        self.latencies.append(latency)
        if problem:
            self.errors[problem] += 1
        if status is not None:
            self.statuses[status] += 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def _ask(connection: Connection, request: Request, targets: Targets, tallies) -> bool:
    """Ask, check and tally one request; True when it went right."""
    started, status = time.perf_counter(), None
    try:
        answer = await asyncio.wait_for(connection.ask(request.path, request.headers), TIMEOUT)
        status, problem = answer.status, targets.problem(request, answer)
    except WIRE_ERRORS as exc:
        connection.close()
        problem = error_kind(exc)
    tally = tallies.setdefault((request.kind, request.group), Tally())
    tally.add(time.perf_counter() - started, problem, status)
    return problem is None


async def _client(host, port, targets, tallies, stop_at: float, seed: int) -> None:
    rng, connection = random.Random(seed), Connection(host, port)
    while time.monotonic() < stop_at:
        await _ask(connection, targets.pick(rng), targets, tallies)
    connection.close()


async def _discover(host, port, targets, tallies, stop_at: float, interval: float) -> None:
    """Every ``interval`` s: the node's project list; a project the sync added becomes a target
    once the node lists it (its PEP 691 page is read at once, for its files)."""
    connection, index = Connection(host, port), {"Accept": SIMPLE_JSON}
    while time.monotonic() < stop_at:
        answer: list[Answer] = []
        request = Request("simple index", "-", "/simple/", index, keep=answer)
        if await _ask(connection, request, targets, tallies):
            for project in json.loads(answer[0].body)["projects"]:
                if targets.project_appeared(name := project["name"]):
                    page = Request("simple JSON", "added", f"/simple/{name}/", index)
                    await _ask(connection, page, targets, tallies)
        await asyncio.sleep(interval)
    connection.close()


def run_load(
    url: str, targets: Targets, *, clients: int, seconds: float, discover_every: float = 0.5
) -> tuple[dict[tuple[str, str], Tally], float]:
    """``clients`` clients on ``url`` for ``seconds``; the tallies and the wall time taken
    (requests in flight at the end are finished and counted)."""
    parts = urlsplit(url)
    tallies: dict[tuple[str, str], Tally] = {}

    async def main() -> float:
        connection = Connection(parts.hostname, parts.port)
        for name in targets.names["before"]:  # their files, before the clock starts
            page = await connection.ask(f"/simple/{name}/", {"Accept": SIMPLE_JSON})
            if page.status == 200:
                targets.learn_files(name, page.body)
        connection.close()
        started = time.monotonic()
        stop_at = started + seconds
        tasks = [_client(parts.hostname, parts.port, targets, tallies, stop_at, seed)
                 for seed in range(clients)]  # fmt: skip
        tasks.append(_discover(parts.hostname, parts.port, targets, tallies, stop_at,
                               discover_every))  # fmt: skip
        await asyncio.gather(*tasks)
        return time.monotonic() - started

    wall = asyncio.run(main())
    return tallies, wall


@dataclass
class FileCheck:
    """Every file the node serves for the upstream's projects, against the upstream's."""

    projects: int = 0
    served: int = 0
    right: int = 0
    wrong: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.wrong or self.missing or self.extra or self.page_errors)

    def summary(self) -> str:
        text = (
            f"{self.served} files served for {self.projects} projects, {self.right} with the "
            f"upstream's sha256; {len(self.wrong)} wrong, {len(self.missing)} missing, "
            f"{len(self.extra)} not upstream, {len(self.page_errors)} pages failed"
        )
        for label, items in (("wrong", self.wrong), ("missing", self.missing),
                             ("not upstream", self.extra), ("page", self.page_errors)):  # fmt: skip
            if items:
                text += f"\n  {label}: {', '.join(items[:5])}{' ...' if len(items) > 5 else ''}"
        return text


def check_files(url: str, expected: dict[str, dict[str, str]], *, parallel: int = 8) -> FileCheck:
    """Download every file each project's PEP 691 page on the node lists and compare its sha256
    with the upstream's. ``expected``: project → {filename: sha256} upstream."""
    parts = urlsplit(url)
    result = FileCheck(projects=len(expected))
    queue: asyncio.Queue = asyncio.Queue()
    for name in expected:
        queue.put_nowait(name)

    async def worker() -> None:
        connection = Connection(parts.hostname, parts.port)
        while not queue.empty():
            name = queue.get_nowait()
            wanted = expected[name]
            try:
                page = await asyncio.wait_for(
                    connection.ask(f"/simple/{name}/", {"Accept": SIMPLE_JSON}), TIMEOUT
                )
                if page.status != 200:
                    result.page_errors.append(f"{name}: HTTP {page.status}")
                    continue
                files = json.loads(page.body)["files"]
                result.missing += sorted(set(wanted) - {f["filename"] for f in files})
                for entry in files:
                    result.served += 1
                    if entry["filename"] not in wanted:
                        result.extra.append(entry["filename"])
                        continue
                    answer = await asyncio.wait_for(
                        connection.ask(urlsplit(entry["url"]).path, {}), TIMEOUT
                    )
                    digest = hashlib.sha256(answer.body).hexdigest()
                    if answer.status == 200 and digest == wanted[entry["filename"]]:
                        result.right += 1
                    else:
                        result.wrong.append(f"{entry['filename']} (HTTP {answer.status})")
            except WIRE_ERRORS as exc:
                connection.close()
                result.page_errors.append(f"{name}: {error_kind(exc)}")
        connection.close()

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(parallel)))

    asyncio.run(main())
    return result

"""What benchmarks/scale.py measures on the node once the catalog is built, and its table rows.

The whole-index documents: after each serial change (a release yanked or unyanked through the
catalog's own service, ``release_set_yanked``, in a ``manage.py shell`` of the node's settings,
as a sync or staff would), ``/simple/`` in HTML and PEP 691 JSON and XML-RPC
``list_packages_with_serial``, each plain and gzip, are fetched, each on a new connection (a
downstream's next poll is; so each may land on either worker): first at the new serial, then
``repeats`` times more. The first answer is checked (outside the timing) to be the document at
the new serial: its serial, the project changed, one whole gzip member. Then each web worker's
memory, and Redis's when it is the cache. The admin: every list and
change page of the catalog and replication, with and without a search or a filter, logged in.
"""

import json
import re
import statistics
import subprocess
import time
import xmlrpc.client
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from benchmarks._common import descendants, manage, redis_db
from benchmarks.harness import ROOT, Server, free_port, nginx_static

MB = 1024 * 1024
HTML = "text/html"
JSON = "application/vnd.pypi.simple.v1+json"
LIST_PACKAGES = xmlrpc.client.dumps((), "list_packages_with_serial").encode()
# (label, method, path, headers, body)
DOCUMENTS = (
    ("/simple/ HTML", "GET", "/simple/", {"Accept": HTML, "Accept-Encoding": "identity"}, None),
    ("/simple/ HTML gzip", "GET", "/simple/", {"Accept": HTML, "Accept-Encoding": "gzip"}, None),
    ("/simple/ JSON", "GET", "/simple/", {"Accept": JSON, "Accept-Encoding": "identity"}, None),
    ("/simple/ JSON gzip", "GET", "/simple/", {"Accept": JSON, "Accept-Encoding": "gzip"}, None),
    ("XML-RPC list_packages_with_serial", "POST", "/pypi",
     {"Content-Type": "text/xml", "Accept-Encoding": "identity"}, LIST_PACKAGES),
    # xmlrpc.client (bandersnatch's) asks for gzip
    ("XML-RPC list_packages_with_serial gzip", "POST", "/pypi",
     {"Content-Type": "text/xml", "Accept-Encoding": "gzip"}, LIST_PACKAGES),
)  # fmt: skip
# One serial change, as the node's own code makes it (the journal entry, the project's serial).
CHANGE = """
from django.db import transaction
from apps.catalog import services
with transaction.atomic():
    project = services.project_lock(name={name!r})
    release = project.releases.order_by("id").first()
    services.release_set_yanked(release=release, reason=None if release.yanked else "scale")
print("SERIAL", project.last_serial)
"""


@dataclass
class Row:
    figure: str
    measured: str
    aim: str
    met: bool | None  # None: not measured, or nothing to aim at

    def cells(self) -> tuple[str, str, str, str]:
        met = {True: "yes", False: "**no**", None: "-"}[self.met]
        return self.figure, self.measured, self.aim, met


@dataclass
class Document:
    label: str
    new: list[float] = field(default_factory=list)  # seconds, first fetch at a new serial
    repeat: list[float] = field(default_factory=list)
    size: int = 0  # bytes on the wire
    # nginx sending the same bytes as a static file, fetched as the repeats are: the floor this
    # client and machine set, whatever the server
    peer: list[float] = field(default_factory=list)


@dataclass
class IndexFigures:
    documents: list[Document]
    workers: dict[int, list[int]]  # pid -> RSS after each serial (bytes)
    worker_peaks: dict[int, int]  # pid -> VmHWM at the end
    redis_used: int | None = None
    redis_keys: int | None = None
    redis_key_bytes: int | None = None
    change_seconds: list[float] = field(default_factory=list)


def fetch(base: str, method: str, path: str, headers: dict, body: bytes | None, *, keep=False):
    """(seconds, response, bytes received, the bytes if ``keep``) of one request on a
    connection of its own."""
    with httpx.Client(timeout=600) as client:
        kept = []
        began = time.perf_counter()
        with client.stream(method, base + path, headers=headers, content=body) as response:
            size = 0
            for chunk in response.iter_raw():
                size += len(chunk)
                if keep:
                    kept.append(chunk)
        return time.perf_counter() - began, response, size, b"".join(kept)


def document_check(label: str, data: bytes, *, gzipped: bool, serial: int, name: str) -> None:
    """The document fetched at ``serial`` is whole and shows the change made: the serial, and
    for JSON and XML-RPC the project changed at it (outside the timing)."""
    if gzipped:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = decompressor.decompress(data)
        if not decompressor.eof or decompressor.unused_data:
            raise RuntimeError(f"{label}: not one whole gzip member")
    if label.startswith("/simple/ HTML"):
        ok = data.endswith(f"</html>\n<!--SERIAL {serial}-->\n".encode())
    elif label.startswith("/simple/ JSON"):
        document = json.loads(data)
        ok = document["meta"]["_last-serial"] == serial and (
            {"name": name, "_last-serial": serial} in document["projects"]
        )
    else:
        (packages,), _ = xmlrpc.client.loads(data)
        ok = packages.get(name) == serial
    if not ok:
        raise RuntimeError(f"{label}: not the document at serial {serial}")


def _status(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as handle:
        match = re.search(rf"^{key}:\s+(\d+) kB", handle.read(), re.M)
    return int(match.group(1)) * 1024 if match else 0


def serial_change(env: dict[str, str], name: str) -> int:
    """Yank or unyank the project's first release through the catalog service; its new serial."""
    output = subprocess.run(
        manage("shell", "-c", CHANGE.format(name=name)), env=env, cwd=ROOT, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    return int(re.search(r"^SERIAL (\d+)$", output, re.M).group(1))


def measure_index(
    node: Server, *, env: dict[str, str], database_url: str, serials: int, repeats: int,
    redis_url: str | None, log: Callable[[str], None], work: Path,
) -> IndexFigures:  # fmt: skip
    with psycopg.connect(database_url) as conn:
        top = conn.execute("SELECT max(id) FROM catalog_project").fetchone()[0]
        ids = [1 + (k * 104723 + 7) % top for k in range(serials)]
        names = {
            project_id: (normalized, name)
            for project_id, normalized, name in conn.execute(
                "SELECT id, normalized_name, name FROM catalog_project WHERE id = ANY(%s)", [ids]
            ).fetchall()
        }
    documents = [Document(label) for label, *_ in DOCUMENTS]
    workers = sorted(descendants([node.process.pid]) - {node.process.pid})
    figures = IndexFigures(documents, {pid: [] for pid in workers}, {})
    bodies: dict[str, bytes] = {}
    for n, project_id in enumerate(ids):
        began = time.monotonic()
        normalized, name = names[project_id]
        serial = serial_change(env, normalized)
        figures.change_seconds.append(time.monotonic() - began)
        for document, (label, method, path, headers, body) in zip(
            documents, DOCUMENTS, strict=True
        ):
            for attempt in range(1 + repeats):
                seconds, response, size, data = fetch(
                    node.url, method, path, headers, body, keep=not attempt
                )
                if response.status_code != 200:
                    raise RuntimeError(f"{label}: HTTP {response.status_code}")
                encoding = response.headers.get("Content-Encoding", "identity")
                if encoding != headers["Accept-Encoding"]:
                    raise RuntimeError(f"{label}: answered with Content-Encoding {encoding}")
                answered = response.headers.get("X-PyPI-Last-Serial")
                if answered is not None and int(answered) != serial:
                    raise RuntimeError(f"{label}: serial {answered}, expected {serial}")
                (document.repeat if attempt else document.new).append(seconds)
                document.size = size
                if not attempt:
                    bodies[label] = data
                    gzipped = encoding == "gzip"
                    document_check(label, data, gzipped=gzipped, serial=serial, name=name)
        rss = {pid: _status(pid, "VmRSS") for pid in workers}
        for pid, value in rss.items():
            figures.workers[pid].append(value)
        log(
            f"  serial {serial} ({n + 1}/{serials}): "
            + ", ".join(
                f"{d.label} {d.new[-1]:.2f} s (again: "
                + "/".join(f"{r * 1000:.0f}" for r in d.repeat[-repeats:])
                + " ms)"
                for d in documents
            )
            + "; workers' RSS "
            + ", ".join(f"{v / MB:.0f}" for v in rss.values())
            + " MB"
        )
    figures.worker_peaks = {pid: _status(pid, "VmHWM") for pid in workers}
    _measure_peer(documents, bodies, work=work, log=log)
    if redis_url:
        redis = redis_db(redis_url)
        figures.redis_used = int(redis.info("memory")["used_memory"])
        keys = list(redis.scan_iter(count=1000))
        figures.redis_keys = len(keys)
        figures.redis_key_bytes = sum(redis.memory_usage(key) or 0 for key in keys)
    return figures


def _measure_peer(
    documents: list[Document], bodies: dict[str, bytes], *, work: Path, log: Callable[[str], None]
) -> None:
    """Each document's last body served by nginx as a static file, fetched as often as the
    node's repeats, on a new connection each (GET: nginx sends no file to a POST)."""
    static = work / "static"
    static.mkdir(parents=True, exist_ok=True)
    for n, document in enumerate(documents):
        (static / f"{n}.bin").write_bytes(bodies[document.label])
    nginx = nginx_static(static, port=free_port(), workdir=work, workers=2)
    if nginx is None:
        log("  nginx is not installed: no static peer (apt-get install nginx)")
        return
    try:
        for n, document in enumerate(documents):
            for _ in document.repeat:
                seconds, response, size, _data = fetch(nginx.url, "GET", f"/{n}.bin", {}, None)
                if response.status_code != 200 or size != len(bodies[document.label]):
                    raise RuntimeError(f"nginx: HTTP {response.status_code}, {size} bytes")
                document.peer.append(seconds)
    finally:
        nginx.close()


def _size(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{size / 1024:.0f} kB"


def _spread(values: list[float], unit: float = 1.0, fmt: str = "{:.2f}") -> str:
    low, high = min(values) * unit, max(values) * unit
    return f"{fmt.format(statistics.median(values) * unit)} ({fmt.format(low)}-{fmt.format(high)})"


def index_rows(figures: IndexFigures, *, redis: bool) -> list[Row]:
    rows = []
    count = len(figures.change_seconds)
    for document in figures.documents:
        new = statistics.median(document.new)
        rows.append(Row(
            f"{document.label} ({_size(document.size)}): fetch at a new serial, "
            f"median of {count}", _spread(document.new) + " s", "< 1 s", new < 1,
        ))  # fmt: skip
        # Every repeat counts: one that lands on a worker without the document renders it.
        slow = sum(seconds >= 0.05 for seconds in document.repeat)
        rows.append(Row(
            f"{document.label}: repeat at the same serial, median of {len(document.repeat)}",
            _spread(document.repeat, 1000, "{:.0f}") + f" ms; {slow} of "
            f"{len(document.repeat)} took 50 ms or more"
            + (f"; nginx, the same bytes as a static file: {_spread(document.peer, 1000, '{:.0f}')}"
               " ms" if document.peer else ""),
            "< 50 ms, each", slow == 0,
        ))  # fmt: skip
    for n, (pid, series) in enumerate(figures.workers.items(), 1):
        peak = figures.worker_peaks.get(pid, 0)
        rows.append(Row(
            f"web worker {n}: RSS after {count} serial changes (peak)",
            f"{series[-1] / MB:.0f} MB ({peak / MB:.0f} MB); after each: "
            + ", ".join(f"{v / MB:.0f}" for v in series),
            "< 300 MB", max(series[-1], peak) < 300 * MB,
        ))  # fmt: skip
    if redis and figures.redis_used is not None:
        rows.append(Row(
            f"Redis after {count} serial changes: used_memory (the cache's "
            f"{figures.redis_keys} keys)",
            f"{figures.redis_used / MB:.0f} MB ({figures.redis_key_bytes / MB:.0f} MB)",
            "< 200 MB", figures.redis_used < 200 * MB,
        ))  # fmt: skip
    else:
        rows.append(Row("Redis after the serial changes", "not measured (run with "
                        "--redis-url)", "< 200 MB", None))  # fmt: skip
    return rows


def planning_rows(plans: dict) -> list[Row]:
    """The plan after a move of 1,000 serials: with the changelog (the aim), and from the
    listing (a first sync or a rules change; no aim of its own but for the record)."""
    rows = []
    for method, words in (
        ("changelog", "with the upstream's changelog"),
        ("listing", f"from the {_size(plans['root_bytes'])} listing (no changelog answered)"),
    ):
        plan = plans[method]
        met = plan["seconds"] < 1 and plan["rss_peak"] < 150 * MB
        rows.append(Row(
            f"sync planning, upstream serial moved by {1000:,}, {words}: "
            f"{plan['planned']:,} projects planned",
            f"{plan['seconds']:.2f} s, peak RSS {plan['rss_peak'] / MB:.0f} MB "
            f"({plan['rss_before'] / MB:.0f} MB before)",
            "< 1 s and < 150 MB" if method == "changelog" else "(for the record)",
            met if method == "changelog" else None,
        ))  # fmt: skip
    return rows


def not_measured_rows() -> list[Row]:
    """Issue 14's other figures: not measured by this script yet, and said so."""
    return [
        Row("scheduled sync of 400 latency-bound projects vs `sync` in the foreground",
            "not measured here (benchmarks/schedule.py)", "no longer", None),
        Row("initial sync vs bandersnatch on the embedded default",
            "not measured here (benchmarks/sync.py)", ">= 2x files/s", None),
        Row("`/metrics` read by a Prometheus client parser", "not measured yet (a test)",
            "parsed", None),
    ]  # fmt: skip

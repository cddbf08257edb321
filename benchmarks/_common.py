"""Shared by the benchmarks that run this project as an operator would: its settings, throwaway
PostgreSQL databases, and measuring every process a tool runs (wall time, CPU, peak memory).

Memory is sampled from /proc (no psutil needed): the resident set (RSS) and the proportional
set (PSS, which splits pages shared by forked workers among them) of each process in the
watched trees, summed per sample; the peak of that sum is what a machine must hold.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import clean_env

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def node_env(data_dir: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    """Production settings, DEBUG off; SQLite under the data directory unless a URL is given."""
    env = clean_env(
        DJANGO_SETTINGS_MODULE="pypimirror.settings.production",
        DJANGO_SECRET_KEY="benchmark-only",
        DJANGO_DEBUG="false",
        DJANGO_SECURE_SSL_REDIRECT="false",  # plain http on loopback
        PYPIMIRROR_DATA_DIR=str(data_dir),
        **extra,
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _children() -> dict[int, list[int]]:
    """Parent pid → child pids, for every process now on the machine."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                ppid = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(roots: Sequence[int]) -> set[int]:
    """``roots`` and every process below them."""
    tree, found, todo = _children(), set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(tree.get(pid, ()))
    return found


def _rss_pss(pid: int) -> tuple[int, int] | None:
    """(RSS, PSS) in bytes, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            rss = int(handle.read().split()[1]) * PAGE
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            match = re.search(rb"^Pss:\s+(\d+) kB", handle.read(), re.M)
        return rss, int(match.group(1)) * 1024 if match else rss
    except (OSError, ValueError, IndexError):
        return None


def _cpu_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, ValueError, IndexError):
        return None


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def _socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets ``pid`` holds open."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.scandir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(fd.path)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def _remote_addresses(pids: Iterable[int]) -> set[str]:
    """Remote IP addresses of the TCP connections the processes hold open (IPv4 and IPv6).

    Each read of /proc/PID/net/tcp walks the kernel's whole connection table (262,144 buckets
    here: ~4 ms of CPU), and the table is the same for every process of a network namespace:
    it is read once per namespace, so watching more processes costs no more.
    """
    by_namespace: dict[str, tuple[int, set[str]]] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            namespace = os.readlink(f"/proc/{pid}/ns/net")
            _reader, inodes = by_namespace.setdefault(namespace, (pid, set()))
            inodes |= _socket_inodes(pid)
    found = set()
    for reader, inodes in by_namespace.values():
        if not inodes:
            continue
        for table in ("tcp", "tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{reader}/net/{table}").read_text().splitlines()[1:]:
                    fields = line.split()
                    if fields[9] in inodes and fields[3] != "0A":  # 0A: LISTEN
                        found.add(_decode_address(fields[2].split(":")[0]))
    return found


def _decode_address(hex_ip: str) -> str:
    raw = bytes.fromhex(hex_ip)
    words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]  # each 32-bit word is host order
    packed = b"".join(words)
    if len(packed) == 4:
        return ".".join(str(b) for b in packed)
    if packed[:12] == b"\0" * 10 + b"\xff\xff":
        return ".".join(str(b) for b in packed[12:])
    return ":".join(packed[i : i + 2].hex() for i in range(0, 16, 2))


@dataclass
class Usage:
    """What a watched set of processes used: peaks of the summed RSS/PSS, per-process peaks."""

    peak_rss: int = 0
    peak_pss: int = 0
    process_peak_rss: dict[int, tuple[str, int]] = field(default_factory=dict)
    cpu_ticks: dict[int, int] = field(default_factory=dict)
    remotes: set[str] = field(default_factory=set)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu_ticks.values()) / TICKS


class Watch(threading.Thread):
    """Samples the process trees under ``roots`` every ``interval`` seconds until stopped.

    The trees are re-walked every ``rescan`` seconds (walking /proc costs more than reading
    a few processes' counters). ``skip`` holds pids left out (e.g. ``/usr/bin/time`` itself).
    CPU is counted from each process's first sample, so start the watch before the work.
    With ``sockets``, the remote addresses of their TCP connections are collected too, every
    ``socket_interval`` seconds (connections are kept alive; reading them is the costly part).
    The watch runs on the machine it measures: its own cost must stay small, and must not grow
    with the number of processes a tool runs, or it would tax the tools unequally.
    """

    def __init__(
        self,
        roots: Sequence[int],
        *,
        skip: Sequence[int] = (),
        interval: float = 0.1,
        rescan: float = 0.5,
        sockets: bool = False,
        socket_interval: float = 0.5,
    ) -> None:
        super().__init__(daemon=True)
        self.roots, self.skip = list(roots), set(skip)
        self.interval, self.rescan, self.sockets = interval, rescan, sockets
        self.socket_interval, self._sockets_read = socket_interval, float("-inf")
        self.usage = Usage()
        self._first_ticks: dict[int, int] = {}
        self._stop_event = threading.Event()

    def add_root(self, pid: int) -> None:
        self.roots.append(pid)

    def run(self) -> None:
        pids: set[int] = set()
        started = walked = time.monotonic()
        while True:
            now = time.monotonic()
            # Early on, every tick: a command under /usr/bin/time may not have forked yet.
            if now - walked >= self.rescan or now - started < 2 or not pids:
                pids, walked = descendants(self.roots) - self.skip, now
            self._sample(pids)
            if self._stop_event.wait(self.interval):
                self._sample(pids)
                return

    def _sample(self, pids: set[int]) -> None:
        usage, total_rss, total_pss = self.usage, 0, 0
        for pid in pids:
            memory = _rss_pss(pid)
            ticks = _cpu_ticks(pid)
            if memory is None or ticks is None:
                continue
            rss, pss = memory
            total_rss += rss
            total_pss += pss
            first = self._first_ticks.setdefault(pid, ticks)
            usage.cpu_ticks[pid] = ticks - first
            name, peak = usage.process_peak_rss.get(pid, (None, 0))
            if rss > peak:
                usage.process_peak_rss[pid] = (name or _comm(pid), rss)
        if self.sockets and (now := time.monotonic()) - self._sockets_read >= self.socket_interval:
            usage.remotes |= _remote_addresses(pids)
            self._sockets_read = now
        usage.peak_rss = max(usage.peak_rss, total_rss)
        usage.peak_pss = max(usage.peak_pss, total_pss)

    def stop(self) -> Usage:
        self._stop_event.set()
        self.join()
        return self.usage


@dataclass
class Timed:
    """One command run under ``/usr/bin/time -v``, with its whole tree watched."""

    returncode: int
    wall: float
    max_rss: int  # bytes, as /usr/bin/time reports it (the largest process of the command)
    cpu: float  # user + system seconds, children included
    output: str
    usage: Usage


def _time_field(report: str, label: str) -> str:
    match = re.search(rf"^\s*{re.escape(label)}: (.*)$", report, re.M)
    return match.group(1).strip() if match else "0"


def run_timed(
    command: Sequence[str],
    *,
    env: dict[str, str],
    cwd: Path,
    log: Path,
    also_watch: Sequence[int] = (),
    sockets: bool = False,
    timeout: float = 3600,
) -> Timed:
    """Run ``command`` in its own session under ``/usr/bin/time -v``; watch its processes and
    those under ``also_watch`` (e.g. Celery workers) while it runs."""
    report = log.with_suffix(".time")
    with log.open("wb") as out:
        started = time.monotonic()
        process = subprocess.Popen(
            ["/usr/bin/time", "-v", "-o", str(report), *command], cwd=cwd, env=env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        watch = Watch([process.pid, *also_watch], skip=[process.pid], sockets=sockets)
        watch.start()
        # A blocking wait: Popen.wait(timeout=...) polls, sleeping up to 50 ms between looks,
        # which would round every wall time up by as much. The timeout is a timer's.
        timer = threading.Timer(timeout, kill_group, args=(process,))
        timer.start()
        try:
            process.wait()
        finally:
            wall = time.monotonic() - started
            timer.cancel()
            usage = watch.stop()
            if process.poll() is None:
                kill_group(process)
    text = report.read_text() if report.exists() else ""
    cpu = float(_time_field(text, "User time (seconds)")) + float(
        _time_field(text, "System time (seconds)")
    )
    return Timed(
        returncode=process.returncode,
        wall=wall,
        max_rss=int(_time_field(text, "Maximum resident set size (kbytes)")) * 1024,
        cpu=cpu,
        output=log.read_text(errors="replace"),
        usage=usage,
    )


def kill_group(process: subprocess.Popen, *, grace: float = 20) -> None:
    """SIGTERM the process group, wait up to ``grace`` seconds, then SIGKILL what is left."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def interrupt_on_sigterm() -> None:
    """Let SIGTERM unwind like Ctrl-C, so every cleanup callback runs."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def manage(*args: str) -> list[str]:
    """``python manage.py ...`` with this project's interpreter."""
    from benchmarks.harness import ROOT

    return [sys.executable, str(ROOT / "manage.py"), *args]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table with padded columns."""
    rows = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def celery_ping(broker: str) -> int:
    """How many Celery workers on ``broker`` answer a ping."""
    from celery import Celery

    app = Celery("bench-ping", broker=broker)
    try:
        return len(app.control.ping(timeout=1.0) or [])
    except Exception:  # broker not ready yet
        return 0
    finally:
        app.close()


def redis_db(url: str):
    import redis

    return redis.Redis.from_url(url)


def git_revision() -> str:
    """The newest commit that touched the code measured (apps/, pypimirror/), with "+changes"
    when the work tree differs from it there."""
    from benchmarks.harness import ROOT

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    code = ("--", "apps", "pypimirror")
    dirty = git("status", "--porcelain", *code).strip()
    return git("log", "-1", "--format=%h", *code).strip() + (" +changes" if dirty else "")

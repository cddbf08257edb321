"""The sync benchmark's pieces: the upstream it serves, and each tool as it runs a sync.

``Upstream`` is a generated Warehouse-shaped tree on tmpfs behind nginx with an access log;
``Bandersnatch`` and ``Node`` (pypimirror) each run one sync against it and return a ``Row``:
the command's measurements, the requests nginx answered, and any problem found on checking the
result (files mirrored, exit status, non-loopback peers).

Nothing a contender wrote is deleted before the whole run ends: on ext4 without a journal (as
on the benchmark hosts), creating inodes stays several times slower for a while after many
were freed, so one tool's clean-up would slow the next tool's sync.
"""

import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from benchmarks._common import (
    Timed,
    Watch,
    celery_ping,
    kill_group,
    manage,
    node_env,
    redis_db,
    run_timed,
)
from benchmarks._postgres import (
    postgres_create,
    postgres_drop,
)
from benchmarks.harness import ROOT, clean_env, group_cpu_seconds
from tests.support import clients
from tests.support.upstream import NginxUpstream, WarehouseUpstream

LOOPBACK = {"127.0.0.1", "::1"}
LOG_LINE = re.compile(r'^(\S+) \S+ \S+ \[[^\]]+\] "(\S+) (\S+)[^"]*" (\d{3}) \S+ "[^"]*" "([^"]*)"')
SUMMARY = re.compile(r"Run #\d+ (\w+): (\d+) done, (\d+) failed, (\d+) skipped; (\d+) files")
MB = 1e6


@dataclass
class Row:
    tool: str
    mode: str
    sync: str  # "initial" or "no-op"
    shape: str  # "200 x 10"
    files: int  # distribution files fetched (PEP 658 .metadata files not counted)
    timed: Timed
    requests: int
    problems: list[str]

    @property
    def key(self) -> tuple[str, str]:
        return self.sync, self.shape

    @property
    def peak_rss(self) -> int:
        """Sampled; never below the command's own maximum (a short run may fall between
        samples)."""
        return max(self.timed.usage.peak_rss, self.timed.max_rss)

    def summary(self) -> str:
        t = self.timed
        return (
            f"{t.wall:.2f} s, {self.files} files, CPU {t.cpu:.1f} s, {self.requests} requests, "
            f"peak RSS {self.peak_rss / MB:.0f} MB (PSS {t.usage.peak_pss / MB:.0f}), "
            f"command {t.max_rss / MB:.0f} MB; per process: "
            + ", ".join(f"{n} {r / MB:.0f}" for n, r in t.usage.process_peak_rss.values())
        )


class Upstream:
    """A generated Warehouse-shaped tree on tmpfs, served by nginx with an access log."""

    def __init__(self, stack, root: Path, *, projects: int, versions: int, sdist: bool) -> None:
        self.tree = WarehouseUpstream(root)
        self.nginx = NginxUpstream(self.tree, access_log=True)
        self.tree.base_url = self.nginx.url
        started = time.monotonic()
        self.tree.populate(projects, versions, prefix="bench", wheel=True, sdist=sdist)
        stack.enter_context(self.nginx)  # writes the tree, then serves it
        self.seconds = time.monotonic() - started
        self.projects = projects
        self.files_per_project = versions * (2 if sdist else 1)
        self.shape = f"{projects:,} x {self.files_per_project}"
        self.log = self.nginx.prefix / "access.log"
        self._offset = 0

    @property
    def files(self) -> int:
        return self.projects * self.files_per_project

    def describe(self) -> str:
        sizes: dict[str, list[int]] = {"wheel": [], "sdist": [], "metadata": []}
        for project in self.tree.projects.values():
            for _release, file in project.files():
                sizes["wheel" if file.filename.endswith(".whl") else "sdist"].append(file.size)
        metadata = sum(1 for _ in (self.tree.root / "packages").rglob("*.metadata"))
        parts = [f"{k}s ~{sum(v) // len(v):,} B" for k, v in sizes.items() if v]
        return (
            f"{self.shape}: {self.files:,} files ({', '.join(parts)}) + {metadata:,} PEP 658 "
            f".metadata files; generated and written in {self.seconds:.0f} s"
        )

    def mark(self) -> None:
        self._offset = self.log.stat().st_size if self.log.exists() else 0

    def requests_since_mark(self) -> list[tuple[str, str, str, int, str]]:
        """(client address, method, path, status, user agent) of each request since mark()."""
        with self.log.open("rb") as handle:
            handle.seek(self._offset)
            lines = handle.read().decode(errors="replace").splitlines()
        found = []
        for line in lines:
            if match := LOG_LINE.match(line):
                addr, method, path, status, agent = match.groups()
                found.append((addr, method, path, int(status), agent))
        return found


def measure(upstream: Upstream, run) -> tuple[Timed, int, list[str]]:
    """Run ``run()`` (returns a Timed), and check what it asked of the upstream."""
    upstream.mark()
    timed = run()
    requests = upstream.requests_since_mark()
    problems = [f"exit status {timed.returncode}"] if timed.returncode else []
    # A POST to /pypi answered 404 is pypimirror asking once a day whether the upstream has an
    # XML-RPC changelog (this static tree has none): a question, not an error.
    errors = [r for r in requests if r[3] >= 400 and r[1:4] != ("POST", "/pypi", 404)]
    if errors:
        problems.append(f"{len(errors)} requests answered >= 400, e.g. {errors[0]}")
    outside = timed.usage.remotes - LOOPBACK
    if outside:
        problems.append(f"TCP connections to {sorted(outside)}")
    return timed, len(requests), problems


class Bandersnatch:
    tool = "bandersnatch 8.x"

    def __init__(self, venv: clients.ToolVenv, work: Path, master: str, *, workers: int) -> None:
        self.venv, self.work = venv, work
        self.mode = f"workers = {workers}"
        self.mirror = work / "mirror"
        self.config = work / "bandersnatch.conf"
        work.mkdir(parents=True)
        # Its only server is ``master``; proxies and download-mirror stay unset (see clients).
        self.config.write_text(
            clients.bandersnatch_config(
                master=master, directory=self.mirror, workers=workers, timeout=60
            )
        )

    def sync(self, upstream: Upstream, sync: str) -> Row:
        command = [str(self.venv.bin("bandersnatch")), "-c", str(self.config), "mirror"]
        timed, requests, problems = measure(
            upstream,
            lambda: run_timed(
                command, env=clients.isolated_env(), cwd=self.work,
                log=self.work / f"{sync}.log", sockets=True,
            ),
        )  # fmt: skip
        files = sum(
            1
            for p in (self.mirror / "web" / "packages").rglob("*")
            if p.is_file() and not p.name.endswith(".metadata")
        )
        if sync == "initial" and files != upstream.files:
            problems.append(f"mirrored {files} files of {upstream.files}")
        if "Traceback" in timed.output or "Stale serial" in timed.output:
            problems.append(f"errors in its output: {self.work / sync}.log")
        fetched = files if sync == "initial" else 0
        return Row(self.tool, self.mode, sync, upstream.shape, fetched, timed, requests, problems)

    def close(self) -> None:
        """Nothing to stop. The mirror stays until the whole run ends (module docstring)."""


class Node:
    """One pypimirror node: a fresh PostgreSQL database and data directory; Celery workers when
    ``pool`` is given (``processes`` x ``celery worker --pool=P --concurrency=N``), else the
    sync command works in-process with ``concurrency`` threads. ``embedded``: bin/run's
    embedded default instead (settings.local, SQLite, the SQLite broker, no workers running:
    `sync URL` as its user types it, which works in-process)."""

    tool = "pypimirror"

    def __init__(
        self, stack, work: Path, *, admin_url: str, broker: str, concurrency: int = 0,
        pool: str | None = None, processes: int = 1, embedded: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.stack, self.work, self.broker = stack, work, broker
        work.mkdir(parents=True)
        self.workers: list[subprocess.Popen] = []
        self.pool = pool
        if embedded:
            self.env = clean_env(
                DJANGO_SETTINGS_MODULE="pypimirror.settings.local",
                PYPIMIRROR_DATA_DIR=str(work / "data"),
                **(env or {}),
            )
            subprocess.run(manage("migrate", "-v0"), env=self.env, cwd=ROOT, check=True)
            self.mode, self.options = "embedded default (SQLite): sync URL", []
            return
        database = postgres_create(admin_url, prefix="pypimirror_bench_sync")
        if database is None:
            sys.exit(f"no PostgreSQL answers at {admin_url} (--postgres URL)")
        stack.callback(postgres_drop, admin_url, database)
        self.env = node_env(work / "data", database, CELERY_BROKER_URL=broker, **(env or {}))
        subprocess.run(manage("migrate", "-v0"), env=self.env, cwd=ROOT, check=True)
        if pool is None:
            self.mode = f"--in-process --concurrency {concurrency}"
            self.options = self.mode.split()
        else:
            self.mode = f"{processes} x celery worker --pool={pool} --concurrency={concurrency}"
            self.options = []
            self._start_workers(processes, pool, concurrency)

    def _start_workers(self, processes: int, pool: str, concurrency: int) -> None:
        """Started before the timed command (in production they are always up), like
        deploy/systemd/pypimirror-worker.service (--loglevel=INFO)."""
        for i in range(processes):
            command = [
                sys.executable, "-m", "celery", "-A", "pypimirror", "worker", "--loglevel=INFO",
                f"--pool={pool}", f"--concurrency={concurrency}",
                f"--hostname=bench{i}-{uuid.uuid4().hex[:6]}@%h",
            ]  # fmt: skip
            with (self.work / f"worker-{i}.log").open("wb") as out:
                process = subprocess.Popen(
                    command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            self.stack.callback(kill_group, process)
            self.workers.append(process)
        deadline = time.monotonic() + 90
        while celery_ping(self.broker) < processes:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.workers):
                raise RuntimeError(f"workers did not start: see {self.work}/worker-*.log")
            time.sleep(0.5)

    def sync(self, upstream: Upstream, sync: str) -> Row:
        cpu_before = sum(group_cpu_seconds(p.pid) for p in self.workers)

        def run() -> Timed:
            return run_timed(
                manage("sync", upstream.nginx.url, *self.options), env=self.env, cwd=ROOT,
                log=self.work / f"{sync}.log", also_watch=[p.pid for p in self.workers],
                sockets=True,
            )  # fmt: skip

        timed, requests, problems = measure(upstream, run)
        timed.cpu += sum(group_cpu_seconds(p.pid) for p in self.workers) - cpu_before
        summary = SUMMARY.search(timed.output)
        planned = re.search(r"(\d+) project\(s\) to visit", timed.output)
        files = int(summary.group(5)) if summary else 0
        if sync == "no-op" and (planned is None or planned.group(1) != "0"):
            problems.append(f"not a no-op: {planned.group(0) if planned else timed.output[-500:]}")
        if sync == "initial" and (summary is None or summary.group(1) != "succeeded"):
            problems.append(f"run did not succeed: {timed.output[-1000:]}")
        if sync == "initial" and files != upstream.files:
            problems.append(f"fetched {files} files of {upstream.files}")
        if self.workers and sync == "initial" and "Celery workers" not in timed.output:
            problems.append("the command did not hand the work to the workers")
        return Row(self.tool, self.mode, sync, upstream.shape, files, timed, requests, problems)

    def task_noop(self, upstream: Upstream) -> Row:
        """A no-op sync the way beat starts one every 10 minutes: the ``sync_upstream`` task in
        the resident workers. Timed from sending it to its run being finished in the database
        (polled every 5 ms by a shell whose own start-up is not counted)."""
        code = (
            "import time\n"
            "from apps.replication.models import SyncRun, Upstream\n"
            "from apps.replication.tasks import sync_upstream\n"
            "upstream, last = Upstream.objects.get(), SyncRun.objects.latest('pk').pk\n"
            "started = time.perf_counter()\n"
            "sync_upstream.delay(upstream.pk)\n"
            "while not (run := SyncRun.objects.filter(pk__gt=last, finished__isnull=False)"
            ".first()):\n"
            "    time.sleep(0.005)\n"
            "seconds = time.perf_counter() - started\n"
            "print(f'TASK {seconds:.4f} {run.state} {run.projects_planned}')\n"
        )
        cpu_before = sum(group_cpu_seconds(p.pid) for p in self.workers)
        watch = Watch([p.pid for p in self.workers], sockets=True)
        upstream.mark()
        watch.start()
        done = subprocess.run(
            manage("shell", "-c", code), env=self.env, cwd=ROOT, capture_output=True, text=True
        )
        usage = watch.stop()
        requests = upstream.requests_since_mark()
        found = re.search(r"TASK ([\d.]+) (\w+) (\d+)", done.stdout)
        problems = [] if found and found.group(3) == "0" else [f"not a no-op: {done.stdout}"]
        timed = Timed(
            returncode=done.returncode, wall=float(found.group(1)) if found else 0.0, max_rss=0,
            cpu=sum(group_cpu_seconds(p.pid) for p in self.workers) - cpu_before,
            output=done.stdout + done.stderr, usage=usage,
        )  # fmt: skip
        # One row per pool: the mode is the row's key, so it must name the workers.
        mode = f"task sync_upstream in the workers (beat's path), --pool={self.pool}"
        return Row(self.tool, mode, "no-op", upstream.shape, 0, timed, len(requests), problems)

    def close(self) -> None:
        for process in self.workers:
            kill_group(process)
        self.workers = []
        if self.pool is not None:
            redis_db(self.broker).flushdb()  # the next node uses the same broker database
        # The database and data directory go when the whole run ends (module docstring).

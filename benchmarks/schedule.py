"""Scheduled sync against the foreground command (issue 14): a latency-bound upstream.

One run, for each setup (PostgreSQL with Redis; the embedded default: SQLite and its SQLite
broker), each into a fresh node:

(a) ``manage.py sync URL --in-process``, in the foreground, timed start to exit;
(b) the run as the schedule starts it: the ``sync_upstream`` task (what beat and the admin's
    "Sync now" send) executed by a Celery worker started as ``bin/run`` starts it (deploy/'s
    unit runs the same command line), timed from sending the task to its run finished.

The upstream is ``tests/support/upstream``'s threaded server answering every project page,
file and metadata request after ``--delay`` seconds: the sync waits, the CPU does not.
See benchmarks/README.md.

    .venv/bin/python benchmarks/schedule.py [--projects 400 --delay 0.1 --setups postgres,embedded]
"""

import argparse
import contextlib
import importlib.util
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    celery_ping,
    git_revision,
    interrupt_on_sigterm,
    kill_group,
    manage,
    markdown_table,
    node_env,
    redis_db,
    run_timed,
)
from benchmarks._postgres import (
    add_postgres_argument,
    postgres_create,
    postgres_drop,
)
from benchmarks.harness import ROOT, clean_env, cpus, project_compile
from tests.support.upstream import Fault, UpstreamServer, WarehouseUpstream

SUMMARY = re.compile(r"Run #\d+ (\w+): (\d+) done, (\d+) failed, (\d+) skipped; (\d+) files")
DELAYED = ("simple", "json", "file", "metadata")  # everything but the root listing


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=400)
    parser.add_argument("--delay", type=float, default=0.1, help="seconds before each answer")
    parser.add_argument("--rounds", type=int, default=1, help="of each (median shown)")
    parser.add_argument("--setups", default="postgres,embedded")
    add_postgres_argument(parser)
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/13",
        help="the broker of the PostgreSQL setup; must be empty, flushed at the end",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="for every node process, e.g. PYPIMIRROR_WORKER_CONCURRENCY=4 (repeatable)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    return parser.parse_args()


def bin_run_worker(env: dict[str, str]) -> list[str]:
    """The worker's command line from bin/_run.py itself."""
    spec = importlib.util.spec_from_file_location("bin_run", ROOT / "bin" / "_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.worker_command(sys.executable, env)


class Node:
    """A fresh node of one setup: its environment, migrated; workers started on demand."""

    def __init__(self, stack, work: Path, setup: str, args, extra: dict[str, str]) -> None:
        self.stack, self.work, self.setup = stack, work, setup
        work.mkdir(parents=True)
        if setup == "postgres":
            database = postgres_create(args.postgres, prefix="pypimirror_bench_schedule")
            if database is None:
                sys.exit(f"no PostgreSQL answers at {args.postgres} (--postgres URL)")
            stack.callback(postgres_drop, args.postgres, database)
            self.broker = args.redis
            self.env = node_env(work / "data", database, CELERY_BROKER_URL=args.redis, **extra)
        else:  # bin/run's defaults: settings.local, SQLite and the SQLite broker in the data dir
            self.broker = None
            self.env = clean_env(
                DJANGO_SETTINGS_MODULE="pypimirror.settings.local",
                PYPIMIRROR_DATA_DIR=str(work / "data"),
                **extra,
            )
        subprocess.run(manage("migrate", "-v0"), env=self.env, cwd=ROOT, check=True)
        self.worker: subprocess.Popen | None = None

    def foreground(self, url: str) -> tuple[float, str]:
        timed = run_timed(
            manage("sync", url, "--in-process"), env=self.env, cwd=ROOT,
            log=self.work / "sync.log",
        )  # fmt: skip
        return timed.wall, timed.output

    def scheduled(self, url: str) -> tuple[float, str]:
        """The upstream made as `sync URL` would (its first contact), the worker started and
        ready, then ``sync_upstream`` sent and its run waited for."""
        self._shell(
            f"from apps.replication.services import upstream_create\nupstream_create(url={url!r})\n"
        )
        self._start_worker()
        code = (
            "import time\n"
            "from apps.replication.models import SyncRun, Upstream\n"
            "from apps.replication.tasks import sync_upstream\n"
            "upstream = Upstream.objects.get()\n"
            "started = time.perf_counter()\n"
            "sync_upstream.delay(upstream.pk, SyncRun.Trigger.SCHEDULE)\n"
            "while not (run := SyncRun.objects.filter(finished__isnull=False).first()):\n"
            "    time.sleep(0.02)\n"
            "seconds = time.perf_counter() - started\n"
            "print(f'TASK {seconds:.3f}')\n"
            "print(f'Run #{run.pk} {run.state}: {run.projects_done} done, "
            "{run.projects_failed} failed, {run.projects_skipped} skipped; "
            "{run.files_fetched} files')\n"
        )
        out = self._shell(code)
        found = re.search(r"TASK ([\d.]+)", out)
        return (float(found.group(1)) if found else 0.0), out

    def _shell(self, code: str) -> str:
        done = subprocess.run(
            manage("shell", "-c", code), env={**self.env, "PYPIMIRROR_APPS": "all"}, cwd=ROOT,
            capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"manage.py shell failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def _start_worker(self) -> None:
        command = bin_run_worker(self.env)
        with (self.work / "worker.log").open("wb") as out:
            self.worker = subprocess.Popen(
                command, cwd=ROOT, env={**self.env, "PYTHONUNBUFFERED": "1"},
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.stack.callback(kill_group, self.worker)
        deadline = time.monotonic() + 90
        log = self.work / "worker.log"
        while not self._ready(log):
            if time.monotonic() > deadline or self.worker.poll() is not None:
                raise RuntimeError(f"the worker did not start: see {log}")
            time.sleep(0.2)
        time.sleep(1)  # the SQLite broker has no ping: its pool processes settle

    def _ready(self, log: Path) -> bool:
        if self.broker is not None:
            return celery_ping(self.broker) >= 1
        return " ready." in log.read_text(errors="replace")

    def close(self) -> None:
        if self.worker is not None:
            kill_group(self.worker)
        if self.broker is not None:
            redis_db(self.broker).flushdb()


def check(out: str, projects: int, files: int) -> str:
    found = SUMMARY.search(out)
    if found is None:
        return f"no summary: {out[-800:]}"
    if found.group(1) != "succeeded" or int(found.group(2)) != projects:
        return f"run {found.group(1)}, {found.group(2)}/{projects} done"
    if int(found.group(5)) != files:
        return f"{found.group(5)} files of {files}"
    return ""


def main() -> int:
    args = parse_args()
    interrupt_on_sigterm()
    project_compile()
    extra = dict(item.split("=", 1) for item in args.env)
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    if "postgres" in setups and redis_db(args.redis).dbsize():
        sys.exit(f"{args.redis} is not empty: pick another database number (--redis)")
    revision = git_revision()
    results: dict[tuple[str, str], list[float]] = {}
    problems: list[str] = []
    with contextlib.ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="pypimirror-bench-schedule-"))
        stack.callback(lambda: print(f"Kept {work}") if args.keep else shutil.rmtree(work, True))
        tree = WarehouseUpstream(work / "upstream")
        tree.populate(args.projects, 1, prefix="slow", wheel=True, sdist=True)
        server = stack.enter_context(UpstreamServer(tree))
        server.add_fault(Fault(delay=args.delay), kind=DELAYED)
        files = args.projects * 2
        for n in range(args.rounds):
            for setup in setups:
                for way in ("foreground", "scheduled"):
                    node = Node(stack, work / f"{setup}-{way}-{n}", setup, args, extra)
                    print(f"round {n + 1}/{args.rounds}: {setup}, {way} ...", flush=True)
                    try:
                        wall, out = getattr(node, way)(server.url)
                    finally:
                        node.close()
                    problem = check(out, args.projects, files)
                    print(f"  {wall:.2f} s {problem}", flush=True)
                    if problem:
                        problems.append(f"{setup} {way} round {n + 1}: {problem}")
                    results.setdefault((setup, way), []).append(wall)
    print_table(results, args, extra, revision, problems)
    return 1 if problems else 0


def print_table(results, args, extra, revision, problems) -> None:
    header = ["setup", "how", "wall s", "wall min-max", "projects/s", "vs foreground"]
    rows = []
    for (setup, way), walls in results.items():
        median = sorted(walls)[(len(walls) - 1) // 2]
        fore = sorted(results[(setup, "foreground")])[(len(walls) - 1) // 2]
        how = (
            "`manage.py sync URL --in-process` (foreground)"
            if way == "foreground"
            else "`sync_upstream` task (beat, Sync now) in bin/run's worker"
        )
        rows.append([
            setup, how, f"{median:.2f}", f"{min(walls):.2f}-{max(walls):.2f}",
            f"{args.projects / median:.1f}", f"{fore / median:.2f}x",
        ])  # fmt: skip
    settings = ", ".join(f"{k}={v}" for k, v in extra.items()) or "the defaults"
    print(
        f"\nScheduled vs foreground sync, pypimirror at {revision}, {cpus()} CPUs, Python "
        f"{platform.python_version()}: {args.projects} projects x 2 files (+ the wheels' "
        f".metadata), every request but the root answered after {args.delay:g} s; "
        f"{args.rounds} round(s), the median shown; {settings}.\n"
    )
    print(markdown_table(header, rows))
    for problem in problems:
        print(f"- PROBLEM {problem}")


if __name__ == "__main__":
    sys.exit(main())

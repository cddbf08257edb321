"""Load benchmark: many clients on project pages and files while a sync runs, then every file
the node serves checked against the upstream.

Two setups, each a fresh node started by ``bin/_run.py`` as ``bin/run`` starts it (gunicorn with
deploy/gunicorn.conf.py, a Celery worker, Celery beat): the embedded default (SQLite, local
files, the SQLite broker, settings.local) and PostgreSQL + Redis (production settings). The node
first syncs the projects that exist "before"; then the upstream adds projects and releases, the
worker syncs them (the ``sync_upstream`` task, as beat or the admin's "Sync now" starts it) and
the clients ask for both kinds meanwhile. The upstream's files come slowly (nginx ``limit_req``)
so that the sync lasts about as long as the load. Aim: 0 errors, every file right.
See benchmarks/README.md.

    .venv/bin/python benchmarks/load.py [--clients 200 --seconds 60 --setup both]
"""

import argparse
import contextlib
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    interrupt_on_sigterm,
    kill_group,
    manage,
    markdown_table,
    node_env,
    redis_db,
)
from benchmarks._load import MIX, Tally, Targets, check_files, percentile, run_load
from benchmarks._postgres import (
    postgres_create,
    postgres_drop,
)
from benchmarks.harness import (
    ROOT,
    Server,
    clean_env,
    cpus,
    free_port,
    project_compile,
    start_server,
)
from tests.support.upstream import NginxUpstream, WarehouseUpstream

SETUPS = {
    "embedded": "embedded default: SQLite, local files, SQLite broker, settings.local",
    "postgres": "PostgreSQL + Redis broker, settings.production",
}
RUN_LINE = re.compile(r"^RUN (\d+) (\w+) (\d+) (\d+) (\d+) (\d+) (\d+) ([\d.]+)$", re.M)
# Sends the sync as beat does and follows its run to the end, from the node's own settings.
SYNC_TASK = """
import time
from apps.replication.models import SyncRun, Upstream
from apps.replication.tasks import sync_upstream
upstream, last = Upstream.objects.get(), SyncRun.objects.latest("pk").pk
sync_upstream.delay(upstream.pk)
deadline = time.monotonic() + {timeout}
while not (run := SyncRun.objects.filter(pk__gt=last, finished__isnull=False).first()):
    if time.monotonic() > deadline:
        raise SystemExit(f"no run finished in {timeout} s: {{list(SyncRun.objects.values())}}")
    time.sleep(0.25)
seconds = (run.finished - run.started).total_seconds()
print(f"RUN {{run.pk}} {{run.state}} {{run.projects_planned}} {{run.projects_done}} "
      f"{{run.projects_failed}} {{run.projects_skipped}} {{run.files_fetched}} {{seconds:.1f}}")
for error in run.errors[:10]:
    print("ERROR", error)
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="concurrent connections")
    parser.add_argument("--seconds", type=float, default=60, help="how long the load lasts")
    parser.add_argument("--setup", choices=["embedded", "postgres", "both"], default="both")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server where a throwaway database is made (and dropped at the end)",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/13",
        help="the broker of the postgres setup; its database must be empty, flushed at the end",
    )
    parser.add_argument("--before", type=int, default=50, help="projects synced before the load")
    parser.add_argument("--added", type=int, default=100, help="projects the sync adds")
    parser.add_argument("--versions", type=int, default=2, help="of each added project")
    parser.add_argument(
        "--sync-seconds", type=float, default=None,
        help="how long the upstream's pace makes the sync last (default: --seconds)",
    )  # fmt: skip
    parser.add_argument("--sync-timeout", type=float, default=600)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = parser.parse_args()
    if args.before < 1 or args.added < 1 or args.versions < 1 or args.clients < 1:
        parser.error("--before, --added, --versions and --clients must be at least 1")
    return args


class Node:
    """A fresh node started by bin/_run.py (web, worker, beat) in its own data directory."""

    def __init__(self, stack, setup: str, work: Path, *, database_url: str | None, broker: str):
        self.setup, self.work = setup, work
        work.mkdir(parents=True)
        port = free_port()
        extra = {"PYPIMIRROR_BIND": f"127.0.0.1:{port}", "DJANGO_SUPERUSER_PASSWORD": "bench-only"}
        if setup == "embedded":  # what bin/run sets, and nothing else
            self.env = clean_env(
                DJANGO_SETTINGS_MODULE="pypimirror.settings.local",
                PYPIMIRROR_DATA_DIR=str(work / "data"),
                **extra,
            )
        else:
            self.env = node_env(work / "data", database_url, CELERY_BROKER_URL=broker, **extra)
        self.log = work / "run.log"
        self.server: Server = start_server(
            f"pypimirror ({setup})", [sys.executable, str(ROOT / "bin" / "_run.py")], port=port,
            env=self.env, cwd=ROOT, log=self.log, ready_path="/simple/", timeout=300,
        )  # fmt: skip
        stack.callback(self.server.close)
        self.url = self.server.url
        deadline = time.monotonic() + 120
        while not re.search(r"^\s*worker \| .*\bready\.\s*$", self.log.read_text(), re.M):
            if time.monotonic() > deadline or self.server.process.poll() is not None:
                raise RuntimeError(f"the Celery worker did not start: see {self.log}")
            time.sleep(0.5)

    def manage(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(manage(*args), env=self.env, cwd=ROOT, capture_output=True,
                              text=True, **kwargs)  # fmt: skip

    def describe(self) -> str:
        log = self.log.read_text(errors="replace")
        worker_class = re.search(r"Using worker: (\S+)", log)
        workers = len(set(re.findall(r"Booting worker with pid: (\d+)", log)))
        return (
            f"bin/_run.py: gunicorn -c deploy/gunicorn.conf.py ({workers} worker processes booted, "
            f"worker class {worker_class.group(1) if worker_class else '?'}), "
            "celery worker --concurrency=2 (prefork), celery beat"
        )


def build_upstream(stack, root: Path, args) -> tuple[NginxUpstream, list[str]]:
    tree = WarehouseUpstream(root)
    nginx = NginxUpstream(tree)
    tree.base_url = nginx.url
    before = tree.populate(args.before, 1, prefix="before", wheel=True, sdist=True)
    stack.enter_context(nginx)
    return nginx, before


def grow_upstream(nginx: NginxUpstream, before: list[str], args) -> tuple[list[str], int]:
    """Add projects and a release to every other project; pace the files so that fetching them
    takes about ``sync_seconds``. Returns the added names and the files to fetch."""
    tree = nginx.upstream
    added = tree.populate(args.added, args.versions, prefix="added", wheel=True, sdist=True)
    new_files = 2 * args.added * args.versions
    for name in before[::2]:
        tree.add_release(name, "2.0", wheel=True, sdist=True)
        new_files += 2
    # The node reads a wheel's metadata from the wheel: about one request per file.
    seconds = args.sync_seconds or args.seconds
    nginx.files_per_minute = max(1, math.ceil(60 * new_files / seconds))
    nginx.publish()
    return added, new_files


def upstream_files(nginx: NginxUpstream) -> tuple[dict[str, dict[str, str]], dict[str, bytes]]:
    """(project → {filename: sha256}, filename → bytes) of the upstream now."""
    expected, truth = {}, {}
    packages = nginx.upstream.root / "packages"
    for name, project in nginx.upstream.projects.items():
        expected[name] = {}
        for _release, file in project.files():
            expected[name][file.filename] = file.sha256
            truth[file.filename] = (packages / file.path).read_bytes()
    return expected, truth


def run_setup(stack, setup: str, work: Path, shm: Path, args, database_url: str | None) -> dict:
    """One setup: upstream (on tmpfs), node, initial sync, then the load during the sync."""
    print(f"[{setup}] upstream: {args.before} projects ...", flush=True)
    nginx, before = build_upstream(stack, shm / "upstream", args)
    print(f"[{setup}] starting the node (bin/_run.py) ...", flush=True)
    node = Node(stack, setup, work / "node", database_url=database_url, broker=args.redis_url)
    initial = node.manage("sync", nginx.url, timeout=args.sync_timeout)
    if initial.returncode:
        raise RuntimeError(f"the initial sync failed:\n{initial.stdout}\n{initial.stderr}")
    added, new_files = grow_upstream(nginx, before, args)
    expected, truth = upstream_files(nginx)
    print(f"[{setup}] sync of {len(added)} added projects and {len(before[::2])} new releases "
          f"({new_files} files, {nginx.files_per_minute}/min from the upstream) under "
          f"{args.clients} clients for {args.seconds:.0f} s ...", flush=True)  # fmt: skip
    sync_log = (work / "sync.log").open("w")
    sync = subprocess.Popen(
        manage("shell", "-c", SYNC_TASK.format(timeout=int(args.sync_timeout))), env=node.env,
        cwd=ROOT, stdout=sync_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    stack.callback(kill_group, sync)
    sync_ended: list[float] = []
    threading.Thread(target=lambda: (sync.wait(), sync_ended.append(time.monotonic())),
                     daemon=True).start()  # fmt: skip
    targets = Targets(before=before, added=added, truth=truth)
    load_average = os.getloadavg()[0]
    cpu_before, load_started = time.process_time(), time.monotonic()
    tallies, wall = run_load(node.url, targets, clients=args.clients, seconds=args.seconds)
    client_cpu = time.process_time() - cpu_before
    print(f"[{setup}] load done; waiting for the sync ...", flush=True)
    try:
        sync.wait(timeout=args.sync_timeout)
    except subprocess.TimeoutExpired:
        sync.kill()
        sync.wait()
    time.sleep(0.1)  # the waiting thread notes the time
    sync_log.close()
    output = (work / "sync.log").read_text(errors="replace")
    print(f"[{setup}] checking every file the node serves ...", flush=True)
    checked = check_files(node.url, expected)
    return {
        "setup": setup, "tallies": tallies, "wall": wall, "client_cpu": client_cpu,
        "run": RUN_LINE.search(output), "sync_output": output, "checked": checked,
        "sync_span": (sync_ended[0] - load_started) if sync_ended else None,
        "node": node.describe(), "new_files": new_files, "pace": nginx.files_per_minute,
        "seen_added": len(targets.names["added"]), "added": len(added),
        "load_average": (load_average, os.getloadavg()[0]),
    }  # fmt: skip


def table(tallies: dict[tuple[str, str], Tally], wall: float) -> str:
    order = [kind for kind, _ in MIX] + ["simple index"]
    keys = sorted(tallies, key=lambda k: (order.index(k[0]), k[1]))
    everything = Tally()
    for tally in tallies.values():
        everything.requests += tally.requests
        everything.errors.update(tally.errors)
        everything.statuses.update(tally.statuses)
        everything.latencies += tally.latencies
    rows = []
    for (kind, group), tally in [*((k, tallies[k]) for k in keys), (("all", ""), everything)]:
        kinds = ", ".join(f"{n} {what}" for what, n in tally.errors.most_common())
        rows.append((
            kind, group, f"{tally.requests:,}", f"{sum(tally.errors.values()):,}",
            f"{1000 * percentile(tally.latencies, 0.5):.0f}",
            f"{1000 * percentile(tally.latencies, 0.99):.0f}",
            f"{tally.requests / wall:,.0f}", kinds,
        ))  # fmt: skip
    header = ("request", "projects", "requests", "errors", "p50 ms", "p99 ms", "requests/s",
              "errors by kind")  # fmt: skip
    statuses = ", ".join(f"{n:,} x {status}" for status, n in sorted(everything.statuses.items()))
    return markdown_table(header, rows) + f"\n\nAnswers by status: {statuses}."


def report(result: dict, args) -> bool:
    """Print one setup's table and checks; True when the aim is met."""
    tallies, wall, checked = result["tallies"], result["wall"], result["checked"]
    errors = sum(sum(t.errors.values()) for t in tallies.values())
    print(f"\n### {result['setup']}: {SETUPS[result['setup']]}\n")
    started, ended = result["load_average"]
    print(f"{result['node']}.\n{args.clients} clients for {wall:.1f} s; the load generator "
          f"used {result['client_cpu']:.1f} s of CPU; the machine's load average (1 min) was "
          f"{started:.1f} as the load started, {ended:.1f} as it ended.\n")  # fmt: skip
    print(table(tallies, wall))
    run, problems = result["run"], []
    if run is None:
        problems.append("the sync run did not finish")
        print(f"\nsync: did not finish:\n{result['sync_output'][-2000:]}")
    else:
        pk, state, planned, done, failed, skipped, files, seconds = run.groups()
        span = result["sync_span"]
        print(
            f"\nsync: run #{pk} {state}: {done}/{planned} projects done, {failed} failed, "
            f"{skipped} skipped, {files} files fetched ({result['new_files']} new upstream, "
            f"{result['pace']}/min paced) in {seconds} s; "
            + (f"it ended {span:.0f} s after the load started (the load lasted {wall:.0f} s)."
               if span is not None else "it did not end.")
        )  # fmt: skip
        for line in re.findall(r"^ERROR .*$", result["sync_output"], re.M):
            print(f"  {line}")
        if state != "succeeded" or failed != "0" or done != planned:
            problems.append(f"the sync run {state}, {failed} project(s) failed")
    print(f"added projects seen by the clients during the load: {result['seen_added']} of "
          f"{result['added']}")  # fmt: skip
    print(f"files checked after the run: {checked.summary()}")
    if errors:
        problems.append(f"{errors} request(s) failed")
    if not checked.ok:
        problems.append("files not right")
    print(
        "aim (0 errors, every file right, the sync succeeded): "
        + ("met" if not problems else f"NOT met: {'; '.join(problems)}")
    )
    return not problems


def main() -> int:
    args = parse_args()
    interrupt_on_sigterm()
    project_compile()
    setups = ["embedded", "postgres"] if args.setup == "both" else [args.setup]
    results: list[dict] = []
    with contextlib.ExitStack() as stack:
        shm = Path(tempfile.mkdtemp(prefix="pypimirror-bench-load-", dir="/dev/shm"))
        work = Path(tempfile.mkdtemp(prefix="pypimirror-bench-load-"))
        for directory in (shm, work):
            stack.callback(
                lambda d=directory: print(f"Kept {d}") if args.keep else shutil.rmtree(d, True)
            )
        for setup in setups:
            with contextlib.ExitStack() as inner:
                database_url = None
                if setup == "postgres":
                    broker = redis_db(args.redis_url)
                    if broker.dbsize():
                        sys.exit(f"{args.redis_url} is not empty: pick another database number")
                    inner.callback(broker.flushdb)
                    database_url = postgres_create(
                        args.database_url, prefix="pypimirror_bench_load"
                    )
                    if database_url is None:
                        sys.exit(f"no PostgreSQL answers at {args.database_url}")
                    inner.callback(postgres_drop, args.database_url, database_url)
                # The upstream on tmpfs, the node's data on disk.
                (work / setup).mkdir()
                results.append(
                    run_setup(inner, setup, work / setup, shm / setup, args, database_url)
                )
    print(
        f"\n## Load: {args.clients} clients for {args.seconds:.0f} s while a sync runs\n\n"
        f"{cpus()} CPUs (shared with the node, its worker and the upstream's nginx), Python "
        f"{platform.python_version()}. Mix: " + ", ".join(f"{k} {w} %" for k, w in MIX)
        + "; half of the project requests go to projects the sync is adding, once the node "
        "lists them. An error: an answer other than 2xx/3xx, a wrong file or Range content, "
        "or a connection that failed or timed out (30 s)."
    )  # fmt: skip
    met = [report(result, args) for result in results]
    print(f"\nAim met on every setup: {'yes' if all(met) else 'NO'}")
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())

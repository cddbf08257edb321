"""Sync benchmark: pypimirror and bandersnatch 8 mirror the same nginx-served static upstream.

One run, one upstream tree per size, each tool in turn: an initial sync into an empty mirror,
then a no-op sync of the unchanged upstream. pypimirror runs as in production (Celery workers
on a Redis broker, a fresh PostgreSQL database), and in-process as extra rows. Wall time, CPU
and the peak memory of every process each tool runs (workers included) are measured; the
figure that counts is the ratio to bandersnatch. See benchmarks/README.md.

    .venv/bin/python benchmarks/sync.py [--projects 200 --files 10 --big 20000 --skip-big]
"""

import argparse
import contextlib
import platform
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    git_revision,
    interrupt_on_sigterm,
    markdown_table,
    redis_db,
)
from benchmarks._postgres import (
    add_postgres_argument,
)
from benchmarks._sync import MB, Bandersnatch, Node, Row, Upstream
from benchmarks.harness import cpus, project_compile
from tests.support import clients

LEGEND = """
Celery rows: the workers (prefork: a parent and its children; threads: one process), a Redis
broker and a fresh PostgreSQL database; the workers start before the timed command and count in
every figure of it.
wall s: `manage.py sync URL` or `bandersnatch mirror`, start to exit. beat's path: the periodic
sync as beat starts it, a `sync_upstream` task in the resident workers, from sending it to its
run finished in the database (its memory is the workers').
CPU s: user + system of the command (/usr/bin/time -v) plus the workers' (/proc).
peak RSS/PSS MB: the peak of the sum over every process of the tool (command and workers),
sampled every 0.1 s, never below the command's own; PSS shares forked pages out fairly.
command RSS MB: the command's own maximum RSS (/usr/bin/time -v), workers left out.
requests: answered by the upstream's nginx during the run. speed vs bandersnatch: its wall time
over this row's (higher is faster; for an initial sync, the files/s ratio). RSS vs
bandersnatch: this row's peak RSS over its (lower is less).
files: distribution files; each wheel's PEP 658 .metadata comes too and is not counted.
Not counted anywhere: PostgreSQL, Redis and nginx themselves."""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument(
        "--files", type=int, default=10, help="per project: half wheels, half sdists"
    )
    parser.add_argument("--big", type=int, default=20_000, help="projects of 1 wheel each")
    parser.add_argument("--skip-big", action="store_true", help="only the --projects upstream")
    parser.add_argument("--rounds", type=int, default=3, help="of the --projects syncs (median)")
    parser.add_argument(
        "--no-op-rounds", type=int, default=3, help="no-op syncs after each initial (median)"
    )
    parser.add_argument("--worker-processes", type=int, default=1, help="celery worker processes")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="--concurrency of each")
    parser.add_argument(
        "--pools", default="prefork,threads",
        help="Celery pools to run, each a row; the first also syncs the big upstream",
    )  # fmt: skip
    parser.add_argument(
        "--in-process",
        default="2,8",
        help="--concurrency values of extra in-process rows ('' none)",
    )
    parser.add_argument(
        "--no-embedded", action="store_true", help="no row of the embedded default (SQLite)"
    )
    parser.add_argument("--bandersnatch-workers", type=int, default=10)
    add_postgres_argument(parser)
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/13",
        help="the broker; its database must be empty, and is flushed at the end",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="for every pypimirror process, e.g. PYPIMIRROR_WORKER_SYNC_THREADS=2 (repeatable)",
    )
    parser.add_argument("--work", default=None, help="where mirrors go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = parser.parse_args()
    if args.files < 2 or args.files % 2:
        parser.error("--files must be even: each version has a wheel and an sdist")
    return args


def contenders(args, stack, venv, master: str, *, big: bool) -> list:
    """Factories of every tool and mode to run on one upstream, bandersnatch first."""
    extra = dict(item.split("=", 1) for item in args.env)
    node = {"stack": stack, "admin_url": args.postgres, "broker": args.redis, "env": extra}
    pools = [p.strip() for p in args.pools.split(",") if p.strip()]
    found = [lambda d: Bandersnatch(venv, d, master, workers=args.bandersnatch_workers)]
    workers = {"processes": args.worker_processes, "concurrency": args.worker_concurrency}
    for pool in pools[:1] if big else pools:
        found.append(lambda d, p=pool: Node(work=d, pool=p, **workers, **node))
    if not args.no_embedded:
        found.append(lambda d: Node(work=d, embedded=True, **node))
    for concurrency in [] if big else [int(c) for c in args.in_process.split(",") if c.strip()]:
        found.append(lambda d, c=concurrency: Node(work=d, concurrency=c, **node))
    return found


def run_syncs(syncer, upstream: Upstream, *, no_ops: int) -> list[Row]:
    """An initial sync, then ``no_ops`` times a no-op sync and, with workers, the no-op as beat
    starts it (a no-op takes a fraction of a second: one sample of it is mostly noise)."""
    rows = [syncer.sync(upstream, "initial")]
    for _ in range(no_ops):
        rows.append(syncer.sync(upstream, "no-op"))
        if getattr(syncer, "workers", None):
            rows.append(syncer.task_noop(upstream))
    for row in rows:
        print(f"    {row.sync} ({row.mode}): {row.summary()}", flush=True)
        for problem in row.problems:
            print(f"    PROBLEM: {problem}", flush=True)
    return rows


def main() -> int:
    args = parse_args()
    interrupt_on_sigterm()
    project_compile()
    broker = redis_db(args.redis)
    if broker.dbsize():
        sys.exit(f"{args.redis} is not empty: pick another database number (--redis)")
    results: dict[tuple, list[Row]] = {}
    revision = git_revision()
    notes: list[str] = []
    with contextlib.ExitStack() as stack:
        shm = Path(tempfile.mkdtemp(prefix="pypimirror-bench-sync-", dir="/dev/shm"))
        work = Path(tempfile.mkdtemp(prefix="pypimirror-bench-sync-", dir=args.work))
        for directory in (shm, work):
            stack.callback(
                lambda d=directory: print(f"Kept {d}") if args.keep else shutil.rmtree(d, True)
            )
        stack.callback(broker.flushdb)
        venv = clients.bandersnatch8_venv()
        sizes = [("small", args.projects, args.files // 2, True, args.rounds)]
        if not args.skip_big:
            sizes.append(("big", args.big, 1, False, 1))
        for size, projects, versions, sdist, rounds in sizes:
            print(f"Generating the upstream: {projects:,} projects ...", flush=True)
            upstream = Upstream(
                stack, shm / size, projects=projects, versions=versions, sdist=sdist
            )
            notes.append(upstream.describe())
            factories = contenders(args, stack, venv, upstream.nginx.url, big=size == "big")
            for n in range(rounds):
                for i, factory in enumerate(factories):
                    syncer = factory(work / f"{size}-{n}-{i}")
                    print(f"  round {n + 1}/{rounds}: {syncer.tool} ({syncer.mode})", flush=True)
                    for row in run_syncs(syncer, upstream, no_ops=args.no_op_rounds):
                        results.setdefault((row.tool, row.mode, row.sync, row.shape), []).append(
                            row
                        )
                    syncer.close()
        if git_revision() != revision:
            notes.append(f"pypimirror changed during the run (from {revision})")
        print_table(
            results, notes=notes, rounds=args.rounds, no_ops=args.no_op_rounds, revision=revision
        )
    return 1 if any(row.problems for rows in results.values() for row in rows) else 0


def print_table(
    results: dict[tuple, list[Row]], *, notes: list[str], rounds: int, no_ops: int, revision: str
) -> None:
    """One line per (tool, mode, sync, size): the round with the median wall time."""
    chosen = {key: sorted(rows, key=lambda r: r.timed.wall)[(len(rows) - 1) // 2]
              for key, rows in results.items()}  # fmt: skip
    peers = {row.key: row for row in chosen.values() if row.tool.startswith("bandersnatch")}
    header = ["tool", "mode", "sync", "projects x files", "wall s", "files/s", "CPU s",
              "requests", "peak RSS MB", "peak PSS MB", "command RSS MB",
              "speed vs bandersnatch", "RSS vs bandersnatch"]  # fmt: skip
    if rounds > 1 or no_ops > 1:
        header.insert(5, "wall min-max")
    table = []
    for key, row in chosen.items():
        t, peer = row.timed, peers.get(row.key)
        line = [
            row.tool, row.mode, row.sync, row.shape, f"{t.wall:.2f}",
            f"{row.files / t.wall:,.0f}" if row.files else "", f"{t.cpu:.1f}",
            f"{row.requests:,}", f"{row.peak_rss / MB:.0f}", f"{t.usage.peak_pss / MB:.0f}",
            f"{t.max_rss / MB:.0f}" if t.max_rss else "-",
            f"{peer.timed.wall / t.wall:.2f}x" if peer else "",
            f"{row.peak_rss / peer.peak_rss:.2f}x" if peer and peer.peak_rss else "",
        ]  # fmt: skip
        if rounds > 1 or no_ops > 1:
            walls = [r.timed.wall for r in results[key]]
            line.insert(5, f"{min(walls):.2f}-{max(walls):.2f}")
        table.append(line)
    print(
        f"\nSync benchmark, pypimirror at {revision}, {cpus()} CPUs, Python "
        f"{platform.python_version()} "
        f"(bandersnatch on 3.12), {rounds} round(s) of the small upstream (one of the big), "
        f"{no_ops} no-op(s) after each initial sync; the median shown. Upstream: nginx serving "
        "a static Warehouse-shaped tree on tmpfs; mirrors written to disk.\n"
    )
    print(markdown_table(header, table))
    print(LEGEND)
    for note in notes:
        print(f"- {note}")
    for tool in sorted({row.tool for row in chosen.values()}):
        remotes = set().union(
            *(r.timed.usage.remotes for rows in results.values() for r in rows if r.tool == tool)
        )
        print(
            f"- {tool}: TCP peers seen (sampled sockets): {', '.join(sorted(remotes)) or 'none'}."
        )
    for rows in results.values():
        for row in rows:
            for problem in row.problems:
                print(f"- PROBLEM {row.tool} {row.mode} {row.sync} {row.shape}: {problem}")


if __name__ == "__main__":
    sys.exit(main())

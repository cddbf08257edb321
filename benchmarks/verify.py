"""Verify benchmark: ``manage.py verify`` against ``sha256sum`` over all cores, on the same files.

One run: a store of random files (a few GB; their rows published through the catalog's
services, in a throwaway PostgreSQL database), then, in turn for each round, pypimirror's
verify (re-hash every blob against the catalog, the orphan walk, findings recorded) and
``find … | xargs -0 -P "$(nproc)" -n K sha256sum`` (which only hashes). The page cache is not
dropped: both read the same warm files (the machine's RAM holds them); --cold drops it before
each command when the machine allows it. Wall time, throughput and the ratio to sha256sum are
printed as a table. See benchmarks/README.md.

    .venv/bin/python benchmarks/verify.py [--gb 3 --file-mb 4 --rounds 3 --celery BROKER]
"""

import argparse
import contextlib
import platform
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
)
from benchmarks._postgres import (
    add_postgres_argument,
    postgres_create,
    postgres_drop,
)
from benchmarks.harness import ROOT, cpus, project_compile

MB = 1024 * 1024
GB = 1024 * MB


def drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def timed(command: list[str], *, env: dict | None = None, shell: bool = False) -> float:
    started = time.monotonic()
    result = subprocess.run(
        command if not shell else command[0],
        cwd=ROOT,
        env=env,
        shell=shell,
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - started
    # verify exits 1 on findings; the store is sound here, so anything but 0 is a failure
    if result.returncode != 0:
        raise SystemExit(f"{command} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return wall


def start_worker(env: dict, broker: str, workdir: Path) -> subprocess.Popen:
    """A Celery worker of the node on ``broker`` (emptied first), ready when returned; ``env``
    then sends the node's commands to it."""
    redis_db(broker).flushdb()
    env["CELERY_BROKER_URL"] = broker
    with (workdir / "worker.log").open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "pypimirror", "worker", "--loglevel=INFO",
             f"--concurrency={cpus()}", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while celery_ping(broker) < 1:
        if time.monotonic() > deadline or worker.poll() is not None:
            raise SystemExit(f"the worker did not start: see {workdir / 'worker.log'}")
    return worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gb", type=float, default=3.0, help="the store's size (default 3)")
    parser.add_argument("--file-mb", type=float, default=4.0, help="each file's size (4)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="drop the page cache before each")
    parser.add_argument("--workdir", type=Path, default=None, help="where the store goes")
    parser.add_argument(
        "--celery",
        metavar="BROKER",
        default="",
        help="also verify through a Celery worker (prefork, one process per core) on this "
        "broker (e.g. redis://127.0.0.1:6379/6), which it flushes",
    )
    add_postgres_argument(parser)
    args = parser.parse_args()
    interrupt_on_sigterm()
    project_compile()

    size = int(args.file_mb * MB)
    files = max(1, int(args.gb * GB) // size)
    database_url = postgres_create(args.postgres, prefix="pypimirror_bench_verify")
    if database_url is None:
        raise SystemExit(f"no PostgreSQL at {args.postgres} (--postgres)")
    workdir = Path(tempfile.mkdtemp(prefix="pm-verify-bench-", dir=args.workdir))
    try:
        env = node_env(workdir, database_url)
        subprocess.run(manage("migrate", "-v0"), cwd=ROOT, env=env, check=True)
        print(f"filling the store: {files} files of {args.file_mb:g} MB ...", flush=True)
        started = time.monotonic()
        fill = (
            "from tests.support.stores import store_fill\n"
            f"store_fill(files={files}, size={size}, projects=16)\n"
        )
        subprocess.run(manage("shell", "-c", fill), cwd=ROOT, env=env, check=True)
        print(f"filled in {time.monotonic() - started:.1f} s", flush=True)
        store = workdir / "store"
        total = sum(p.stat().st_size for p in (store / "packages").rglob("*") if p.is_file())
        per_call = max(1, files // (cpus() * 4))
        sha256sum = (
            f"find {store / 'packages'} -type f -print0 | "
            f'xargs -0 -P "$(nproc)" -n {per_call} sha256sum > /dev/null'
        )
        tools = {
            "pypimirror verify (in-process, threads = cores)": (
                manage("verify", "--in-process"),
                False,
            ),
            f'sha256sum (xargs -P "$(nproc)" -n {per_call})': ([sha256sum], True),
        }
        worker = None
        if args.celery:
            worker = start_worker(env, args.celery, workdir)
            tools["pypimirror verify (Celery worker, prefork = cores)"] = (
                manage("verify"),
                False,
            )
        walls: dict[str, list[float]] = {name: [] for name in tools}
        cold = args.cold and drop_caches()
        for _ in range(args.rounds):
            for name, (command, shell) in tools.items():
                if cold:
                    drop_caches()
                walls[name].append(timed(command, env=env, shell=shell))
        if worker is not None:
            kill_group(worker)
        best = {name: min(values) for name, values in walls.items()}
        reference = best[next(n for n in tools if n.startswith("sha256sum"))]
        rows = [
            (
                name,
                f"{files:,}",
                f"{total / GB:.2f} GB",
                ", ".join(f"{w:.2f}" for w in walls[name]),
                f"{best[name]:.2f} s",
                f"{total / MB / best[name]:,.0f} MB/s",
                f"{reference / best[name]:.2f}x",
            )
            for name in tools
        ]
        print()
        print(
            f"verify benchmark at {git_revision()}: {platform.processor() or platform.machine()}, "
            f"{cpus()} CPUs, Python {platform.python_version()}, page cache "
            f"{'dropped before each command' if cold else 'warm'}"
        )
        print()
        print(
            markdown_table(
                ["tool", "files", "bytes", "walls (s)", "best", "throughput", "vs sha256sum"],
                rows,
            )
        )
    finally:
        with contextlib.suppress(Exception):
            postgres_drop(args.postgres, database_url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Scale benchmark (issue 14): a catalog of PyPI's size in PostgreSQL, and the node measured on it.

Builds 700,000 projects (1.4 M releases, 3.5 M files, 5.6 M journal entries, a sync state each)
with SQL (benchmarks/_scale_build.py), starts the node on it as production runs it (gunicorn
with deploy/gunicorn.conf.py, production settings, 2 workers), and prints every figure of issue
14 against its aim: the whole-index documents after serial changes (time, workers' memory,
Redis's), the admin's pages, and the rows it cannot measure yet, marked so.
See benchmarks/README.md.

    .venv/bin/python benchmarks/scale.py [--projects 700000] [--redis-url redis://...]
    .venv/bin/python benchmarks/scale.py --build-only --database-url URL
    .venv/bin/python benchmarks/scale.py --no-build --database-url URL --only admin
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
    git_revision,
    interrupt_on_sigterm,
    manage,
    markdown_table,
    node_env,
    redis_db,
)
from benchmarks._postgres import (
    add_postgres_argument,
    postgres_create,
    postgres_drop,
    postgres_ensure,
)
from benchmarks._scale_admin import admin_pages, admin_rows
from benchmarks._scale_build import build
from benchmarks._scale_measure import (
    Row,
    index_rows,
    measure_index,
    not_measured_rows,
    planning_rows,
)
from benchmarks._scale_plan import measure_planning
from benchmarks.harness import ROOT, free_port, project_compile, start_server

SECTIONS = ("documents", "admin", "planning")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--projects", type=int, default=700_000, help="the catalog's size (default 700,000)"
    )
    parser.add_argument(
        "--database-url",
        help="build into (or, with --no-build, measure) this database, which is never dropped; "
        "by default a throwaway one is made on --postgres's server and dropped at the end "
        "(kept with --keep or --build-only)",
    )
    add_postgres_argument(parser)
    parser.add_argument("--build-only", action="store_true", help="build the catalog and stop")
    parser.add_argument(
        "--no-build", action="store_true", help="measure the catalog already at --database-url"
    )
    parser.add_argument("--serials", type=int, default=10, help="serial changes (default 10)")
    parser.add_argument("--repeats", type=int, default=2, help="repeat fetches after each")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--redis-url",
        help="CACHE_URL for the node (e.g. redis://127.0.0.1:6379/14; its database must be "
        "empty, and is flushed at the end); by default each worker's memory cache",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (and files)")
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        action="append",
        help="measure only this section (repeatable): the whole-index documents, the admin's "
        "pages, or the sync planning; by default all three",
    )
    args = parser.parse_args()
    if args.no_build and not args.database_url:
        parser.error("--no-build needs --database-url")
    if args.build_only and args.no_build:
        parser.error("--build-only and --no-build exclude each other")
    return args


def migrate(env: dict[str, str]) -> float:
    began = time.monotonic()
    subprocess.run(manage("migrate", "-v0"), env=env, cwd=ROOT, check=True)
    return time.monotonic() - began


def print_build(report, migrate_seconds: float) -> None:
    print(
        f"\nBuilt {report.projects:,} projects, {report.releases:,} releases, "
        f"{report.files:,} files, {report.journal:,} journal entries, "
        f"{report.sync_states:,} sync states, {report.runs:,} sync runs in "
        f"{report.seconds:.0f} s (+ migrate {migrate_seconds:.0f} s); database "
        f"{report.database_bytes / 1e9:.2f} GB."
    )
    for table, size in (report.table_bytes or {}).items():
        print(f"  {table}: {size / 1e9:.2f} GB with indexes")
    for name, releases, files in report.big_projects or []:
        print(f"  big project {name}: {releases:,} releases, {files:,} files")
    print("  No file exists on disk (blob_path names blobs never written).")


def catalog_counts(url: str) -> str:
    """The catalog's size, as PostgreSQL's statistics estimate it (exact counts take long)."""
    import psycopg

    with psycopg.connect(url) as conn:
        counts = dict(
            conn.execute(
                "SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(%s)",
                [["catalog_project", "catalog_release", "catalog_distribution",
                  "catalog_journalentry"]],
            ).fetchall()
        )  # fmt: skip
    return (
        f"{counts['catalog_project']:,} projects, {counts['catalog_release']:,} releases, "
        f"{counts['catalog_distribution']:,} files, {counts['catalog_journalentry']:,} journal "
        "entries"
    )


def main() -> int:
    args = parse_args()
    interrupt_on_sigterm()
    project_compile()
    work = Path(tempfile.mkdtemp(prefix="pypimirror-bench-scale-"))
    rows: list[Row] = []
    notes: list[str] = []
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: None if args.keep else shutil.rmtree(work, ignore_errors=True))
        url = args.database_url
        if url is not None and (problem := postgres_ensure(url, args.postgres)):
            sys.exit(problem)
        if url is None:
            url = postgres_create(args.postgres, prefix="pypimirror_bench_scale")
            if url is None:
                sys.exit(f"no PostgreSQL answers at {args.postgres}")
            if not (args.keep or args.build_only):  # built only: kept for its user
                stack.callback(postgres_drop, args.postgres, url)
        print(f"Database: {url}", flush=True)
        env = node_env(
            work / "data",
            url,
            DJANGO_SECURE_COOKIES="false",  # plain http on loopback: the admin's login works
            **({"CACHE_URL": args.redis_url} if args.redis_url else {}),
        )
        if args.no_build:  # a catalog built at an earlier revision gets the new migrations
            print("Migrating ...", flush=True)
            print(f"  migrate: {migrate(env):.1f} s", flush=True)
        else:
            print("Migrating ...", flush=True)
            migrate_seconds = migrate(env)
            print(f"Building {args.projects:,} projects ...", flush=True)
            report = build(url, projects=args.projects, log=lambda s: print(s, flush=True))
            print_build(report, migrate_seconds)
            rows.append(Row(
                "build: catalog of PyPI's size with SQL",
                f"{report.seconds / 60:.1f} min ({report.database_bytes / 1e9:.1f} GB)",
                "minutes (issue 14 found < 6)", report.seconds < 600,
            ))  # fmt: skip
            if args.build_only:
                print(f"\n--build-only: the catalog is in {url}")
                return 0

        if args.redis_url:
            redis = redis_db(args.redis_url)
            if redis.dbsize():
                sys.exit(f"{args.redis_url} is not empty")
            stack.callback(redis.flushdb)
        subprocess.run(
            manage("createsuperuser", "--noinput", "--username", "scale",
                   "--email", "scale@example.org"),
            env={**env, "DJANGO_SUPERUSER_PASSWORD": "scale-benchmark"}, cwd=ROOT, check=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port = free_port()
        node_environment = {
            **env,
            "PYPIMIRROR_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(args.workers),
            "GUNICORN_ACCESSLOG": "",
        }
        command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn.conf.py")]
        print(f"Starting the node ({args.workers} workers) ...", flush=True)
        node = start_server("pypimirror", command, port=port, env=node_environment, cwd=ROOT,
                            log=work / "node.log", ready_path="/healthz")  # fmt: skip
        stack.callback(node.close)

        sections = args.only or SECTIONS
        if "documents" in sections:
            print(f"Whole-index documents, {args.serials} serial changes ...", flush=True)
            index = measure_index(
                node, env=env, database_url=url, serials=args.serials, repeats=args.repeats,
                redis_url=args.redis_url, log=lambda s: print(s, flush=True), work=work,
            )  # fmt: skip
            rows.extend(index_rows(index, redis=bool(args.redis_url)))
        counts = catalog_counts(url)
        if "admin" in sections:
            print("Admin pages ...", flush=True)
            pages = admin_pages(node, database_url=url, log=lambda s: print(s, flush=True))
            rows.extend(admin_rows(pages))
        if "planning" in sections:
            print("Planning a sync ...", flush=True)
            plan = measure_planning(node, env=env, database_url=url)
            print(f"  {plan}", flush=True)
            rows.extend(planning_rows(plan))
        if args.only is None:
            rows.extend(not_measured_rows())
        if args.keep:
            print(f"Kept {url} and {work}")

    print(
        f"\nissue 14 at {counts} (estimated), pypimirror at {git_revision()}, "
        f"gunicorn ({args.workers} workers, deploy/gunicorn.conf.py), production settings, "
        f"cache {'Redis' if args.redis_url else 'each worker memory (LocMemCache)'}; "
        f"Python {platform.python_version()}.\n"
    )
    print(markdown_table(("figure", "measured", "aim", "met?"),
                         [row.cells() for row in rows]))  # fmt: skip
    for note in notes:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

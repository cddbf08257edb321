"""Serving benchmark: one project page (HTML and PEP 691 JSON) from pypimirror and pypiserver.

Both serve the same generated files (real wheels with METADATA, and sdists) under gunicorn with
the same number of sync workers. All servers run at once; after a warm-up, wrk measures each
(server, format) in turn, for several rounds, and the median counts, so a busy moment on a
shared machine hits every server alike. nginx serving the same pages as static files is the
upper bound. See benchmarks/README.md.

    .venv/bin/python benchmarks/serve.py [--workers N] [--database sqlite|postgres|both]
"""

import argparse
import contextlib
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    node_env,
)
from benchmarks._postgres import (
    add_postgres_argument,
    postgres_create,
    postgres_drop,
)
from benchmarks.harness import (
    ROOT,
    Server,
    clean_env,
    cpus,
    free_port,
    group_cpu_seconds,
    nginx_static,
    peer_venv,
    project_compile,
    start_server,
    wrk,
)
from tests.support.dists import DistSpec, build_sdist, build_wheel

HTML = "text/html"
JSON = "application/vnd.pypi.simple.v1+json"
FORMATS = (("HTML", HTML), ("JSON", JSON))
PYPISERVER = ["pypiserver[cache]>=2.4,<2.5", "gunicorn"]


@dataclass
class Target:
    """One (server, format) to measure: what it answers, and the rates of each round."""

    server: str
    label: str
    url: str
    accept: str
    answered: str
    files: int
    workers: str
    pgid: int
    rates: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # server CPU per request, per round

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_ms)


def generate(directory: Path, *, projects: int, versions: int) -> list[str]:
    """``projects`` projects, each with ``versions`` releases of one wheel and one sdist."""
    directory.mkdir(parents=True)
    names = [f"bench-project-{i:03d}" for i in range(projects)]
    for i, name in enumerate(names):
        for v in range(versions):
            spec = DistSpec(
                name=name,
                version=f"1.{v}.0",
                requires_python=">=3.8",
                requires=[f"{names[(i + 1) % projects]}>=1.0"],
            )
            build_wheel(spec, directory)
            build_sdist(spec, directory)
    return names


def describe_files(directory: Path) -> str:
    wheels = [p.stat().st_size for p in directory.glob("*.whl")]
    sdists = [p.stat().st_size for p in directory.glob("*.tar.gz")]
    return (
        f"{len(wheels) + len(sdists)} files, {(sum(wheels) + sum(sdists)) / 1e6:.1f} MB; "
        f"wheels ~{sum(wheels) // len(wheels)} B each (with METADATA, PEP 658), "
        f"sdists ~{sum(sdists) // len(sdists)} B"
    )


def import_node(data_dir: Path, dists: Path, database_url: str | None) -> float:
    """Migrate and ``import_dists`` as an operator would; the seconds the import took."""
    env = node_env(data_dir, database_url)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    started = time.monotonic()
    subprocess.run(
        [*manage, "import_dists", str(dists)],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def fetch(url: str, accept: str) -> tuple[str, int, bytes]:
    """(content type, files listed, body) of a page, which must answer 200."""
    response = httpx.get(url, headers={"Accept": accept}, timeout=10)
    response.raise_for_status()
    kind = response.headers["content-type"].split(";")[0]
    if "json" in kind:
        count = len(response.json()["files"])
    else:
        count = len(re.findall(r"<a\s", response.text))
    return kind, count, response.content


def start_pypiserver(work: Path, dists: Path, workers: int) -> Server:
    """pypiserver 2.4 as benchmarks.md says; its gunicorn reads GUNICORN_CMD_ARGS."""
    venv = peer_venv("pypiserver", PYPISERVER)
    port = free_port()
    runtime = work / "pypiserver-runtime"  # its gunicorn's control socket, apart from others
    runtime.mkdir()
    env = clean_env(GUNICORN_CMD_ARGS=f"--workers {workers}", XDG_RUNTIME_DIR=str(runtime))
    command = [
        str(venv / "bin" / "pypi-server"), "run", "-p", str(port), "-i", "127.0.0.1",
        "--backend", "cached-dir", "--server", "gunicorn", str(dists),
    ]  # fmt: skip
    log = work / "pypiserver.log"
    return start_server("pypiserver", command, port=port, env=env, cwd=work, log=log,
                        ready_path="/simple/")  # fmt: skip


def start_node(
    work: Path, database: str, database_url: str | None, workers: int, worker_class: str
) -> Server:
    """This project under gunicorn with deploy/gunicorn.conf.py (access log off). ``sync``
    workers as pypiserver's, and as in production behind nginx (deploy/'s unit); ``gevent``
    as gunicorn.conf.py's default, which bin/run and a node without nginx use."""
    port = free_port()
    env = node_env(
        work / f"node-{database}",
        database_url,
        PYPIMIRROR_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(workers),
        GUNICORN_WORKER_CLASS=worker_class,
        GUNICORN_ACCESSLOG="",
    )
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
    log = work / f"pypimirror-{database}-{worker_class}.log"
    name = f"pypimirror ({database})" + ("" if worker_class == "sync" else f" {worker_class}")
    return start_server(name, command, port=port, env=env, cwd=ROOT, log=log,
                        ready_path="/simple/")  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--versions", type=int, default=5, help="each a wheel and an sdist")
    parser.add_argument("--workers", type=int, default=2 * cpus() + 1)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    add_postgres_argument(parser)
    parser.add_argument(
        "--sqlite-conn-max-age",
        type=int,
        default=None,
        help="experiment: keep SQLite connections this many seconds (DATABASE_URL option)",
    )
    parser.add_argument(
        "--worker-class",
        choices=["sync", "gevent", "both"],
        default="both",
        help="pypimirror's gunicorn workers: sync (deploy/'s unit), gevent (bin/run's default)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", default="5s")
    parser.add_argument("--warmup", default="2s")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-nginx", action="store_true", help="skip the static upper bound")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    project_compile()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="pypimirror-bench-serve-"))
    notes: list[str] = []
    databases: dict[str, str | None] = {}
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: None if args.keep else shutil.rmtree(work, ignore_errors=True))
        print(f"Generating {args.projects} projects x {2 * args.versions} files ...", flush=True)
        dists = work / "dists"
        project = generate(dists, projects=args.projects, versions=args.versions)[
            args.projects // 2
        ]
        files = describe_files(dists)

        for database in ("sqlite", "postgres"):
            if args.database not in (database, "both"):
                continue
            url = None
            if database == "sqlite" and args.sqlite_conn_max_age is not None:
                path = work / "node-sqlite" / "db.sqlite3"
                url = f"sqlite:///{path}?conn_max_age={args.sqlite_conn_max_age}"
                notes.append(f"SQLite with CONN_MAX_AGE={args.sqlite_conn_max_age} (experiment).")
            if database == "postgres":
                url = postgres_create(args.postgres)
                if url is None:
                    notes.append(f"PostgreSQL skipped: none answers at {args.postgres}.")
                    continue
                stack.callback(postgres_drop, args.postgres, url)
            print(f"Importing into pypimirror ({database}) ...", flush=True)
            seconds = import_node(work / f"node-{database}", dists, url)
            notes.append(f"`import_dists` of the {len(list(dists.iterdir()))} files into "
                         f"{database}: {seconds:.1f} s.")  # fmt: skip
            databases[database] = url

        print("Starting servers ...", flush=True)
        servers = [start_pypiserver(work, dists, args.workers)]
        stack.callback(servers[0].close)
        classes = ["sync", "gevent"] if args.worker_class == "both" else [args.worker_class]
        for db, url in databases.items():
            for worker_class in classes:
                servers.append(start_node(work, db, url, args.workers, worker_class))
                stack.callback(servers[-1].close)
        targets = []
        for server in servers:
            for label, accept in FORMATS:
                url = f"{server.url}/simple/{project}/"
                kind, count, body = fetch(url, accept)
                targets.append(Target(server.name, label, url, accept, kind, count,
                                      str(args.workers), server.process.pid))  # fmt: skip
                if server.name == "pypiserver" and label == "JSON" and "json" not in kind:
                    notes.append(
                        f"pypiserver does not speak PEP 691: asked for {JSON} it answers "
                        f"{kind}, its HTML page; that answer is measured."
                    )
                if server.name.startswith("pypimirror"):
                    static = work / "static" / "simple" / project / f"index.{label.lower()}"
                    static.parent.mkdir(parents=True, exist_ok=True)
                    static.write_bytes(body)
        if not args.no_nginx and databases:
            nginx = nginx_static(work / "static", port=free_port(), workdir=work, workers=cpus())
            if nginx is None:
                notes.append("nginx is not installed: no upper bound (apt-get install nginx).")
            else:
                stack.callback(nginx.close)
                for label, accept in FORMATS:
                    url = f"{nginx.url}/simple/{project}/index.{label.lower()}"
                    kind, count, _ = fetch(url, accept)
                    targets.append(Target(f"nginx static ({cpus()} processes)", label, url,
                                          accept, kind, count, "", nginx.process.pid))  # fmt: skip

        options = {"threads": args.threads, "connections": args.connections}
        for target in targets:
            print(f"  warm-up {target.server} {target.label}", flush=True)
            wrk(target.url, accept=target.accept, duration=args.warmup, **options)
        for n in range(args.rounds):
            print(f"Round {n + 1}/{args.rounds} ...", flush=True)
            for target in targets:
                cpu_before = group_cpu_seconds(target.pgid)
                result = wrk(target.url, accept=target.accept, duration=args.duration, **options)
                cpu = group_cpu_seconds(target.pgid) - cpu_before
                late = re.fullmatch(r"connect 0, read 0, write 0, timeout (\d+)", result.errors)
                if result.non_2xx or (result.errors and not late):
                    raise RuntimeError(f"{target.server} {target.label}: {result}")
                if late:  # answered after wrk's 2 s: counted out of its rate, and said
                    notes.append(f"{target.server} {target.label}, round {n + 1}: "
                                 f"{late.group(1)} requests over 2 s (wrk's timeout).")  # fmt: skip
                target.rates.append(result.requests_per_second)
                target.cpu_ms.append(1000 * cpu / result.requests)
        if args.keep:
            print(f"Kept {work}")

    print_table(targets, args=args, files=files, project=project, notes=notes)
    return 0


def print_table(targets: list[Target], *, args, files: str, project: str, notes: list[str]):
    peer = {t.label: t.median for t in targets if t.server == "pypiserver"}
    print(
        f"\nServing /simple/{project}/ (10 files) of {args.projects} projects x "
        f"{2 * args.versions} files ({args.versions} versions x wheel + sdist): {files}.\n"
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}, after a {args.warmup} "
        f"warm-up, {args.rounds} interleaved rounds, median shown (min-max beside it); "
        f"{cpus()} CPUs, Python {platform.python_version()}.\n"
    )
    peer_cpu = {t.label: t.cpu for t in targets if t.server == "pypiserver"}
    header = ("server", "format", "answered as", "workers", "requests/s", "min-max",
              "vs pypiserver", "CPU ms/req", "CPU vs pypiserver")  # fmt: skip
    rows = [header]
    for t in targets:
        ratio = f"{t.median / peer[t.label]:.1f}x" if t.label in peer else ""
        cpu_ratio = f"{peer_cpu[t.label] / t.cpu:.1f}x" if t.label in peer_cpu else ""
        spread = f"{min(t.rates):,.0f}-{max(t.rates):,.0f}"
        rows.append((t.server, t.label, t.answered, t.workers, f"{t.median:,.0f}", spread, ratio,
                     f"{t.cpu:.2f}", cpu_ratio))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for n, row in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print(
        "\nvs pypiserver: requests/s over pypiserver's for the same request (same Accept header)."
        "\nCPU ms/req: CPU time of the server's processes (all workers) per request served, "
        "from /proc;\nsteadier than requests/s on a busy machine. CPU vs pypiserver: its CPU "
        "per request over ours."
    )
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    sys.exit(main())

"""Probe benchmark: a hub probes 500 mirror URLs with ``manage.py probe``, against archweb's check.

The mirrors are loopback servers of six kinds (_probe_fleet.py): healthy, slow, behind, corrupt,
refused, hanging. The hub is this project as an operator runs it (production settings, a fresh
PostgreSQL database holding a small catalog, the mirrors registered): ``manage.py probe`` with
the probe concurrency of each ``--concurrency`` value, timed under ``/usr/bin/time -v`` with its
memory sampled from /proc. The reference, in the same run on the same mirrors, is archweb's
check as it is described (a pool of 10 threads, each fetching one mirror's small ``lastsync``
stamp with a 10 s timeout). See benchmarks/README.md.

    .venv/bin/python benchmarks/probe.py [--urls 500] [--concurrency 20 ...] [--timeout 60]
"""

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import _archweb_check as archweb
from benchmarks._common import (
    Timed,
    git_revision,
    interrupt_on_sigterm,
    manage,
    markdown_table,
    node_env,
    run_timed,
)
from benchmarks._postgres import (
    add_postgres_argument,
    postgres_create,
    postgres_drop,
)
from benchmarks._probe_fleet import KINDS, Fleet, write_trees
from benchmarks.harness import ROOT, cpus, project_compile
from tests.support.dists import DistSpec, build_sdist, build_wheel

MB = 1024 * 1024

# What a probe of each kind must show in the hub's table (state, lag in serials, integrity).
HUB_EXPECTS = {
    "healthy": "ok, lag 0, sound",
    "slow": "ok, lag 0, sound",
    "behind": "ok, lag > 0, sound",
    "corrupt": "failing, findings",
    "refused": "down",
    "hanging": "down",
}

# The hub's catalog: what every mirror copies and the probes sample.
CATALOG_CODE = """
import json, os
from apps.network.selectors import probe_expectation
from apps.network.services import mirror_create
e = probe_expectation(projects=10**6, files=0, max_file_bytes=2**62)
catalog = {"last_serial": e.last_serial, "projects": [
    {"name": p.name, "serial": p.last_serial, "files": [
        {"filename": f.filename, "sha256": f.sha256, "size": f.size, "serial": f.serial}
        for f in p.files]}
    for p in e.projects]}
with open(os.environ["BENCH_CATALOG"], "w") as out:
    json.dump(catalog, out)
for name, url in json.load(open(os.environ["BENCH_MIRRORS"])):
    mirror_create(name=name, url=url)
"""

LEGEND = """
wall s: the command, start to exit (`manage.py probe`: Django starting, the expectation read
from the catalog, every probe, the probes saved and the disable / enable rule applied, the table
printed; the reference: Python starting and every check, nothing saved).
peak RSS MB: the largest of the command's own maximum RSS (/usr/bin/time -v) and the sampled
sum over its processes. CPU s: user + system.
longest probe s: the slowest URL's probe. busy s / concurrency: the probes' summed durations
over the concurrency, the least wall time that many slots allow. limit: the larger of the two,
or the CPU when it used more.
Requests per probe: /last-modified, the JSON root's head, the 3 sampled project pages, the 3
sampled files (sha256 and size checked): 8 for a healthy mirror. archweb's check: 1 (lastsync)."""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--urls", type=int, default=500, help="mirror URLs to probe")
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[20],
        help="the hub's probe concurrency (PYPIMIRROR_NETWORK_PROBE_CONCURRENCY); one run each",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=float, default=60.0,
        help="the hub's probe timeout in seconds (PYPIMIRROR_NETWORK_PROBE_TIMEOUT)",
    )  # fmt: skip
    parser.add_argument(
        "--projects", type=int, default=20, help="in the hub's catalog, 3 versions each"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory and the database"
    )
    add_postgres_argument(parser)
    return parser.parse_args()


# The hub.


def hub_prepare(work: Path, database: str, fleet: Fleet, projects: int) -> dict[str, str]:
    """A hub with a catalog of ``projects`` x 3 versions (a wheel and an sdist each) and every
    mirror of ``fleet`` registered; the trees the static mirrors serve written from it."""
    dists = work / "dists"
    dists.mkdir()
    for i in range(projects):
        for version in ("1.0", "1.1", "2.0"):
            spec = DistSpec(name=f"probe-bench-{i}", version=version)
            build_wheel(spec, dists)
            build_sdist(spec, dists)
    env = node_env(work / "data", database)
    for command in (("migrate", "-v0"), ("import_dists", str(dists))):
        subprocess.run(manage(*command), env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    mirrors = work / "mirrors.json"
    mirrors.write_text(json.dumps([[m.name, m.url] for m in fleet.mirrors]))
    catalog = work / "catalog.json"
    subprocess.run(
        manage("shell", "-c", CATALOG_CODE),
        env={**env, "BENCH_CATALOG": str(catalog), "BENCH_MIRRORS": str(mirrors)},
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    write_trees(fleet.trees, json.loads(catalog.read_text()), dists)
    return env


def hub_rows(output: str) -> dict[str, list[str]]:
    """URL → (state, lag s, lag serials, integrity, duration) from ``manage.py probe``'s table."""
    rows = {}
    for line in output.splitlines():
        if line.startswith("http"):
            cells = re.split(r"\s{2,}", line.strip())
            rows[cells[0]] = cells[1:]
    return rows


def hub_as_expected(kind: str, row: list[str]) -> bool:
    state, _lag_s, lag_serials, integrity, _duration = (row + [""] * 5)[:5]
    if kind in ("healthy", "slow"):
        return state == "ok" and lag_serials == "0" and integrity == "sound"
    if kind == "behind":
        return state == "ok" and lag_serials not in ("-", "0") and integrity == "sound"
    if kind == "corrupt":
        return state.startswith("failing") and "finding" in integrity
    return state.startswith("down")


def seconds(cell: str) -> float:
    return float(cell.rstrip("s")) if cell not in ("", "-") else 0.0


# The run.


def limit_of(t: Timed, durations: list[float], concurrency: int, timeout: float) -> str:
    longest, busy = max(durations, default=0.0), sum(durations) / concurrency
    if t.cpu > max(longest, busy):
        return f"CPU ({t.cpu:.1f} s)"
    if busy > longest:
        return f"concurrency {concurrency}: {sum(durations):.0f} s of probes / {concurrency}"
    if longest >= timeout * 0.95:
        return f"the timeout: a mirror that never answers holds a probe {timeout:g} s"
    return f"the slowest probe ({longest:.1f} s)"


def row_of(name, reads, concurrency, timeout, urls, t: Timed, durations) -> list[str]:
    peak = max(t.max_rss, t.usage.peak_rss)
    return [
        name, reads, str(concurrency), f"{timeout:g}", str(urls), f"{t.wall:.1f}",
        f"{urls / t.wall:.1f}", f"{peak / MB:.0f}", f"{t.cpu:.1f}",
        f"{max(durations, default=0):.1f}", f"{sum(durations) / concurrency:.1f}",
        limit_of(t, durations, concurrency, timeout),
    ]  # fmt: skip


def hub_probe(env, work: Path, kinds: dict[str, str], concurrency: int, timeout: float):
    """One ``manage.py probe`` round: (the table's row, URLs seen as their kind, problems)."""
    run_env = {
        **env,
        "PYPIMIRROR_NETWORK_PROBE_CONCURRENCY": str(concurrency),
        "PYPIMIRROR_NETWORK_PROBE_TIMEOUT": str(timeout),
    }
    t = run_timed(manage("probe"), env=run_env, cwd=ROOT, log=work / f"probe-{concurrency}.log")
    table = hub_rows(t.output)
    problems = []
    if t.returncode not in (0, 1) or len(table) != len(kinds):
        problems.append(f"probe exited {t.returncode}, {len(table)} rows: {t.output[-800:]}")
    durations = [seconds(r[4]) for r in table.values() if len(r) >= 5]
    row = row_of(
        "pypimirror `manage.py probe`", "8 requests, 3 files hashed", concurrency, timeout,
        len(kinds), t, durations,
    )  # fmt: skip
    seen = {kind: [0, 0.0] for kind in KINDS}  # URLs as expected, summed probe durations
    for url, kind in kinds.items():
        seen[kind][0] += hub_as_expected(kind, table.get(url, []))
        seen[kind][1] += seconds((table.get(url, []) + [""] * 5)[4])
    return row, seen, problems


def reference_check(env, work: Path, kinds: dict[str, str]):
    """archweb's check of every URL: (the table's row, URLs whose lastsync it read, problems)."""
    urls = work / "urls.json"
    urls.write_text(json.dumps(list(kinds)))
    script = Path(__file__).with_name("_archweb_check.py")
    t = run_timed([sys.executable, str(script), str(urls)], env=env, cwd=ROOT,
                  log=work / "archweb.log")  # fmt: skip
    found = re.search(r"^RESULTS (.*)$", t.output, re.M)
    results = json.loads(found.group(1)) if found else []
    problems = [] if len(results) == len(kinds) else [f"archweb reference: {t.output[-800:]}"]
    row = row_of(
        "archweb's check (reference)", "1 request (lastsync)", archweb.THREADS, archweb.TIMEOUT,
        len(kinds), t, [r["duration"] for r in results],
    )  # fmt: skip
    read = {kind: [0, 0.0] for kind in KINDS}  # lastsync read, summed check durations
    for result in results:
        read[kinds[result["url"]]][0] += result["ok"]
        read[kinds[result["url"]]][1] += result["duration"]
    return row, read, problems


def main() -> int:
    args = parse_args()
    interrupt_on_sigterm()
    project_compile()
    revision, load = git_revision(), os.getloadavg()
    problems: list[str] = []
    rows, seen = [], {}
    with contextlib.ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="pypimirror-bench-probe-"))
        stack.callback(lambda: print(f"Kept {work}") if args.keep else shutil.rmtree(work, True))
        database = postgres_create(args.postgres, prefix="pypimirror_bench_probe")
        if database is None:
            sys.exit(f"no PostgreSQL answers at {args.postgres} (--postgres URL)")
        if args.keep:
            print(f"Keeping the database {database}")
        else:
            stack.callback(postgres_drop, args.postgres, database)
        fleet = Fleet(args.urls, work / "trees", work)
        stack.callback(fleet.close)
        print(f"Preparing the hub and {args.urls} mirror URLs ...", flush=True)
        env = hub_prepare(work, database, fleet, args.projects)
        fleet.start()
        kinds = {m.url: m.kind for m in fleet.mirrors}
        log = work / "startup.log"
        startup = run_timed(manage("probe", "no-such-mirror"), env=env, cwd=ROOT, log=log)
        for concurrency in args.concurrency:
            print(f"  manage.py probe, concurrency {concurrency} ...", flush=True)
            row, saw, trouble = hub_probe(env, work, kinds, concurrency, args.timeout)
            rows.append(row)
            seen[f"hub, concurrency {concurrency}"] = saw
            problems += trouble
        print("  archweb's check (reference) ...", flush=True)
        row, read, trouble = reference_check(env, work, kinds)
        rows.append(row)
        problems += trouble

    counts = {kind: sum(1 for k in kinds.values() if k == kind) for kind in KINDS}
    print(
        f"\nProbe benchmark, pypimirror at {revision}, {cpus()} CPUs (shared; load average "
        f"{load[0]:.2f} at the start), Python {platform.python_version()}. {args.urls} mirror "
        f"URLs on loopback, each on its own port; the hub's catalog: {args.projects} projects x "
        "3 versions (a wheel and an sdist each), PostgreSQL.\n"
    )
    header = ["checker", "reads per URL", "concurrency", "timeout s", "URLs", "wall s",
              "probes/s", "peak RSS MB", "CPU s", "longest probe s", "busy s / concurrency",
              "limit"]  # fmt: skip
    print(markdown_table(header, rows))
    print(LEGEND)
    print(
        f"- `manage.py probe` start-up alone (an unknown name, exit 2): {startup.wall:.1f} s, "
        f"{max(startup.max_rss, startup.usage.peak_rss) / MB:.0f} MB."
    )
    print(
        "\nWhat each saw, per kind of mirror: URLs seen as the kind should be, and the mean "
        "time one probe (check) of the kind took.\n"
    )

    def cell(found: list, kind: str) -> str:
        return f"{found[kind][0]}/{counts[kind]}, {found[kind][1] / max(counts[kind], 1):.2f} s"

    kind_rows = [
        [kind, str(counts[kind]), HUB_EXPECTS[kind], *(cell(s, kind) for s in seen.values()),
         cell(read, kind)]
        for kind in KINDS
    ]  # fmt: skip
    kind_header = ["kind", "URLs", "the hub should see", *seen, "archweb: lastsync read"]
    print(markdown_table(kind_header, kind_rows))
    for name, saw in seen.items():
        for kind in KINDS:
            if saw[kind][0] != counts[kind]:
                problems.append(f"{name}: {counts[kind] - saw[kind][0]} {kind} URL(s) not as such")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

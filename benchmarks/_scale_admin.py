"""The admin's pages for benchmarks/scale.py: every list and change page of the catalog and
replication, with and without a search, a filter or a sort, logged in as a superuser.

The ids, names, filenames and hashes are read from the catalog being measured; the filters are
the admin's own query strings (a date filter's range as Django's DateFieldListFilter writes it).
"""

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import psycopg

from benchmarks._scale_measure import Row
from benchmarks.harness import Server

CATALOG, REPLICATION = "/admin/catalog", "/admin/replication"


def _dates(field: str, today: datetime) -> dict[str, str]:
    """Label → query string of each range DateFieldListFilter offers for ``field`` (``today``
    at midnight UTC, written as the filter writes it)."""
    tomorrow = today + timedelta(days=1)
    month = today.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    year = today.replace(month=1, day=1)
    ranges = {
        "today": (today, tomorrow),
        "past 7 days": (today - timedelta(days=7), tomorrow),
        "this month": (month, next_month),
        "this year": (year, year.replace(year=year.year + 1)),
    }
    return {
        label: f"{field}__gte={quote(str(low))}&{field}__lt={quote(str(high))}"
        for label, (low, high) in ranges.items()
    }


def _facts(database_url: str) -> dict:
    """The rows the pages are about, read from the catalog."""
    with psycopg.connect(database_url) as conn:

        def one(sql: str, params=None):
            return conn.execute(sql, params).fetchone()

        facts = {}
        facts["big_id"], facts["big_name"], facts["big_releases"] = one(
            """SELECT p.id, p.normalized_name, c.n FROM catalog_project p JOIN
               (SELECT project_id, count(*) AS n FROM catalog_release GROUP BY project_id
                ORDER BY n DESC LIMIT 1) c ON c.project_id = p.id"""
        )
        top = one("SELECT max(id) FROM catalog_project")[0]
        facts["project_id"], facts["name"] = one(
            "SELECT id, normalized_name FROM catalog_project WHERE id >= %s ORDER BY id LIMIT 1",
            [top // 2],
        )
        facts["display_name"] = one(
            "SELECT name FROM catalog_project WHERE id >= %s AND name <> normalized_name "
            "ORDER BY id LIMIT 1",
            [top // 3],
        )[0]
        facts["release_id"], facts["version"] = one(
            "SELECT id, version FROM catalog_release WHERE project_id = %s ORDER BY id LIMIT 1",
            [facts["project_id"]],
        )
        facts["big_release_id"] = one(
            "SELECT max(id) FROM catalog_release WHERE project_id = %s", [facts["big_id"]]
        )[0]
        facts["distribution_id"], facts["filename"], facts["sha256"] = one(
            "SELECT id, filename, sha256 FROM catalog_distribution WHERE project_id = %s "
            "ORDER BY id LIMIT 1",
            [facts["project_id"]],
        )
        facts["journal_id"] = one("SELECT max(id) FROM catalog_journalentry")[0]
        facts["upstream_id"] = one("SELECT min(id) FROM replication_upstream")[0]
        facts["run_id"] = one("SELECT max(id) FROM replication_syncrun")[0]
        facts["state_id"] = one(
            "SELECT id FROM replication_projectsyncstate WHERE normalized_name = %s",
            [facts["name"]],
        )[0]
    return facts


def admin_paths(database_url: str) -> list[tuple[str, str]]:
    """(label, path) of every admin page measured, with real ids and search terms."""
    f = _facts(database_url)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    name, big, word = f["name"], f["big_name"], f["name"].split("-")[0]
    project, release = f"{CATALOG}/project/", f"{CATALOG}/release/"
    dist, journal = f"{CATALOG}/distribution/", f"{CATALOG}/journalentry/"
    upstream, runs = f"{REPLICATION}/upstream/", f"{REPLICATION}/syncrun/"
    states = f"{REPLICATION}/projectsyncstate/"
    paths = [
        ("home", "/admin/"),
        ("Projects list", project),
        (f"Projects, search {name!r} (exact name)", f"{project}?q={name}"),
        (f"Projects, search {f['display_name']!r} (display name)",
         f"{project}?q={f['display_name']}"),
        (f"Projects, search {word!r} (a name's beginning)", f"{project}?q={word}"),
        ("Projects, search 'no-such-project-x'", f"{project}?q=no-such-project-x"),
        ("Projects, filter status active", f"{project}?status__exact=active"),
        ("Projects, filter status blocked", f"{project}?status__exact=blocked"),
        ("Projects, filter index status archived", f"{project}?index_status__exact=archived"),
        ("Projects, filter source", f"{project}?source=upstream:{f['upstream_id']}"),
        ("Projects, sorted by display name", f"{project}?o=1"),
        ("Projects, sorted by last serial, newest first", f"{project}?o=-6"),
        (f"Project change page, {f['big_releases']:,} releases ({big})",
         f"{project}{f['big_id']}/change/"),
        ("Project change page, a small project", f"{project}{f['project_id']}/change/"),
        ("Releases list", release),
        (f"Releases, search {name!r}", f"{release}?q={name}"),
        (f"Releases, search {word!r} (a name's beginning)", f"{release}?q={word}"),
        (f"Releases, search '{big} {f['version']}' (name and version)",
         f"{release}?q={big}+{f['version']}"),
        ("Releases, filter yanked", f"{release}?yanked__exact=1"),
        ("Releases, filter not yanked", f"{release}?yanked__exact=0"),
        (f"Releases of {big} (the change page's link)",
         f"{release}?project__id__exact={f['big_id']}"),
        ("Releases, sorted by version", f"{release}?o=2"),
        ("Release change page", f"{release}{f['release_id']}/change/"),
        (f"Release change page, {big}'s newest", f"{release}{f['big_release_id']}/change/"),
        ("Distributions list", dist),
        ("Distributions, search a filename", f"{dist}?q={f['filename']}"),
        ("Distributions, search a sha256 prefix", f"{dist}?q={f['sha256'][:12]}"),
        ("Distributions, search a whole sha256", f"{dist}?q={f['sha256']}"),
        (f"Distributions, search {name!r} (a project)", f"{dist}?q={name}"),
        (f"Distributions, search {word!r} (a name's beginning)", f"{dist}?q={word}"),
        ("Distributions, filter sdist", f"{dist}?packagetype__exact=sdist"),
        ("Distributions, filter bdist_msi (none)", f"{dist}?packagetype__exact=bdist_msi"),
        ("Distributions, filter yanked", f"{dist}?yanked__exact=1"),
        ("Distributions, date hierarchy 2015", f"{dist}?upload_time__year=2015"),
        *((f"Distributions, uploaded {label}", f"{dist}?{query}")
          for label, query in _dates("upload_time", today).items()),
        (f"Distributions of {big}", f"{dist}?project__id__exact={f['big_id']}"),
        ("Distributions, sorted by size", f"{dist}?o=4"),
        ("Distribution change page", f"{dist}{f['distribution_id']}/change/"),
        ("Journal list", journal),
        (f"Journal, search {name!r}", f"{journal}?q={name}"),
        (f"Journal, search {word!r} (a name's beginning)", f"{journal}?q={word}"),
        *((f"Journal, filter {label}", f"{journal}?{query}")
          for label, query in _dates("submitted_date", today).items()),
        ("Journal entry change page", f"{journal}{f['journal_id']}/change/"),
        ("Upstreams list", upstream),
        ("Upstreams, search 'pypi'", f"{upstream}?q=pypi"),
        ("Upstreams, filter enabled", f"{upstream}?enabled__exact=1"),
        ("Upstream change page", f"{upstream}{f['upstream_id']}/change/"),
        ("Upstream add page", f"{upstream}add/"),
        ("Sync runs list", runs),
        ("Sync runs, filter partly failed", f"{runs}?state__exact=partial"),
        ("Sync runs, filter trigger admin", f"{runs}?trigger__exact=admin"),
        ("Sync runs, filter upstream", f"{runs}?upstream__id__exact={f['upstream_id']}"),
        ("Sync runs, date hierarchy this year", f"{runs}?started__year={today.year}"),
        *((f"Sync runs, started {label}", f"{runs}?{query}")
          for label, query in _dates("started", today).items()),
        ("Sync run page", f"{runs}{f['run_id']}/change/"),
        ("Sync states list", states),
        (f"Sync states, search {name!r}", f"{states}?q={name}"),
        (f"Sync states, search {word!r} (a name's beginning)", f"{states}?q={word}"),
        ("Sync states, filter upstream", f"{states}?upstream__id__exact={f['upstream_id']}"),
        ("Sync state change page", f"{states}{f['state_id']}/change/"),
    ]  # fmt: skip
    return paths


def admin_pages(
    node: Server, *, database_url: str, log: Callable[[str], None]
) -> list[tuple[str, float | None, str]]:
    """(label, seconds or None, what went wrong) of each admin page, logged in as a superuser.
    A redirect counts as a failure: the admin answers a lookup it refuses with ``?e=1``."""
    paths = admin_paths(database_url)
    results = []
    with httpx.Client(base_url=node.url, timeout=600) as client:
        page = client.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        login = client.post("/admin/login/", data={
            "csrfmiddlewaretoken": token, "username": "scale", "password": "scale-benchmark",
            "next": "/admin/",
        })  # fmt: skip
        if login.status_code != 302:
            raise RuntimeError(f"admin login failed: HTTP {login.status_code}")
        client.get("/admin/")  # warm-up: the admin's modules, templates
        for label, path in paths:
            began = time.perf_counter()
            try:
                response = client.get(path)
            except httpx.HTTPError as error:
                results.append((label, None, f"{type(error).__name__}"))
                continue
            seconds = time.perf_counter() - began
            problem = "" if response.status_code == 200 else f"HTTP {response.status_code}"
            results.append((label, seconds, problem))
            log(f"  {label}: {seconds:.2f} s {problem}")
    return results


def admin_rows(pages: list[tuple[str, float | None, str]]) -> list[Row]:
    rows = []
    for label, seconds, problem in pages:
        measured = "failed" if seconds is None else f"{seconds:.2f} s"
        if problem:
            measured += f" ({problem})"
        met = None if seconds is None else (seconds < 1 and not problem)
        rows.append(Row(f"admin: {label}", measured, "< 1 s", met))
    return rows

"""The catalog of PyPI's size for benchmarks/scale.py, built in PostgreSQL with SQL alone.

A few ``INSERT ... SELECT generate_series`` statements fill the tables the migrations made: the
indexes and constraints of the big tables are dropped first and made again afterwards, exactly
as the migrations defined them (their definitions are read back from the catalog), since
building an index once is far cheaper than keeping it up to date row by row.

Everything is a function of a project's number ``i``, so two builds of one size are the same
catalog: its name (words from ``WORDS``, a prefix from ``PREFIXES`` for most, unique by
construction), its releases (1-3, a few projects with hundreds or thousands), each release's
files (1-4: an sdist, a pure wheel, then platform wheels), and the journal: ``create``, ``new
release`` and ``add ... file`` entries whose ids (the serials) follow the events' times, as
PyPI's do; each project's ``last_serial`` is its newest entry. The projects belong to one
upstream (``pypi``, as a mirror of PyPI holds them), with a sync state each and a history of
sync runs. No file exists on disk: ``blob_path`` names blobs never written.
"""

import time
from dataclasses import dataclass

import psycopg

CATALOG = ("catalog_project", "catalog_release", "catalog_distribution", "catalog_journalentry")
REPLICATION = ("replication_projectsyncstate", "replication_runproject")
BIG_TABLES = CATALOG + REPLICATION

WORDS = """
abc acme aero agent aio alembic alpha amqp ansible api apollo arrow astro async atlas audio
auth avro aws azure babel backend base bayes beam bench bio bit black blade blaze blob bolt
boto bridge buffer build cache cairo calc canvas carbon cell chain chart check chem cider
cipher click cloud cluster code color compose config core cosmos crypto csv cube curl cyber
dash data date db deep delta dev dict diff disk django doc docker dot draw drift dynamo echo
edge elastic email engine env event fast feed fiber field file filter finance flake flask
flow flux form forge frame fuzzy gate geo git glob graph grid grpc hash heap helm hive http
hub hyper image index info io iso jet jinja job json jupyter kafka key kit lab lambda lazy
lens lib light lint lite log logic loop lxml machine mail map markdown mask math matrix mesh
meta metric micro mind mock model mongo mqtt multi nano net neural nexus node nova num oauth
object open opt orbit pandas parse path pdf peak pixel plot plugin poly pool port pulse pure
py query queue quick radar rails raster ray react redis regex relay rest retry rich robot
route rpc rule runner rust safe scan schema scipy scrape secret sense serial server shell
signal simple sky slack snow socket solar spark spec sql stack star stat stream sync table
task tensor term test text thread time token tool torch trace tree turbo type ui unit url
utils vault vector view vision wave web widget wire word work xml yaml zen zip zone
""".split()  # noqa: SIM905 (a word list reads better as text)
PREFIXES = """
django flask pytest types azure aws google sphinx jupyter airflow apache mkdocs napari
odoo plone pyramid tox fastapi streamlit dagster opentelemetry
""".split()  # noqa: SIM905 (a word list reads better as text)

# Projects with many releases: (how many, releases each, files per release).
BIG_PROJECTS = ((1, 2000, 6), (4, 500, 6), (10, 200, 5))


@dataclass
class BuildReport:
    """What was built, and how long each step took."""

    projects: int = 0
    releases: int = 0
    files: int = 0
    journal: int = 0
    sync_states: int = 0
    runs: int = 0
    big_projects: list[tuple[str, int, int]] | None = None  # (name, releases, files)
    database_bytes: int = 0
    table_bytes: dict[str, int] | None = None
    steps: list[tuple[str, float]] | None = None
    seconds: float = 0.0


def _hash(expression: str, salt: int) -> str:
    """A cheap, deterministic pseudo-random integer in [0, 2^32) from a bigint expression."""
    return f"((({expression})::bigint * 2654435761 + {salt * 40503}) % 4294967296)"


def _array(words: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{word}'" for word in words) + "]"


def _project_sql(projects: int) -> str:
    """Project ``i``: its names, creation time, and how many releases it has."""
    words, prefixes = len(WORDS), len(PREFIXES)
    big_rows = []
    first = 0
    for count, releases, files in BIG_PROJECTS:
        for _ in range(count):
            big_rows.append((first, releases, files))
            first += 1
    # The big projects are spread over the catalog: numbers chosen by a stride of the size.
    big = " ".join(
        f"WHEN i = 1 + (({n} * 104729) % {projects}) THEN {releases}"
        for n, releases, _files in big_rows
    )
    big_files = " ".join(
        f"WHEN i = 1 + (({n} * 104729) % {projects}) THEN {files}"
        for n, _releases, files in big_rows
    )
    w0 = f"({_array(WORDS)})[1 + (i % {words})]"
    w1 = f"({_array(WORDS)})[1 + ((i / {words}) % {words})]"
    group = f"((i / {words * words}) % {prefixes + 1})"
    normalized = (
        f"CASE WHEN {group} = 0 THEN {w0} || '-' || {w1}"
        f" ELSE ({_array(PREFIXES)})[{group}] || '-' || {w0} || '-' || {w1} END"
    )
    return f"""
        SELECT i, n AS normalized_name,
            CASE WHEN i % 7 = 0 THEN replace(n, '-', '_')
                 WHEN i % 11 = 0 THEN initcap(n)
                 WHEN i % 13 = 0 THEN replace(initcap(n), '-', '.')
                 ELSE n END AS name,
            timestamptz '2005-01-01 00:00+00'
                + interval '1 second' * ({_hash("i", 1)} % 631152000) AS created,
            CASE {big} ELSE 1 + {_hash("i", 2)} % 3 END AS releases,
            CASE {big_files} ELSE 0 END AS big_files
        FROM generate_series(1, {projects}) AS i,
            LATERAL (SELECT {normalized} AS n) AS names
    """


def _distributions_sql() -> str:
    """Each release's files: an sdist, a pure wheel, then platform wheels."""
    stem = "replace(p.normalized_name, '-', '_') || '-' || r.version"
    return f"""
        INSERT INTO catalog_distribution (project_id, release_id, filename, packagetype,
            python_version, size, sha256, md5, blake2b_256, requires_python, upload_time,
            yanked, yanked_reason, core_metadata_sha256, provenance_sha256, blob_path)
        SELECT project_id, release_id, filename, packagetype, python_version, size,
            h, md5(filename), encode(sha256(('b' || filename)::bytea), 'hex'), '>=3.8',
            upload_time, false, '',
            CASE WHEN packagetype = 'bdist_wheel'
                 THEN encode(sha256(('m' || filename)::bytea), 'hex') END,
            NULL, 'packages/' || substr(h, 1, 2) || '/' || substr(h, 3) || '-' || filename
        FROM (
            SELECT r.project_id, r.id AS release_id, f.f,
                CASE WHEN f.f = 1 THEN {stem} || '.tar.gz'
                     WHEN f.f = 2 THEN {stem} || '-py3-none-any.whl'
                     ELSE {stem} || '-cp3' || (7 + f.f) || '-cp3' || (7 + f.f)
                          || '-manylinux_2_17_x86_64.manylinux2014_x86_64.whl' END AS filename,
                CASE WHEN f.f = 1 THEN 'sdist' ELSE 'bdist_wheel' END AS packagetype,
                CASE WHEN f.f = 1 THEN 'source' WHEN f.f = 2 THEN 'py3'
                     ELSE 'cp3' || (7 + f.f) END AS python_version,
                2000 + {_hash("r.id * 8 + f.f", 3)} % 4000000 AS size,
                r.created + interval '1 minute' * f.f AS upload_time
            FROM catalog_release r
            JOIN scale_projects p ON p.i = r.project_id
            CROSS JOIN LATERAL generate_series(1, CASE WHEN p.big_files > 0 THEN p.big_files
                ELSE 1 + {_hash("r.id", 4)} % 4 END) AS f(f)
        ) AS files,
        LATERAL (SELECT encode(sha256(files.filename::bytea), 'hex') AS h) AS hashes
    """


RELEASES_SQL = """
    INSERT INTO catalog_release (project_id, version, yanked, yanked_reason, metadata, created)
    SELECT p.i, (v / 10) || '.' || (v % 10) || '.0', false, '',
        jsonb_build_object('summary', 'The ' || p.name || ' project, version ' || v,
            'license', 'MIT', 'requires_python', '>=3.8',
            'author', 'Maintainer ' || (p.i % 977), 'home_page',
            'https://example.org/' || p.normalized_name),
        p.created + interval '1 hour' * (v * 480.0 / ceil(p.releases / 3.0))::float8
    FROM scale_projects p CROSS JOIN LATERAL generate_series(1, p.releases) AS v
    ORDER BY p.i, v
"""

JOURNAL_SQL = """
    INSERT INTO catalog_journalentry (id, name, normalized_name, version, action, submitted_date)
    SELECT row_number() OVER (ORDER BY at, kind, key), name, normalized_name, version, action, at
    FROM (
        SELECT p.created AS at, 0 AS kind, p.i AS key, p.name, p.normalized_name,
            NULL::text AS version, 'create' AS action
        FROM scale_projects p
        UNION ALL
        SELECT r.created, 1, r.id, p.name, p.normalized_name, r.version, 'new release'
        FROM catalog_release r JOIN scale_projects p ON p.i = r.project_id
        UNION ALL
        SELECT d.upload_time, 2, d.id, p.name, p.normalized_name, r.version,
            'add ' || d.python_version || ' file ' || d.filename
        FROM catalog_distribution d JOIN catalog_release r ON r.id = d.release_id
            JOIN scale_projects p ON p.i = d.project_id
    ) AS events
"""


def _constraints_and_indexes(conn: psycopg.Connection, tables: tuple[str, ...]):
    """(table, name, kind, definition) of each constraint and index of ``tables``, and of the
    foreign keys of other tables into them (a takedown's project), as made."""
    constraints = conn.execute(
        """SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
           FROM pg_constraint c
           WHERE (c.conrelid::regclass::text = ANY(%s) AND c.contype IN ('p', 'u', 'f'))
              OR (c.confrelid::regclass::text = ANY(%s) AND c.contype = 'f')""",
        [list(tables), list(tables)],
    ).fetchall()
    indexes = conn.execute(
        """SELECT i.indrelid::regclass::text, x.relname, 'i', pg_get_indexdef(i.indexrelid)
           FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
           WHERE i.indrelid::regclass::text = ANY(%s)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        [list(tables)],
    ).fetchall()
    return constraints, indexes


def build(database_url: str, *, projects: int, log=print) -> BuildReport:
    """Fill a migrated, empty database with ``projects`` projects and all that goes with them."""
    report = BuildReport(projects=projects, steps=[])
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT count(*) FROM catalog_project").fetchone()[0]:
            raise SystemExit("the catalog is not empty: build into a fresh database")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '512MB'")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")

        def step(label: str, sql: str, params=None) -> int:
            began = time.monotonic()
            count = conn.execute(sql, params).rowcount
            seconds = time.monotonic() - began
            report.steps.append((label, seconds))
            log(f"  {label}: {max(count, 0):,} rows, {seconds:.1f} s")
            return count

        constraints, indexes = _constraints_and_indexes(conn, BIG_TABLES)
        for table, name, _kind, _definition in sorted(constraints, key=lambda c: c[2] != "f"):
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for _table, name, _kind, _definition in indexes:
            conn.execute(f'DROP INDEX "{name}"')

        step(
            "project numbers and names",
            f"CREATE UNLOGGED TABLE scale_projects AS {_project_sql(projects)}",
        )
        conn.execute("CREATE UNIQUE INDEX ON scale_projects (i)")
        conn.execute("ANALYZE scale_projects")
        report.projects = step(
            "projects",
            """INSERT INTO catalog_project (id, name, normalized_name, last_serial, status,
                   source, index_status, index_status_reason, created, updated)
               SELECT i, name, normalized_name, 0, 'active', 'upstream:1',
                   CASE WHEN i % 2000 = 0 THEN 'archived' ELSE 'active' END,
                   '', created, created FROM scale_projects ORDER BY i""",
        )
        report.releases = step("releases", RELEASES_SQL)
        report.files = step("files", _distributions_sql())
        report.journal = step("journal", JOURNAL_SQL)
        step(
            "projects' last serials",
            """UPDATE catalog_project p SET last_serial = j.serial, updated = j.at
               FROM (SELECT normalized_name, max(id) AS serial, max(submitted_date) AS at
                     FROM catalog_journalentry GROUP BY normalized_name) j
               WHERE j.normalized_name = p.normalized_name""",
        )
        for table in ("catalog_project", "catalog_release", "catalog_distribution",
                      "catalog_journalentry"):  # fmt: skip
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        serial = conn.execute("SELECT max(id) FROM catalog_journalentry").fetchone()[0]
        conn.execute(
            """INSERT INTO replication_upstream (id, name, url, enabled, protocol, last_serial,
                   listing_etag, rules, rules_applied, created)
               VALUES (1, 'pypi', 'https://pypi.org/', true, 'pypi-json', %s, '', '{}', '',
                   now() - interval '400 days')""",
            [serial],
        )
        conn.execute("SELECT setval(pg_get_serial_sequence('replication_upstream', 'id'), 1)")
        report.sync_states = step(
            "sync states",
            """INSERT INTO replication_projectsyncstate (upstream_id, normalized_name, name,
                   serial_reached, serial_wanted, listed, last_error, attempts, etag,
                   last_modified, lease_owner, updated)
               SELECT 1, normalized_name, name, last_serial, last_serial, true, '', 0, '', '',
                   '', updated FROM catalog_project ORDER BY id""",
        )
        report.runs = step(
            "sync runs (every 10 minutes for 14 days)",
            f"""INSERT INTO replication_syncrun (upstream_id, trigger, state, started, updated,
                   finished, serial_from, serial_to, projects_planned, projects_done,
                   projects_failed, projects_skipped, projects_shadowed, files_fetched,
                   bytes_fetched, error, errors, shadowed)
               SELECT 1, 'schedule', CASE WHEN n % 97 = 0 THEN 'partial' ELSE 'succeeded' END,
                   now() - interval '10 minutes' * n, now() - interval '10 minutes' * n
                   + interval '40 seconds', now() - interval '10 minutes' * n
                   + interval '40 seconds', {serial} - 100 * (n + 1), {serial} - 100 * n,
                   100, CASE WHEN n % 97 = 0 THEN 99 ELSE 100 END,
                   CASE WHEN n % 97 = 0 THEN 1 ELSE 0 END, 0, 0, 250, 250 * 400000, '',
                   CASE WHEN n % 97 = 0 THEN '[{{"project": "x", "error": "timeout"}}]'::jsonb
                        ELSE '[]'::jsonb END, '[]'::jsonb
               FROM generate_series(2016, 0, -1) AS n""",
        )
        step(
            "run projects (100 per run)",
            f"""INSERT INTO replication_runproject (run_id, state_id, outcome, redeliveries)
               SELECT r.id, 1 + (r.id * 7919 + k * 104729) % {report.sync_states}, 'done', 0
               FROM replication_syncrun r CROSS JOIN generate_series(1, 100) AS k""",
        )
        conn.execute("DROP TABLE scale_projects")

        began = time.monotonic()
        order = {"p": 0, "u": 1, "i": 2, "f": 3}
        for table, name, kind, definition in sorted(
            [*constraints, *indexes], key=lambda c: order[c[2]]
        ):
            if kind == "i":
                conn.execute(definition)
            else:
                conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        report.steps.append(("indexes and constraints", time.monotonic() - began))
        log(f"  indexes and constraints: {time.monotonic() - began:.1f} s")
        began = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        report.steps.append(("VACUUM ANALYZE", time.monotonic() - began))
        log(f"  VACUUM ANALYZE: {time.monotonic() - began:.1f} s")

        report.big_projects = conn.execute(
            """SELECT p.name, count(DISTINCT r.id), count(d.id) FROM catalog_project p
               JOIN catalog_release r ON r.project_id = p.id
               JOIN catalog_distribution d ON d.release_id = r.id
               WHERE p.id IN (SELECT project_id FROM catalog_release GROUP BY project_id
                              HAVING count(*) >= 100)
               GROUP BY p.name ORDER BY 3 DESC"""
        ).fetchall()
        report.database_bytes = conn.execute(
            "SELECT pg_database_size(current_database())"
        ).fetchone()[0]
        report.table_bytes = dict(
            conn.execute(
                "SELECT t, pg_total_relation_size(t::regclass) FROM unnest(%s::text[]) AS t",
                [list(BIG_TABLES)],
            ).fetchall()
        )
    report.seconds = time.monotonic() - started
    return report

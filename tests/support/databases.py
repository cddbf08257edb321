"""Databases for the live servers of the end-to-end tests (tests/support/servers.py).

Each server gets a database of its own: on PostgreSQL, dropped when it stops; SQLite, in its
data directory. Migrating a new database takes seconds, copying a migrated one (``CREATE
DATABASE ... TEMPLATE``, or the SQLite file) a fraction of one, and every server starts from the
same migrations: so they run once per test process, with ``manage.py migrate`` as an operator
runs it, into a database each server's is copied from.
"""

import atexit
import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_TEST_DATABASE = "postgres://postgres@127.0.0.1:5432/pypimirror"

# key (base URL and whatever the migrations depend on) -> name of the migrated template
_TEMPLATES: dict[Hashable, tuple[str, str]] = {}
# key (whatever the migrations depend on) -> a data directory holding a migrated db.sqlite3
_SQLITE: dict[Hashable, Path] = {}


def suite_database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_TEST_DATABASE


def is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in {"postgres", "postgresql", "pgsql", "postgis"}


def with_database(url: str, name: str) -> str:
    """``url`` pointed at the database ``name`` on the same server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def admin_connect(url: str):
    """An autocommit connection to the ``postgres`` database of ``url``'s server."""
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    )


def _new_name(base_url: str) -> str:
    stem = (urlsplit(base_url).path.strip("/") or "pypimirror")[:40]
    return f"{stem}_{secrets.token_hex(4)}"


def _drop(base_url: str, name: str) -> None:
    with admin_connect(base_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def postgres_database(base_url: str, *, template: str | None = None) -> Iterator[str]:
    """The URL of a new database on the suite's PostgreSQL server, dropped afterwards: empty,
    or a copy of the database ``template`` (which no one may be connected to)."""
    name = _new_name(base_url)
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin_connect(base_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield with_database(base_url, name)
    finally:
        _drop(base_url, name)


def migrated_template(base_url: str, *, key: Hashable, migrate: Callable[[str], None]) -> str:
    """The name of a database ``migrate(url)`` brought up to date: made on the first call with
    ``key``, then the same one, dropped when the test process exits."""
    if key not in _TEMPLATES:
        name = _new_name(base_url)
        with admin_connect(base_url) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        if not _TEMPLATES:
            atexit.register(_drop_templates)
        _TEMPLATES[key] = (base_url, name)
        migrate(with_database(base_url, name))
    return _TEMPLATES[key][1]


def _drop_templates() -> None:
    for base_url, name in _TEMPLATES.values():
        with contextlib.suppress(Exception):
            _drop(base_url, name)
    _TEMPLATES.clear()


def sqlite_copy(data_dir: Path, *, key: Hashable, migrate: Callable[[Path], None]) -> None:
    """Put in ``data_dir`` a copy of the SQLite database (``db.sqlite3``) that ``migrate`` made
    in a data directory of its own on the first call with ``key``."""
    if key not in _SQLITE:
        directory = Path(tempfile.mkdtemp(prefix="pm-migrated-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        migrate(directory)
        _SQLITE[key] = directory
    # The database and, should SQLite have left it, its write-ahead log (the -shm is rebuilt).
    for name in ("db.sqlite3", "db.sqlite3-wal"):
        if (_SQLITE[key] / name).exists():
            shutil.copyfile(_SQLITE[key] / name, data_dir / name)

"""Throwaway PostgreSQL databases for the benchmarks: made on a server, dropped after."""

import os
import re
import uuid


def add_postgres_argument(parser) -> None:
    """``--postgres URL``: the server where throwaway databases are made (BENCH_POSTGRES_URL)."""
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server's URL where throwaway databases are made",
    )


def postgres_create(admin_url: str, prefix: str = "pypimirror_bench") -> str | None:
    """A new, empty database on the server of ``admin_url``; None if none answers."""
    try:
        import psycopg
    except ImportError:
        return None
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:
        return None
    return re.sub(r"/[^/]*$", f"/{name}", admin_url)


def postgres_ensure(url: str, admin_url: str) -> str | None:
    """Make the database ``url`` names on the server of ``admin_url`` when it does not exist;
    None when it exists or was made, else why it cannot be had."""
    import psycopg

    name = url.split("?", 1)[0].rsplit("/", 1)[1]
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not found:
                conn.execute(f'CREATE DATABASE "{name}"')
                print(f"Made the database {name}", flush=True)
    except psycopg.Error as exc:
        return f"cannot make the database {name} through {admin_url}: {exc}"
    return None


def postgres_drop(admin_url: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')

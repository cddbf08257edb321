"""Live servers of this project for end-to-end tests: gunicorn in a subprocess, on loopback.

Each server has its own data directory, its own database (a fresh PostgreSQL database when the
suite runs on PostgreSQL, as in CI; SQLite under the data directory otherwise, or when asked) and
an access log the test reads. It is migrated (a copy of a database ``manage.py migrate`` made once
per test process: tests/support/databases.py) and filled with ``manage.py import_dists`` exactly
as an operator would, then served by gunicorn with the deployment's configuration
(``deploy/gunicorn.conf.py``).
"""

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.databases import (
    is_postgres,
    migrated_template,
    postgres_database,
    sqlite_copy,
    suite_database_url,
)
from tests.support.processes import free_port, process_stop, wait_until_answering

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONFIG = PROJECT_ROOT / "deploy" / "gunicorn.conf.py"
STARTUP_TIMEOUT = 60.0
# Status, request line as the client sent it, response size, user agent.
ACCESS_LOG_FORMAT = '%(s)s "%(r)s" %(b)s "%(a)s"'
_ACCESS_LINE = re.compile(r'^(?P<status>\d{3}) "(?P<method>\S+) (?P<target>\S+) [^"]*" ')


class ServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class Request:
    """One line of the access log."""

    status: int
    method: str
    target: str

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    env: dict[str, str]
    access_log: Path
    error_log: Path
    database_url: str | None
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def index_url(self) -> str:
        return f"{self.url}/simple/"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, when the server uses the embedded default."""
        return None if self.database_url else self.data_dir / "db.sqlite3"

    def manage(
        self, *args: str, check: bool = True, python_options: Sequence[str] = ()
    ) -> subprocess.CompletedProcess:
        """``python [PYTHON_OPTIONS] manage.py ARGS`` with the server's own environment (same
        settings, database)."""
        return _manage(self.env, *args, check=check, python_options=python_options)

    def log_mark(self) -> int:
        """A position in the access log; ``requests_since`` reads what came after it."""
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def requests_since(self, mark: int) -> list[Request]:
        """Requests logged after ``mark``, once the log has caught up with a request sent now."""
        return _requests_since(
            self.access_log, mark, sentinel_url=f"{self.url}/last-modified", pattern=_ACCESS_LINE
        )

    def shell(self, code: str) -> subprocess.CompletedProcess:
        """Run Python ``code`` in ``manage.py shell`` on the server's database (checked)."""
        return self.manage("shell", "-c", code)

    def stop(self) -> None:
        """Terminate gunicorn (graceful), then kill it if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def _requests_since(log_path: Path, mark: int, *, sentinel_url: str, pattern) -> list[Request]:
    """The requests an access log holds after ``mark``.

    A sentinel request is sent and waited for in the log first: whatever was answered before it
    is logged by then, so the list is complete without guessing at delays.
    """
    sentinel = f"log-sync={uuid.uuid4().hex}"
    httpx.get(f"{sentinel_url}?{sentinel}", timeout=10)
    deadline = time.monotonic() + 10
    while True:
        with log_path.open("rb") as log:
            log.seek(mark)
            text = log.read().decode("utf-8", "replace")
        if sentinel in text or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    time.sleep(0.2)  # a worker logs a request just after its last byte went out
    with log_path.open("rb") as log:
        log.seek(mark)
        lines = log.read().decode("utf-8", "replace").splitlines()
    requests = []
    for line in lines:
        match = pattern.search(line)
        if match and sentinel not in match["target"]:
            requests.append(Request(int(match["status"]), match["method"], match["target"]))
    return requests


def _migrate(settings: str, *, data_dir: Path, database_url: str | None = None) -> None:
    """``manage.py migrate`` with ``settings`` as a server has them: of ``database_url``, or of
    the SQLite database in ``data_dir`` (the settings' default)."""
    env = _server_env(
        settings=settings, data_dir=data_dir, database_url=database_url, url="http://127.0.0.1"
    )
    _manage(env, "migrate", "--no-input", "-v", "0")


def _manage(
    env: Mapping[str, str], *args: str, check: bool = True, python_options: Sequence[str] = ()
) -> subprocess.CompletedProcess:
    """``python [PYTHON_OPTIONS] manage.py ARGS`` in ``env``; ServerError when it fails (and
    ``check``), with what it printed."""
    result = subprocess.run(
        [sys.executable, *python_options, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise ServerError(
            f"manage.py {' '.join(args)} exited {result.returncode}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def _migrate_postgres(settings: str) -> Callable[[str], None]:
    def migrate(database_url: str) -> None:
        with tempfile.TemporaryDirectory(prefix="pm-migrate-") as data_dir:
            _migrate(settings, data_dir=Path(data_dir), database_url=database_url)

    return migrate


def _server_env(
    *, settings: str, data_dir: Path, database_url: str | None, url: str
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYPIMIRROR_", "DJANGO_", "CELERY_", "GUNICORN_"))
        and key not in {"DATABASE_URL", "CACHE_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE=settings,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
        PYPIMIRROR_DATA_DIR=str(data_dir),
        PYPIMIRROR_BASE_URL=url,
        PYTHONUNBUFFERED="1",
        # plain http on loopback: the production settings would redirect it to https
        DJANGO_SECURE_SSL_REDIRECT="false",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _wait_until_serving(server: LiveServer) -> None:
    wait_until_answering(
        server.process,
        f"{server.url}/last-modified",
        name="gunicorn",
        log=server.error_log,
        timeout=STARTUP_TIMEOUT,
        error=ServerError,
    )


@contextlib.contextmanager
def live_server(
    *,
    dists: Sequence[Path] = (),
    database: str = "suite",
    settings: str = "pypimirror.settings.production",
    workers: int | None = 2,
    threads: int | None = 4,
    env: Mapping[str, str] | None = None,
) -> Iterator[LiveServer]:
    """A migrated, filled, running server; stopped and its database dropped on exit.

    ``workers``, ``threads``: GUNICORN_WORKERS and GUNICORN_THREADS; None leaves them to
    deploy/gunicorn.conf.py, as ``bin/run`` does (gevent workers, 2 * CPUs + 1).

    ``env``: more environment for the server and its ``manage`` commands (e.g.
    ``DJANGO_SECURE_COOKIES=false`` to log in to the admin over plain http).

    ``database``: ``"suite"`` follows the suite (a fresh PostgreSQL database when DATABASE_URL
    is PostgreSQL, as in CI), ``"postgres"`` insists on one, ``"embedded"`` sets no
    DATABASE_URL at all, so the settings' default (SQLite under the data directory) is used.
    ``env``: more environment for the server and its ``manage.py`` (``CELERY_BROKER_URL``, ...).
    """
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pm-e2e-")))
        database_url = None
        if database == "postgres" or (database == "suite" and is_postgres(suite_database_url())):
            base_url = suite_database_url()
            template = migrated_template(
                base_url, key=(base_url, settings), migrate=_migrate_postgres(settings)
            )
            database_url = stack.enter_context(postgres_database(base_url, template=template))
        elif database not in {"embedded", "suite"}:
            raise ValueError(f"unknown database kind {database!r}")
        # Bound before gunicorn starts and handed to it, so no other process can take the port.
        listener = stack.enter_context(socket.create_server(("127.0.0.1", 0)))
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        server = LiveServer(
            url=url,
            data_dir=data_dir,
            env=_server_env(
                settings=settings, data_dir=data_dir, database_url=database_url, url=url
            )
            | dict(env or {}),
            access_log=data_dir / "access.log",
            error_log=data_dir / "gunicorn.log",
            database_url=database_url,
        )
        if database_url is None:
            sqlite_copy(
                data_dir,
                key=settings,
                migrate=lambda directory: _migrate(settings, data_dir=directory),
            )
        if dists:
            server.manage("import_dists", *map(str, dists))
        # The deployment's own gunicorn configuration, pointed at this server's socket and logs.
        server.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG)),
                *("--access-logformat", ACCESS_LOG_FORMAT),
                *("--error-logfile", str(server.error_log)),
            ],
            cwd=PROJECT_ROOT,
            env={
                **server.env,
                "PYPIMIRROR_BIND": f"fd://{listener.fileno()}",
                **({"GUNICORN_WORKERS": str(workers)} if workers is not None else {}),
                **({"GUNICORN_THREADS": str(threads)} if threads is not None else {}),
                "GUNICORN_ACCESSLOG": str(server.access_log),
                "GUNICORN_GRACEFUL_TIMEOUT": "3",
            },
            pass_fds=[listener.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(server.stop)
        _wait_until_serving(server)
        yield server


# pypiserver (wsgiref) logs: 127.0.0.1 - - [date] "GET /simple/ HTTP/1.1" 200 430
_PYPISERVER_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<target>\S+) [^"]*" (?P<status>\d{3}) ')


@dataclass
class PypiServer:
    """The real pypiserver over ``directory``: a simple-only upstream whose files tests edit."""

    url: str
    directory: Path
    access_log: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def index_url(self) -> str:
        return f"{self.url}/simple/"

    def log_mark(self) -> int:
        return self.access_log.stat().st_size

    def requests_since(self, mark: int) -> list[Request]:
        return _requests_since(
            self.access_log, mark, sentinel_url=f"{self.url}/health", pattern=_PYPISERVER_LINE
        )


@contextlib.contextmanager
def pypiserver(directory: Path, *, fallback_url: str | None = None) -> Iterator[PypiServer]:
    """``pypi-server run`` on loopback over ``directory``, read afresh on every request.

    sha256 fragments (``--hash-algo``); unknown projects 404 (``--disable-fallback``) rather
    than redirect to pypi.org, or redirect to ``fallback_url`` when given (pypiserver's
    default, aimed at a loopback server); no cache (``--backend simple-dir``), so edits to the
    directory show at once; each request logged (``-v``) for the test to read.
    """
    from tests.support.clients import isolated_env, pypiserver_venv

    venv = pypiserver_venv()
    with tempfile.TemporaryDirectory(prefix="pm-pypiserver-") as scratch:
        access_log = Path(scratch) / "access.log"
        port = free_port()
        with access_log.open("wb") as log:
            process = subprocess.Popen(
                [
                    *(venv.bin("pypi-server"), "run", "-p", str(port), "-i", "127.0.0.1"),
                    *("--hash-algo", "sha256", "--backend", "simple-dir"),
                    *(
                        ("--fallback-url", fallback_url)
                        if fallback_url
                        else ("--disable-fallback",)
                    ),
                    *("--server", "wsgiref", "-v", str(directory)),
                ],
                env=isolated_env(PYTHONUNBUFFERED="1"),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = PypiServer(
            url=f"http://127.0.0.1:{port}",
            directory=directory,
            access_log=access_log,
            process=process,
        )
        try:
            wait_until_answering(
                process,
                f"{server.url}/health",
                name="pypi-server",
                log=access_log,
                timeout=STARTUP_TIMEOUT,
                answered=lambda response: response.status_code == 200,
                error=ServerError,
            )
            yield server
        finally:
            process_stop(process, timeout=15)

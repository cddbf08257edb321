"""``bin/run``, the README's first command: web, a real Celery worker and beat, no Redis.

Each test starts the real script on a free port with its own data directory (the embedded
default: SQLite, local files, the SQLite broker) and stops it with a signal, as a person would.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from celery import Celery

from tests.support.processes import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 90.0
TASK = "apps.catalog.tasks.remove_stale_temporary_files"


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid``, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Run:
    """``bin/run`` in the background, its output in a file."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"run-{self.port}.log"
        clean = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "PYPIMIRROR_", "CELERY_", "GUNICORN_"))
            and k != "DATABASE_URL"
        }
        self.env = {
            **clean,
            "PYPIMIRROR_VENV": sys.prefix,  # the venv running these tests, already installed
            "PYPIMIRROR_DATA_DIR": str(data_dir),
            "PYPIMIRROR_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "2",
            **env,
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(ROOT / "bin" / "run")],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = STARTUP_TIMEOUT) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := re.search(pattern, self.output()):
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in bin/run's output:\n{self.output()}")

    def wait_ready(self) -> None:
        self.wait_for(r"pypimirror is up")
        self.wait_for(r"worker@\S+ ready")
        self.wait_for(r"beat: Starting")

    def stop(self, signum: int = signal.SIGINT, *, hurry: bool = False) -> int:
        """Its exit code once stopped by ``signum``; ``hurry``: sent twice, as a person who
        will not wait for the worker's warm shutdown (some 5 s) presses Ctrl-C again."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
            if hurry:
                self.wait_for(r"stopping web, worker and beat")
                self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:  # only if the test already failed
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """One running bin/run for the checks that only look at it; DEBUG off, as in production."""
    run = Run(tmp_path_factory.mktemp("node") / "data", DJANGO_DEBUG="false")
    try:
        run.wait_ready()
        yield run
    finally:
        run.stop(hurry=True)  # how it stops is the business of the tests below


def test_first_start_prints_a_generated_admin_password_that_logs_in(node):
    password = node.wait_for(r"Created the admin user 'admin' with password:\s+(\S+)").group(1)
    with httpx.Client(base_url=node.url) as client:
        form = client.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        response = client.post(
            "/admin/login/?next=/admin/",
            data={"csrfmiddlewaretoken": token, "username": "admin", "password": password},
            headers={"Referer": f"{node.url}/admin/login/"},
        )
        assert response.status_code == 302
        assert response.headers["location"] == "/admin/"
        assert "Site administration" in client.get("/admin/").text


def test_admin_static_files_are_served_with_debug_off(node):
    response = httpx.get(f"{node.url}/static/admin/css/base.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_front_page_health_and_readiness_answer_on_the_embedded_default(node):
    front = httpx.get(f"{node.url}/")
    assert front.status_code == 200
    assert f"pip install --index-url {node.url}/simple/ NAME" in front.text
    assert f"{node.url}/ (this node" in node.output()
    assert httpx.get(f"{node.url}/healthz").text == "ok\n"
    ready = httpx.get(f"{node.url}/readyz", timeout=30)
    assert (ready.status_code, ready.json()["checks"]) == (
        200,
        {"database": "ok", "store": "ok", "broker": "ok"},
    )


def test_worker_runs_a_task_that_beat_would_send_through_the_sqlite_broker(node):
    stale = node.data_dir / "tmp" / "blob-left-by-a-crash"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"partial")
    two_days_ago = time.time() - 2 * 86400
    os.utime(stale, (two_days_ago, two_days_ago))
    broker = f"sqla+sqlite:///{node.data_dir / 'celery-broker.sqlite3'}"

    with Celery(broker=broker) as app:
        app.send_task(TASK)

    node.wait_for(rf"Task {re.escape(TASK)}\[[^\]]+\] succeeded", timeout=60)
    assert not stale.exists()


def test_beat_runs_with_the_database_scheduler_and_the_worker_knows_the_task(node):
    assert "django_celery_beat.schedulers.DatabaseScheduler" in node.output()
    assert f". {TASK}" in node.output()
    assert "redis" not in node.output().lower()


def _exposed_bind() -> str:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        return f"0.0.0.0:{sock.getsockname()[1]}"


@dataclass
class Lifecycle:
    """What bin/run did in one data directory, started twice: first bound beyond loopback with
    a proper setup and the admin's password in DJANGO_SUPERUSER_PASSWORD, asked for two host
    names, stopped with SIGINT; then started again as the development default, stopped with
    SIGTERM. Each start: its output, the processes below it, its exit code, those outliving it."""

    first: tuple[str, set[int], int, list[int]]
    named: httpx.Response  # /healthz for the allowed host name
    other: httpx.Response  # / for another
    second: tuple[str, set[int], int, list[int]]


def _start_and_stop(run: Run, signum: int, ask=lambda: None):
    """``run`` once ready: ``ask()``, then the signal; (output, processes, exit code, those
    alive after it), and what ``ask`` returned."""
    try:
        run.wait_ready()
        processes = _descendants(run.process.pid)
        answers = ask()
    finally:
        code = run.stop(signum)
    return (run.output(), processes, code, [pid for pid in processes if _alive(pid)]), answers


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory) -> Lifecycle:
    """Both tests of the stops and the one of other host names read this one scenario: a start
    and stop of bin/run takes some 10 s."""
    data_dir = tmp_path_factory.mktemp("lifecycle") / "data"
    bind = _exposed_bind()
    url = f"http://127.0.0.1:{bind.rsplit(':', 1)[1]}"
    first = Run(
        data_dir,
        PYPIMIRROR_BIND=bind,
        DJANGO_ALLOWED_HOSTS="mirror.example.org",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="a-long-random-value-for-this-test-only-0123456789",
        DJANGO_SUPERUSER_PASSWORD="s3cret-from-env",
    )
    first_seen, (named, other) = _start_and_stop(
        first,
        signal.SIGINT,
        lambda: (
            httpx.get(f"{url}/healthz", headers={"Host": "mirror.example.org"}),
            httpx.get(f"{url}/", headers={"Host": "intruder.example"}),
        ),
    )
    second_seen, _ = _start_and_stop(Run(data_dir), signal.SIGTERM)
    return Lifecycle(first=first_seen, named=named, other=other, second=second_seen)


def test_sigint_then_sigterm_stop_everything_and_a_restart_prints_no_password(lifecycle):
    output, processes, code, alive = lifecycle.first
    assert "Created the admin user 'admin' (password from DJANGO_SUPERUSER_PASSWORD)" in output
    assert len(processes) >= 4  # gunicorn master and workers, celery worker, beat
    assert (code, alive) == (0, [])

    output, processes, code, alive = lifecycle.second
    assert processes
    assert (code, alive) == (0, [])
    assert "password" not in output.lower()


def test_bound_beyond_loopback_with_the_development_setup_it_refuses_and_names_the_fix(tmp_path):
    data_dir = tmp_path / "data"
    run = Run(data_dir, PYPIMIRROR_BIND=_exposed_bind())
    assert run.process.wait(timeout=STARTUP_TIMEOUT) == 2
    output = run.output()
    assert "Refusing to start" in output
    for name in ("DJANGO_ALLOWED_HOSTS", "DJANGO_DEBUG=false", "DJANGO_SECRET_KEY"):
        assert name in output
    assert not (data_dir / "db.sqlite3").exists()  # nothing was migrated, nothing started
    assert "web |" not in output


def test_bound_beyond_loopback_with_a_proper_setup_it_serves_other_host_names(lifecycle):
    assert (lifecycle.named.status_code, lifecycle.named.text) == (200, "ok\n")
    assert lifecycle.other.status_code == 400
    assert "DisallowedHost" not in lifecycle.other.text  # no debug page

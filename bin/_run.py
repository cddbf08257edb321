"""The embedded default, started by ``bin/run``: prepare the node, then run web, worker and beat.

Refuses to start when it would listen beyond loopback with a development configuration (DEBUG,
the development secret key, loopback-only allowed hosts: pypimirror/exposure.py). Runs
migrations and collectstatic, creates an admin user on first start, then starts gunicorn
(``deploy/gunicorn.conf.py``), a Celery worker and Celery beat, each in its own process group,
their output prefixed by name. SIGINT (Ctrl-C) or SIGTERM stops them all (a second one kills at
once); if one of them exits, the others are stopped too. Children also get SIGTERM should this
process die, so none is left orphaned.
"""

import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 20.0  # seconds a child gets to shut down gracefully before it is killed
_print_lock = threading.Lock()


def say(name: str, line: str) -> None:
    with _print_lock, contextlib.suppress(OSError):  # a closed terminal must not stop us
        sys.stdout.write(f"{name:>6} | {line.rstrip()}\n")
        sys.stdout.flush()


def prepare() -> None:
    """Migrate, collect static files and make sure an admin can log in."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=1)
    call_command("collectstatic", interactive=False, verbosity=0)
    ensure_admin()
    connections.close_all()


def ensure_admin() -> None:
    """Create a superuser when there is none; print a generated password this once only."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if user_model.objects.filter(is_superuser=True).exists():
        return
    username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin"
    if user_model.objects.filter(username=username).exists():
        say("run", f"User {username!r} exists but is no superuser; not creating an admin.")
        return
    password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or ""
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    user_model.objects.create_superuser(
        username=username, email=os.environ.get("DJANGO_SUPERUSER_EMAIL", ""), password=password
    )
    if generated:
        bar = "=" * 72
        print(
            f"{bar}\nCreated the admin user {username!r} with password:\n\n    {password}\n\n"
            "It is shown only this once: note it, or change it at /admin/password_change/.\n"
            f"{bar}",
            flush=True,
        )
    else:
        say(
            "run", f"Created the admin user {username!r} (password from DJANGO_SUPERUSER_PASSWORD)."
        )


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the supervisor dies, however it dies (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start(name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # own process group: Ctrl-C reaches only us, we stop them
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )


def relay(name: str, process: subprocess.Popen) -> None:
    for raw in iter(process.stdout.readline, b""):
        say(name, raw.decode(errors="replace"))


def announce_when_listening(bind: str) -> None:
    """Print where to go once the web server accepts connections."""
    host, _, port = bind.split(",")[0].rpartition(":")
    if not port.isdigit():
        return
    host = host.strip("[]") or "127.0.0.1"
    for _ in range(600):
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    else:
        return
    url = f"http://{bind.split(',')[0]}"
    say(
        "run",
        f"pypimirror is up: {url}/ (this node, how to use it), {url}/simple/ (index), "
        f"{url}/admin/ (admin); Ctrl-C stops everything.",
    )


def stop(processes: dict[str, subprocess.Popen], *, force: bool = False) -> None:
    """SIGTERM to each leader (it stops its own workers), or SIGKILL to each whole group."""
    for process in processes.values():
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if force:
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    process.terminate()


def supervise(processes: dict[str, subprocess.Popen]) -> int:
    stopping = threading.Event()
    signals = []

    def on_signal(signum, _frame) -> None:
        signals.append(signum)
        if len(signals) == 1:
            say("run", f"{signal.Signals(signum).name}: stopping web, worker and beat ...")
            stopping.set()
        else:
            say("run", "Killing them now.")
            stop(processes, force=True)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    while not stopping.is_set():
        for name, process in processes.items():
            if process.poll() is not None:
                say("run", f"{name} exited with code {process.returncode}; stopping the others.")
                code = 1
                stopping.set()
                break
        stopping.wait(0.5)
    stop(processes)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and any(p.poll() is None for p in processes.values()):
        time.sleep(0.1)
    stop(processes, force=True)
    # Whatever a child left in its group (a prefork pool process, a gunicorn worker) goes too.
    for process in processes.values():
        process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    say("run", "Stopped.")
    return code


def worker_command(python: str, env: dict[str, str]) -> list[str]:
    """The Celery worker as bin/run starts it (benchmarks/schedule.py starts it so too): a
    prefork pool of PYPIMIRROR_WORKER_CONCURRENCY processes (default 2), each syncing
    PYPIMIRROR_WORKER_SYNC_THREADS projects of its batch at once (apps/replication/runner.py)."""
    concurrency = env.get("PYPIMIRROR_WORKER_CONCURRENCY", "2")
    return [python, "-m", "celery", "-A", "pypimirror", "worker", "--loglevel=INFO",
            f"--concurrency={concurrency}", "--hostname=worker@%h"]  # fmt: skip


def commands() -> dict[str, list[str]]:
    python = sys.executable
    return {
        "web": [python, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
        "worker": worker_command(python, dict(os.environ)),
        "beat": [python, "-m", "celery", "-A", "pypimirror", "beat", "--loglevel=INFO"],
    }


def main() -> int:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pypimirror.settings.local")
    bind = os.environ.setdefault("PYPIMIRROR_BIND", "127.0.0.1:8000")
    from pypimirror.exposure import exposure_refusal

    # Before anything is migrated or started: the same check gunicorn makes (gunicorn.conf.py).
    if refusal := exposure_refusal([a.strip() for a in bind.split(",") if a.strip()]):
        print(refusal, file=sys.stderr, flush=True)
        return 2
    prepare()

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # The worker and beat serve no page: DEBUG would only keep every SQL statement they run
    # (Celery warns of it), so it is off there unless DJANGO_DEBUG says otherwise.
    quiet = {**env, "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "false")}
    processes = {
        name: start(name, command, env if name == "web" else quiet)
        for name, command in commands().items()
    }
    for name, process in processes.items():
        threading.Thread(target=relay, args=(name, process), daemon=True).start()
    threading.Thread(target=announce_when_listening, args=(bind,), daemon=True).start()
    return supervise(processes)


if __name__ == "__main__":
    sys.exit(main())

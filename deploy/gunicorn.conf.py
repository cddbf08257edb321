"""Gunicorn configuration for pypimirror's web process (``gunicorn -c deploy/gunicorn.conf.py``).

Used by ``bin/run``, the systemd unit and ``benchmarks/serve.py``. Every value comes from the
environment, so one file serves development and production:

    PYPIMIRROR_BIND      address(es) to listen on, comma-separated (default 127.0.0.1:8000;
                         ``unix:/run/pypimirror/web.sock`` for a socket behind nginx); beyond
                         loopback, gunicorn refuses to start with DEBUG on, the development
                         secret key or loopback-only DJANGO_ALLOWED_HOSTS
    GUNICORN_WORKERS     worker processes (default 2 * CPUs + 1)
    GUNICORN_THREADS     threads per worker; above 1 switches to the gthread worker (default 1)
    GUNICORN_TIMEOUT     seconds a request may take before its worker is restarted (default 120)
    GUNICORN_ACCESSLOG   access log file, ``-`` for stdout (default), empty for none
    GUNICORN_LOGLEVEL    default info
"""

import os
from pathlib import Path


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "pypimirror.wsgi:application"
# Import the project from the checkout this file belongs to, wherever gunicorn starts.
chdir = str(Path(__file__).resolve().parent.parent)

bind = [
    address.strip()
    for address in os.environ.get("PYPIMIRROR_BIND", "127.0.0.1:8000").split(",")
    if address.strip()
]
workers = _int("GUNICORN_WORKERS", 2 * _cpus() + 1)
threads = _int("GUNICORN_THREADS", 1)
# Sync workers: the index answers from the database in a few ms; slow clients belong behind
# nginx, which buffers responses so a worker is never held by a slow download.
worker_class = "gthread" if threads > 1 else "sync"

timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = max_requests // 10
# Load Django once in the master; workers share its memory pages (connections open lazily).
preload_app = True
# Heartbeat files in memory: a slow disk must not make the master think a worker hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "pypimirror-web"
# Gunicorn 25.1+ opens a control socket at one per-user path; several servers on one host (web,
# tests, benchmarks) would fight over it. Older versions ignore the setting.
control_socket_disable = True
# Trust X-Forwarded-* only from a proxy on this host (nginx); see deploy/README.md.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def on_starting(server) -> None:
    """Refuse to serve other hosts with a development configuration (pypimirror/exposure.py):
    DEBUG on, the development secret key, or allowed hosts naming only loopback."""
    from pypimirror.exposure import exposure_refusal

    refusal = exposure_refusal(server.cfg.bind)
    if refusal:
        server.log.error(refusal)
        raise SystemExit(2)

"""Gunicorn configuration for pypimirror's web process (``gunicorn -c deploy/gunicorn.conf.py``).

Used by ``bin/run``, the systemd unit and ``benchmarks/serve.py``. Every value comes from the
environment, so one file serves development and production:

    PYPIMIRROR_BIND      address(es) to listen on, comma-separated (default 127.0.0.1:8000;
                         ``unix:/run/pypimirror/web.sock`` for a socket behind nginx); beyond
                         loopback, gunicorn refuses to start with DEBUG on, the development
                         secret key or loopback-only DJANGO_ALLOWED_HOSTS
    GUNICORN_WORKER_CLASS  gevent (default), sync or gthread; see "Worker class" below
    GUNICORN_WORKERS     worker processes (default 2 * CPUs + 1)
    GUNICORN_WORKER_CONNECTIONS  clients one gevent worker serves at once (default 1000)
    GUNICORN_THREADS     threads per gthread worker; above 1 with no GUNICORN_WORKER_CLASS picks
                         gthread (default 1)
    GUNICORN_TIMEOUT     seconds a request may take before its worker is restarted (default 120)
    GUNICORN_ACCESSLOG   access log file, ``-`` for stdout (default), empty for none
    GUNICORN_LOGLEVEL    default info
    PROMETHEUS_MULTIPROC_DIR  where the workers keep their request figures for /metrics (emptied
                         at start; default a new directory under /dev/shm, removed at exit)

Worker class. ``bin/run`` has nothing in front of gunicorn: every client, however slow, talks
to it directly, and files are streamed by Django. A sync worker reads a request's headers with
no deadline and serves one connection at a time, so five clients sending headers slowly held
all five workers (the arbiter frees one only after ``timeout``, 120 s); a gthread worker frees a
thread from a silent client after 5 s but not from one that trickles bytes. The gevent worker
gives each connection a greenlet, not a worker, and bounds the reading of a request's headers
to ``keepalive`` seconds in all, so slow clients (headers or downloads) cost memory, not
service: the default. (Django under an ASGI server such as uvicorn runs these sync views one at
a time per process and reads a streamed file whole into memory first; waitress is a single
process.) SQLite calls do not yield to other greenlets: reads never wait under WAL, but a write
(a login, an admin change) waiting for a sync's write transaction holds its worker's other
clients that long. Behind nginx, which reads whole requests and buffers responses before
gunicorn sees them, sync workers are the simplest sound choice (the systemd unit sets
``GUNICORN_WORKER_CLASS=sync``); with PostgreSQL under gevent, each connection being served
holds its own database connection (deploy/README.md).
"""

import os
import shutil
import tempfile
from pathlib import Path


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


WORKER_CLASSES = ("gevent", "sync", "gthread")

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
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "").strip() or (
    "gthread" if threads > 1 else "gevent"
)
if worker_class not in WORKER_CLASSES:
    raise SystemExit(
        f"GUNICORN_WORKER_CLASS must be one of {', '.join(WORKER_CLASSES)}, not {worker_class!r}"
    )
worker_connections = _int("GUNICORN_WORKER_CONNECTIONS", 1000)
if worker_class == "gevent":
    # Each of a gevent worker's clients would otherwise hold a PostgreSQL connection of its own
    # (pypimirror/settings/base.py): share a pool of this many per worker. Read by the workers'
    # settings, which they import after this file (preload_app is off for gevent).
    os.environ.setdefault("PYPIMIRROR_DB_POOL", "10")

# /metrics (pypimirror/metrics.py): each worker process counts its requests in files of this
# directory and a scrape sums them all (prometheus-client's multiprocess mode). Set here, in the
# master, before the application (and so prometheus-client) is imported anywhere.
METRICS_DIR_PREFIX = "pypimirror-metrics-"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix=METRICS_DIR_PREFIX, dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    )

timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Seconds an idle connection is kept; for gevent workers also all the time a client gets to send
# a request's headers (gunicorn's base_async worker), after which it is closed.
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = max_requests // 10
# Load Django once in the master; workers share its memory pages (connections open lazily).
# Not for gevent: its worker patches the standard library (socket, select, threading) when it
# starts, and modules imported before that keep the blocking versions (psycopg, for one, picks
# its way of waiting for the server when imported).
preload_app = worker_class != "gevent"
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
    # Figures of an earlier server's workers would be summed with ours: start from none.
    metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink(missing_ok=True)


def post_fork(server, worker) -> None:
    """gevent workers send files with the kernel's sendfile (pypimirror/gevent_sendfile.py)."""
    if worker_class == "gevent":
        from pypimirror.gevent_sendfile import install

        if not install():
            server.log.warning("this gevent has no hook for sendfile: files are sent by reading")


def child_exit(server, worker) -> None:
    """A worker is gone (recycled after ``max_requests``, or dead): its counts are added to one
    archive file and its own files removed, so a scrape reads as many files as there are
    workers, not as many as there ever were."""
    from prometheus_client import multiprocess
    from prometheus_client.mmap_dict import MmapedDict

    metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    for kind in ("counter", "histogram"):
        dead = metrics_dir / f"{kind}_{worker.pid}.db"
        if not dead.exists():
            continue
        archive = MmapedDict(str(metrics_dir / f"{kind}_archive.db"))
        try:
            # Raw values (a histogram's per bucket, not cumulative): sums, as a scrape sums them.
            # A scrape in the instant between this and the unlink below counts them twice.
            for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(dead)):
                total, _ = archive.read_value(key)
                archive.write_value(key, total + value, 0.0)
        finally:
            archive.close()
        dead.unlink()
    multiprocess.mark_process_dead(worker.pid, str(metrics_dir))


def on_exit(server) -> None:
    """Remove the metrics directory made above (one given in the environment is left)."""
    metrics_dir = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""))
    made_here = metrics_dir.parent in {Path("/dev/shm"), Path(tempfile.gettempdir())}
    if made_here and metrics_dir.name.startswith(METRICS_DIR_PREFIX):
        shutil.rmtree(metrics_dir, ignore_errors=True)

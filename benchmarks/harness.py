"""What every benchmark here needs: peers in throwaway venvs, servers as process groups, wrk.

Peers come from PyPI into venvs under ``benchmarks/out/`` (git-ignored), named by what they hold,
so a second run reuses them. Every server runs in its own process group and is stopped with it.
"""

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
PROJECT_SOURCES = ("apps", "pypimirror", "manage.py")


def project_compile() -> None:
    """Write the project's bytecode as bin/run and deploy/README.md do (pip does the same for the
    packages it installs, bandersnatch's and pypiserver's included): where PYTHONDONTWRITEBYTECODE
    is set, Python would otherwise compile the project's modules in every process it starts."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *(str(ROOT / p) for p in PROJECT_SOURCES)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this project's or pip's settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYPIMIRROR_", "CELERY_", "GUNICORN_", "DATABASE_URL"))
    }
    return {**env, **extra}


def peer_venv(name: str, requirements: Sequence[str], python: str | None = None) -> Path:
    """A venv with ``requirements`` installed from PyPI, built once and reused."""
    digest = hashlib.sha256("\n".join([*requirements, python or ""]).encode()).hexdigest()[:10]
    venv = OUT / f"venv-{name}-{digest}"
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        python = python or os.path.realpath(getattr(sys, "_base_executable", sys.executable))
        print(f"  building {venv.name}: {' '.join(requirements)}", flush=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
             *requirements],
            check=True,
        )  # fmt: skip
        (venv / ".complete").touch()
    return venv


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen
    log: Path

    def close(self) -> None:
        """Stop the server and everything in its process group."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start_server(
    name: str, command: Sequence[str], *, port: int, env: dict[str, str], cwd: Path, log: Path,
    ready_path: str = "/", timeout: float = 60,
) -> Server:  # fmt: skip
    """Start ``command`` in its own process group; return once ``ready_path`` answers."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = Server(name, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited {process.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + ready_path, timeout=2).status_code < 500:
                return server
        time.sleep(0.2)
    server.close()
    raise RuntimeError(f"{name} did not answer in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by the processes of group ``pgid``, including
    children they have reaped (e.g. a recycled worker), read from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields[2] is pgrp; utime, stime, cutime, cstime follow
            total += sum(int(value) for value in fields[11:15])
    return total / ticks


@dataclass(frozen=True)
class WrkResult:
    requests: int
    requests_per_second: float
    latency_avg: str
    non_2xx: int
    errors: str


def wrk(url: str, *, accept: str, threads: int, connections: int, duration: str) -> WrkResult:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}",
               "-H", f"Accept: {accept}", url]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = re.search(r"Latency\s+(\S+)", output).group(1)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return WrkResult(requests, rps, latency, int(non_2xx.group(1)) if non_2xx else 0,
                     errors.group(1) if errors else "")  # fmt: skip


def nginx_static(root: Path, *, port: int, workdir: Path, workers: int) -> Server | None:
    """nginx serving ``root`` as plain files (the upper bound), or None if nginx is missing."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        return None
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes {workers};
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/body; proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi; uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location ~ \\.html$ {{ default_type text/html; }}
        location ~ \\.json$ {{ default_type application/vnd.pypi.simple.v1+json; }}
    }}
}}
"""
    )
    os.chmod(workdir, 0o755)  # nginx workers may run as another user
    return start_server("nginx", [nginx, "-c", str(conf)], port=port, env=clean_env(),
                        cwd=workdir, log=workdir / "nginx.log", ready_path="/")  # fmt: skip

"""The same tree served by Debian's nginx, for benchmarks: fast enough never to be the bottleneck.

nginx runs as our own child process (``daemon off``) with its prefix, pid, logs and temp paths
in a private directory, listening on 127.0.0.1 only. It serves what ``write()`` produced, with
``X-PyPI-Last-Serial`` from a generated ``map`` include. Unlike ``UpstreamServer`` it picks the
PEP 691 JSON whenever ``Accept`` names it (q-values ignored), answers 404 (not 301) for
non-normalized names, and has no XML-RPC, request log or faults. ``files_per_minute`` slows
the files (``/packages/``) down to that many a minute in all, each request delayed, none refused:
a sync that must last (benchmarks/load.py).
"""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.processes import free_port

from .tree import WarehouseUpstream

START_TIMEOUT = 15.0


def find_nginx(*, install: bool = True) -> str | None:
    """The nginx binary; installs Debian's package when missing and we may (root, apt-get)."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found or not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "nginx"], env=env, check=False, capture_output=True
    )
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


def serials_map(upstream: WarehouseUpstream) -> str:
    """The include that gives nginx each page's ``X-PyPI-Last-Serial``: what is on disk now."""
    with upstream.write_lock:
        serials, root_serial = dict(upstream.published_serials), upstream.published_serial
    lines = "".join(f"    {name} {serial};\n" for name, serial in serials.items())
    return (
        f'map $project $project_serial {{\n    default "";\n{lines}}}\n'
        f"map $host $root_serial {{\n    default {root_serial};\n}}\n"
    )


def nginx_config(
    root: Path,
    port: int,
    *,
    prefix: Path,
    serials: Path,
    workers: int = 2,
    access_log: bool = False,
    files_per_minute: int | None = None,
) -> str:
    """nginx.conf serving the tree at ``root`` on 127.0.0.1:``port``; state under ``prefix``."""
    user = f"user {pwd.getpwuid(0).pw_name};\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {prefix}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    log = f"{prefix}/access.log" if access_log else "off"
    zone, throttle = "", ""
    if files_per_minute:
        # One key for every client: the rate is the server's; excess requests wait (no nodelay).
        zone = f"    limit_req_zone $server_port zone=files:1m rate={files_per_minute}r/m;\n"
        throttle = "            limit_req zone=files burst=1000000;\n"
    return f"""{user}worker_processes {workers};
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log {log};
{temp}    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    server_tokens off;
    types {{
        text/html html;
        application/vnd.pypi.simple.v1+json v1_json;
    }}
    default_type application/octet-stream;
    charset utf-8;
    map_hash_max_size 1048576;
    map_hash_bucket_size 128;
    map $http_accept $simple_file {{
        default index.html;
        "~*application/vnd\\.pypi\\.simple\\.v1\\+json" index.v1_json;
    }}
    include {serials};
{zone}    server {{
        listen 127.0.0.1:{port};
        root {root};
        absolute_redirect off;
        location ~ /\\. {{
            return 404;
        }}
        location = /simple {{
            return 301 /simple/;
        }}
        location = /simple/ {{
            add_header Vary Accept;
            add_header X-PyPI-Last-Serial $root_serial;
            try_files /simple/$simple_file =404;
        }}
        location ~ ^/simple/(?<project>[^/]+)/$ {{
            add_header Vary Accept;
            add_header X-PyPI-Last-Serial $project_serial;
            try_files /simple/$project/$simple_file =404;
        }}
        location ~ ^/simple/(?<project>[^/]+)$ {{
            return 301 /simple/$project/;
        }}
        location ~ ^/pypi/(?<project>[^/]+)/json/?$ {{
            default_type application/json;
            add_header X-PyPI-Last-Serial $project_serial;
            try_files /pypi/$project/json =404;
        }}
        location /packages/ {{
{throttle}            types {{ }}
            default_type application/octet-stream;
        }}
        location ~ ^/integrity/[^/]+/[^/]+/[^/]+/provenance$ {{
            types {{ }}
            default_type application/vnd.pypi.integrity.v1+json;
        }}
        location / {{
            return 404;
        }}
    }}
}}
"""


class NginxUpstream:
    """``upstream``'s tree behind nginx on 127.0.0.1; a context manager.

    ``start()`` sets ``upstream.base_url`` when unset and writes the tree; after changing the
    upstream, ``publish()`` writes it and reloads nginx's serial map.
    """

    def __init__(
        self,
        upstream: WarehouseUpstream,
        *,
        port: int | None = None,
        workers: int = 2,
        access_log: bool = False,
        files_per_minute: int | None = None,
    ) -> None:
        self.upstream = upstream
        self.files_per_minute = files_per_minute
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.access_log = access_log
        self.prefix = Path(tempfile.mkdtemp(prefix="upstream-nginx-"))
        self.process: subprocess.Popen | None = None

    @property
    def index_url(self) -> str:
        return f"{self.url}/simple/"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    def start(self) -> "NginxUpstream":
        binary = find_nginx()
        if binary is None:
            raise RuntimeError("nginx is not installed and cannot be (apt-get install nginx)")
        if self.upstream.base_url is None:
            self.upstream.base_url = self.url
        self.upstream.write()
        conf = self._write_config()
        with self.error_log.open("ab") as stderr:
            self.process = subprocess.Popen(
                [binary, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.error_log)],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self._wait_for_serial()
        return self

    def _write_config(self) -> Path:
        serials = self.prefix / "serials.conf"
        serials.write_text(serials_map(self.upstream))
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            nginx_config(
                self.upstream.root.resolve(),
                self.port,
                prefix=self.prefix,
                serials=serials,
                workers=self.workers,
                access_log=self.access_log,
                files_per_minute=self.files_per_minute,
            )
        )
        return conf

    def publish(self) -> None:
        """Write the upstream's changes, then let nginx serve their serials (and the current
        ``files_per_minute``)."""
        self.upstream.write()
        self._write_config()
        old = self._worker_pids()
        self.process.send_signal(signal.SIGHUP)
        self._wait_for_new_workers(old)
        self._wait_for_serial()

    def _worker_pids(self) -> set[int]:
        """nginx's worker processes now (empty where the kernel does not list children)."""
        pid = self.process.pid
        try:
            return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
        except OSError:
            return set()

    def _wait_for_new_workers(self, old: set[int]) -> None:
        """Until the workers of the old configuration are gone: a changed serial shows that new
        ones run, but an unchanged one (``files_per_minute`` alone changed) would not."""
        deadline = time.monotonic() + START_TIMEOUT
        while old and time.monotonic() < deadline:
            if (now := self._worker_pids()) and not now & old:
                return
            time.sleep(0.02)

    def _wait_for_serial(self) -> None:
        """Until a fresh connection sees the published root serial (new workers are up)."""
        wanted = str(self.upstream.published_serial)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.error_log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                response = httpx.get(self.index_url, timeout=2, trust_env=False)
                if response.headers.get("X-PyPI-Last-Serial") == wanted:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"nginx did not serve serial {wanted}: {self.error_log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self) -> "NginxUpstream":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

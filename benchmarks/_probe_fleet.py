"""The mirrors probe.py probes: many mirror URLs on loopback, a realistic mix of kinds.

Each mirror has a port of its own (so no probe shares a connection with another mirror's, as
with real hosts) and a path prefix naming its kind. One nginx process listens on the ports of
the kinds it serves from static trees in bandersnatch's layout (``web/``: JSON and HTML project
pages with ``<!--SERIAL n-->``, the JSON root, ``/packages/...``, PEP 381 ``last-modified``, and
archweb's ``lastsync``, an epoch); a small asyncio server answers for the slow ones; the hanging
ones are sockets that listen and never accept; the refused ones are ports nobody listens on.
"""

import asyncio
import contextlib
import json
import os
import pwd
import random
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.harness import Server, clean_env, free_port, start_server
from tests.support.upstream.nginx import find_nginx

# Share of each kind among the mirrors; healthy takes what the others leave.
KINDS = {
    "healthy": None,
    "slow": 0.06,  # every answer 0.2-1 s late
    "behind": 0.04,  # lacks the newest file of every project; stamps an hour old
    "corrupt": 0.04,  # every file's first bytes altered (same size)
    "refused": 0.04,  # nothing listens on its port
    "hanging": 0.02,  # accepts TCP connections, never answers
}
STATIC = ("healthy", "behind", "corrupt")
JSON_V1 = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class MirrorSpec:
    name: str
    kind: str
    url: str


def kinds_for(count: int, *, seed: int = 381) -> list[str]:
    """``count`` kinds in the shares of KINDS, shuffled (so the slow and hanging ones are spread
    through the round as they would be)."""
    kinds: list[str] = []
    for kind, share in KINDS.items():
        if share is not None:
            kinds += [kind] * round(count * share)
    kinds += ["healthy"] * (count - len(kinds))
    random.Random(seed).shuffle(kinds)
    return kinds[:count]


def write_trees(root: Path, catalog: dict, dists: Path) -> None:
    """A ``web/`` tree per static kind under ``root/<kind>/`` from the hub's catalog (each
    project's files, their sha256 and the serials that added them) and the files themselves."""
    now = datetime.now(UTC)
    for kind in STATIC:
        web = root / kind
        stamp = now - timedelta(hours=1) if kind == "behind" else now
        names = []
        for project in catalog["projects"]:
            files = sorted(project["files"], key=lambda f: f["serial"])
            if kind == "behind":
                files = files[:-1]
            names.append(project["name"])
            _project(
                web, project["name"], project["serial"], files, dists, corrupt=kind == "corrupt"
            )
        listing = "".join(f'<a href="{n}/">{n}</a><br/>\n' for n in names)
        _write(web / "simple/index.html", f"<html><body>\n{listing}</body></html>\n")
        root_json = {
            "meta": {"api-version": "1.1", "_last-serial": str(catalog["last_serial"])},
            "projects": [{"name": n} for n in names],
        }
        _write(web / "simple/index.v1_json", json.dumps(root_json))
        _write(web / "last-modified", stamp.strftime("%Y%m%dT%H:%M:%S") + "\n")
        _write(web / "lastsync", f"{int(stamp.timestamp())}\n")


def _project(web: Path, name: str, serial: int, files: list, dists: Path, *, corrupt: bool):
    links, entries = [], []
    for f in files:
        path = f"{f['sha256'][:2]}/{f['sha256'][2:4]}/{f['sha256'][4:]}/{f['filename']}"
        target = web / "packages" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        data = (dists / f["filename"]).read_bytes()
        if corrupt:
            data = bytes(b ^ 0xFF for b in data[:64]) + data[64:]
        target.write_bytes(data)
        url = f"../../packages/{path}"
        links.append(f'<a href="{url}#sha256={f["sha256"]}">{f["filename"]}</a><br/>\n')
        entries.append({"filename": f["filename"], "url": url, "hashes": {"sha256": f["sha256"]}})
    html = f"<html><body>\n{''.join(links)}</body></html>\n<!--SERIAL {serial}-->"
    _write(web / f"simple/{name}/index.html", html)
    page = {"meta": {"api-version": "1.1", "_last-serial": serial}, "name": name, "files": entries}
    _write(web / f"simple/{name}/index.v1_json", json.dumps(page))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


class Fleet:
    """The mirrors' servers, started by ``start()`` and stopped by ``close()``."""

    def __init__(self, count: int, trees: Path, work: Path) -> None:
        self.trees, self.work = trees, work
        ports: set[int] = set()
        self.mirrors: list[MirrorSpec] = []
        for i, kind in enumerate(kinds_for(count)):
            port = free_port()
            while port in ports:
                port = free_port()
            ports.add(port)
            self.mirrors.append(MirrorSpec(f"m{i:05d}", kind, f"http://127.0.0.1:{port}/{kind}/"))
        self.nginx: Server | None = None
        self._hanging: list[socket.socket] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def ports(self, *kinds: str) -> list[int]:
        return [int(m.url.split(":")[2].split("/")[0]) for m in self.mirrors if m.kind in kinds]

    def start(self) -> None:
        self._start_nginx()
        for port in self.ports("hanging"):
            sock = socket.socket()
            sock.bind(("127.0.0.1", port))
            sock.listen(128)  # the kernel completes handshakes; nobody ever reads
            self._hanging.append(sock)
        ready = threading.Event()
        threading.Thread(target=self._serve_slow, args=(ready,), daemon=True).start()
        if not ready.wait(30):
            raise RuntimeError("the slow mirrors' server did not start")

    def _start_nginx(self) -> None:
        binary = find_nginx()
        if binary is None:
            raise SystemExit("nginx is needed: apt-get install -y nginx")
        prefix = self.work / "nginx"
        prefix.mkdir()
        listen = "".join(f"        listen 127.0.0.1:{p};\n" for p in self.ports(*STATIC))
        temp = "".join(
            f"    {kind}_temp_path {prefix}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        conf = prefix / "nginx.conf"
        conf.write_text(
            f"""{user}worker_processes 1;
worker_rlimit_nofile 8192;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp}    types {{ text/html html; {JSON_V1} v1_json; }}
    default_type application/octet-stream;
    map $http_accept $simple_file {{
        default index.html;
        "~*application/vnd\\.pypi\\.simple\\.v1\\+json" index.v1_json;
    }}
    server {{
{listen}        root {self.trees};
        location ~ ^/[a-z]+/simple/ {{ try_files $uri$simple_file $uri/$simple_file =404; }}
        location ~ ^/[a-z]+/(last-modified|lastsync)$ {{ default_type text/plain; }}
        location / {{ }}
    }}
}}
"""
        )
        first = self.ports("healthy")[0]
        self.nginx = start_server(
            "nginx", [binary, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "err.log")],
            port=first, env=clean_env(), cwd=prefix, log=prefix / "nginx.log",
            ready_path="/healthy/last-modified",
        )  # fmt: skip

    def _serve_slow(self, ready: threading.Event) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            servers = []
            for port in self.ports("slow"):
                rng = random.Random(port)
                servers.append(
                    await asyncio.start_server(
                        lambda r, w, rng=rng: self._slow_answer(r, w, rng), "127.0.0.1", port
                    )
                )
            ready.set()
            await asyncio.Event().wait()

        with contextlib.suppress(RuntimeError):  # the loop stopped by close()
            asyncio.run(main())

    async def _slow_answer(self, reader, writer, rng: random.Random) -> None:
        """HTTP/1.1 with keep-alive, the healthy tree's files, each answer 0.2-1 s late."""
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                method, target = head[0].split(" ")[:2]
                accept = next(
                    (h.split(":", 1)[1] for h in head[1:] if h.lower().startswith("accept:")), ""
                )
                status, ctype, body = self._static_file(target, accept)
                await asyncio.sleep(rng.uniform(0.2, 1.0))
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + (body if method != "HEAD" else b"")
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def _static_file(self, target: str, accept: str) -> tuple[str, str, bytes]:
        rest = target.split("?", 1)[0].split("/", 2)[2]  # /slow/<rest>
        path = self.trees / "healthy" / rest
        if rest.endswith("/"):
            path = path / ("index.v1_json" if JSON_V1 in accept else "index.html")
        types = {"index.v1_json": JSON_V1, "index.html": "text/html"}
        ctype = types.get(path.name, "text/plain" if path.name in ("last-modified", "lastsync")
                          else "application/octet-stream")  # fmt: skip
        if ".." in rest or not path.is_file():
            return "404 Not Found", "text/plain", b"not found\n"
        return "200 OK", ctype, path.read_bytes()

    def close(self) -> None:
        if self.nginx is not None:
            self.nginx.close()
        for sock in self._hanging:
            sock.close()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            time.sleep(0.1)

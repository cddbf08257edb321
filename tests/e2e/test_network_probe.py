"""The hub probes its mirrors over real HTTP: a pypimirror node that follows it, a node that
follows that node, and real bandersnatch 8 mirroring the hub, its ``web/`` served by nginx
(pages with ``<!--SERIAL n-->``, a JSON root whose string serial is one run behind,
``web/last-modified`` as ``%Y%m%dT%H:%M:%S``).

The hub is a live server (production settings) holding the catalog; ``manage.py probe`` runs on
it as an operator runs it, with mail written to files the test reads. One scenario, in order:
current after a sync; a new release on the hub is lag until the next sync; a file corrupted on
the node's disk is caught by name; the nginx mirror stopped is down, then disabled after 2 probes
with a mail, and enabled again after 2 good probes once started.
"""

import hashlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import clients
from tests.support.dists import DistSpec, build_sdist, build_wheel
from tests.support.servers import LiveServer, live_server
from tests.support.upstream.nginx import find_nginx, free_port

from .nodes import sync
from .pages import JSON_V1

pytestmark = pytest.mark.e2e

ADMIN = "ops@bandersnatch.example.org"


class BandersnatchMirror:
    """bandersnatch 8 (Python 3.12, the cached venv of tests/support/clients.py) mirroring the
    hub into ``mirror/web``, served by nginx as bandersnatch's docs serve it.

    ``run()`` is one ``bandersnatch mirror``. It writes its pages and ``last-modified`` with mode
    0600, so nginx's workers run as their owner (us).
    """

    def __init__(self, hub: str) -> None:
        self.venv = clients.bandersnatch8_venv()
        # Not pytest's tmp_path: kept apart from what the hub's fixtures write.
        self.prefix = Path(tempfile.mkdtemp(prefix="probe-bandersnatch-"))
        self.web = self.prefix / "mirror" / "web"
        self.config = self.prefix / "bandersnatch.conf"
        self.config.write_text(
            clients.bandersnatch_config(master=hub, directory=self.prefix / "mirror")
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen | None = None

    def run(self) -> None:
        result = clients.bandersnatch_mirror(self.venv, config=self.config)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "Traceback" not in output, output

    def start(self) -> None:
        binary = find_nginx()
        if binary is None:
            pytest.skip("nginx is not installed")
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        temp = "".join(
            f"    {kind}_temp_path {self.prefix}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            f"""{user}worker_processes 1;
daemon off;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temp}    types {{ text/html html; application/vnd.pypi.simple.v1+json v1_json; }}
    default_type application/octet-stream;
    map $http_accept $simple_file {{
        default index.html;
        "~*application/vnd\\.pypi\\.simple\\.v1\\+json" index.v1_json;
    }}
    server {{
        listen 127.0.0.1:{self.port};
        root {self.web};
        location /simple/ {{ try_files $uri$simple_file $uri/$simple_file =404; }}
        location = /last-modified {{ default_type text/plain; }}
        location /packages/ {{ }}
    }}
}}
"""
        )
        self.process = subprocess.Popen(
            [binary, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.prefix / "err")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "last-modified", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not start: {(self.prefix / 'error.log').read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            self.process.wait(timeout=15)


def dists(directory: Path, *specs: DistSpec) -> Path:
    directory.mkdir(parents=True)
    for spec in specs:
        build_wheel(spec, directory)
        build_sdist(spec, directory)
    return directory


@pytest.fixture(scope="module")
def mail_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="probe-mail-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def hub(tmp_path_factory, mail_dir) -> Iterator[LiveServer]:
    directory = dists(
        tmp_path_factory.mktemp("hub") / "first",
        DistSpec(name="alpha", version="1.0"),
        DistSpec(name="beta", version="1.0"),
    )
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PYPIMIRROR_NETWORK_DISABLE_AFTER": "2",
        "PYPIMIRROR_NETWORK_PROBE_TIMEOUT": "10",
        "PYPIMIRROR_NETWORK_PROBE_SAMPLE_PROJECTS": "5",
        "PYPIMIRROR_NETWORK_PROBE_SAMPLE_FILES": "20",
    }
    with live_server(dists=[directory], env=env) as server:
        yield server


@pytest.fixture(scope="module")
def node(hub) -> Iterator[LiveServer]:
    with live_server() as server:
        assert sync(server, hub.url).returncode == 0
        hub.manage("mirror_add", "node", f"{server.url}/", "--country", "DE")
        yield server


@pytest.fixture(scope="module")
def node2(hub, node) -> Iterator[LiveServer]:
    """A second tier: a node that follows the first (its serials are its own again)."""
    with live_server() as server:
        assert sync(server, node.url).returncode == 0
        hub.manage("mirror_add", "node2", f"{server.url}/", "--follows", "node")
        yield server


@pytest.fixture(scope="module")
def bandersnatch(hub) -> Iterator[BandersnatchMirror]:
    mirror = BandersnatchMirror(hub.url)
    mirror.run()
    mirror.start()
    hub.manage("mirror_add", "bandersnatch", mirror.url, "--email", ADMIN, "--country", "FR")
    yield mirror
    mirror.stop()
    shutil.rmtree(mirror.prefix, ignore_errors=True)


def probe(hub: LiveServer, *names: str) -> subprocess.CompletedProcess:
    return hub.manage("probe", *names, check=False)


def latest(hub: LiveServer) -> dict[str, dict]:
    """Each mirror's newest probe, and the mirror's state, from the hub's database."""
    code = (
        "import json\n"
        "from apps.network.models import Mirror, Probe\n"
        "out = {}\n"
        "for m in Mirror.objects.all():\n"
        "    p = Probe.objects.filter(url__mirror=m).order_by('-checked', '-pk').first()\n"
        "    row = {k: getattr(p, k) for k in ('reachable', 'http_status', 'lag_seconds',\n"
        "        'lag_serials', 'mirror_serial', 'integrity_ok', 'integrity_findings', 'error',\n"
        "        'last_modified')} if p else {}\n"
        "    row.update(active=m.active, reason=m.disabled_reason)\n"
        "    out[m.name] = row\n"
        "print(json.dumps(out, default=str))\n"
    )
    return json.loads(hub.shell(code).stdout.strip().splitlines()[-1])


def mails(mail_dir: Path) -> str:
    return "".join(p.read_text() for p in sorted(mail_dir.iterdir()))


def test_after_their_sync_the_mirrors_are_current_and_sound(hub, node, node2, bandersnatch):
    result = probe(hub)

    assert result.returncode == 0, result.stdout + result.stderr
    seen = latest(hub)
    for name in ("node", "node2", "bandersnatch"):
        assert seen[name]["lag_serials"] == 0, seen[name]
        assert seen[name]["lag_seconds"] == 0, seen[name]
        assert seen[name]["integrity_ok"] is True, seen[name]
        assert seen[name]["error"] == "", seen[name]
        assert seen[name]["last_modified"] is not None
    assert seen["bandersnatch"]["mirror_serial"] == 0  # bandersnatch's root: one run behind
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "URL",
        "STATE",
        "LAG",
        "S",
        "LAG",
        "SERIALS",
        "INTEGRITY",
        "DURATION",
    ]
    assert any(
        line.startswith(bandersnatch.url) and " ok " in line and "sound" in line for line in lines
    )


def test_a_new_release_on_the_hub_is_lag_until_their_next_sync(
    hub, node, node2, bandersnatch, tmp_path
):
    hub.manage("import_dists", str(dists(tmp_path / "new", DistSpec(name="alpha", version="2.0"))))

    behind = probe(hub)

    assert behind.returncode == 0, behind.stdout  # lag alone is not unhealthy
    seen = latest(hub)
    for name in ("node", "node2", "bandersnatch"):
        assert seen[name]["lag_serials"] > 0, seen[name]
        assert seen[name]["lag_seconds"] > 0, seen[name]
        assert seen[name]["integrity_ok"] is True, seen[name]
    lag = seen["node"]["lag_serials"]

    assert sync(node, hub.url).returncode == 0
    bandersnatch.run()
    probe(hub)

    seen = latest(hub)
    for name in ("node", "bandersnatch"):
        assert (seen[name]["lag_serials"], seen[name]["lag_seconds"]) == (0, 0), seen[name]
    assert seen["bandersnatch"]["mirror_serial"] > 0  # the run before's serial, now
    # The second tier has not synced: still behind by the hub's serials, whatever its own say.
    assert seen["node2"]["lag_serials"] == lag, seen["node2"]

    assert sync(node2, node.url).returncode == 0
    assert probe(hub).returncode == 0
    assert (latest(hub)["node2"]["lag_serials"], latest(hub)["node2"]["lag_seconds"]) == (0, 0)


def test_a_file_corrupted_on_the_nodes_disk_is_caught_by_name(hub, node):
    target = next(node.store_dir.rglob("*-alpha-2.0-py3-none-any.whl"))
    good = target.read_bytes()
    target.write_bytes(bytes(b ^ 0xFF for b in good[:64]) + good[64:])
    try:
        result = probe(hub, "node")
    finally:
        target.write_bytes(good)

    assert result.returncode == 1
    assert "alpha-2.0-py3-none-any.whl: sha256" in result.stdout
    seen = latest(hub)["node"]
    assert seen["integrity_ok"] is False
    assert any("alpha-2.0-py3-none-any.whl" in f for f in seen["integrity_findings"])
    assert probe(hub, "node").returncode == 0  # mended: sound again (a failure in a row: 1)


def test_a_stopped_mirror_is_disabled_after_2_probes_and_enabled_after_2_good(
    hub, bandersnatch, mail_dir
):
    bandersnatch.stop()
    first = probe(hub, "bandersnatch")
    assert first.returncode == 1
    assert "down" in first.stdout
    assert latest(hub)["bandersnatch"]["active"] is True
    assert "disabled" not in mails(mail_dir)

    second = probe(hub, "bandersnatch")

    assert "down (disabled)" in second.stdout
    seen = latest(hub)["bandersnatch"]
    assert (seen["reachable"], seen["active"]) == (False, False)
    assert "2 probes in a row failed" in seen["reason"]
    told = mails(mail_dir)
    assert "Mirror bandersnatch disabled" in told
    assert f"To: {ADMIN}" in told
    assert "2 probes in a row failed" in told

    bandersnatch.start()
    assert probe(hub).returncode == 0  # the round probes a mirror the probes disabled
    assert latest(hub)["bandersnatch"]["active"] is False
    again = probe(hub, "bandersnatch")

    assert again.returncode == 0
    assert "ok (enabled)" in again.stdout
    assert latest(hub)["bandersnatch"]["active"] is True
    assert "Mirror bandersnatch enabled again" in mails(mail_dir)


def test_unknown_names_exit_2(hub):
    result = probe(hub, "bandersnatch", "nosuch")

    assert result.returncode == 2
    assert "nosuch" in result.stderr


def test_the_node_serves_the_sha256_it_lists(node):
    """The corrupted file was mended: the node's bytes are the hub's again (sanity of the test)."""
    page = httpx.get(f"{node.url}/simple/alpha/", headers={"Accept": JSON_V1}, timeout=10).json()
    for entry in page["files"]:
        body = httpx.get(entry["url"], timeout=10).content
        assert hashlib.sha256(body).hexdigest() == entry["hashes"]["sha256"]

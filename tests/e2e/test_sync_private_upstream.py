"""Private upstreams as an operator meets them: the real ``manage.py sync`` of a node (gunicorn,
a Celery worker) against indexes on loopback that answer 401 without their credentials, one
with user:password, one with a token in the query string. The credentials are used (the syncs
work, files included) and shown nowhere: not in the command's output, the server's and the
worker's logs, the API, the admin's pages or the upstreams' names. A URL that cannot be used
exits 2 and leaves nothing behind."""

import contextlib
import hashlib
import os
import re
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest

from tests.support.servers import LiveServer, live_server
from tests.support.upstream import UpstreamServer, WarehouseUpstream
from tests.support.workers import CeleryWorker, celery_worker

pytestmark = pytest.mark.e2e

BROKER = os.environ.get("PYPIMIRROR_TEST_CRASH_BROKER", "redis://127.0.0.1:6379/5")
PASSWORD = f"pw-{secrets.token_hex(8)}"
TOKEN = f"tok-{secrets.token_hex(8)}"
SECRETS = (PASSWORD, TOKEN, quote(PASSWORD), quote(TOKEN))
ADMIN_PASSWORD = secrets.token_urlsafe(16)
PROJECTS = {"basic": ("alpha", "beta"), "token": ("gamma", "delta")}


def assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret is shown in {where}"


def _redis() -> "object | None":
    import redis

    client = redis.Redis.from_url(BROKER, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        return None
    return client


@dataclass
class Private:
    server: UpstreamServer
    url: str  # the simple index URL with its credentials


@pytest.fixture(scope="module")
def privates(tmp_path_factory) -> Iterator[dict[str, Private]]:
    made = {}
    servers = []
    for kind, names in PROJECTS.items():
        upstream = WarehouseUpstream(tmp_path_factory.mktemp(f"upstream-{kind}"))
        for name in names:
            upstream.add_release(name, "1.0")
        if kind == "basic":
            server = UpstreamServer(upstream, basic_auth=("mirror", PASSWORD))
            url = server.url.replace("://", f"://mirror:{PASSWORD}@") + "/simple/"
        else:
            server = UpstreamServer(upstream, token=("token", TOKEN))
            url = f"{server.url}/simple/?token={TOKEN}"
        servers.append(server.start())
        made[kind] = Private(server, url)
    try:
        yield made
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
def node() -> Iterator[LiveServer]:
    with live_server(env={"DJANGO_SECURE_COOKIES": "false"}) as server:
        yield server


@pytest.fixture(scope="module")
def worker(node, tmp_path_factory) -> Iterator[CeleryWorker]:
    broker = _redis()
    if broker is None:
        pytest.skip(f"no Redis at {BROKER}")
    broker.flushdb()
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with celery_worker(node, broker=BROKER, log=log) as running:
        yield running
    broker.flushdb()


@dataclass
class Synced:
    outputs: list[str]


@pytest.fixture(scope="module")
def synced(node, worker, privates) -> Synced:
    """Each private index synced through the worker, by its URL with credentials."""
    outputs = []
    for private in privates.values():
        result = node.manage("sync", private.url, check=False)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "Handing the projects to the Celery workers." in output
        assert re.search(r"Run #\d+ succeeded: 2 done, 0 failed", output), output
        outputs.append(output)
    return Synced(outputs)


def node_rows(node: LiveServer) -> tuple[int, int]:
    """(upstreams, periodic upstream syncs) on the node."""
    out = node.shell(
        "from django_celery_beat.models import PeriodicTask\n"
        "from apps.replication.models import Upstream\n"
        "from apps.replication.schedules import TASK\n"
        "print(Upstream.objects.count(), PeriodicTask.objects.filter(task=TASK).count())"
    ).stdout.split()
    return int(out[-2]), int(out[-1])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_closed_port_exits_2_and_leaves_no_upstream(node):
    result = node.manage("sync", f"http://127.0.0.1:{closed_port()}/", check=False)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot reach the upstream" in result.stderr
    assert node_rows(node) == (0, 0)


def test_without_its_credentials_a_private_index_exits_2(node, privates):
    for private in privates.values():
        result = node.manage("sync", private.server.index_url, check=False)

        assert result.returncode == 2, result.stdout + result.stderr
        assert "HTTP 401" in result.stderr
    assert node_rows(node) == (0, 0)


def test_private_indexes_are_mirrored_with_their_files(node, privates, synced):
    assert node_rows(node) == (2, 2)
    for kind, private in privates.items():
        # Pages and files alike carried the credentials: nothing was refused after the first
        # contact without them (the test above).
        after = [r for r in private.server.requests() if r.query or r.headers.get("Authorization")]
        assert {r.kind for r in after} >= {"root", "simple", "file"}
        assert all(r.status != 401 for r in after)
        for name in PROJECTS[kind]:
            page = httpx.get(
                f"{node.url}/simple/{name}/",
                headers={"Accept": "application/vnd.pypi.simple.v1+json"},
            ).json()
            assert page["files"], name
            for entry in page["files"]:
                data = httpx.get(entry["url"]).content
                assert hashlib.sha256(data).hexdigest() == entry["hashes"]["sha256"]


@contextlib.contextmanager
def _admin(node: LiveServer) -> Iterator[httpx.Client]:
    """An http client logged in to the node's admin as a superuser."""
    node.shell(
        "from django.contrib.auth.models import User\n"
        "if not User.objects.filter(username='staff').exists():\n"
        f"    User.objects.create_superuser('staff', '', {ADMIN_PASSWORD!r})\n"
    )
    with httpx.Client(base_url=node.url, timeout=30) as client:
        form = client.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        response = client.post(
            "/admin/login/?next=/admin/",
            data={"csrfmiddlewaretoken": token, "username": "staff", "password": ADMIN_PASSWORD},
            headers={"Referer": f"{node.url}/admin/login/"},
        )
        assert response.status_code == 302, response.text
        yield client


def _change_pages(client: httpx.Client, changelist: str) -> list[str]:
    """The changelist's page and the change page of each row it links to."""
    listing = client.get(changelist)
    assert listing.status_code == 200, changelist
    links = sorted(
        set(re.findall(rf'href="({re.escape(changelist)}\d+/change/[^"]*)"', listing.text))
    )
    assert links, f"no rows in {changelist}"
    return [listing.text, *(client.get(link).text for link in links)]


def test_the_secrets_are_shown_nowhere(node, worker, privates, synced):
    for output in synced.outputs:
        assert_no_secret(output, "the command's output")
    assert "apps.replication.tasks.sync_projects" in worker.output()  # it did the work
    assert_no_secret(worker.output(), "the worker's log")
    assert_no_secret(node.error_log.read_text(errors="replace"), "gunicorn's log")
    assert_no_secret(node.access_log.read_text(errors="replace"), "the access log")

    api = httpx.get(f"{node.url}/api/v1/sync-runs/")
    assert api.status_code == 200
    assert_no_secret(api.text, "the API")
    runs = api.json()["results"]
    assert {run["upstream_url"] for run in runs} == {
        privates["basic"].server.url.replace("://", "://***@"),
        f"{privates['token'].server.url}?token=***",
    }
    for run in runs:
        assert_no_secret(httpx.get(f"{node.url}/api/v1/sync-runs/{run['id']}/").text, "the API")

    ports = {private.server.url.rsplit(":", 1)[1] for private in privates.values()}
    assert {run["upstream"] for run in runs} == {f"127-0-0-1-{port}" for port in ports}

    with _admin(node) as admin:
        pages = [
            *_change_pages(admin, "/admin/replication/upstream/"),
            *_change_pages(admin, "/admin/replication/syncrun/"),
            *_change_pages(admin, "/admin/replication/projectsyncstate/"),
            *_change_pages(admin, "/admin/django_celery_beat/periodictask/"),
        ]
        for page in pages:
            assert_no_secret(page, "an admin page")
        upstream_change = pages[1]
        assert "***@" in upstream_change or "token=***" in upstream_change

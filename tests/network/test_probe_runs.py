"""Probe rounds run in-process against real servers on loopback: hostile mirrors, the time and
connection bounds, the disable / enable mails (locmem outbox), maintenance, the command's exit
codes, the admin's Probe now and the beat schedule. The hub's catalog is the test database."""

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.network.models import Mirror, Probe
from apps.network.probe_checks import Expectation
from apps.network.probe_runs import mirrors_probe
from apps.network.probing import Limits, probe_urls
from tests.support.dists import DistSpec, build_sdist, build_wheel

pytestmark = pytest.mark.django_db

Route = Callable[[BaseHTTPRequestHandler], None]


def answer(status: int, body: bytes, content_type: str = "text/plain") -> Route:
    def send(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return send


def drip(handler: BaseHTTPRequestHandler) -> None:
    """Headers, then a byte a second: a mirror that never finishes."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/plain")
    handler.end_headers()
    with contextlib.suppress(OSError):
        for _ in range(30):
            handler.wfile.write(b"2")
            handler.wfile.flush()
            time.sleep(1)


class Server:
    """A threaded HTTP server on loopback answering each path by its route (404 otherwise);
    it counts the requests it is answering at once."""

    def __init__(self, routes: dict[str, Route], delay: float = 0.0) -> None:
        self.routes, self.delay = routes, delay
        self.busy = self.most_busy = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server.lock:
                    server.busy += 1
                    server.most_busy = max(server.most_busy, server.busy)
                try:
                    time.sleep(server.delay)
                    path = self.path
                    for prefix in ("/m0/", "/m1/", "/m2/", "/m3/", "/m4/", "/m5/"):
                        path = path.replace(prefix, "/", 1) if path.startswith(prefix) else path
                    route = server.routes.get(path, answer(404, b"not here"))
                    route(self)
                finally:
                    with server.lock:
                        server.busy -= 1

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self) -> "Server":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url() -> str:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


@pytest.fixture
def catalog(tmp_path) -> None:
    """The hub holds alpha 1.0 (wheel and sdist)."""
    directory = tmp_path / "dists"
    directory.mkdir()
    build_wheel(DistSpec(name="alpha", version="1.0"), directory)
    build_sdist(DistSpec(name="alpha", version="1.0"), directory)
    call_command("import_dists", str(directory), stdout=StringIO())


@pytest.fixture
def rule(settings):
    settings.PYPIMIRROR_NETWORK_DISABLE_AFTER = 2
    settings.PYPIMIRROR_NETWORK_PROBE_TIMEOUT = 3.0
    settings.ADMINS = [("Staff", "staff@hub.example.org")]


def run_probe(*names: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("probe", *names, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


HOSTILE = {
    "/last-modified": answer(200, b"\xff\xfe" + b"9" * 1_000_000),
    "/simple/": answer(
        200, b'{"meta": {"_last-serial": "lots"}, "projects": []}', "application/json"
    ),
    "/simple/alpha/": answer(200, b"\x00\xff<html \xfe" * 10_000 + b"<!--SERIAL x-->"),
}


def test_a_hostile_mirror_gets_clear_findings_never_an_exception(catalog, rule, make_mirror):
    with Server(HOSTILE) as server:
        make_mirror("hostile", url=server.url)
        code, out = run_probe("hostile")

    probe = Probe.objects.get()
    assert code == 1
    assert probe.reachable and probe.http_status == 200
    assert "last-modified is too long to be a time stamp" in probe.error
    assert "/simple/: serial is not a number: 'lots'" in probe.integrity_findings
    assert "blank project page: alpha lists no file (the hub has 2)" in probe.integrity_findings
    assert probe.integrity_ok is False
    assert "blank project page: alpha" in out


def test_a_mirror_that_never_finishes_is_cut_at_the_timeout(rule, make_mirror):
    with Server({"/last-modified": drip}) as server:
        make_mirror("slow", url=server.url)
        started = time.monotonic()
        code, _ = run_probe("slow")
        took = time.monotonic() - started

    assert code == 1
    assert took < 3.0 + 2
    assert "no answer within 3 s" in Probe.objects.get().error


def test_probes_run_at_once_within_the_concurrency_limit():
    routes = {"/last-modified": answer(200, b"20240101T00:00:00\n"), "/simple/": answer(200, b"")}
    with Server(routes, delay=0.3) as server:
        urls = [f"{server.url}m{i}/" for i in range(6)]
        started = time.monotonic()
        seen = probe_urls(urls, Expectation(last_serial=0), Limits(timeout=10, concurrency=2))
        took = time.monotonic() - started

    assert [o.url for o in seen] == urls
    assert all(o.error == "" and o.last_modified is not None for o in seen)
    assert server.most_busy == 2
    assert took >= 6 * 2 * 0.3 / 2 * 0.9  # never more than two at a time


def test_a_down_mirror_is_disabled_after_n_probes_and_its_admin_and_staff_told(
    rule, make_mirror, django_user_model
):
    django_user_model.objects.create_user("ops", email="ops@hub.example.org", is_staff=True)
    make_mirror("gone", url=closed_port_url(), admin_email="admin@gone.example.org")

    assert run_probe()[0] == 1
    assert Mirror.objects.get().active and mail.outbox == []
    code, out = run_probe()

    mirror = Mirror.objects.get()
    assert code == 1 and "down (disabled)" in out
    assert (mirror.active, mirror.disabled_by) == (False, "probes")
    assert "2 probes in a row failed" in mirror.disabled_reason
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert set(message.to) == {
        "admin@gone.example.org",
        "staff@hub.example.org",
        "ops@hub.example.org",
    }
    assert "Mirror gone disabled" in message.subject
    assert "ConnectError" in message.body


def test_maintenance_suppresses_disabling_and_mail(rule, make_mirror):
    mirror = make_mirror("resting", url=closed_port_url(), admin_email="a@b.example.org")
    Mirror.objects.filter(pk=mirror.pk).update(
        maintenance_until=timezone.now() + timedelta(hours=1)
    )

    for _ in range(3):
        run_probe()

    assert Mirror.objects.get().active
    assert mail.outbox == []
    assert Probe.objects.count() == 3  # probed all the same


def test_a_mirror_staff_disabled_is_left_out_of_the_round(rule, make_mirror):
    make_mirror("off", url=closed_port_url())
    Mirror.objects.update(active=False, disabled_by=Mirror.DisabledBy.STAFF)

    assert mirrors_probe() == []
    assert run_probe()[1].strip() == "No mirror URL to probe."


def test_unknown_names_exit_2_naming_them(make_mirror):
    make_mirror("known")

    code, out = run_probe("known", "ghost")

    assert code == 2
    assert "'ghost'" in out and "'known'" not in out
    assert Probe.objects.count() == 0


def test_probe_now_in_the_admin_shows_the_result(rule, make_mirror, admin_client):
    mirror = make_mirror("gone", url=closed_port_url())

    response = admin_client.post(
        reverse("admin:network_mirror_changelist"),
        {"action": "probe_now", "_selected_action": [mirror.pk]},
        follow=True,
    )

    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(said) == 1
    assert said[0].startswith(f"{mirror.urls.get().url}: ConnectError")
    assert Probe.objects.filter(url__mirror=mirror).count() == 1


def test_the_hourly_round_is_scheduled_in_beat():
    task = PeriodicTask.objects.get(name="network: probe the mirrors")

    assert task.task == "apps.network.tasks.probe_mirrors_scheduled"
    assert (task.interval.every, task.interval.period) == (1, "hours")
    assert task.enabled


def test_the_celery_task_runs_a_round(rule, make_mirror):
    from apps.network.tasks import probe_mirrors

    make_mirror("gone", url=closed_port_url())

    probe_mirrors.apply()

    probe = Probe.objects.get()
    assert (probe.reachable, Mirror.objects.get().consecutive_failures) == (False, 1)


@pytest.mark.parametrize(
    ("stamp", "behind"), [(b"20000101T00:00:00\n", True), (b"2099-01-01T00:00:00Z", False)]
)
def test_without_a_page_to_compare_the_lag_comes_from_last_modified(
    catalog, rule, make_mirror, stamp, behind
):
    routes = {
        "/last-modified": answer(200, stamp),
        "/simple/": answer(200, b"<html></html>", "text/html"),
        "/simple/alpha/": answer(503, b"busy"),
    }
    with Server(routes) as server:
        make_mirror("partial", url=server.url)
        run_probe()

    probe = Probe.objects.get()
    assert probe.lag_serials is None
    assert "/simple/alpha/ answered HTTP 503" in probe.error
    assert (probe.lag_seconds > 0) is behind

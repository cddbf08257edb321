"""``manage.py sync URL_OR_NAME``: exit 0 when every project succeeded, 1 when some failed (with
a summary naming them), 2 when the upstream cannot be used at all."""

import io
import re
import socket
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from django.core.management import execute_from_command_line
from django.core.management.color import color_style
from django_celery_beat.models import PeriodicTask

from apps.catalog.models import Distribution, Project
from apps.replication.models import SyncRun, Upstream
from apps.replication.schedules import TASK
from apps.replication.services import upstream_get_or_create_for_url
from apps.replication.tasks import sync_upstream
from pypimirror.celery import app as celery_app
from tests.support.loopback import loopback_server, server_url
from tests.support.upstream import Fault

pytestmark = pytest.mark.django_db(transaction=True)


def manage(*args: str) -> int:
    """Run ``manage.py ARGS`` as the shell would, in this process; the exit status."""
    try:
        execute_from_command_line(["manage.py", *args])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


@pytest.fixture
def populated(server, upstream):
    for name in ("alpha", "beta", "gamma"):
        upstream.add_release(name, "1.0")
    upstream.write()
    return server


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NotAnIndex(BaseHTTPRequestHandler):
    """A web server that answers every GET with a page that is no package index."""

    body = b"Hello, this is a web site.\n"
    content_type = "text/plain; charset=utf-8"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def not_an_index() -> Iterator[str]:
    with loopback_server(_NotAnIndex) as httpd:
        yield server_url(httpd)


@pytest.mark.parametrize("form", ["{url}", "{url}/simple/"])
def test_sync_of_a_healthy_upstream_exits_0_from_either_url_form(populated, capsys, form):
    code = manage("sync", form.format(url=populated.url), "--in-process")

    out = capsys.readouterr().out
    assert code == 0, out
    assert "3 done, 0 failed" in out
    assert set(Project.objects.values_list("normalized_name", flat=True)) == {
        "alpha",
        "beta",
        "gamma",
    }


def test_both_url_forms_are_one_upstream(populated, capsys):
    assert manage("sync", populated.url, "--in-process") == 0
    assert manage("sync", f"{populated.url}/simple/", "--in-process") == 0

    assert Upstream.objects.count() == 1
    assert SyncRun.objects.count() == 2
    assert SyncRun.objects.order_by("started").last().projects_planned == 0


def test_sync_by_upstream_name(populated, capsys):
    assert manage("sync", populated.url, "--in-process") == 0
    name = Upstream.objects.get().name
    populated.upstream.add_release("beta", "2.0")
    populated.upstream.write()
    populated.clear_requests()

    code = manage("sync", name, "--in-process")

    assert code == 0
    assert populated.requested_projects() == {"beta"}


def test_some_projects_failing_exits_1_and_names_them(populated, capsys):
    populated.add_fault(Fault(status=502), project="beta", kind="simple")
    populated.add_fault(Fault(corrupt=True), project="gamma", kind="file")

    code = manage("sync", populated.url, "--in-process")

    captured = capsys.readouterr()
    assert code == 1
    assert "1 done, 2 failed" in captured.out
    # "  name: error" lines; the test server's own tracebacks (a reset connection) may be there too
    failed = {
        line.strip().split(":", 1)[0]
        for line in captured.err.splitlines()
        if line.startswith("  ") and not line.startswith("   ") and not line.startswith("  File ")
    }
    assert failed == {"beta", "gamma"}
    assert "502" in captured.err
    assert "2 project(s) failed" in captured.err


@pytest.mark.parametrize("form", ["/", "/simple/"])
def test_unreachable_upstream_exits_2_and_leaves_nothing_behind(capsys, form):
    code = manage("sync", f"http://127.0.0.1:{closed_port()}{form}", "--in-process")

    assert code == 2
    assert "cannot reach" in capsys.readouterr().err
    assert not Upstream.objects.exists()
    assert not PeriodicTask.objects.filter(task=TASK).exists()
    assert not SyncRun.objects.exists()


def test_known_upstream_that_became_unreachable_fails_its_run(populated, capsys):
    assert manage("sync", populated.url, "--in-process") == 0
    populated.stop()

    code = manage("sync", populated.url, "--in-process")

    assert code == 2
    assert "ConnectError" in capsys.readouterr().err
    assert SyncRun.objects.order_by("started").last().state == SyncRun.State.FAILED
    assert Upstream.objects.count() == PeriodicTask.objects.filter(task=TASK).count() == 1


def test_url_with_no_index_behind_it_exits_2(populated, capsys):
    code = manage("sync", f"{populated.url}/nothing-here/", "--in-process")

    assert code == 2
    assert "404" in capsys.readouterr().err
    assert not Upstream.objects.exists()
    assert not PeriodicTask.objects.filter(task=TASK).exists()


def test_web_site_that_is_no_index_exits_2(not_an_index, capsys):
    code = manage("sync", not_an_index, "--in-process")

    assert code == 2, capsys.readouterr().out


def test_upstream_whose_root_fails_exits_2(populated, capsys):
    populated.add_fault(Fault(status=503), kind="root")

    code = manage("sync", populated.url, "--in-process")

    assert code == 2
    assert "503" in capsys.readouterr().err
    assert not Project.objects.exists()


def test_unknown_upstream_name_exits_2(capsys):
    code = manage("sync", "no-such-upstream", "--in-process")

    assert code == 2
    assert "no upstream named 'no-such-upstream'" in capsys.readouterr().err


def test_not_an_http_url_exits_2(capsys):
    assert manage("sync", "ftp://example.org/simple/", "--in-process") == 2


@pytest.mark.parametrize("spelling", ["beta", "Beta"])
def test_project_option_limits_the_work_to_that_project(populated, capsys, spelling):
    code = manage("sync", populated.url, "--in-process", "--project", spelling)

    assert code == 0
    assert populated.requested_projects() == {"beta"}
    assert list(Project.objects.values_list("normalized_name", flat=True)) == ["beta"]
    run = SyncRun.objects.get()
    assert (run.projects_planned, run.projects_done) == (1, 1)


def test_project_option_repeats(populated, capsys):
    code = manage("sync", populated.url, "--in-process", "--project", "alpha", "--project", "gamma")

    assert code == 0
    assert populated.requested_projects() == {"alpha", "gamma"}


def test_project_option_syncs_even_an_unchanged_project(populated, capsys):
    assert manage("sync", populated.url, "--in-process") == 0
    populated.clear_requests()

    code = manage("sync", populated.url, "--in-process", "--project", "alpha")

    assert code == 0
    assert populated.requested_projects() == {"alpha"}
    assert not populated.requests(kind="file")


def test_project_option_does_not_move_the_upstreams_serial(populated, capsys):
    """A partial sync must not let the next full sync skip what it did not visit."""
    upstream_get_or_create_for_url(url=populated.url)  # known already, so it keeps no rules
    manage("sync", populated.url, "--in-process", "--project", "alpha")
    populated.clear_requests()

    assert manage("sync", populated.url, "--in-process") == 0

    assert populated.requested_projects() == {"beta", "gamma"}


def test_without_workers_the_sync_runs_in_process(populated, capsys):
    code = manage("sync", populated.url)

    assert code == 0
    assert Project.objects.count() == 3


class _Terminal(io.StringIO):
    """What a terminal is to Django's OutputWrapper: it styles only what goes to a TTY."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_is_not_in_the_error_style_but_failures_are(
    populated, monkeypatch
):
    populated.add_fault(Fault(status=502), project="beta", kind="simple")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", _Terminal())
    monkeypatch.setattr(sys, "stderr", terminal)

    code = manage("sync", populated.url, "--in-process")

    err = terminal.getvalue()
    opening = color_style(force_color=True).ERROR("|").split("|")[0]  # starts the error style
    assert code == 1
    assert "\r[" in err, err  # the bar, redrawn in place
    assert opening + "\r[" not in err, err
    assert not re.search(r"\r\[[^\r\x1b]*\x1b\[0m", err), err  # nor a reset after it
    assert opening + "  beta: " in err, err


# Named projects and the upstream's rules


@pytest.fixture
def eager_celery():
    """Tasks run where they are queued, as a worker would run them: the periodic sync, directly."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_named_projects_on_a_new_upstream_make_its_allow_list_for_its_periodic_sync_too(
    server, upstream, capsys, eager_celery
):
    for name in ("alpha", "beta", "gamma", "delta"):
        upstream.add_release(name, "1.0")
    upstream.write()

    code = manage("sync", server.url, "--in-process", "--project", "Alpha", "--project", "beta")

    assert code == 0, capsys.readouterr()
    row = Upstream.objects.get()
    assert row.rules == {"allow": ["alpha", "beta"]}
    assert set(Project.objects.values_list("normalized_name", flat=True)) == {"alpha", "beta"}
    upstream.add_release("alpha", "2.0")
    upstream.add_release("gamma", "2.0")
    upstream.add_release("epsilon", "1.0")
    upstream.write()
    server.clear_requests()

    run = SyncRun.objects.get(pk=sync_upstream(row.pk))

    assert (run.state, run.trigger) == ("succeeded", "schedule")
    assert server.requested_projects() == {"alpha", "beta"}
    assert set(Project.objects.values_list("normalized_name", flat=True)) == {"alpha", "beta"}
    assert Distribution.objects.filter(release__version="2.0").count() == 2  # alpha's wheel, sdist


def test_named_project_the_rules_exclude_is_reported_and_not_synced(populated, capsys):
    row = upstream_get_or_create_for_url(url=populated.url)
    Upstream.objects.filter(pk=row.pk).update(rules={"block": ["gamma"]})

    code = manage("sync", populated.url, "--in-process", "--project", "alpha", "--project", "gamma")

    captured = capsys.readouterr()
    assert code == 1
    assert f"gamma: excluded by the rules of {row.name}; not synced" in captured.err
    assert "1 project(s) not synced: the rules exclude them" in captured.err
    assert populated.requested_projects() == {"alpha"}
    assert Upstream.objects.get().rules == {"block": ["gamma"]}


def test_named_projects_on_a_known_upstream_change_no_rule(populated, capsys):
    row = upstream_get_or_create_for_url(url=populated.url)

    assert manage("sync", populated.url, "--in-process", "--project", "beta") == 0

    assert Upstream.objects.get(pk=row.pk).rules == {}


def test_rules_stored_without_checks_fail_the_sync_with_exit_2_naming_them(populated, capsys):
    row = upstream_get_or_create_for_url(url=populated.url)
    Upstream.objects.filter(pk=row.pk).update(rules={"latest": "many"})

    code = manage("sync", populated.url, "--in-process")

    assert code == 2
    assert "bad rules: latest: must be a whole number" in capsys.readouterr().err
    assert not Project.objects.exists()

"""Credentials in an upstream URL (``user:password@``, ``?token=``) are sent to the upstream
(it answers 401 without them) and shown nowhere: not in the upstream's name, the command's
output, the admin, the API, the periodic task, stored errors or log lines."""

import contextlib
import html
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from apps.catalog.models import Distribution, Project
from apps.replication.models import ProjectSyncState, SyncRun, Upstream
from apps.replication.schedules import TASK
from tests.support.upstream import Fault, UpstreamServer, WarehouseUpstream

from .test_sync_command import closed_port, manage

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = f"pw-{secrets.token_hex(8)}"
TOKEN = f"tok-{secrets.token_hex(8)}"
SECRETS = (PASSWORD, TOKEN, quote(PASSWORD), quote(TOKEN))


@contextlib.contextmanager
def _serve(tmp_path, **required) -> Iterator[UpstreamServer]:
    upstream = WarehouseUpstream(tmp_path / "upstream")
    for name in ("alpha", "beta"):
        upstream.add_release(name, "1.0")
    with UpstreamServer(upstream, **required) as server:
        yield server


@dataclass(frozen=True)
class Private:
    server: UpstreamServer
    url: str  # what the operator gives: the simple index URL, with its credentials
    stored: str  # the upstream's base URL, credentials kept


@pytest.fixture(params=["basic", "token"])
def private(request, tmp_path) -> Iterator[Private]:
    """A private index and the URL that reaches it: user:password, or a token in the query."""
    if request.param == "basic":
        with _serve(tmp_path, basic_auth=("mirror", PASSWORD)) as server:
            base = server.url.replace("://", f"://mirror:{PASSWORD}@")
            yield Private(server, f"{base}/simple/", base)
    else:
        with _serve(tmp_path, token=("token", TOKEN)) as server:
            query = f"?token={TOKEN}"
            yield Private(server, f"{server.url}/simple/{query}", f"{server.url}{query}")


def assert_no_secret(text: str | bytes, where: str) -> None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    for secret in SECRETS:
        assert secret not in text, f"a secret is shown in {where}"


def admin_pages(admin_client) -> dict[str, bytes]:
    pages = {
        "upstreams": reverse("admin:replication_upstream_changelist"),
        "runs": reverse("admin:replication_syncrun_changelist"),
        "states": reverse("admin:replication_projectsyncstate_changelist"),
        "periodic tasks": reverse("admin:django_celery_beat_periodictask_changelist"),
    }
    for upstream in Upstream.objects.all():
        pages[f"upstream {upstream.pk}"] = reverse(
            "admin:replication_upstream_change", args=[upstream.pk]
        )
    for run in SyncRun.objects.all():
        pages[f"run {run.pk}"] = reverse("admin:replication_syncrun_change", args=[run.pk])
    for task in PeriodicTask.objects.all():
        pages[f"task {task.pk}"] = reverse(
            "admin:django_celery_beat_periodictask_change", args=[task.pk]
        )
    shown = {}
    for where, url in pages.items():
        response = admin_client.get(url)
        assert response.status_code == 200, where
        shown[where] = response.content
    return shown


def test_credentials_are_used_and_never_shown(private, admin_client, client, capsys, caplog):
    server, url = private.server, private.url
    caplog.set_level(logging.DEBUG)

    code = manage("sync", url, "--in-process")

    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert "2 done, 0 failed" in captured.out
    assert Distribution.objects.count() == 4  # a wheel and an sdist each
    # Every request, files included, carried the credentials: none was refused.
    assert server.requests(kind="file") and not [r for r in server.requests() if r.status == 401]
    upstream = Upstream.objects.get()
    assert upstream.url == private.stored
    assert upstream.name == f"127-0-0-1-{server.url.rsplit(':', 1)[1]}"
    assert_no_secret(captured.out + captured.err, "the command's output")
    assert_no_secret(caplog.text, "the log")
    assert_no_secret(client.get("/api/v1/sync-runs/").content, "the API")
    run = SyncRun.objects.get()
    assert_no_secret(client.get(f"/api/v1/sync-runs/{run.pk}/").content, "the API")
    assert "***" in client.get("/api/v1/sync-runs/").json()["results"][0]["upstream_url"]
    for where, page in admin_pages(admin_client).items():
        assert_no_secret(page, f"the admin's {where} page")
    assert_no_secret(PeriodicTask.objects.get(task=TASK).description, "the periodic task")


def test_without_its_credentials_a_private_index_is_refused_and_nothing_saved(private, capsys):
    server = private.server

    code = manage("sync", f"{server.url}/simple/", "--in-process")

    assert code == 2
    assert "401" in capsys.readouterr().err
    assert not Upstream.objects.exists() and not PeriodicTask.objects.filter(task=TASK).exists()


def test_a_known_private_upstream_is_found_by_its_url_without_credentials(private, capsys):
    server, url = private.server, private.url
    assert manage("sync", url, "--in-process") == 0

    assert manage("sync", f"{server.url}/simple/", "--in-process") == 0

    assert Upstream.objects.count() == 1 and SyncRun.objects.count() == 2
    assert_no_secret(capsys.readouterr().out, "the command's output")


def test_other_credentials_for_a_known_upstream_are_refused(private, capsys):
    url = private.url
    assert manage("sync", url, "--in-process") == 0
    other = url.replace(PASSWORD, "other-password").replace(TOKEN, "other-token")

    assert manage("sync", other, "--in-process") == 2

    err = capsys.readouterr().err
    assert "other credentials" in err
    assert "other-password" not in err and "other-token" not in err
    assert Upstream.objects.get().url == private.stored


def test_errors_naming_a_file_url_with_credentials_are_stored_masked(tmp_path, capsys):
    """Pages whose file links carry the credentials themselves: a failing file's error names
    its URL, masked, in the run, the project's state and the command's output."""
    upstream = WarehouseUpstream(tmp_path / "upstream")
    upstream.add_release("alpha", "1.0")
    with UpstreamServer(upstream, basic_auth=("mirror", PASSWORD)) as server:
        upstream.base_url = server.url.replace("://", f"://mirror:{PASSWORD}@")
        upstream.write()
        server.add_fault(Fault(reset=True), kind="file")

        code = manage("sync", server.url.replace("://", f"://mirror:{PASSWORD}@"), "--in-process")

    captured = capsys.readouterr()
    assert code == 1
    [error] = SyncRun.objects.get().errors
    assert "http://***@127.0.0.1" in error["error"]
    assert_no_secret(str(error), "the run's errors")
    assert_no_secret(ProjectSyncState.objects.get().last_error, "the project's last error")
    assert_no_secret(captured.out + captured.err, "the command's output")


class TestAdmin:
    def test_adding_a_private_upstream_contacts_it_and_shows_its_url_masked(
        self, private, admin_client
    ):
        url = private.url
        response = admin_client.post(
            reverse("admin:replication_upstream_add"),
            {"name": "private", "url": url, "enabled": "on"},
        )
        assert response.status_code == 302
        upstream = Upstream.objects.get()
        assert upstream.url == url and upstream.protocol == Upstream.Protocol.PYPI_JSON
        assert PeriodicTask.objects.get(task=TASK).enabled
        page = admin_client.get(reverse("admin:replication_upstream_change", args=[upstream.pk]))
        assert_no_secret(page.content, "the change page")
        assert b"***" in page.content

    def test_saving_the_masked_url_unchanged_keeps_the_secret(self, private, admin_client):
        server, url = private.server, private.url
        admin_client.post(
            reverse("admin:replication_upstream_add"),
            {"name": "private", "url": url, "enabled": "on"},
        )
        upstream = Upstream.objects.get()
        change = reverse("admin:replication_upstream_change", args=[upstream.pk])
        page = admin_client.get(change).content.decode()
        shown = html.unescape(re.search(r'name="url" value="([^"]*)"', page)[1])
        assert "***" in shown
        server.stop()  # a URL kept as it was is not contacted again

        response = admin_client.post(change, {"name": "renamed", "url": shown})

        assert response.status_code == 302
        upstream.refresh_from_db()
        assert (upstream.name, upstream.url, upstream.enabled) == ("renamed", url, False)

    def test_a_new_url_replaces_the_stored_one_once_it_answers(self, private, admin_client):
        url = private.url
        admin_client.post(
            reverse("admin:replication_upstream_add"),
            {"name": "private", "url": url, "enabled": "on"},
        )
        upstream = Upstream.objects.get()
        change = reverse("admin:replication_upstream_change", args=[upstream.pk])
        wrong = url.replace(PASSWORD, "wrong-password").replace(TOKEN, "wrong-token")

        refused = admin_client.post(change, {"name": "private", "url": wrong, "enabled": "on"})
        upstream.refresh_from_db()
        assert refused.status_code == 200 and upstream.url == url
        assert b"cannot be used as an upstream" in refused.content
        assert b"wrong-password" not in refused.content and b"wrong-token" not in refused.content

        moved = url.replace("/simple/", "/")
        response = admin_client.post(change, {"name": "private", "url": moved, "enabled": "on"})
        assert response.status_code == 302
        upstream.refresh_from_db()
        assert upstream.url == moved

    def test_adding_an_upstream_that_cannot_be_used_saves_nothing(self, admin_client):
        response = admin_client.post(
            reverse("admin:replication_upstream_add"),
            {
                "name": "nowhere",
                "url": f"http://mirror:{PASSWORD}@127.0.0.1:{closed_port()}/simple/",
                "enabled": "on",
            },
        )

        assert response.status_code == 200
        assert b"cannot be used as an upstream" in response.content
        assert_no_secret(response.content, "the form's error page")
        assert not Upstream.objects.exists() and not PeriodicTask.objects.filter(task=TASK).exists()
        assert not Project.objects.exists()


def test_the_client_sends_credentials_to_the_upstreams_origin_only(tmp_path):
    """Pages and files (both paths: httpx and the direct file getter) on the upstream's host
    get the credentials; another host gets none, and no response's URL shows them."""
    from apps.replication.clients.http import fetch_document, file_stream, make_http_client
    from apps.replication.redaction import credentials_from_url
    from tests.support.upstream.render import file_url

    with (
        _serve(tmp_path / "private", basic_auth=("mirror", PASSWORD), token=("t", TOKEN)) as ours,
        _serve(tmp_path / "elsewhere") as other,
    ):
        url = ours.url.replace("://", f"://mirror:{PASSWORD}@") + f"/simple/?t={TOKEN}"
        files = [
            file_url(server.url, server.upstream.project("alpha").files()[0][1])
            for server in (ours, other)
        ]
        with make_http_client(credentials=credentials_from_url(url)) as http:
            response, _body = fetch_document(http, ours.index_url)
            assert response.status_code == 200
            assert_no_secret(str(response.url), "the response's URL")
            assert fetch_document(http, other.index_url)[0].status_code == 200
            for getter in (http.files, None):
                http.files = getter  # the direct path, then httpx's
                for file_url in files:
                    with file_stream(http, file_url, headers={}) as streamed:
                        assert streamed.status_code == 200, file_url
    assert ours.requests() and all(r.status == 200 for r in ours.requests())
    for request in other.requests():
        assert "Authorization" not in request.headers and TOKEN not in request.query


def test_staff_who_may_only_view_an_upstream_see_its_url_masked(private, client):
    from django.contrib.auth.models import Permission, User

    url = private.url
    upstream = Upstream.objects.create(name="private", url=url)
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_upstream"))
    client.force_login(viewer)

    page = client.get(reverse("admin:replication_upstream_change", args=[upstream.pk]))

    assert page.status_code == 200
    assert b"***" in page.content
    assert_no_secret(page.content, "the view-only page")
    assert_no_secret(
        client.get(reverse("admin:replication_upstream_changelist")).content, "the changelist"
    )

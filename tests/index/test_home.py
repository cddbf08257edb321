"""``/``: what the node is, its upstreams' progress, and copy-pasteable client settings."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.replication.models import SyncRun, Upstream
from tests.support.dists import DistSpec

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def page(client, **headers) -> str:
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def run(upstream, state, *, minutes_ago, serial_to=None, finished=True) -> SyncRun:
    when = timezone.now() - timedelta(minutes=minutes_ago)
    created = SyncRun.objects.create(
        upstream=upstream, trigger="schedule", state=state, serial_to=serial_to
    )
    SyncRun.objects.filter(pk=created.pk).update(
        started=when - timedelta(seconds=30), finished=when if finished else None
    )
    return created


def test_a_node_without_upstreams_says_what_it_serves(client, publish):
    publish(DistSpec("foo", "1.0"), DistSpec("bar", "1.0"))
    text = page(client)
    assert "pypimirror at http://testserver" in text
    assert "Projects 2" in text
    assert "Files 4" in text
    assert "follows no upstream" in text


def test_instructions_use_the_nodes_base_url(client, settings):
    settings.PYPIMIRROR_BASE_URL = "https://mirror.example.org"
    text = page(client)
    assert "pip install --index-url https://mirror.example.org/simple/ NAME" in text
    assert "index-url = https://mirror.example.org/simple/" in text
    assert "uv pip install --index-url https://mirror.example.org/simple/ NAME" in text
    assert "uv add --default-index https://mirror.example.org/simple/ NAME" in text
    assert "UV_DEFAULT_INDEX=https://mirror.example.org/simple/" in text
    assert "master = https://mirror.example.org" in text
    assert "trusted-host" not in text
    assert "allow-non-https" not in text


def test_plain_http_on_another_host_adds_what_pip_and_bandersnatch_need(client, settings):
    settings.ALLOWED_HOSTS = ["mirror.lan"]
    text = page(client, Host="mirror.lan:8080")
    assert (
        "pip install --index-url http://mirror.lan:8080/simple/ --trusted-host mirror.lan" in text
    )
    assert "trusted-host = mirror.lan" in text
    assert "PIP_TRUSTED_HOST=mirror.lan" in text
    assert "master = http://mirror.lan:8080 allow-non-https = true" in text


def test_plain_http_on_loopback_needs_no_trusted_host(client):
    text = page(client, Host="127.0.0.1:8000")
    assert "pip install --index-url http://127.0.0.1:8000/simple/ NAME" in text
    assert "trusted-host" not in text
    assert "allow-non-https = true" in text


def test_upstreams_show_name_protocol_last_run_lag_and_serials_but_never_the_url(client):
    pypi = Upstream.objects.create(
        name="pypi",
        url="https://mirror-user:s3cr3t@pypi.example.org/",
        protocol=Upstream.Protocol.PYPI_JSON,
        last_serial=120,
    )
    run(pypi, SyncRun.State.SUCCEEDED, minutes_ago=90, serial_to=100)
    run(pypi, SyncRun.State.FAILED, minutes_ago=5, serial_to=120)
    Upstream.objects.create(name="devpi", url="http://10.0.0.9/simple/", enabled=False)
    text = page(client)
    assert "pypi PyPI JSON (per-project serials) Failed , started 5 minutes ago" in text
    assert "1 hour, 30 minutes ago (lag)" in text
    assert "reached 100 of 120: 20 behind" in text
    assert "devpi (disabled) not yet detected never never not known" in text
    html = client.get("/").content.decode()
    for secret in ("s3cr3t", "mirror-user", "pypi.example.org", "10.0.0.9"):
        assert secret not in html


def test_an_upstream_in_step_is_up_to_date(client):
    upstream = Upstream.objects.create(
        name="pypi", url="https://pypi.org/", protocol="pypi-json", last_serial=7
    )
    run(upstream, SyncRun.State.SUCCEEDED, minutes_ago=1, serial_to=7)
    run(upstream, SyncRun.State.RUNNING, minutes_ago=0, serial_to=None, finished=False)
    text = page(client)
    assert "Running , started" in text
    assert "reached 7 of 7: up to date" in text


def test_upstreams_cost_the_same_queries_however_many(client, django_assert_num_queries):
    def add(name):
        upstream = Upstream.objects.create(name=name, url=f"https://{name}.example/")
        run(upstream, SyncRun.State.SUCCEEDED, minutes_ago=3, serial_to=1)

    add("one")
    page(client)  # counts the catalog once; it is cached from then on
    with django_assert_num_queries(3):  # the serial, the upstreams, their runs
        page(client)
    add("two")
    add("three")
    with django_assert_num_queries(3):
        assert page(client).count("3 minutes ago (lag)") == 3


def test_catalog_counts_are_cached(client, publish):
    publish(DistSpec("foo", "1.0"))
    assert "Projects 1" in page(client)
    publish(DistSpec("bar", "1.0"))
    assert "Projects 1" in page(client)
    cache.clear()
    assert "Projects 2" in page(client)


def test_every_link_on_the_page_answers(client, admin_client):
    hrefs = re.findall(r'href="([^"]+)"', client.get("/").content.decode())
    assert {"/simple/", "/last-modified", "/healthz", "/readyz", "/admin/"} <= set(hrefs)
    for href in hrefs:
        assert admin_client.get(href).status_code in (200, 404), href  # 404: nothing published


def test_the_admins_view_site_link_leads_here(admin_client):
    admin = admin_client.get("/admin/").content.decode()
    assert re.search(r'<a href="/">\s*View site\s*</a>', admin)
    assert admin_client.get("/").status_code == 200

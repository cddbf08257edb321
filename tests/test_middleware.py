"""pypimirror/middleware.py: a NUL in the path, query or cookies is a 400 saying so, on
PostgreSQL, whose text cannot hold one (without the middleware, these were 500s)."""

import pytest

from apps.replication.models import SyncRun, Upstream

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("/simple/a%00b/", "URL path"),
        ("/pypi/%00/json", "URL path"),
        ("/integrity/demo/1.0/a%00b/provenance", "URL path"),
        ("/admin/catalog/project/%00/change/", "URL path"),
        ("/api/v1/sync-runs/?state=%00", "query parameter 'state'"),
        ("/api/v1/sync-runs/?%00=1", "query parameter '\\x00'"),
        ("/simple/?format=%00", "query parameter 'format'"),
        ("/admin/?q=%00", "query parameter 'q'"),
    ],
)
def test_nul_in_path_or_query_is_400_saying_where(client, url, said):
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert f"{said} holds a NUL character" in response.content.decode()


def test_nul_in_a_session_cookie_is_400_not_a_database_error(client):
    # A quoted cookie value spells NUL as \000; the session store would look it up.
    response = client.get("/api/v1/sync-runs/", HTTP_COOKIE='sessionid="aaaaaaaaaa\\000"')
    assert response.status_code == 400
    assert "cookie 'sessionid' holds a NUL character" in response.content.decode()


def test_requests_without_nul_pass_untouched(client):
    upstream = Upstream.objects.create(name="up", url="https://example.org")
    SyncRun.objects.create(upstream=upstream, trigger="command", state="running")
    response = client.get("/api/v1/sync-runs/?state=running", HTTP_COOKIE="sessionid=abcdefghij")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_nul_in_a_cookie_the_node_never_looks_up_is_let_be(client):
    response = client.get("/api/v1/sync-runs/", HTTP_COOKIE='other="a\\000"')
    assert response.status_code == 200

"""apps/index/inputs.py and the index views' own defences: text no catalog row can hold is
"not found" without a query, even with pypimirror's NUL middleware taken out."""

import pytest

from apps.index.inputs import MAX_NAME_LENGTH, MAX_VERSION_LENGTH, project_name_ok, version_ok
from tests.support.dists import DistSpec

pytestmark = pytest.mark.django_db

MIDDLEWARE = "pypimirror.middleware.ClientInputMiddleware"


@pytest.fixture
def bare_views(settings):
    """The views as they are without the middleware that refuses NUL for them."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]


def test_text_a_column_can_hold_is_ok():
    assert project_name_ok("a" * MAX_NAME_LENGTH)
    assert version_ok("1" * MAX_VERSION_LENGTH)


@pytest.mark.parametrize("text", ["", "a\x00b", "\x00", "a" * 256])
def test_empty_overlong_or_nul_text_is_not(text):
    assert not project_name_ok(text)
    assert not version_ok(text)


@pytest.mark.parametrize(
    "url",
    [
        "/simple/a%00b/",
        "/pypi/%00/json",
        "/pypi/demo/1.0%00/json",
        "/pypi/demo/" + "1" * 5000 + "/json",  # issue 12: packaging raised ValueError
        "/pypi/demo/" + "9" * 300 + "/json",
        "/pypi/" + "a" * 300 + "/json",
        "/integrity/demo/1.0/a%00b/provenance",
        "/integrity/d%00emo/1.0/demo-1.0.tar.gz/provenance",
        "/integrity/demo/1.0%00/demo-1.0.tar.gz/provenance",
        "/packages/ab/cd/" + "e" * 60 + "/a%00b",
    ],
)
def test_views_answer_404_to_text_no_row_can_hold(client, publish, bare_views, url):
    client.raise_request_exception = False
    publish(DistSpec("demo", "1.0"))
    assert client.get(url).status_code == 404


def test_a_long_spelling_of_a_short_name_still_finds_the_project(client, publish):
    publish(DistSpec("demo-x", "1.0"))
    response = client.get("/pypi/demo" + "_" * 300 + "x/json")
    assert response.status_code == 200
    assert response.json()["info"]["name"] == "demo-x"

"""The one conditional-answer helper every index view uses (304 and HEAD)."""

from datetime import UTC, datetime

from django.test import RequestFactory
from django.utils.http import http_date

from apps.index.caching import head_response, not_modified

ETAG = '"abc"'
CHANGED = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
HEADERS = {"ETag": ETAG, "X-PyPI-Last-Serial": "7"}


def request(**headers):
    return RequestFactory().get("/", headers=headers)


def test_a_matching_etag_gets_304_carrying_the_200s_headers():
    response = not_modified(request(**{"If-None-Match": f'"x", {ETAG}'}), HEADERS)
    assert response.status_code == 304
    assert response["ETag"] == ETAG
    assert response["X-PyPI-Last-Serial"] == "7"
    assert response["Vary"] == "Accept-Encoding"


def test_another_etag_or_none_gets_no_304():
    assert not_modified(request(**{"If-None-Match": '"x"'}), HEADERS) is None
    assert not_modified(request(), HEADERS) is None


def test_a_weak_etag_from_a_gzipped_answer_is_echoed_weak():
    response = not_modified(request(**{"If-None-Match": f"W/{ETAG}"}), HEADERS)
    assert response["ETag"] == f"W/{ETAG}"


def test_an_uncompressible_answer_echoes_its_strong_etag_and_no_vary():
    response = not_modified(request(**{"If-None-Match": f"W/{ETAG}"}), HEADERS, compressible=False)
    assert response["ETag"] == ETAG
    assert "Vary" not in response


def test_if_modified_since_counts_only_without_if_none_match():
    since = http_date(CHANGED.timestamp())
    assert not_modified(request(**{"If-Modified-Since": since}), HEADERS, last_modified=CHANGED)
    assert not_modified(request(**{"If-Modified-Since": since}), HEADERS) is None
    both = request(**{"If-Modified-Since": since, "If-None-Match": '"x"'})
    assert not_modified(both, HEADERS, last_modified=CHANGED) is None
    earlier = http_date(CHANGED.timestamp() - 1)
    assert (
        not_modified(request(**{"If-Modified-Since": earlier}), HEADERS, last_modified=CHANGED)
        is None
    )


def test_head_response_has_the_headers_and_no_body():
    response = head_response(HEADERS, content_type="text/plain", length=12)
    assert response["Content-Length"] == "12"
    assert response["Content-Type"] == "text/plain"
    assert response["ETag"] == ETAG
    assert b"".join(response.streaming_content) == b""
    assert "Content-Length" not in head_response(HEADERS, content_type="text/plain", length=None)

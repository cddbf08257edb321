"""What a probed mirror serves, read: stamps, serials, pages, and hostile input of every kind."""

from datetime import UTC, datetime

import pytest

from apps.network.probe_parsing import (
    Unreadable,
    parse_last_modified,
    parse_project_page,
    parse_serial,
    root_serial_from_head,
    serial_from_comment,
)

NOON = datetime(2024, 1, 2, 12, 0, 0, tzinfo=UTC)
SHA = "a" * 64
PAGE_URL = "https://mirror.example.org/simple/alpha/"


@pytest.mark.parametrize(
    "body",
    [
        b"20240102T12:00:00\n",  # bandersnatch and this project
        b"2024-01-02T12:00:00",
        b"2024-01-02T12:00:00Z",
        b"2024-01-02T13:00:00+01:00\r\n",
        b"  2024-01-02 12:00:00  ",
        b"20240102T120000Z",
    ],
)
def test_last_modified_in_bandersnatchs_format_and_iso_8601(body):
    assert parse_last_modified(body) == NOON


def test_last_modified_with_fractions_keeps_them():
    assert parse_last_modified(b"2024-01-02T12:00:00.500000Z").microsecond == 500000


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"", "not a time"),
        (b"yesterday", "not a time"),
        (b"2024-13-45T99:00:00", "not a time"),
        (b"\xff\xfe2024\x00", "not ASCII"),
        (b"<html><body>It works!</body></html>", "not a time"),
        (b"2" * 10_000, "not a time stamp"),
        (b"20240102T12:00:00\x00\x00", "not a time"),
    ],
)
def test_hostile_last_modified_is_a_clear_finding(body, said):
    with pytest.raises(Unreadable, match=said) as caught:
        parse_last_modified(body)
    assert len(str(caught.value)) < 200


def test_serials_as_int_or_bandersnatchs_string():
    assert parse_serial(42) == 42
    assert parse_serial("42") == 42


@pytest.mark.parametrize("value", [-1, True, 1.5, "4 2", "x", "", None, "9" * 40, 10**30, "٣"])
def test_bad_serials_are_unreadable(value):
    with pytest.raises(Unreadable):
        parse_serial(value)


def test_serial_comment_ends_the_page():
    page = b"<html><body><a href='x'>x</a></body></html>\n<!--SERIAL 1234-->\n"
    assert serial_from_comment(page) == 1234
    assert serial_from_comment(b"<!-- SERIAL 7 -->") == 7
    assert serial_from_comment(b"<html></html>") is None


def test_hostile_serial_comments():
    assert serial_from_comment(b"<!--SERIAL -5-->") is None
    assert serial_from_comment(b"\xff" * 100_000 + b"<!--SERIAL 9-->") == 9
    # Only the page's end is read: a comment buried under megabytes is not looked for.
    assert serial_from_comment(b"<!--SERIAL 9-->" + b" " * 1_000_000) is None
    with pytest.raises(Unreadable):
        serial_from_comment(b"<!--SERIAL 99999999999999999999-->")


def test_root_serial_from_the_head_of_the_json_root():
    assert root_serial_from_head(b'{"meta": {"_last-serial": 12, "api-version": "1.1"}, "pro') == 12
    # bandersnatch: a string (one run behind; what it says, not its lag)
    assert (
        root_serial_from_head(b'{"meta":{"api-version":"1.1","_last-serial":"0"},"projects"') == 0
    )
    assert root_serial_from_head(b'{"projects": [], "meta": {"api-version": "1.0"}}') is None
    assert root_serial_from_head(b"<html>no json</html>") is None


@pytest.mark.parametrize(
    "head",
    [
        b'{"meta": {"_last-serial": "many"}}',
        b'{"meta": {"_last-serial": [1, 2]}}',
        b'{"meta": {"_last-serial": 1e400}}',
        b'{"meta": {"_last-serial": \xff\xfe}}',
    ],
)
def test_hostile_root_serials_are_unreadable(head):
    with pytest.raises(Unreadable):
        root_serial_from_head(head)


def test_html_project_page():
    body = (
        f'<html><body><a href="../../packages/ab/alpha-1.0.tar.gz#sha256={SHA}">a</a>'
        '<a href="https://files.example.org/alpha-1.0-py3-none-any.whl">b</a>'
        "</body></html>\n<!--SERIAL 77-->"
    ).encode()
    page = parse_project_page(body, content_type="text/html", page_url=PAGE_URL)
    sdist = page.files["alpha-1.0.tar.gz"]
    assert sdist.url == "https://mirror.example.org/packages/ab/alpha-1.0.tar.gz"
    assert sdist.sha256 == SHA
    assert page.files["alpha-1.0-py3-none-any.whl"].sha256 is None
    assert (page.serial, page.complete) == (77, True)


def test_json_project_page():
    body = (
        b'{"meta": {"_last-serial": 5}, "name": "alpha", "files": [{"filename": "alpha-1.0.tar.gz",'
        b' "url": "/packages/alpha-1.0.tar.gz", "hashes": {"sha256": "' + SHA.encode() + b'"}}]}'
    )
    page = parse_project_page(
        body, content_type="application/vnd.pypi.simple.v1+json", page_url=PAGE_URL
    )
    assert (
        page.files["alpha-1.0.tar.gz"].url == "https://mirror.example.org/packages/alpha-1.0.tar.gz"
    )
    assert page.serial == 5


def test_blank_and_cut_pages_are_told_apart():
    blank = parse_project_page(b"", content_type="text/html", page_url=PAGE_URL)
    assert (blank.files, blank.complete) == ({}, False)
    cut = parse_project_page(
        b'<html><body><a href="/p/alpha-1.0.tar.gz">a</a><a hr', content_type="text/html",
        page_url=PAGE_URL,
    )  # fmt: skip
    assert list(cut.files) == ["alpha-1.0.tar.gz"]
    assert not cut.complete


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"files": [{"filename": "x"}]}', "application/vnd.pypi.simple.v1+json"),
        (b'{"files": "none"}', "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"files": [', "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
    ],
)
def test_hostile_json_pages_are_unreadable(body, content_type):
    with pytest.raises(Unreadable):
        parse_project_page(body, content_type=content_type, page_url=PAGE_URL)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00\x80 <a href='\xff.tar.gz'>x</a>",
        b"<a href='../../../../etc/passwd'>x</a><a href='/'>y</a><a href='..'>z</a>",
        b"<a href=" + b"x" * 1_000_000 + b">",
        b"<" * 100_000,
        b"<a href='javascript:alert(1)'>x</a><![CDATA[",
    ],
)
def test_hostile_html_pages_never_raise_anything_but_unreadable(body):
    try:
        page = parse_project_page(body, content_type="text/html", page_url=PAGE_URL)
    except Unreadable:
        return
    assert all("/" not in name for name in page.files)

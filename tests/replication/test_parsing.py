import pytest

from apps.replication.clients.base import UpstreamError, project_listing
from apps.replication.clients.detect import split_upstream_url
from apps.replication.clients.parsing import (
    file_facts,
    file_from_anchor,
    html_anchors,
    metadata_sha256,
    parse_time,
)
from apps.replication.clients.pypi_json import file_from_jsonapi, parse_json_root

H = "a" * 64


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://pypi.org", ("https://pypi.org", "https://pypi.org/simple/")),
        ("https://pypi.org/", ("https://pypi.org", "https://pypi.org/simple/")),
        ("http://h:8080/simple/", ("http://h:8080", "http://h:8080/simple/")),
        ("http://h:8080/simple", ("http://h:8080", "http://h:8080/simple/")),
        ("http://h/root/pypi/simple/", ("http://h/root/pypi", "http://h/root/pypi/simple/")),
    ],
)
def test_both_url_forms_give_the_same_upstream(url, expected):
    assert split_upstream_url(url) == expected


@pytest.mark.parametrize(
    ("filename", "facts"),
    [
        ("foo-1.0-py3-none-any.whl", ("1.0", "bdist_wheel", "py3")),
        ("foo-1.0.tar.gz", ("1.0", "sdist", "source")),
        ("foo_bar-2004d.tar.gz", ("2004d", "sdist", "source")),
        ("foo-1.0.tar.bz2", ("1.0", "sdist", "source")),
        ("foo-0.5-py2.7.egg", ("0.5", "bdist_egg", "2.7")),
        ("foo-1.0.win32.exe", ("1.0", "bdist_wininst", "any")),
        ("oldie-0.5.win32-py2.7.exe", ("0.5", "bdist_wininst", "2.7")),
        ("foo-1.0.win-amd64-py3.9.msi", ("1.0", "bdist_msi", "3.9")),
        ("setup.exe", (None, "bdist_wininst", None)),
    ],
)
def test_file_facts_read_real_pypi_filenames(filename, facts):
    assert file_facts(filename) == facts


def test_anchor_gives_hash_yank_metadata_and_requires_python():
    body = (
        b'<a href="../../packages/x/foo-1.0.tar.gz#sha256=' + H.encode() + b'" '
        b'data-requires-python="&gt;=3.6," data-yanked="" '
        b'data-core-metadata="sha256=' + H.encode() + b'">foo-1.0.tar.gz</a>'
    )
    [(attrs, text)] = html_anchors(body)
    remote = file_from_anchor(attrs, text, "http://up/simple/foo/")
    assert remote.url == "http://up/packages/x/foo-1.0.tar.gz"
    assert (remote.sha256, remote.requires_python, remote.yanked) == (H, ">=3.6,", "")
    assert remote.core_metadata_sha256 == H


def test_anchor_without_sha256_is_refused():
    [(attrs, text)] = html_anchors(b'<a href="/p/foo-1.0.tar.gz#md5=abc">foo-1.0.tar.gz</a>')
    with pytest.raises(UpstreamError, match="no valid sha256"):
        file_from_anchor(attrs, text, "http://up/simple/foo/")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), (False, None), (True, ""), ({"sha256": H}, H), ({"sha256": "bad"}, "")],
)
def test_core_metadata_values(value, expected):
    assert metadata_sha256(value) == expected


def test_json_api_file_keeps_odd_values_verbatim():
    entry = {
        "filename": "foo-2004d.tar.gz",
        "url": "/packages/aa/foo-2004d.tar.gz",
        "digests": {"sha256": H.upper()},
        "size": 10,
        "packagetype": "sdist",
        "python_version": "source",
        "requires_python": ">= '2.7'",
        "upload_time_iso_8601": "2010-01-01T00:00:00.000000Z",
        "yanked": True,
        "yanked_reason": None,
    }
    remote = file_from_jsonapi(entry, "2004d", "http://up/pypi/foo/json")
    assert remote.url == "http://up/packages/aa/foo-2004d.tar.gz"
    assert (remote.sha256, remote.version, remote.requires_python) == (H, "2004d", ">= '2.7'")
    assert remote.yanked == ""
    assert remote.upload_time.year == 2010


def test_json_root_reads_per_project_serials():
    body = b'{"meta": {"_last-serial": 9}, "projects": [{"name": "Foo.Bar", "_last-serial": 7}]}'
    listing = parse_json_root("http://up/simple/", body)
    assert listing.serial == 9
    assert listing.projects == {"foo-bar": ("Foo.Bar", 7)}


def test_json_root_keeps_entries_without_serial_and_leaves_out_those_without_name():
    body = (
        b'{"meta": {"_last-serial": 9}, "projects": [{"name": "a", "_last-serial": 1}, '
        b'{"name": "B_c", "_last-serial": "2"}, {"_last-serial": 3}, ["d"], {"name": 4}]}'
    )
    listing = parse_json_root("http://up/simple/", body)
    assert listing.projects == {"a": ("a", 1), "b-c": ("B_c", None)}
    assert listing.serial == 9
    assert not listing.every_serial_known


def test_listing_keeps_the_last_spelling_of_a_name_and_an_already_normalized_name_once():
    listing = project_listing([("Foo.Bar", 7), ("baz", 8), ("foo_bar", 9)], serial=9)
    assert listing.every_serial_known
    assert listing.projects == {"foo-bar": ("foo_bar", 9), "baz": ("baz", 8)}
    [(key, (name, _serial))] = [(k, v) for k, v in listing.projects.items() if k == "baz"]
    assert key is name


@pytest.mark.parametrize(
    "body, serial",
    [
        (b'{"projects": [{"name": "a", "_last-serial": 1}], "meta": {"_last-serial": 4}}', 4),
        (b'{"projects": [{"name": "a", "_last-serial": 1}]}', None),
        (b'{"meta": {"_last-serial": true}, "projects": [{"name": "a", "_last-serial": 1}]}', None),
    ],
    ids=["meta after projects", "no meta", "boolean serial"],
)
def test_json_root_serial_wherever_meta_stands(body, serial):
    listing = parse_json_root("http://up/simple/", body)
    assert (listing.serial, listing.projects) == (serial, {"a": ("a", 1)})


@pytest.mark.parametrize(
    "body",
    [b'["a"]', b'{"projects": [{"name": "a"}', b'{"projects": [{"name": "\xff"}]}', b""],
    ids=["a list", "cut short", "not UTF-8", "empty"],
)
def test_a_json_root_that_is_not_one_is_an_upstream_error(body):
    with pytest.raises(UpstreamError):
        parse_json_root("http://up/simple/", body)


def test_malformed_json_root_is_an_upstream_error():
    with pytest.raises(UpstreamError, match="malformed JSON"):
        parse_json_root("http://up/simple/", b"{not json")


def test_time_without_zone_is_utc():
    assert parse_time("2020-01-01T00:00:00").tzinfo is not None
    assert parse_time("garbage") is None

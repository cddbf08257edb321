"""PEP 740 provenance and PEP 792 project status, as the clients read them from both formats."""

import pytest

from apps.replication.clients.base import UpstreamError
from apps.replication.clients.parsing import (
    file_from_691,
    file_from_anchor,
    html_page,
    html_project_status,
    json_project_status,
    parse_691_page,
)

H = "a" * 64
PAGE = "http://up/simple/foo/"


def test_json_page_gives_status_reason_and_provenance():
    data = {
        "project-status": {"status": "deprecated", "reason": "use bar"},
        "versions": ["1.0"],
        "files": [
            {
                "filename": "foo-1.0.tar.gz",
                "url": "../../packages/foo-1.0.tar.gz",
                "hashes": {"sha256": H},
                "provenance": "/integrity/foo/1.0/foo-1.0.tar.gz/provenance",
            },
            {"filename": "foo-1.0-py3-none-any.whl", "url": "x.whl", "hashes": {"sha256": H}},
        ],
    }
    files, versions, status, reason = parse_691_page(data, PAGE)
    assert (status, reason, versions) == ("deprecated", "use bar", ["1.0"])
    assert files[0].provenance_url == "http://up/integrity/foo/1.0/foo-1.0.tar.gz/provenance"
    assert files[1].provenance_url is None


def test_a_page_without_status_is_active():
    assert json_project_status({}, PAGE) == ("active", "")
    assert html_project_status({}, PAGE) == ("active", "")
    assert json_project_status({"project-status": {"status": "archived"}}, PAGE) == (
        "archived",
        "",
    )


@pytest.mark.parametrize("value", [{"status": "gone-fishing"}, {"status": 3}, "archived", []])
def test_an_unknown_or_malformed_status_is_refused(value):
    with pytest.raises(UpstreamError, match="status"):
        json_project_status({"project-status": value}, PAGE)


def test_null_provenance_is_none():
    entry = {"filename": "foo-1.0.tar.gz", "url": "f", "hashes": {"sha256": H}, "provenance": None}
    assert file_from_691(entry, PAGE).provenance_url is None


def test_html_page_gives_status_meta_and_data_provenance():
    body = (
        b'<html><head><meta name="pypi:repository-version" content="1.4">'
        b'<meta name="pypi:project-status" content="quarantined">'
        b'<meta name="pypi:project-status-reason" content="malware &amp; more">'
        b'</head><body><a href="/packages/foo-1.0.tar.gz#sha256=' + H.encode() + b'" '
        b'data-provenance="/integrity/foo/1.0/foo-1.0.tar.gz/provenance">foo-1.0.tar.gz</a>'
        b"</body></html>"
    )
    anchors, meta = html_page(body)
    assert meta["pypi:repository-version"] == "1.4"
    assert html_project_status(meta, PAGE) == ("quarantined", "malware & more")
    [(attrs, text)] = anchors
    remote = file_from_anchor(attrs, text, PAGE)
    assert remote.provenance_url == "http://up/integrity/foo/1.0/foo-1.0.tar.gz/provenance"


def test_html_unknown_status_is_refused():
    _anchors, meta = html_page(b'<meta name="pypi:project-status" content="Archived">')
    with pytest.raises(UpstreamError, match="unknown project status"):
        html_project_status(meta, PAGE)

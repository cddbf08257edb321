"""The documents' pieces join into exactly what a whole rendering gives: json.dumps of the PEP 691
document, xmlrpc.client's marshalling of {name: serial}, PEP 503 HTML."""

import json
import xmlrpc.client
from html import escape

import pytest

from apps.index.documents.formats import (
    FORMATS,
    HTML,
    JSON,
    XMLRPC,
    document_entries,
    document_head,
    document_render,
    document_tail,
)

ROWS = [
    ("A.B_c", "a-b-c", 7),
    ('Quote"<&>', "quote", 12),
    ("ünïcode-名前", "ünïcode-名前", 3),
    ("ctrl\x01char", "ctrlchar", 9),
    ("plain", "plain", 123456789),
]


def reference(fmt: str, rows, *, serial: int) -> bytes:
    """Each document as a whole, rendered the plain way."""
    if fmt == JSON:
        document = {
            "meta": {"api-version": "1.4", "_last-serial": serial},
            "projects": [{"name": name, "_last-serial": s} for name, _, s in rows],
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    if fmt == XMLRPC:
        # XML 1.0 cannot carry a control character: it is left out
        packages = {name.replace("\x01", ""): s for name, _, s in rows}
        return xmlrpc.client.dumps((packages,), methodresponse=True, allow_none=True).encode()
    anchors = "".join(
        f'    <a href="{escape(n)}/">{escape(name)}</a><br />\n' for name, n, _ in rows
    )
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        '    <meta name="pypi:repository-version" content="1.4">\n'
        "    <title>Simple index</title>\n  </head>\n  <body>\n"
        f"{anchors}  </body>\n</html>\n<!--SERIAL {serial}-->\n"
    ).encode()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("count", [0, 1, len(ROWS)])
def test_a_whole_rendering_is_the_plain_document(fmt, count):
    rows = ROWS[:count]
    assert document_render(fmt, rows, serial=42) == reference(fmt, rows, serial=42)


@pytest.mark.parametrize("fmt", FORMATS)
def test_runs_rendered_apart_join_into_the_whole(fmt):
    runs = [ROWS[:2], ROWS[2:3], ROWS[3:]]
    joined = document_head(fmt, serial=5)
    for index, run in enumerate(runs):
        joined += document_entries(fmt, run, first=index == 0)
    joined += document_tail(fmt, serial=5)
    assert joined == reference(fmt, ROWS, serial=5)


def test_only_json_runs_after_the_first_start_with_a_comma():
    assert document_entries(JSON, ROWS[:1], first=False).startswith(b",{")
    assert document_entries(JSON, ROWS[:1], first=True).startswith(b"{")
    assert document_entries(JSON, [], first=False) == b""
    assert document_entries(HTML, ROWS[:1], first=False) == document_entries(
        HTML, ROWS[:1], first=True
    )


def test_the_documents_are_well_formed():
    assert json.loads(document_render(JSON, ROWS, serial=1))["projects"][1]["name"] == 'Quote"<&>'
    (packages,), _ = xmlrpc.client.loads(document_render(XMLRPC, ROWS, serial=1))
    assert packages["ctrlchar"] == 9 and packages['Quote"<&>'] == 12

"""The whole-index documents' formats, rendered in pieces.

A document is a head, the entries of every served project in order, and a tail: ``/simple/``
in HTML (PEP 503) and in PEP 691 JSON, and the response of XML-RPC
``list_packages_with_serial``. The head and tail carry the serial; the entries of any run of
projects are rendered alone, so a run can be rendered again without the rest. JSON needs a comma
between entries: a run is rendered with a leading one unless it is the document's first.

The project pages' formats (apps/index/renderers.py) share the HTML head and the JSON encoding.
"""

import json
import re
from collections.abc import Sequence
from html import escape
from xmlrpc.client import escape as xml_escape

# PEP 629 / PEP 691 repository version: 1.1 adds PEP 700 (versions, size, upload-time), 1.3
# PEP 740 (provenance), 1.4 PEP 792 (project status), as pypi.org serves. 1.2 (PEP 708) was
# rejected: nothing of it is emitted, as by PyPI.
API_VERSION = "1.4"

HTML, JSON, XMLRPC = "html", "json", "xmlrpc"
FORMATS = (HTML, JSON, XMLRPC)

# (display name, normalized name, last serial) of a served project.
Row = tuple[str, str, int]

_HTML_HEAD = (
    "<!DOCTYPE html>\n<html>\n  <head>\n"
    '    <meta name="pypi:repository-version" content="{version}">\n'
    "{status}    <title>{title}</title>\n  </head>\n  <body>\n"
)
HTML_TAIL = "  </body>\n</html>\n"

# Characters XML 1.0 cannot carry at all, even escaped.
_XML_ILLEGAL_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_XMLRPC_HEAD = b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n"
_XMLRPC_TAIL = b"</struct></value>\n</param>\n</params>\n</methodResponse>\n"


def html_head(title: str, *, status: str = "", reason: str = "") -> str:
    """A page's head; a project page's carries its PEP 792 status (and reason, if any)."""
    meta = ""
    if status:
        meta = f'    <meta name="pypi:project-status" content="{escape(status)}">\n'
    if reason:
        meta += f'    <meta name="pypi:project-status-reason" content="{escape(reason)}">\n'
    return _HTML_HEAD.format(version=API_VERSION, status=meta, title=escape(title))


def json_bytes(document: object) -> bytes:
    """Compact UTF-8 JSON, as every JSON page of the index is encoded."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def xml_text(value: str | None) -> str | None:
    """``value`` without the characters XML 1.0 cannot carry."""
    return _XML_ILLEGAL_RE.sub("", value) if value else value


def document_head(fmt: str, *, serial: int) -> bytes:
    if fmt == HTML:
        return html_head("Simple index").encode()
    if fmt == JSON:
        meta = json_bytes({"api-version": API_VERSION, "_last-serial": serial})
        return b'{"meta":' + meta + b',"projects":['
    return _XMLRPC_HEAD


def document_tail(fmt: str, *, serial: int) -> bytes:
    if fmt == HTML:
        return f"{HTML_TAIL}<!--SERIAL {serial}-->\n".encode()
    if fmt == JSON:
        return b"]}"
    return _XMLRPC_TAIL


def document_entries(fmt: str, rows: Sequence[Row], *, first: bool) -> bytes:
    """The entries of ``rows``; in JSON with a leading comma unless ``first`` (or no rows)."""
    if fmt == HTML:
        return "".join(
            f'    <a href="{escape(normalized)}/">{escape(name)}</a><br />\n'
            for name, normalized, _ in rows
        ).encode()
    if fmt == JSON:
        text = ",".join(
            f'{{"name":{json.dumps(name, ensure_ascii=False)},"_last-serial":{serial}}}'
            for name, _, serial in rows
        )
        return (text if first or not rows else "," + text).encode()
    # xmlrpc.client's marshalling of a {name: serial} struct, one member at a time.
    return "".join(
        f"<member>\n<name>{xml_escape(xml_text(name))}</name>\n"
        f"<value><int>{serial}</int></value>\n</member>\n"
        for name, _, serial in rows
    ).encode()


def document_render(fmt: str, rows: Sequence[Row], *, serial: int) -> bytes:
    """A whole document at once (tests and small catalogs)."""
    return (
        document_head(fmt, serial=serial)
        + document_entries(fmt, rows, first=True)
        + document_tail(fmt, serial=serial)
    )

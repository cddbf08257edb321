"""PyPI's XML-RPC changelog methods over what ``write()`` has published."""

import xmlrpc.client

from defusedxml import ElementTree

from .tree import WarehouseUpstream

# Warehouse returns at most this many entries per changelog_since_serial call.
CHANGELOG_LIMIT = 50_000


def _param(value) -> object:
    """One ``<value>`` of a request: ints and strings are all these methods take."""
    typed = next(iter(value), None)
    if typed is None:
        return value.text or ""
    if typed.tag in ("int", "i4", "i8"):
        return int(typed.text)
    return typed.text or ""


def _fault(code: int, message: str) -> bytes:
    return xmlrpc.client.dumps(xmlrpc.client.Fault(code, message), methodresponse=True).encode()


def call(upstream: WarehouseUpstream, body: bytes) -> bytes:
    """Answer one XML-RPC request body (parsed with defusedxml) with a response body."""
    try:
        request = ElementTree.fromstring(body)
        method = request.findtext("methodName", "").strip()
        params = [_param(v) for v in request.iterfind("params/param/value")]
    except Exception as exc:  # any parse error, entity bomb included, is a fault answer
        return _fault(-32700, f"parse error: {exc}")
    with upstream.write_lock:  # a consistent view of what write() has published
        journal = upstream.journal[: upstream.published_journal_length]
        serials = dict(upstream.published_serials)
        names = dict(upstream.published_names)
        last_serial = upstream.published_serial
    if method == "changelog_last_serial" and not params:
        result = last_serial
    elif method == "list_packages_with_serial" and not params:
        result = {names[n]: serial for n, serial in sorted(serials.items())}
    elif method == "changelog_since_serial" and len(params) == 1 and isinstance(params[0], int):
        since = params[0]
        result = [
            [e.name, e.version, e.timestamp, e.action, e.serial]
            for e in journal
            if e.serial > since
        ][:CHANGELOG_LIMIT]
    else:
        return _fault(-32601, f"no method {method!r} with {len(params)} params")
    return xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True).encode()

"""The XML-RPC calls that mirrors follow: ``changelog_last_serial``, ``list_packages_with_serial``
and ``changelog_since_serial``. PyPI serves them for mirrors and so do pypimirror nodes, so the
``xmlrpc`` client plans with them and the ``pypi-json`` client plans from the changelog where
the upstream answers it (planner.py)."""

import xmlrpc.client

import httpx
from defusedxml.xmlrpc import DefusedExpatParser
from packaging.utils import canonicalize_name

from .base import UpstreamError
from .http import http_errors

MAX_RESPONSE_SIZE = 256 * 1024 * 1024
# What a server without XML-RPC answers a POST to /pypi: no such page, no such method.
NOT_OFFERED = frozenset({404, 405, 501})


class XMLRPCNotOffered(UpstreamError):
    """The upstream has no XML-RPC endpoint at all (a static mirror, pypiserver), as opposed
    to one that failed this once."""


def xmlrpc_call(http: httpx.Client, base_url: str, method: str, *params) -> object:
    """The result of one XML-RPC call at ``<base_url>/pypi``; UpstreamError on any failure (an
    HTTP error, a fault, a body that is too large or not XML-RPC)."""
    url = f"{base_url}/pypi"
    body = xmlrpc.client.dumps(params, method).encode()
    with http_errors(url):
        response = http.post(url, content=body, headers={"Content-Type": "text/xml"})
    if response.status_code in NOT_OFFERED:
        raise XMLRPCNotOffered(f"{url}: XML-RPC {method}: HTTP {response.status_code}")
    if response.status_code != 200:
        raise UpstreamError(f"{url}: XML-RPC {method}: HTTP {response.status_code}")
    if len(response.content) > MAX_RESPONSE_SIZE:
        raise UpstreamError(f"{url}: XML-RPC response too large")
    unmarshaller = xmlrpc.client.Unmarshaller()
    parser = DefusedExpatParser(unmarshaller)
    try:
        parser.feed(response.content)
        parser.close()
        return unmarshaller.close()[0]
    except xmlrpc.client.Fault as fault:
        raise UpstreamError(f"{url}: XML-RPC {method}: {fault.faultString}") from None
    except Exception as exc:  # expat, defusedxml and unmarshalling errors alike
        raise UpstreamError(f"{url}: malformed XML-RPC response: {exc}") from None


def changelog_changes(entries: object, since: int) -> tuple[dict[str, tuple[str, int]], int]:
    """From ``changelog_since_serial(since)``'s answer: the projects changed after ``since``
    (normalized name → (name, newest serial)) and the newest serial the answer reaches.

    PyPI answers at most 50,000 entries a call; the newest serial is then that of the last
    entry, not the upstream's, and the next plan goes on from there. An answer that is not a
    list of ``[name, version, timestamp, action, serial]`` entries is an UpstreamError, so no
    plan is made from part of it.
    """
    if not isinstance(entries, list):
        raise UpstreamError("changelog_since_serial did not return a list")
    changed: dict[str, tuple[str, int]] = {}
    newest = since
    for entry in entries:
        if not (
            isinstance(entry, list | tuple)
            and len(entry) >= 5
            and isinstance(name := entry[0], str)
            and name
            and isinstance(serial := entry[4], int)
            and not isinstance(serial, bool)
        ):
            raise UpstreamError(f"malformed changelog entry: {str(entry)[:200]}")
        if serial <= since:
            continue  # not asked for; an upstream that sends it is not trusted to plan with
        normalized = canonicalize_name(name)
        if serial >= changed.get(normalized, ("", 0))[1]:
            changed[normalized] = (name, serial)
        newest = max(newest, serial)
    return changed, newest

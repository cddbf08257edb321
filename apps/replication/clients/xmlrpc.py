"""PyPI's XML-RPC changelog (``changelog_since_serial``) for planning; files from the JSON API."""

import xmlrpc.client

from defusedxml.xmlrpc import DefusedExpatParser
from packaging.utils import canonicalize_name

from .base import ProjectListing, UpstreamError
from .http import http_errors
from .pypi_json import PyPIJSONClient

MAX_RESPONSE_SIZE = 256 * 1024 * 1024


class XMLRPCClient(PyPIJSONClient):
    protocol = "xmlrpc"
    offers_changelog = True

    def call(self, method: str, *params):
        url = f"{self.base_url}/pypi"
        body = xmlrpc.client.dumps(params, method).encode()
        with http_errors(url):
            response = self.http.post(url, content=body, headers={"Content-Type": "text/xml"})
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

    def list_projects(self, *, etag: str = "") -> ProjectListing:
        """``etag`` is ignored: XML-RPC answers are not cached by ETag."""
        serial = self.call("changelog_last_serial")
        packages = self.call("list_packages_with_serial")
        if not isinstance(packages, dict):
            raise UpstreamError("list_packages_with_serial did not return a mapping")
        return ProjectListing(
            listed=list(packages.items()), serial=serial if isinstance(serial, int) else None
        )

    def changed_since(self, serial: int) -> tuple[dict[str, tuple[str, int]], int]:
        """Projects changed after ``serial``, with their newest serial, and the newest serial."""
        changed: dict[str, tuple[str, int]] = {}
        newest = serial
        for entry in self.call("changelog_since_serial", serial):
            name, entry_serial = entry[0], entry[4]
            changed[canonicalize_name(name)] = (name, entry_serial)
            newest = max(newest, entry_serial)
        return changed, newest

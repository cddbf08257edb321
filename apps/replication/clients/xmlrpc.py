"""PyPI's XML-RPC protocol: the changelog (``changelog_since_serial``) for planning, the listing
from ``list_packages_with_serial``; files from the JSON API. For upstreams whose PEP 691 root
gives no serials (the ``pypi-json`` client plans from the same changelog otherwise)."""

from .base import ProjectListing, UpstreamError, project_listing
from .changelog import changelog_changes, xmlrpc_call
from .pypi_json import PyPIJSONClient


class XMLRPCClient(PyPIJSONClient):
    protocol = "xmlrpc"

    def call(self, method: str, *params):
        return xmlrpc_call(self.http, self.base_url, method, *params)

    def list_projects(self, *, etag: str = "") -> ProjectListing:
        """``etag`` is ignored: XML-RPC answers are not cached by ETag."""
        serial = self.call("changelog_last_serial")
        packages = self.call("list_packages_with_serial")
        if not isinstance(packages, dict):
            raise UpstreamError("list_packages_with_serial did not return a mapping")
        return project_listing(packages.items(), serial=serial if isinstance(serial, int) else None)

    def changed_since(self, serial: int) -> tuple[dict[str, tuple[str, int]], int]:
        """Projects changed after ``serial``, with their newest serial, and the newest serial.
        Any failure is the plan's: the changelog is this protocol's way to plan."""
        return changelog_changes(self.call("changelog_since_serial", serial), serial)

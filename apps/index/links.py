"""The URLs clients see for what the node serves."""

from typing import Protocol
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest

from apps.catalog.blobstore import file_url_path


class Stored(Protocol):
    """A Distribution, or the lighter record the simple pages read."""

    sha256: str
    filename: str


def base_url(request: HttpRequest) -> str:
    """PYPIMIRROR_BASE_URL, or the scheme and host the request came to."""
    return settings.PYPIMIRROR_BASE_URL or f"{request.scheme}://{request.get_host()}"


def distribution_url(*, base: str, distribution: Stored) -> str:
    """The file's absolute URL: PyPI's layout (``packages/...``) under the base URL, whatever
    the storage's (blobstore.py)."""
    return f"{base}/{file_url_path(sha256=distribution.sha256, filename=distribution.filename)}"


def provenance_url(*, base: str, project: str, version: str, filename: str) -> str:
    """The absolute URL of a file's PEP 740 provenance on this node, PyPI's path:
    ``/integrity/<project>/<version>/<filename>/provenance`` (``project`` normalized)."""
    return (
        f"{base}/integrity/{quote(project, safe='')}/{quote(version, safe='')}/"
        f"{quote(filename, safe='')}/provenance"
    )


def iso8601(value) -> str:
    """A UTC timestamp as PyPI writes it: ``2024-01-01T12:00:00.123456Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

"""Helpers for the simple-index tests: fetching pages, reading their links, changing the catalog."""

import hashlib
import json
import re
import zipfile
from html.parser import HTMLParser

from django.db import transaction
from django.http import HttpResponse

from apps.catalog.models import Release
from apps.catalog.services import project_lock, release_set_yanked

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"
PIP_ACCEPT = f"{JSON}, {HTML}; q=0.1, text/html; q=0.01"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


class Anchors(HTMLParser):
    """The ``<a>`` elements of a page: (attributes, text), attribute values unescaped."""

    def __init__(self, page: bytes):
        super().__init__()
        self.anchors: list[tuple[dict, str]] = []
        self.meta: dict[str, str] = {}
        self._open: dict | None = None
        self.feed(page.decode())

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open = dict(attrs)
        elif tag == "meta":
            attributes = dict(attrs)
            self.meta[attributes.get("name")] = attributes.get("content")

    def handle_data(self, data):
        if self._open is not None:
            self.anchors.append((self._open, data))
            self._open = None


def get(client, url, accept=None, **headers):
    """The test client's answer; a streamed one (the root) read whole, as a client reads it."""
    if accept is not None:
        headers["Accept"] = accept
    return read_whole(client.get(url, headers=headers))


def read_whole(response):
    """``response`` with its streamed body read into ``content`` (and ``json()``)."""
    if not response.streaming:
        return response
    content = b"".join(response.streaming_content)
    whole = HttpResponse(content, status=response.status_code)
    for header, value in response.items():
        whole[header] = value
    whole.json = lambda: json.loads(content)
    whole.streamed = True
    return whole


def html_files(client, url="/simple/foo/") -> dict[str, dict]:
    response = get(client, url, "text/html")
    assert response.status_code == 200
    return {text: attrs for attrs, text in Anchors(response.content).anchors}


def json_files(client, url="/simple/foo/") -> dict[str, dict]:
    response = get(client, url, JSON)
    assert response.status_code == 200
    return {entry["filename"]: entry for entry in response.json()["files"]}


def wheel_metadata_sha256(path) -> str:
    with zipfile.ZipFile(path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return hashlib.sha256(archive.read(name)).hexdigest()


def change(name, service, **kwargs):
    """Run a catalog service on the named project inside its lock, as the admin would."""
    with transaction.atomic():
        service(project=project_lock(name=name), **kwargs)


def yank(name, version, reason):
    with transaction.atomic():
        project = project_lock(name=name)
        release_set_yanked(
            release=Release.objects.get(project=project, version=version), reason=reason
        )

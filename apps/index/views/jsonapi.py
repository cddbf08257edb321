"""The Warehouse JSON API: ``/pypi/<name>/json`` and ``/pypi/<name>/<version>/json``.

Any spelling of the name that normalizes to the project is served (no redirect). Every response,
404 and 304 included, carries ``X-PyPI-Last-Serial``: bandersnatch refuses a page whose serial
is below the one the root listed for the project. Bodies are rendered once per (project, serial,
version, base URL) and kept in Django's cache; the ETag is derived from the same parts.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.views.decorators.http import require_safe
from packaging.utils import canonicalize_name

from apps.catalog.models import Project
from apps.catalog.selectors import journal_last_serial, project_get

from ..caching import cached, etag_for_key, etag_matches, render_key
from ..jsonapi import project_json_body
from ..links import base_url

CACHE_CONTROL = "public, max-age=60"


@require_safe
def project_json(request: HttpRequest, name: str) -> HttpResponse:
    return _json_response(request, name=name, version=None)


@require_safe
def release_json(request: HttpRequest, name: str, version: str) -> HttpResponse:
    return _json_response(request, name=name, version=version)


def _not_found(serial: int) -> HttpResponse:
    return JsonResponse(
        {"message": "Not Found"},
        status=404,
        headers={"X-PyPI-Last-Serial": str(serial), "Access-Control-Allow-Origin": "*"},
    )


def _json_response(request: HttpRequest, *, name: str, version: str | None) -> HttpResponse:
    project = project_get(normalized_name=canonicalize_name(name))
    if project is None:
        # Nothing of that name as of the node's newest serial.
        return _not_found(journal_last_serial())
    if (
        project.status != Project.Status.ACTIVE
        or project.index_status == Project.IndexStatus.QUARANTINED  # as PyPI: PEP 792
    ):
        return _not_found(project.last_serial)
    base = base_url(request)
    key = render_key("pypi-json", project.normalized_name, project.last_serial, version, base)
    body = cached(key, lambda: project_json_body(project=project, version=version, base=base))
    if body is None:
        return _not_found(project.last_serial)
    headers = {
        "ETag": etag_for_key(key),
        "X-PyPI-Last-Serial": str(project.last_serial),
        "Cache-Control": CACHE_CONTROL,
        "Access-Control-Allow-Origin": "*",
    }
    if etag_matches(request, headers["ETag"]):
        return HttpResponseNotModified(headers=headers)
    return HttpResponse(body, content_type="application/json", headers=headers)

"""The Warehouse JSON API: ``/pypi/<name>/json`` and ``/pypi/<name>/<version>/json``.

Any spelling of the name that normalizes to the project is served (no redirect). Every response,
404 and 304 included, carries ``X-PyPI-Last-Serial``: bandersnatch refuses a page whose serial
is below the one the root listed for the project. Bodies are rendered once per (project, serial,
version, base URL) and kept in Django's cache; the ETag is derived from the same parts, so 304
is answered before anything is rendered. HEAD renders nothing either: a cached rendering gives
its length; without one, the release list alone says whether the page exists (200 or 404).
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from packaging.utils import canonicalize_name

from apps.catalog.models import Project
from apps.catalog.selectors import journal_last_serial, project_get

from ..caching import cache_peek, cached, etag_for_key, head_response, not_modified, render_key
from ..inputs import project_name_ok, version_ok
from ..jsonapi import project_json_body, project_json_exists
from ..links import base_url

CACHE_CONTROL = "public, max-age=60"
CONTENT_TYPE = "application/json"


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
    normalized = canonicalize_name(name)
    # A name or version no row can hold is not looked up (apps/index/inputs.py).
    project = project_get(normalized_name=normalized) if project_name_ok(normalized) else None
    if project is None:
        # Nothing of that name as of the node's newest serial.
        return _not_found(journal_last_serial())
    if (
        project.status != Project.Status.ACTIVE
        or project.index_status == Project.IndexStatus.QUARANTINED  # as PyPI: PEP 792
    ):
        return _not_found(project.last_serial)
    if version is not None and not version_ok(version):
        return _not_found(project.last_serial)
    base = base_url(request)
    key = render_key("pypi-json", project.normalized_name, project.last_serial, version, base)
    headers = {
        "ETag": etag_for_key(key),
        "X-PyPI-Last-Serial": str(project.last_serial),
        "Cache-Control": CACHE_CONTROL,
        "Access-Control-Allow-Origin": "*",
    }
    # Only a page that exists ever went out with this ETag, so a match needs no rendering;
    # "*" matches whatever exists, which only the release list tells.
    unchanged = not_modified(request, headers)
    if unchanged is not None and request.headers.get("If-None-Match", "").strip() != "*":
        return unchanged
    if request.method == "HEAD":
        hit = cache_peek(key)
        if hit is None:
            exists, length = project_json_exists(project=project, version=version), None
        else:
            exists, length = hit[0] is not None, len(hit[0] or b"")
        if not exists:
            return _not_found(project.last_serial)
        return unchanged or head_response(headers, content_type=CONTENT_TYPE, length=length)
    body = cached(key, lambda: project_json_body(project=project, version=version, base=base))
    if body is None:
        return _not_found(project.last_serial)
    return unchanged or HttpResponse(body, content_type=CONTENT_TYPE, headers=headers)

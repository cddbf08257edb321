"""``/simple/`` and ``/simple/<name>/``: the PEP 503 / PEP 691 index, as DRF views.

The format is negotiated by ``QualityContentNegotiation`` (Accept with q-values, or ``?format=``)
among one renderer per format. A page costs one query for its serial; the serial gives the cache
key and the ETag (caching.py), so ``If-None-Match`` is answered with 304 before anything is
fetched or rendered, and a page is rendered once per (page, serial, format, base URL). HEAD gets
the same headers and no body, never rendering one: its Content-Length comes from the cached
rendering when there is one, and is left out otherwise.

``PYPIMIRROR_SIMPLE_MAX_AGE`` (optional setting, default 60) is the Cache-Control max-age.
"""

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseBase, HttpResponsePermanentRedirect
from django.urls import reverse
from packaging.utils import canonicalize_name
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..caching import cache_peek, cached, etag_for_key, head_response, not_modified, render_key
from ..inputs import project_name_ok
from ..links import base_url
from ..negotiation import FORMAT_PARAM, QualityContentNegotiation
from ..renderers import SimpleHTMLRenderer, SimpleJSONRenderer, TextHTMLRenderer
from ..selectors import project_simple_detail, project_simple_ref, simple_index, simple_index_serial


class SimplePageView(APIView):
    """One simple-index page in every format, cached by serial."""

    # The server's order of preference on ties, and the renderer of errors nobody accepts.
    renderer_classes = [TextHTMLRenderer, SimpleHTMLRenderer, SimpleJSONRenderer]
    content_negotiation_class = QualityContentNegotiation
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()
    http_method_names = ["get", "head"]

    def page_response(
        self, request: Request, *, scope: str, serial: int, build: Callable[[], object]
    ) -> HttpResponseBase:
        """The page as of ``serial``: 304 if the client has it, headers alone for HEAD, else
        cached or rendered bytes."""
        renderer = request.accepted_renderer
        base = base_url(request)
        key = render_key("simple", scope, serial, renderer.media_type, base)
        etag = etag_for_key(key)
        max_age = getattr(settings, "PYPIMIRROR_SIMPLE_MAX_AGE", 60)
        headers = {
            "ETag": etag,
            "Cache-Control": f"public, max-age={max_age}",
            "X-PyPI-Last-Serial": str(serial),
        }
        if (unchanged := not_modified(request, headers)) is not None:
            return unchanged
        if request.method == "HEAD":
            hit = cache_peek(key)
            content_type = renderer.media_type
            if renderer.charset:
                content_type += f"; charset={renderer.charset}"
            return head_response(
                headers, content_type=content_type, length=len(hit[0]) if hit else None
            )
        body = cached(
            key, lambda: renderer.render(build(), renderer.media_type, {"base_url": base})
        )
        return Response(body, headers=headers)


class SimpleRootView(SimplePageView):
    """``/simple/``: every served project with its last serial, versioned by the node's serial."""

    def get(self, request: Request) -> HttpResponseBase:
        serial = simple_index_serial()
        return self.page_response(
            request, scope="root", serial=serial, build=lambda: simple_index(last_serial=serial)
        )


class SimpleProjectView(SimplePageView):
    """``/simple/<name>/``: one project's files; other spellings of the name redirect (301)."""

    def get(self, request: Request, name: str) -> HttpResponseBase:
        normalized = canonicalize_name(name)
        if normalized != name:
            location = reverse("index:simple-project", kwargs={"name": normalized})
            requested = request.query_params.get(FORMAT_PARAM)
            if requested is not None:
                location += "?" + urlencode({FORMAT_PARAM: requested})
            return HttpResponsePermanentRedirect(location)
        project = None
        if project_name_ok(name):  # else no project can have it: no query
            project = project_simple_ref(normalized_name=name)
        if project is None:
            raise NotFound(f"No project named {name[:100]!r} is served here.")
        return self.page_response(
            request,
            scope=f"project:{project.id}",
            serial=project.last_serial,
            build=lambda: project_simple_detail(project=project),
        )

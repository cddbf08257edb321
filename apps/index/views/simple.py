"""``/simple/`` and ``/simple/<name>/``: the PEP 503 / PEP 691 index, as DRF views.

The format is negotiated by ``QualityContentNegotiation`` (Accept with q-values, or ``?format=``)
among one renderer per format. A page costs one query for its serial; the serial gives the cache
key and the ETag (caching.py), so ``If-None-Match`` is answered with 304 before anything is
fetched or rendered, and a project page is rendered once per (page, serial, format, base URL).
The root is one of the whole-index documents (apps/index/documents): streamed from its files on
disk, brought up to the serial first when older, gzipped from its stored deflate. HEAD gets the
same headers and no body, never rendering one: its Content-Length comes from the cached
rendering (the root's files) when there is one at that serial, and is left out otherwise.

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
from ..documents.responses import document_response
from ..documents.services import (
    VERSION,
    index_documents_current,
    index_documents_peek,
    journal_head,
)
from ..inputs import project_name_ok
from ..links import base_url
from ..negotiation import FORMAT_PARAM, QualityContentNegotiation
from ..renderers import SimpleHTMLRenderer, SimpleJSONRenderer, TextHTMLRenderer
from ..selectors import project_simple_detail, project_simple_ref


class SimplePageView(APIView):
    """One simple-index page in every format, cached by serial."""

    # The server's order of preference on ties, and the renderer of errors nobody accepts.
    renderer_classes = [TextHTMLRenderer, SimpleHTMLRenderer, SimpleJSONRenderer]
    content_negotiation_class = QualityContentNegotiation
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()
    http_method_names = ["get", "head"]

    def page_headers(self, request: Request, *, scope: str, serial: int) -> tuple[str, dict]:
        """The cache key of the page as of ``serial`` in the negotiated format, and the headers
        of its answer."""
        renderer = request.accepted_renderer
        key = render_key("simple", scope, serial, renderer.media_type, base_url(request))
        max_age = getattr(settings, "PYPIMIRROR_SIMPLE_MAX_AGE", 60)
        headers = {
            "ETag": etag_for_key(key),
            "Cache-Control": f"public, max-age={max_age}",
            "X-PyPI-Last-Serial": str(serial),
        }
        return key, headers

    @staticmethod
    def content_type(request: Request) -> str:
        renderer = request.accepted_renderer
        if renderer.charset:
            return f"{renderer.media_type}; charset={renderer.charset}"
        return renderer.media_type

    def page_response(
        self, request: Request, *, scope: str, serial: int, build: Callable[[], object]
    ) -> HttpResponseBase:
        """The page as of ``serial``: 304 if the client has it, headers alone for HEAD, else
        cached or rendered bytes."""
        renderer = request.accepted_renderer
        key, headers = self.page_headers(request, scope=scope, serial=serial)
        if (unchanged := not_modified(request, headers)) is not None:
            return unchanged
        if request.method == "HEAD":
            hit = cache_peek(key)
            length = len(hit[0]) if hit else None
            return head_response(headers, content_type=self.content_type(request), length=length)
        base = base_url(request)
        body = cached(
            key, lambda: renderer.render(build(), renderer.media_type, {"base_url": base})
        )
        return Response(body, headers=headers)


class SimpleRootView(SimplePageView):
    """``/simple/``: every served project with its last serial, versioned by the node's serial;
    never older than the serial read first (kept on disk, not in the cache)."""

    def get(self, request: Request) -> HttpResponseBase:
        serial, stamp = journal_head()
        fmt = request.accepted_renderer.format
        _, headers = self.page_headers(request, scope="root", serial=serial)
        if (unchanged := not_modified(request, headers)) is not None:
            return unchanged
        content_type = self.content_type(request)
        if request.method == "HEAD":
            manifest = index_documents_peek()
            fresh = manifest is not None and manifest.current(
                serial=serial, stamp=stamp, version=VERSION
            )
            length = manifest.length(fmt) if fresh else None
            return head_response(headers, content_type=content_type, length=length)
        manifest = index_documents_current(serial=serial, stamp=stamp)
        if manifest.serial != serial:  # newer still, made by another process meanwhile
            _, headers = self.page_headers(request, scope="root", serial=manifest.serial)
        return document_response(request, manifest, fmt, content_type=content_type, headers=headers)


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

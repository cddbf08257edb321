"""``POST /pypi`` (and ``/pypi/``): PyPI's mirroring XML-RPC methods (see apps.index.xmlrpc).

A fault is an ordinary XML-RPC response (HTTP 200), as clients expect; only a method other than
POST is an HTTP error (405). No session or CSRF: it is a read-only machine API.
``list_packages_with_serial`` is streamed from its files (apps/index/documents), gzipped when
the client takes it (``xmlrpc.client`` does), with the serial it is as of in X-PyPI-Last-Serial.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from ..documents.formats import XMLRPC
from ..documents.responses import document_response
from ..documents.store import Manifest
from ..xmlrpc import MAX_REQUEST_SIZE, xmlrpc_handle

CONTENT_TYPE = "text/xml; charset=utf-8"


@csrf_exempt
def xmlrpc_endpoint(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    # Read at most one byte past the limit, whatever Content-Length claims.
    result = xmlrpc_handle(request.read(MAX_REQUEST_SIZE + 1))
    if isinstance(result, Manifest):
        headers = {"X-PyPI-Last-Serial": str(result.serial)}
        return document_response(
            request, result, XMLRPC, content_type=CONTENT_TYPE, headers=headers
        )
    return HttpResponse(result, content_type=CONTENT_TYPE)
